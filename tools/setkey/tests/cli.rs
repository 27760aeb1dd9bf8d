//! The CLI and executor against a scripted in-memory "kernel" that answers
//! like af_key (replies echo seq/pid, dumps count seq down to 0, errors
//! come back in sadb_msg_errno), since the host has no PF_KEY.

use clap::Parser;
use rxfrm_logic::addr::IpAddr;
use rxfrm_logic::pfkey::consts::*;
use rxfrm_logic::pfkey::*;
use setkey::ast::AddrOpts;
use setkey::cli::{run, Cli, Env};
use setkey::socket::Transport;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::io;
use std::rc::Rc;

#[derive(Default)]
struct Kernel {
    sent: Vec<Vec<u8>>,
    sad: Vec<Vec<u8>>,
    spd: Vec<Vec<u8>>,
    queue: VecDeque<Vec<u8>>,
}

struct Fake(Rc<RefCell<Kernel>>);

fn reply(
    p: &Parsed<'_>,
    errno: u8,
    seq: u32,
    extra: &dyn Fn(&mut MsgWriter<'_>) -> Result<(), Errno>,
) -> Vec<u8> {
    let mut h = p.header();
    h.errno = errno;
    h.seq = seq;
    build_vec(|w: &mut MsgWriter<'_>| {
        w.header(&h)?;
        extra(w)
    })
    .unwrap()
    .to_vec()
}

/// The SA part of a stored ADD, as a dump entry.
fn sa_entry(w: &mut MsgWriter<'_>, a: &Parsed<'_>) -> Result<(), Errno> {
    let mut sa = a.sa().unwrap();
    sa.state = SADB_SASTATE_MATURE;
    w.sa(&sa)?;
    w.lifetime(
        SADB_EXT_LIFETIME_CURRENT,
        &LifetimeRepr {
            allocations: 0,
            bytes: 0,
            addtime: 1_700_000_000,
            usetime: 0,
        },
    )?;
    w.address(SADB_EXT_ADDRESS_SRC, &a.address_src().unwrap())?;
    w.address(SADB_EXT_ADDRESS_DST, &a.address_dst().unwrap())?;
    if let Some(k) = a.key_encrypt() {
        w.key(SADB_EXT_KEY_ENCRYPT, &k)?;
    }
    w.sa2(&a.sa2().unwrap())
}

fn sp_entry(w: &mut MsgWriter<'_>, a: &Parsed<'_>, id: u32) -> Result<(), Errno> {
    w.address(SADB_EXT_ADDRESS_SRC, &a.address_src().unwrap())?;
    w.address(SADB_EXT_ADDRESS_DST, &a.address_dst().unwrap())?;
    let pol = a.policy().unwrap();
    let reqs: Vec<_> = pol.requests().collect();
    w.policy(&PolicyRepr {
        policy_type: pol.policy_type,
        dir: pol.dir,
        id,
        priority: pol.priority,
        requests: &reqs,
    })
}

