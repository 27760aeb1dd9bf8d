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
        // esp-old/ah-old: SADB_X_EXT_OLD is bit 0, RFC 2367's PFS flag,
        // which af_key ignores (the SA is RFC 4303/4302).
        "add 10.1.1.1 20.1.1.1 esp-old 320 -E des-cbc 0x0001020304050607;",
        r#"add 10.1.1.1 20.1.1.1 ah-old 321 -A hmac-md5 "hogehogehogehoge";"#,
    ] {
        accepted(&k, stmt);
    }
    assert_eq!(k.borrow().e.sad.len(), 22);
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
         \tsadb_seq=0 pid={PID} refcnt=0\n"
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

/// The dump lines every SA of these tests shares after its first three.
fn sa_tail(seq: u32, hard: u64) -> String {
    format!(
        "\tcreated: Nov 14 22:13:20 2023\tcurrent: Nov 14 22:13:30 2023\n\
         \tdiff: 10(s)\thard: {hard}(s)\tsoft: 0(s)\n\
         \tlast:                     \thard: 0(s)\tsoft: 0(s)\n\
         \tcurrent: 0(bytes)\thard: 0(bytes)\tsoft: 0(bytes)\n\
         \tallocated: 0\thard: 0\tsoft: 0\n\
         \tstats: replay=0 integrity_failed=0\n\
         \tsadb_seq={seq} pid={} refcnt=0\n",
        std::process::id()
    )
}

#[test]
fn ipcomp_cpis_round_trip_through_add_get_getspi_and_dump() {
    let k = Kernel::new();
    // -C deflate, and -R: both send the CPI in the SPI field; Linux (and
    // rxfrm) always put the SPI on the wire and keep no RAWCPI flag.
    accepted(&k, "add 10.1.1.1 20.1.1.1 ipcomp 0x4000 -C deflate;");
    accepted(
        &k,
        "add 20.1.1.1 10.1.1.1 ipcomp 0x4001 -m tunnel -u 9 -C deflate -R;",
    );
    let r = setkey(&k, &["-c"], "get 20.1.1.1 10.1.1.1 ipcomp 0x4001;");
    assert_eq!(r.code, 0, "{}", r.err);
    // pfkey_dump.c ends the C: line with a blank, not a newline.
    assert_eq!(
        r.out,
        format!(
            "20.1.1.1 10.1.1.1 \n\
             \tipcomp mode=tunnel spi=16385(0x00004001) reqid=9(0x00000009)\n\
             \tC: deflate \tseq=0x00000000 replay=0 flags=0x00000000 state=mature \n{}",
            sa_tail(0, 0)
        )
    );
    // GETSPI: one CPI asked for is reserved on a larval SA (C: none).
    accepted(&k, "getspi 10.1.1.1 20.1.1.1 ipcomp 0x5000;");
    let r = setkey(&k, &["-c"], "get 10.1.1.1 20.1.1.1 ipcomp 0x5000;");
    assert_eq!(
        r.out,
        format!(
            "10.1.1.1 20.1.1.1 \n\
             \tipcomp mode=transport spi=20480(0x00005000) reqid=0(0x00000000)\n\
             \tC: none \tseq=0x00000000 replay=0 flags=0x00000000 state=larval \n{}",
            sa_tail(0, 30)
        )
    );
    // Without an SPI setkey sends no range: af_key's default range is
    // wider than 16 bits, EINVAL (verify_spi_info), and no larval SA.
    refused(
        &k,
        "getspi 10.1.1.1 20.1.1.1 ipcomp 0;",
        "getspi 10.1.1.1 20.1.1.1 ipcomp 0",
        EINVAL,
    );
    // A CPI above 16 bits, an SPI already taken.
    refused(
        &k,
        "add 10.1.1.1 20.1.1.1 ipcomp 0x10000 -C deflate;",
        "add 10.1.1.1 20.1.1.1 ipcomp 65536",
        EINVAL,
    );
    refused(
        &k,
        "add 10.1.1.1 20.1.1.1 ipcomp 0x4000 -C deflate;",
        "add 10.1.1.1 20.1.1.1 ipcomp 16384",
        "File exists",
    );
    refused(
        &k,
        "getspi 10.1.1.1 20.1.1.1 ipcomp 0x4000;",
        "getspi 10.1.1.1 20.1.1.1 ipcomp 16384",
        "No such file or directory",
    );
    // The whole SAD: three IPComp SAs, C: lines as above.
    let r = setkey(&k, &["-D"], "");
    assert_eq!(r.code, 0);
    assert_eq!(r.out.matches("\tipcomp mode=").count(), 3);
    assert_eq!(r.out.matches("\tC: deflate \tseq=").count(), 2);
    // DELETE by CPI.
    accepted(&k, "delete 20.1.1.1 10.1.1.1 ipcomp 0x4001;");
    assert_eq!(k.borrow().e.sad.len(), 2);
}

