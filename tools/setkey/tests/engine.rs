//! setkey against rxfrm's own key engine (`rxfrm_logic::engine`, the code
//! the kernel module runs for PF_KEY), so what the kernel refuses, and the
//! errno setkey reports for it, are the module's, not a script's. Each
//! `setkey` run opens a fresh socket on one shared engine.

use clap::Parser;
use rxfrm_logic::addr::IpAddr;
use rxfrm_logic::algs::AlgDesc;
use rxfrm_logic::engine::{AlgProbe, Audience, Build, Engine, Limits, Outbox, Rejected, SockCtl};
use rxfrm_logic::pfkey::{build_vec, Errno};
use rxfrm_logic::types::{IpsecProto, Mode};
use setkey::ast::AddrOpts;
use setkey::cli::{run, Cli, Env};
use setkey::socket::Transport;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::io;
use std::rc::Rc;

/// The engine's clock, and setkey's ten seconds later.
const NOW: u64 = 1_700_000_000;

/// Crypto probe: everything with a kernel implementation runs except the
/// listed crypto API names. Linux 6.12 has no `lzs` nor `lzjh`.
struct Probe(Vec<&'static str>);

impl AlgProbe for Probe {
    fn available(&self, alg: &AlgDesc) -> bool {
        alg.crypto.is_some_and(|c| !self.0.contains(&c))
    }
}

struct Kernel {
    e: Engine,
    probe: Probe,
}

impl Kernel {
    fn new() -> Rc<RefCell<Kernel>> {
        Rc::new(RefCell::new(Kernel {
            e: Engine::new(Limits {
                max_states: 1000,
                max_policies: 1000,
            }),
            probe: Probe(vec!["lzs", "lzjh"]),
        }))
    }
}

/// What the engine emits for the one socket: replies to it, broadcasts
/// and registered-socket messages; promiscuous copies are not ours.
struct Queue<'a>(&'a mut VecDeque<Vec<u8>>);

impl Outbox for Queue<'_> {
    fn send(&mut self, to: Audience, build: &mut Build<'_>) -> Result<(), Errno> {
        if to != Audience::PromiscOnly {
            self.0.push_back(build_vec(|w| build(w))?.to_vec());
        }
        Ok(())
    }

    fn wanted(&self, to: Audience) -> bool {
        to != Audience::PromiscOnly
    }
}

/// One PF_KEY socket on the shared engine, as rust/af_key drives it:
/// errors become af_key's error replies, a dump is drained at once.
struct Sock {
    k: Rc<RefCell<Kernel>>,
    ctl: SockCtl,
    queue: VecDeque<Vec<u8>>,
}

impl Transport for Sock {
    fn send(&mut self, m: &[u8]) -> io::Result<()> {
        let mut k = self.k.borrow_mut();
        let Kernel { e, probe } = &mut *k;
        let mut q = Queue(&mut self.queue);
        match e.handle(m, &mut self.ctl, NOW, probe, &mut q) {
            Ok(()) => {
                if let Some(mut d) = self.ctl.dump.take() {
                    while e.dump_next(&mut d, &mut q).expect("dump") {}
                }
                Ok(())
            }
            Err(Rejected::Header(e)) => Err(io::Error::from_raw_os_error(e.0)),
            Err(Rejected::Message(err)) => {
                Engine::error_reply(m, err, &mut q).expect("error reply");
                Ok(())
            }
        }
    }