impl Transport for Fake {
    fn send(&mut self, m: &[u8]) -> io::Result<()> {
        let mut k = self.0.borrow_mut();
        k.sent.push(m.to_vec());
        let p = parse(m).expect("setkey sent a malformed message");
        check_required(p.msg_type(), &p).expect("af_key would reject this message");
        // Someone else's traffic first: must be ignored.
        let mut other = p.header();
        other.pid = 1;
        k.queue.push_back(
            build_vec(|w: &mut MsgWriter<'_>| w.header(&other))
                .unwrap()
                .to_vec(),
        );
        let none = |_: &mut MsgWriter<'_>| Ok(());
        let spi_of = |b: &Vec<u8>| parse(b).unwrap().sa().unwrap().spi;
        let r = match p.msg_type() {
            SADB_ADD => {
                let spi = p.sa().unwrap().spi;
                if k.sad.iter().any(|b| spi_of(b) == spi) {
                    vec![reply(&p, 17, p.seq(), &none)]
                } else {
                    k.sad.push(m.to_vec());
                    vec![reply(&p, 0, p.seq(), &none)]
                }
            }
            SADB_DELETE | SADB_GET => {
                let spi = p.sa().unwrap().spi;
                match k.sad.iter().position(|b| spi_of(b) == spi) {
                    None => vec![reply(&p, 2, p.seq(), &none)],
                    Some(i) if p.msg_type() == SADB_DELETE => {
                        k.sad.remove(i);
                        vec![reply(&p, 0, p.seq(), &none)]
                    }
                    Some(i) => {
                        let a = k.sad[i].clone();
                        vec![reply(&p, 0, p.seq(), &|w| sa_entry(w, &parse(&a).unwrap()))]
                    }
                }
            }
            SADB_DUMP | SADB_X_SPDDUMP => {
                let db = if p.msg_type() == SADB_DUMP {
                    &k.sad
                } else {
                    &k.spd
                };
                if db.is_empty() {
                    vec![reply(&p, 2, 0, &none)]
                } else {
                    let n = db.len() as u32;
                    db.iter()
                        .enumerate()
                        .map(|(i, b)| {
                            let a = parse(b).unwrap();
                            let seq = n - 1 - i as u32;
                            let mut h = a.header();
                            h.msg_type = p.msg_type();
                            h.seq = seq;
                            build_vec(|w: &mut MsgWriter<'_>| {
                                w.header(&h)?;
                                if p.msg_type() == SADB_DUMP {
                                    sa_entry(w, &a)
                                } else {
                                    sp_entry(w, &a, 8 * i as u32 + 1)
                                }
                            })
                            .unwrap()
                            .to_vec()
                        })
                        .collect()
                }
            }
            SADB_X_SPDADD => {
                k.spd.push(m.to_vec());
                vec![reply(&p, 0, p.seq(), &none)]
            }
            SADB_FLUSH => {
                k.sad.clear();
                vec![reply(&p, 0, p.seq(), &none)]
            }
            SADB_X_SPDFLUSH => {
                k.spd.clear();
                vec![reply(&p, 0, p.seq(), &none)]
            }
            _ => vec![reply(&p, 22, p.seq(), &none)],
        };
        k.queue.extend(r);
        Ok(())
    }

    fn recv(&mut self) -> io::Result<Vec<u8>> {
        self.0
            .borrow_mut()
            .queue
            .pop_front()
            .ok_or_else(|| io::ErrorKind::WouldBlock.into())
    }
}

fn no_dns(_: &str, _: AddrOpts) -> Result<Vec<IpAddr>, String> {
    Err("Name or service not known".into())
}

struct Run {
    code: i32,
    out: String,
    err: String,
}

/// Runs the CLI with `args` and `input` on stdin against `open`'s
/// transport, at the given clock, reading files through `files`.
fn run_with(
    args: &[&str],
    input: &str,
    open: &mut dyn FnMut() -> io::Result<Box<dyn Transport>>,
    clock: (u64, i64),
    files: &dyn Fn(&str) -> io::Result<String>,
) -> Run {
    let cli = Cli::try_parse_from(std::iter::once("setkey").chain(args.iter().copied())).unwrap();
    let mut stdin = io::Cursor::new(input.as_bytes().to_vec());
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut env = Env {
        stdin: &mut stdin,
        out: &mut out,
        err: &mut err,
        open,
        resolve: &no_dns,
        clock: &move || clock,
        read_file: files,
    };
    let code = run(&cli, &mut env);
    Run {
        code,
        out: String::from_utf8(out).unwrap(),
        err: String::from_utf8(err).unwrap(),
    }
}

fn no_files(_: &str) -> io::Result<String> {
    Err(io::ErrorKind::NotFound.into())
}

fn setkey(k: &Rc<RefCell<Kernel>>, args: &[&str], input: &str) -> Run {
    let kk = k.clone();
    let mut open = move || Ok(Box::new(Fake(kk.clone())) as Box<dyn Transport>);
    let files = |p: &str| {
        match p {
        "/etc/ipsec.conf" => Ok("flush;\nspdflush;\nadd 10.0.0.1 10.0.0.2 esp 1 -E null;\nadd 10.0.0.1 10.0.0.2 esp 1 -E 3des-cbc \"x\";\n".into()),
        _ => no_files(p),
    }
    };
    run_with(args, input, &mut open, (1_700_000_010, 0), &files)
}