#[test]
fn unique_reqids_above_the_manual_range_are_the_kernels() {
    let k = Kernel::new();
    // As ipsec-tools on Linux: N is sent as written; af_key replaces a
    // reqid above 0x3fff by gen_reqid's (the first free above 0x3fff), and
    // ipsec_dump_policy() shows those as unique#N.
    accepted(
        &k,
        "spdadd 10.0.0.0/24 10.0.1.0/24 any -P out ipsec esp/transport//unique:20000 ah/transport//unique:5 ipcomp/transport//unique:30000;",
    );
    accepted(
        &k,
        "spdadd 10.0.2.0/24 10.0.1.0/24 any -P out ipsec esp/transport//unique:16383;",
    );
    accepted(
        &k,
        "spdadd 10.0.3.0/24 10.0.1.0/24 any -P out ipsec esp/transport//unique:16384;",
    );
    let r = setkey(&k, &["-DP"], "");
    assert_eq!(r.code, 0);
    let pid = std::process::id();
    assert_eq!(
        r.out,
        format!(
            "10.0.0.0/24[any] 10.0.1.0/24[any] any\n\
             \tout prio def ipsec\n\
             \tesp/transport//unique#16384\n\
             \tah/transport//unique:5\n\
             \tipcomp/transport//unique#16385\n\
             \tcreated: Nov 14 22:13:20 2023  lastused:                     \n\
             \tlifetime: 0(s) validtime: 0(s)\n\
             \tspid=1 seq=2 pid={pid}\n\
             \trefcnt=1\n\
             10.0.2.0/24[any] 10.0.1.0/24[any] any\n\
             \tout prio def ipsec\n\
             \tesp/transport//unique:16383\n\
             \tcreated: Nov 14 22:13:20 2023  lastused:                     \n\
             \tlifetime: 0(s) validtime: 0(s)\n\
             \tspid=9 seq=1 pid={pid}\n\
             \trefcnt=1\n\
             10.0.3.0/24[any] 10.0.1.0/24[any] any\n\
             \tout prio def ipsec\n\
             \tesp/transport//unique#16386\n\
             \tcreated: Nov 14 22:13:20 2023  lastused:                     \n\
             \tlifetime: 0(s) validtime: 0(s)\n\
             \tspid=17 seq=0 pid={pid}\n\
             \trefcnt=1\n"
        )
    );
}

#[test]
fn ipcomp_and_ah_policies_dump_as_ipsec_tools() {
    let k = Kernel::new();
    accepted(
        &k,
        "spdadd 10.0.1.0/24 10.0.0.0/24 any -P in ipsec ipcomp/tunnel/20.1.1.1-10.1.1.1/use esp/tunnel/20.1.1.1-10.1.1.1/require;",
    );
    accepted(
        &k,
        "spdadd 10.1.1.1 20.1.1.1 any -P out ipsec esp/transport//require ah/transport//require;",
    );
    // Linux refuses optional (use) tunnel templates in outbound policies.
    let r = setkey(
        &k,
        &["-c"],
        "spdadd 10.0.0.0/24 10.0.1.0/24 any -P out ipsec ipcomp/tunnel/10.1.1.1-20.1.1.1/use esp/tunnel/10.1.1.1-20.1.1.1/require;",
    );
    assert_eq!(
        (r.code, r.err.as_str()),
        (
            1,
            "(stdin):1: spdadd 10.0.0.0/24 10.0.1.0/24 any -P out: Invalid argument.\n"
        )
    );
    let r = setkey(&k, &["-DP"], "");
    let want = |sel: &str, dir: &str, reqs: &str, spid: u32, seq: u32| {
        format!(
            "{sel}\n\t{dir} prio def ipsec\n{reqs}\
             \tcreated: Nov 14 22:13:20 2023  lastused:                     \n\
             \tlifetime: 0(s) validtime: 0(s)\n\
             \tspid={spid} seq={seq} pid={}\n\trefcnt=1\n",
            std::process::id()
        )
    };
    let tun = "\tipcomp/tunnel/20.1.1.1-10.1.1.1/use\n\tesp/tunnel/20.1.1.1-10.1.1.1/require\n";
    let sel = "10.0.1.0/24[any] 10.0.0.0/24[any] any";
    assert_eq!(
        r.out,
        [
            want(sel, "in", tun, 8, 2),
            // RFC mode's fwd twin of the inbound policy.
            want(sel, "fwd", tun, 10, 1),
            want(
                "10.1.1.1[any] 20.1.1.1[any] any",
                "out",
                "\tesp/transport//require\n\tah/transport//require\n",
                17,
                0
            ),
        ]
        .concat()
    );
}