    fn recv(&mut self) -> io::Result<Vec<u8>> {
        self.queue
            .pop_front()
            .ok_or_else(|| io::ErrorKind::TimedOut.into())
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

/// The seed directory's files, and `/t/<name>` from `extra`.
fn read_file(extra: &[(&str, &str)], p: &str) -> io::Result<String> {
    if let Some((_, text)) = extra.iter().find(|(n, _)| *n == p) {
        return Ok(text.to_string());
    }
    let seed = concat!(env!("CARGO_MANIFEST_DIR"), "/../../selftests/seed/");
    match p.strip_prefix("seed/") {
        Some(name) => std::fs::read_to_string(format!("{seed}{name}")),
        None => Err(io::ErrorKind::NotFound.into()),
    }
}

fn setkey_files(
    k: &Rc<RefCell<Kernel>>,
    args: &[&str],
    input: &str,
    files: &[(&str, &str)],
) -> Run {
    let cli = Cli::try_parse_from(std::iter::once("setkey").chain(args.iter().copied())).unwrap();
    let mut stdin = io::Cursor::new(input.as_bytes().to_vec());
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let kk = k.clone();
    let mut open = move || {
        Ok(Box::new(Sock {
            k: kk.clone(),
            ctl: SockCtl::default(),
            queue: VecDeque::new(),
        }) as Box<dyn Transport>)
    };
    let rf = |p: &str| read_file(files, p);
    let mut env = Env {
        stdin: &mut stdin,
        out: &mut out,
        err: &mut err,
        open: &mut open,
        resolve: &no_dns,
        clock: &|| (NOW + 10, 0),
        read_file: &rf,
    };
    let code = run(&cli, &mut env);
    Run {
        code,
        out: String::from_utf8(out).unwrap(),
        err: String::from_utf8(err).unwrap(),
    }
}

fn setkey(k: &Rc<RefCell<Kernel>>, args: &[&str], input: &str) -> Run {
    setkey_files(k, args, input, &[])
}

/// `setkey -c` of one statement that the kernel must refuse with `text`.
fn refused(k: &Rc<RefCell<Kernel>>, stmt: &str, label: &str, text: &str) {
    let before = k.borrow().e.sad.len();
    let r = setkey(k, &["-c"], stmt);
    assert_eq!(r.code, 1, "{stmt}");
    assert_eq!(r.err, format!("(stdin):1: {label}: {text}.\n"), "{stmt}");
    assert_eq!(r.out, "", "{stmt}");
    assert_eq!(k.borrow().e.sad.len(), before, "{stmt} changed the SAD");
}

fn accepted(k: &Rc<RefCell<Kernel>>, stmt: &str) {
    let r = setkey(k, &["-c"], stmt);
    assert_eq!(
        (r.code, r.err.as_str(), r.out.as_str()),
        (0, "", ""),
        "{stmt}"
    );
}

const ENOSYS: &str = "Function not implemented";
const EINVAL: &str = "Invalid argument";

#[test]
fn names_the_kernel_lacks_are_sent_and_refused_with_an_errno() {
    let k = Kernel::new();
    let cases = [
        (
            r#"add 10.1.1.1 20.1.1.1 ah 256 -A keyed-md5 "0123456789abcdef";"#,
            "add 10.1.1.1 20.1.1.1 ah 256",
            ENOSYS,
        ),
        (
            r#"add 10.1.1.1 20.1.1.1 ah 257 -A keyed-sha1 "0123456789abcdefghij";"#,
            "add 10.1.1.1 20.1.1.1 ah 257",
            ENOSYS,
        ),
        (
            r#"add 10.1.1.1 20.1.1.1 esp 258 -E rc5-cbc "0123456789abcdef";"#,
            "add 10.1.1.1 20.1.1.1 esp 258",
            ENOSYS,
        ),
        (
            r#"add 10.1.1.1 20.1.1.1 esp 259 -E null -A tcp-md5 "secret";"#,
            "add 10.1.1.1 20.1.1.1 esp 259",
            EINVAL,
        ),
        (
            r#"add 10.1.1.1 20.1.1.1 tcp 260 -A tcp-md5 "secret";"#,
            "add 10.1.1.1 20.1.1.1 tcp 260",
            EINVAL,
        ),
        (
            "add 10.1.1.1 20.1.1.1 esp 261 -E des-deriv 0x0001020304050607;",
            "add 10.1.1.1 20.1.1.1 esp 261",
            EINVAL,
        ),
        (
            r#"add 10.1.1.1 20.1.1.1 esp 262 -E 3des-deriv "hogehogehogehogehogehoge";"#,
            "add 10.1.1.1 20.1.1.1 esp 262",
            EINVAL,
        ),
        (
            "add 10.1.1.1 20.1.1.1 esp-old 263 -E des-32iv 0x0001020304050607;",
            "add 10.1.1.1 20.1.1.1 esp-old 263",
            EINVAL,
        ),
        (
            "add 10.1.1.1 20.1.1.1 esp-old 264 -E des-cbc 0x0001020304050607;",
            "add 10.1.1.1 20.1.1.1 esp-old 264",
            EINVAL,
        ),
        (
            r#"add 10.1.1.1 20.1.1.1 ah-old 265 -A hmac-md5 "hogehogehogehoge";"#,
            "add 10.1.1.1 20.1.1.1 ah-old 265",
            EINVAL,
        ),
        (
            r#"add 10.1.1.1 20.1.1.1 ah-old 266 -A keyed-md5 "hogehogehogehoge";"#,
            "add 10.1.1.1 20.1.1.1 ah-old 266",
            ENOSYS,
        ),
        (
            "add 10.1.1.1 20.1.1.1 ipcomp 267 -C oui;",
            "add 10.1.1.1 20.1.1.1 ipcomp 267",
            ENOSYS,
        ),
        (
            "add 10.1.1.1 20.1.1.1 ipcomp 268 -C lzs;",
            "add 10.1.1.1 20.1.1.1 ipcomp 268",
            ENOSYS,
        ),
        // AH's null MAC: setkey sends no key, af_key wants one (EINVAL).
        (
            "add 10.1.1.1 20.1.1.1 ah 269 -A null;",
            "add 10.1.1.1 20.1.1.1 ah 269",
            EINVAL,
        ),
        // ESP without a cipher (ipsec-tools' ah_spec on esp): no key.
        (
            r#"add 10.1.1.1 20.1.1.1 esp 270 -A hmac-sha1 "01234567890123456789";"#,
            "add 10.1.1.1 20.1.1.1 esp 270",
            EINVAL,
        ),
    ];
    for (stmt, label, text) in cases {
        refused(&k, stmt, label, text);
    }
    assert!(k.borrow().e.sad.is_empty());
    // What the crypto API lacks is ENOSYS too.
    k.borrow_mut().probe = Probe(vec!["hmac(rmd160)", "cbc(twofish)"]);
    refused(
        &k,
        r#"add 10.1.1.1 20.1.1.1 ah 271 -A hmac-ripemd160 "01234567890123456789";"#,
        "add 10.1.1.1 20.1.1.1 ah 271",
        ENOSYS,
    );
    refused(
        &k,
        r#"add 10.1.1.1 20.1.1.1 esp 272 -E twofish-cbc "0123456789abcdef";"#,
        "add 10.1.1.1 20.1.1.1 esp 272",
        ENOSYS,
    );
    k.borrow_mut().probe = Probe(vec![]);

    // The ipsec-tools names a Linux kernel has are accepted.
    for stmt in [
        r#"add 10.1.1.1 20.1.1.1 esp 300 -E des-cbc "01234567";"#,
        r#"add 10.1.1.1 20.1.1.1 esp 301 -E 3des-cbc "hogehogehogehogehogehoge";"#,
        "add 10.1.1.1 20.1.1.1 esp 302 -E null;",
        "add 10.1.1.1 20.1.1.1 esp 303 -E simple;",
        r#"add 10.1.1.1 20.1.1.1 esp 304 -E blowfish-cbc "blowfishtest.001";"#,
        r#"add 10.1.1.1 20.1.1.1 esp 305 -E cast128-cbc "0123456789abcdef";"#,
        r#"add 10.1.1.1 20.1.1.1 esp 306 -E twofish-cbc "0123456789abcdef";"#,
        r#"add 10.1.1.1 20.1.1.1 esp 307 -E aes-cbc "0123456789abcdef";"#,
        r#"add 10.1.1.1 20.1.1.1 esp 308 -E rijndael-cbc "0123456789abcdef";"#,
        r#"add 10.1.1.1 20.1.1.1 esp 309 -E aes-ctr "0123456789abcdef0123";"#,
        r#"add 10.1.1.1 20.1.1.1 esp 310 -E camellia-cbc "0123456789abcdef";"#,
        r#"add 10.1.1.1 20.1.1.1 esp 311 -E null -A hmac-md5 "0123456789abcdef";"#,
        r#"add 10.1.1.1 20.1.1.1 esp 312 -E null -A hmac-sha1 "01234567890123456789";"#,
        "add 10.1.1.1 20.1.1.1 esp 313 -E null -A hmac-sha2-256 0x000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f;",
        "add 10.1.1.1 20.1.1.1 esp 314 -E null -A hmac-sha384 0x000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f;",
        "add 10.1.1.1 20.1.1.1 esp 315 -E null -A hmac-sha2-512 0x000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f;",
        r#"add 10.1.1.1 20.1.1.1 esp 316 -E null -A hmac-ripemd160 "01234567890123456789";"#,
        r#"add 10.1.1.1 20.1.1.1 esp 317 -E null -A aes-xcbc-mac "0123456789abcdef";"#,
        "add 10.1.1.1 20.1.1.1 esp 318 -E null -A null;",
        "add 10.1.1.1 20.1.1.1 ipcomp 319 -C deflate;",
    ] {
        accepted(&k, stmt);
    }
    assert_eq!(k.borrow().e.sad.len(), 20);
}

#[test]
fn unknown_names_are_parse_errors_with_position() {
    let k = Kernel::new();
    let conf = "add 10.1.1.1 20.1.1.1 esp 1 -E null;\n\
                add 10.1.1.1 20.1.1.1 esp 2 -E rot13 \"x\";\n\
                add 10.1.1.1 20.1.1.1 ah 3 -A hmac-md4 \"0123456789abcdef\";\n\
                add 10.1.1.1 20.1.1.1 ipcomp 4 -C zstd;\n\
                add 10.1.1.1 20.1.1.1 esp 5 -E null;\n";
    let r = setkey_files(&k, &["-f", "/t/a.conf"], "", &[("/t/a.conf", conf)]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.err,
        "/t/a.conf:2:32: unknown encryption algorithm \"rot13\"\n\
         /t/a.conf:3:31: unknown authentication algorithm \"hmac-md4\"\n\
         /t/a.conf:4:35: unknown compression algorithm \"zstd\"\n"
    );
    // Nothing of the bad lines reached the kernel; the others did.
    let k = k.borrow();
    let spis: Vec<u32> = k.e.sad.iter().map(|s| s.ident().spi).collect();
    assert_eq!(spis.len(), 2);
    assert!(spis.contains(&1) && spis.contains(&5));
}

#[test]
fn ah_statements_dumps_and_errors() {
    let k = Kernel::new();
    for (spi, alg, key) in [
        (0x1001, "hmac-md5", "0x000102030405060708090a0b0c0d0e0f"),
        (
            0x1002,
            "hmac-sha1",
            "0x000102030405060708090a0b0c0d0e0f10111213",
        ),
        (
            0x1003,
            "hmac-sha256",
            "0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
        ),
        (0x1004, "hmac-sha384", &format!("0x{}", "ab".repeat(48))),
        (0x1005, "hmac-sha512", &format!("0x{}", "cd".repeat(64))),
        (0x1006, "aes-xcbc-mac", "0x000102030405060708090a0b0c0d0e0f"),
        (0x1007, "aes-cmac", "0x000102030405060708090a0b0c0d0e0f"),
    ] {
        accepted(
            &k,
            &format!("add 10.1.1.1 20.1.1.1 ah {spi} -A {alg} {key};"),
        );
        let r = setkey(&k, &["-c"], &format!("get 10.1.1.1 20.1.1.1 ah {spi};"));
        assert_eq!(r.code, 0);
        let a_line = r.out.lines().nth(2).unwrap();
        assert!(a_line.starts_with(&format!("\tA: {alg}  ")), "{}", r.out);
    }
    // ESN on AH (RFC 4302 §2.5.1), FreeBSD's -f esn.
    accepted(
        &k,
        "add 10.1.1.1 20.1.1.1 ah 0x2000 -m tunnel -u 7 -r 64 -f esn -A hmac-sha1 0x000102030405060708090a0b0c0d0e0f10111213;",
    );
    {
        let kk = k.borrow();
        let sa =
            kk.e.sad
                .lookup(&IpAddr::V4([20, 1, 1, 1]), 0x2000, IpsecProto::Ah)
                .unwrap();
        assert!(sa.esn);
        assert_eq!(
            (sa.mode(), sa.ident().reqid, sa.replay_window),
            (Mode::Tunnel, 7, 64)
        );
    }
    let r = setkey(&k, &["-c"], "get 10.1.1.1 20.1.1.1 ah 0x2000;");
    assert_eq!(
        r.out,
        "10.1.1.1 20.1.1.1 \n\
         \tah mode=tunnel spi=8192(0x00002000) reqid=7(0x00000007)\n\
         \tA: hmac-sha1  00010203 04050607 08090a0b 0c0d0e0f 10111213\n\
         \tseq=0x00000000 replay=64 flags=0x00000400 state=mature \n\
         \tcreated: Nov 14 22:13:20 2023\tcurrent: Nov 14 22:13:30 2023\n\
         \tdiff: 10(s)\thard: 0(s)\tsoft: 0(s)\n\
         \tlast:                     \thard: 0(s)\tsoft: 0(s)\n\
         \tcurrent: 0(bytes)\thard: 0(bytes)\tsoft: 0(bytes)\n\
         \tallocated: 0\thard: 0\tsoft: 0\n\
         \tstats: replay=0 integrity_failed=0\n\
         \tsadb_seq=1 pid={PID} refcnt=0\n"
            .replace("{PID}", &std::process::id().to_string())
    );
    // IPComp has no sequence numbers: ESN is the kernel's EINVAL.
    refused(
        &k,
        "add 10.1.1.1 20.1.1.1 ipcomp 0x2001 -f esn -C deflate;",
        "add 10.1.1.1 20.1.1.1 ipcomp 8193",
        EINVAL,
    );
    // -E with ah: setkey's own error, at the cipher, nothing sent.
    let n = k.borrow().e.sad.len();
    let r = setkey(
        &k,
        &["-c"],
        r#"add 10.1.1.1 20.1.1.1 ah 0x3000 -E 3des-cbc "hogehogehogehogehogehoge" -A hmac-md5 "hogehogehogehoge";"#,
    );
    assert_eq!(r.code, 1);
    assert_eq!(r.err, "(stdin):1:36: only -A is allowed here\n");
    assert_eq!(k.borrow().e.sad.len(), n);
    // A key of the wrong length for AES-CMAC (RFC 4494: 128 bits).
    let r = setkey(
        &k,
        &["-c"],
        "add 10.1.1.1 20.1.1.1 ah 0x3001 -A aes-cmac 0x0001020304050607;",
    );
    assert_eq!(r.code, 1);
    assert_eq!(
        r.err,
        "(stdin):1:36: invalid key length 64 bits for aes-cmac (needs 128)\n"
    );
}