const FAQ: &str = r#"#! comments are fine
add 10.1.1.1 20.1.1.1 esp 9876 -E 3des-cbc "hogehogehogehogehogehoge";
add 20.1.1.1 10.1.1.1 esp 10000 -E 3des-cbc 0xdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeef;
spdadd 10.1.1.1 20.1.1.1 any -P out ipsec esp/transport//use;
"#;

fn types(k: &Rc<RefCell<Kernel>>) -> Vec<u8> {
    k.borrow().sent.iter().map(|m| m[1]).collect()
}

#[test]
fn faq_script_then_dumps() {
    let k = Rc::default();
    let r = setkey(&k, &["-c"], FAQ);
    assert_eq!((r.code, r.err.as_str(), r.out.as_str()), (0, "", ""));
    assert_eq!(types(&k), [SADB_ADD, SADB_ADD, SADB_X_SPDADD]);

    let r = setkey(&k, &["-D"], "");
    assert_eq!(r.code, 0);
    assert!(r.out.starts_with("10.1.1.1 20.1.1.1 \n\tesp mode=any spi=9876(0x00002694) reqid=0(0x00000000)\n\tE: 3des-cbc  686f6765"), "{}", r.out);
    assert!(
        r.out.contains(
            "\tcreated: Nov 14 22:13:20 2023\tcurrent: Nov 14 22:13:30 2023\n\tdiff: 10(s)"
        ),
        "{}",
        r.out
    );
    assert!(r
        .out
        .contains("20.1.1.1 10.1.1.1 \n\tesp mode=any spi=10000(0x00002710)"));
    assert_eq!(r.out.matches("sadb_seq=").count(), 2);

    let r = setkey(&k, &["-DP"], "");
    assert_eq!(r.code, 0);
    assert!(r.out.starts_with("10.1.1.1[any] 20.1.1.1[any] any\n\tout prio def ipsec\n\tesp/transport//use\n\tspid=1 seq=0 pid="), "{}", r.out);

    assert_eq!(setkey(&k, &["-F"], "").code, 0);
    assert_eq!(setkey(&k, &["-D"], "").out, "No SAD entries.\n");
    assert_eq!(setkey(&k, &["-FP"], "").code, 0);
    let r = setkey(&k, &["-D", "-P"], "");
    assert_eq!((r.code, r.out.as_str()), (0, "No SPD entries.\n"));
}

#[test]
fn kernel_refusals_and_parse_errors_keep_going_but_fail() {
    let k = Rc::default();
    let input = "add 10.1.1.1 20.1.1.1 esp 9876 -E null;\nadd 10.1.1.1 20.1.1.1 esp 9876 -E null;\nadd 10.1.1.1 20.1.1.1 esp 0x2 -E 3des-cbc \"short\";\nbogus;\nget 10.1.1.1 20.1.1.1 esp 5;\ndelete 10.1.1.1 20.1.1.1 esp 9876;\n";
    let r = setkey(&k, &["-c"], input);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.err,
        "(stdin):2: add 10.1.1.1 20.1.1.1 esp 9876: File exists.\n\
(stdin):3:34: invalid key length 40 bits for 3des-cbc (needs 192)\n\
(stdin):4:1: unknown command \"bogus\"\n\
(stdin):5: get 10.1.1.1 20.1.1.1 esp 5: No entry.\n"
    );
    assert_eq!(types(&k), [SADB_ADD, SADB_ADD, SADB_GET, SADB_DELETE]);
    assert!(k.borrow().sad.is_empty(), "the delete after the errors ran");
    // Every message goes with seq 0, as ipsec-tools' setkeymsg0(): a
    // non-zero one would make the kernel match ACQUIRE larval SAs by it.
    assert!(k.borrow().sent.iter().all(|m| m[8..12] == [0; 4]));
}

