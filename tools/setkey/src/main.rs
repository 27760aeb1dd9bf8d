//! setkey(8): see lib.rs.

use clap::Parser;
use rxfrm_logic::addr::IpAddr;
use setkey::ast::AddrOpts;
use setkey::cli::{run, Cli, Env};
use setkey::socket::{PfKeySocket, Transport};
use std::io;
use std::net::ToSocketAddrs;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// getaddrinfo() through std, restricted as `-4`/`-6` ask.
fn resolve(name: &str, opts: AddrOpts) -> Result<Vec<IpAddr>, String> {
    let addrs = (name, 0).to_socket_addrs().map_err(|e| {
        let s = e.to_string();
        s.strip_prefix("failed to lookup address information: ")
            .unwrap_or(&s)
            .to_string()
    })?;
    let v: Vec<IpAddr> = addrs
        .filter_map(|a| match a.ip() {
            std::net::IpAddr::V4(v4) if opts.family != 6 => Some(IpAddr::V4(v4.octets())),
            std::net::IpAddr::V6(v6) if opts.family != 4 => Some(IpAddr::V6(v6.octets())),
            _ => None,
        })
        .collect();
    if v.is_empty() {
        return Err(format!("no usable address for {name}"));
    }
    Ok(v)
}

/// Seconds since the epoch and the local zone's offset (for ctime-style
/// dates in dumps).
fn clock() -> (u64, i64) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let off = chrono::Local::now().offset().local_minus_utc();
    (now, i64::from(off))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let stdin = io::stdin();
    let mut stdin = stdin.lock();
    let mut out = io::stdout();
    let mut err = io::stderr();
    // ipsec-tools waits 1 s per reply; a dump of a big SAD may need longer
    // between messages on a loaded machine.
    let mut open = || {
        PfKeySocket::open(Some(Duration::from_secs(3))).map(|s| Box::new(s) as Box<dyn Transport>)
    };
    let mut env = Env {
        stdin: &mut stdin,
        out: &mut out,
        err: &mut err,
        open: &mut open,
        resolve: &resolve,
        clock: &clock,
        read_file: &|p| std::fs::read_to_string(p),
    };
    ExitCode::from(run(&cli, &mut env) as u8)
}
