//! The PF_KEY socket: raw byte messages in and out, nothing else, so the
//! rest of setkey can be tested against a scripted `Transport`.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

/// PF_KEY's address family (`AF_KEY`/`PF_KEY`).
pub const AF_KEY: libc::c_int = 15;
/// `PF_KEY_V2`, the socket protocol.
pub const PF_KEY_V2: libc::c_int = 2;

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
    fd: OwnedFd,
}

impl PfKeySocket {
    /// `socket(AF_KEY, SOCK_RAW, PF_KEY_V2)`; `timeout` bounds each recv so
    /// a kernel that never answers cannot hang setkey (ipsec-tools: 1 s).
    pub fn open(timeout: Option<Duration>) -> io::Result<Self> {
        // SAFETY: plain socket(2) call; the result is checked before use.
        let fd = unsafe { libc::socket(AF_KEY, libc::SOCK_RAW | libc::SOCK_CLOEXEC, PF_KEY_V2) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is a freshly opened descriptor we exclusively own.
        let sock = PfKeySocket {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        };
        if let Some(t) = timeout {
            sock.set_timeout(t)?;
        }
        Ok(sock)
    }

    pub fn set_timeout(&self, t: Duration) -> io::Result<()> {
        let tv = libc::timeval {
            tv_sec: t.as_secs() as libc::time_t,
            tv_usec: t.subsec_micros() as libc::suseconds_t,
        };
        // SAFETY: `tv` lives across the call and its size is passed.
        let r = unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&tv as *const libc::timeval).cast(),
                std::mem::size_of::<libc::timeval>() as libc::socklen_t,
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

impl Transport for PfKeySocket {
    fn send(&mut self, msg: &[u8]) -> io::Result<()> {
        // SAFETY: the buffer is valid for `msg.len()` bytes.
        let n = unsafe { libc::send(self.fd.as_raw_fd(), msg.as_ptr().cast(), msg.len(), 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        if n as usize != msg.len() {
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
            // SAFETY: the buffer is valid and writable for its length.
            let n =
                unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            buf.truncate(n as usize);
            return Ok(buf);
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