#[test]
fn get_prints_the_sa_and_exit_stops() {
    let k = Rc::default();
    let r = setkey(&k, &["-c"], "add 10.0.0.1 10.0.0.2 esp 7 -m tunnel -E null;\nget 10.0.0.1 10.0.0.2 esp 7;\nexit;\nflush;\n");
    assert_eq!(r.code, 0);
    assert!(
        r.out
            .starts_with("10.0.0.1 10.0.0.2 \n\tesp mode=tunnel spi=7(0x00000007)"),
        "{}",
        r.out
    );
    assert_eq!(types(&k), [SADB_ADD, SADB_GET]);
}

#[test]
fn deleteall_dumps_then_deletes_each_match() {
    let k = Rc::default();
    let r = setkey(&k, &["-c"], "add 10.0.0.1 10.0.0.2 esp 1 -E null; add 10.0.0.1 10.0.0.2 esp 2 -E null; add 10.0.0.2 10.0.0.1 esp 3 -E null;\ndeleteall 10.0.0.1 10.0.0.2 esp;\n");
    assert_eq!((r.code, r.out.as_str(), r.err.as_str()), (0, "", ""));
    assert_eq!(
        types(&k),
        [
            SADB_ADD,
            SADB_ADD,
            SADB_ADD,
            SADB_DUMP,
            SADB_DELETE,
            SADB_DELETE
        ]
    );
    assert_eq!(k.borrow().sad.len(), 1);
}

#[test]
fn file_mode_names_the_file_and_reports_open_errors() {
    let k = Rc::default();
    let r = setkey(&k, &["-f", "/etc/ipsec.conf"], "");
    assert_eq!(r.code, 1);
    assert_eq!(
        r.err,
        "/etc/ipsec.conf:4:32: invalid key length 8 bits for 3des-cbc (needs 192)\n"
    );
    assert_eq!(types(&k), [SADB_FLUSH, SADB_X_SPDFLUSH, SADB_ADD]);
    let r = setkey(&k, &["-f", "/nope"], "");
    assert_eq!(r.code, 1);
    assert!(
        r.err.starts_with("setkey: Can't open `/nope': "),
        "{}",
        r.err
    );
    let r = setkey(&k, &["-f", "-"], "flush;");
    assert_eq!(r.code, 0);
}

#[test]
fn no_act_and_verbose_never_open_the_socket() {
    let mut open = || -> io::Result<Box<dyn Transport>> { panic!("-n must not open PF_KEY") };
    let r = run_with(
        &["-nv", "-c"],
        "spdadd 10.0.0.1 10.0.0.2 any -P out none;\n",
        &mut open,
        (0, 0),
        &no_files,
    );
    assert_eq!(r.code, 0);
    let out = r.out;
    assert!(
        out.starts_with("sadb_msg{ version=2 type=14 errno=0 satype=0\n  len="),
        "{out}"
    );
    assert!(
        out.contains("sadb_x_policy{ type=1 dir=2 id=0 priority=2147483648 }"),
        "{out}"
    );
    assert!(out.contains("sadb_address{ proto=255 prefixlen=32 reserved=0x0000 }\nsockaddr{ len=16 family=2 port=0\n 0a000001  }"), "{out}");
}

#[test]
fn socket_failure_and_usage() {
    let mut open = || -> io::Result<Box<dyn Transport>> { Err(io::Error::from_raw_os_error(97)) };
    let r = run_with(&["-D"], "", &mut open, (0, 0), &no_files);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.err,
        "setkey: pfkey_open: Address family not supported by protocol\n"
    );
    let k = Rc::default();
    let r = setkey(&k, &[], "");
    assert_eq!(r.code, 1);
    assert!(r.out.starts_with("usage: setkey"));
}