/// The NetBSD FAQ seed's AH examples, as files through `setkey -f`.
#[test]
fn faq_seed_ah_examples() {
    let k = Kernel::new();
    let r = setkey(&k, &["-f", "seed/h2h-ah-md5.conf"], "");
    assert_eq!((r.code, r.err.as_str(), r.out.as_str()), (0, "", ""));
    let r = setkey(&k, &["-D"], "");
    assert_eq!(
        r.out,
        format!(
            "10.1.1.1 20.1.1.1 \n\
             \tah mode=transport spi=9877(0x00002695) reqid=0(0x00000000)\n\
             \tA: hmac-md5  686f6765 686f6765 686f6765 686f6765\n\
             \tseq=0x00000000 replay=0 flags=0x00000000 state=mature \n{}\
             20.1.1.1 10.1.1.1 \n\
             \tah mode=transport spi=10001(0x00002711) reqid=0(0x00000000)\n\
             \tA: hmac-md5  6d6f6761 6d6f6761 6d6f6761 6d6f6761\n\
             \tseq=0x00000000 replay=0 flags=0x00000000 state=mature \n{}",
            sa_tail(1, 0),
            sa_tail(0, 0)
        )
    );
    let r = setkey(&k, &["-DP"], "");
    assert!(
        r.out.starts_with(
            "10.1.1.1[any] 20.1.1.1[any] any\n\tout prio def ipsec\n\tah/transport//use\n"
        ),
        "{}",
        r.out
    );

    // ESP and AH on one flow: four SAs, one policy with both requests.
    let k = Kernel::new();
    let r = setkey(&k, &["-f", "seed/h2h-esp-ah.conf"], "");
    assert_eq!((r.code, r.err.as_str()), (0, ""));
    {
        let kk = k.borrow();
        assert_eq!(kk.e.sad.count(IpsecProto::Ah), 2);
        assert_eq!(kk.e.sad.count(IpsecProto::Esp), 2);
    }
    let r = setkey(&k, &["-D"], "");
    assert_eq!(r.out.matches("\tesp mode=any").count(), 0);
    assert_eq!(r.out.matches("\tesp mode=transport").count(), 2);
    assert_eq!(r.out.matches("\tah mode=transport").count(), 2);
    assert!(r.out.contains("\tE: 3des-cbc  686f6765 686f6765"));
    assert!(r.out.contains("\tA: hmac-md5  6d6f6761"));
    let r = setkey(&k, &["-DP"], "");
    assert!(
        r.out.starts_with(
            "10.1.1.1[any] 20.1.1.1[any] any\n\tout prio def ipsec\n\
             \tesp/transport//use\n\tah/transport//use\n"
        ),
        "{}",
        r.out
    );

    // The racoon section with the POP port-110 AH policies.
    let k = Kernel::new();
    let r = setkey(&k, &["-f", "seed/racoon-ports.conf"], "");
    assert_eq!((r.code, r.err.as_str()), (0, ""));
    let r = setkey(&k, &["-DP"], "");
    for text in [
        "10.1.1.1[110] 10.1.1.1[any] tcp\n\tout prio def none\n",
        "10.1.1.1[any] 10.1.1.1[110] tcp\n\tin prio def none\n",
        "10.1.1.1[110] 0.0.0.0/0[any] tcp\n\tout prio def ipsec\n\tah/transport//require\n",
        "0.0.0.0/0[any] 10.1.1.1[110] tcp\n\tin prio def ipsec\n\tah/transport//require\n",
        "0.0.0.0/0[any] 10.1.1.1[110] tcp\n\tfwd prio def ipsec\n\tah/transport//require\n",
    ] {
        assert!(r.out.contains(text), "{text} in\n{}", r.out);
    }
    // 4 FAQ policies, 2 more for port 110, and fwd twins of the 3 inbound.
    assert_eq!(k.borrow().e.spd.len(), 9);
}
