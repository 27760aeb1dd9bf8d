//! The PF_KEY socket: raw byte messages in and out, nothing else, so the
//! rest of setkey can be tested against a scripted `Transport`.

use socket2::{Domain, Protocol, Socket, Type};
use std::io::{self, Read};
use std::time::Duration;

/// PF_KEY's address family (`AF_KEY`/`PF_KEY`).
pub const AF_KEY: i32 = 15;
/// `PF_KEY_V2`, the socket protocol.
pub const PF_KEY_V2: i32 = 2;

/// Largest message we accept; Linux dumps one SA/policy per message, and
/// the biggest (an SA with keys, addresses, lifetimes) is far below this.
const RECV_BUF: usize = 64 * 1024;

/// Where PF_KEY messages go and come from.
pub trait Transport {
    fn send(&mut self, msg: &[u8]) -> io::Result<()>;
    /// One whole message.
    fn recv(&mut self) -> io::Result<Vec<u8>>;
}

pub struct PfKeySocket {
    sock: Socket,
}

impl PfKeySocket {
    /// `socket(AF_KEY, SOCK_RAW, PF_KEY_V2)` (close-on-exec); `timeout`
    /// bounds each recv so a kernel that never answers cannot hang setkey
    /// (ipsec-tools: 1 s).
    pub fn open(timeout: Option<Duration>) -> io::Result<Self> {
        let sock = Socket::new(
            Domain::from(AF_KEY),
            Type::RAW,
            Some(Protocol::from(PF_KEY_V2)),
        )?;
        let sock = PfKeySocket { sock };
        if let Some(t) = timeout {
            sock.set_timeout(t)?;
        }
        Ok(sock)
    }

    pub fn set_timeout(&self, t: Duration) -> io::Result<()> {
        self.sock.set_read_timeout(Some(t))
    }
}

impl Transport for PfKeySocket {
    fn send(&mut self, msg: &[u8]) -> io::Result<()> {
        let n = self.sock.send(msg)?;
        if n != msg.len() {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "short send on PF_KEY socket",
            ));
        }
        Ok(())
    }

    fn recv(&mut self) -> io::Result<Vec<u8>> {
        let mut buf = vec![0u8; RECV_BUF];
        loop {
            match (&self.sock).read(&mut buf) {
                Ok(n) => {
                    buf.truncate(n);
                    return Ok(buf);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_fails_cleanly_without_kernel_support() {
        // On a host without AF_KEY this must be an error, not a panic; on a
        // kernel with PF_KEY (and privileges) it must succeed.
        match PfKeySocket::open(Some(Duration::from_millis(10))) {
            Ok(_) => {}
            Err(e) => assert!(e.raw_os_error().is_some(), "{e}"),
        }
    }
}