#[test]
fn flag_parsing() {
    let c = Cli::try_parse_from(["setkey", "-DP"]).unwrap();
    assert!(c.dump && c.policy);
    let c = Cli::try_parse_from(["setkey", "-xx"]).unwrap();
    assert_eq!(c.monitor, 2);
    let c = Cli::try_parse_from(["setkey", "-Dalpv"]).unwrap();
    assert!(c.dump && c.all && c.forever && c.withports && c.verbose);
    let c = Cli::try_parse_from(["setkey", "-f", "x.conf", "-n"]).unwrap();
    assert_eq!((c.file.as_deref(), c.no_act), (Some("x.conf"), true));
    let c = Cli::try_parse_from(["setkey", "-r", "-c"]).unwrap();
    assert!(c.rfc && c.stdin);
    assert!(
        Cli::try_parse_from(["setkey", "-c", "-D"]).is_err(),
        "modes are exclusive"
    );
    assert!(Cli::try_parse_from(["setkey", "-f"]).is_err());
    assert!(Cli::try_parse_from(["setkey", "-Q"]).is_err());
    let e = Cli::try_parse_from(["setkey", "-V"]).unwrap_err();
    assert_eq!(e.kind(), clap::error::ErrorKind::DisplayVersion);
    let e = Cli::try_parse_from(["setkey", "-h"]).unwrap_err();
    assert_eq!(e.kind(), clap::error::ErrorKind::DisplayHelp);
}

#[test]
fn monitor_prints_each_message_until_the_socket_fails() {
    let k: Rc<RefCell<Kernel>> = Rc::default();
    let inner = build_vec(|w: &mut MsgWriter<'_>| {
        w.header(&MsgHeader {
            msg_type: SADB_FLUSH,
            errno: 0,
            satype: 0,
            reserved: 0,
            seq: 5,
            pid: 77,
        })
    })
    .unwrap()
    .to_vec();
    // After X_PROMISC's reply (wrapped form), a plain message, then EOF.
    let mut wrapped = build_vec(|w: &mut MsgWriter<'_>| {
        w.header(&MsgHeader {
            msg_type: SADB_X_PROMISC,
            errno: 0,
            satype: 1,
            reserved: 0,
            seq: 0,
            pid: 77,
        })
    })
    .unwrap()
    .to_vec();
    wrapped.extend_from_slice(&inner);
    k.borrow_mut().queue.extend([wrapped, inner]);
    struct Mon(Rc<RefCell<Kernel>>);
    impl Transport for Mon {
        fn send(&mut self, m: &[u8]) -> io::Result<()> {
            assert_eq!((m[1], m[3]), (SADB_X_PROMISC, 1));
            Ok(())
        }
        fn recv(&mut self) -> io::Result<Vec<u8>> {
            self.0
                .borrow_mut()
                .queue
                .pop_front()
                .ok_or_else(|| io::Error::from_raw_os_error(9))
        }
    }
    let kk = k.clone();
    let mut open = move || Ok(Box::new(Mon(kk.clone())) as Box<dyn Transport>);
    let r = run_with(&["-x"], "", &mut open, (3600 + 61, 0), &no_files);
    assert_eq!(r.code, 1);
    let out = r.out;
    let block = "01:01:01.000000 \nsadb_msg{ version=2 type=9 errno=0 satype=0\n  len=2 reserved=0 seq=5 pid=77\n\n";
    assert_eq!(out, format!("{block}{block}"));
}

#[test]
fn inbound_policies_get_a_fwd_twin_unless_kernel_mode() {
    // ipsec-tools on Linux runs in RFC mode (f_rfcmode = 1): an inbound
    // policy is installed for fwd too. -k installs exactly what is written.
    let line = "spdadd 20.1.1.1 10.1.1.1 any -P in ipsec esp/transport//require;\n";
    let dirs = |k: &Rc<RefCell<Kernel>>| -> Vec<u8> {
        k.borrow()
            .sent
            .iter()
            .map(|m| parse(m).unwrap().policy().unwrap().dir)
            .collect()
    };
    let k = Rc::default();
    assert_eq!(setkey(&k, &["-c"], line).code, 0);
    assert_eq!(dirs(&k), [IPSEC_DIR_INBOUND, IPSEC_DIR_FWD]);
    let k = Rc::default();
    assert_eq!(setkey(&k, &["-k", "-c"], line).code, 0);
    assert_eq!(dirs(&k), [IPSEC_DIR_INBOUND]);
    let k = Rc::default();
    let out = "spdadd 10.1.1.1 20.1.1.1 any -P out ipsec esp/transport//require;\n";
    assert_eq!(setkey(&k, &["-c"], out).code, 0);
    assert_eq!(
        dirs(&k),
        [IPSEC_DIR_OUTBOUND],
        "outbound policies have no twin"
    );
}
