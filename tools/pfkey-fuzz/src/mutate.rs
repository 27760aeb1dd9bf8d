//! Mutations of a valid message: lengths (base and extension: off by one,
//! zero, huge), truncation, duplicated, dropped, reordered and unknown
//! extensions, wrong address families and prefix lengths, key-bit lies,
//! oversize messages, reserved fields set, field values out of range,
//! policy request framing, one-sided lifetimes, flipped and random bytes.
//!
//! Structural mutations change the [`Msg`]; byte mutations (truncate,
//! flip, random) the encoded bytes, so they run last.

use crate::wire::{Ext, Msg};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

// Extension types and layouts (body offsets: after the 4-byte sadb_ext).
const EXT_SA: u16 = 1;
const EXT_LIFETIME_HARD: u16 = 3;
const EXT_LIFETIME_SOFT: u16 = 4;
const EXT_ADDRESS_SRC: u16 = 5;
const EXT_ADDRESS_DST: u16 = 6;
const EXT_ADDRESS_PROXY: u16 = 7;
const EXT_KEY_AUTH: u16 = 8;
const EXT_KEY_ENCRYPT: u16 = 9;
const EXT_SPIRANGE: u16 = 16;
const EXT_KMPRIVATE: u16 = 17;
const EXT_POLICY: u16 = 18;
const EXT_SA2: u16 = 19;
const EXT_NAT_T_OA: u16 = 23;

/// Every mutation, by name (the names appear in the run's report).
pub const NAMES: &[&str] = &[
    "base-len",
    "ext-len",
    "truncate",
    "dup-ext",
    "unknown-ext",
    "drop-ext",
    "swap-ext",
    "family",
    "prefix",
    "key-bits",
    "oversize",
    "reserved",
    "version",
    "hdr-field",
    "sa-field",
    "policy-field",
    "request",
    "lifetime",
    "spirange",
    "flip",
    "random",
];

/// One of the listed values (evaluated first, so they may use the RNG).
macro_rules! pick {
    ($rng:expr, [$($x:expr),* $(,)?] $(,)?) => {{
        let of = [$($x),*];
        let i = $rng.random_range(0..of.len());
        of[i]
    }};
}

fn random_bytes(rng: &mut ChaCha8Rng, n: usize) -> Vec<u8> {
    (0..n).map(|_| rng.random()).collect()
}

/// Index of a random extension whose type is in `types` (any if empty).
fn some_ext(rng: &mut ChaCha8Rng, m: &Msg, types: &[u16]) -> Option<usize> {
    let idx: Vec<usize> = (0..m.exts.len())
        .filter(|&i| types.is_empty() || types.contains(&m.exts[i].ext_type))
        .collect();
    (!idx.is_empty()).then(|| idx[rng.random_range(0..idx.len())])
}

fn set16(b: &mut [u8], off: usize, v: u16) {
    if let Some(s) = b.get_mut(off..off + 2) {
        s.copy_from_slice(&v.to_ne_bytes());
    }
}

fn set32(b: &mut [u8], off: usize, v: u32) {
    if let Some(s) = b.get_mut(off..off + 4) {
        s.copy_from_slice(&v.to_ne_bytes());
    }
}

fn get16(b: &[u8], off: usize) -> u16 {
    b.get(off..off + 2)
        .map_or(0, |s| u16::from_ne_bytes([s[0], s[1]]))
}

/// One structural mutation; `false` if it did not apply to this message.
fn structural(rng: &mut ChaCha8Rng, m: &mut Msg, name: &str) -> bool {
    const ADDRS: &[u16] = &[
        EXT_ADDRESS_SRC,
        EXT_ADDRESS_DST,
        EXT_ADDRESS_PROXY,
        EXT_NAT_T_OA,
    ];
    match name {
        "base-len" => {
            let w = m.encode().len() / 8;
            let v = pick!(
                rng,
                [
                    w.wrapping_sub(1),
                    w + 1,
                    0,
                    1,
                    2,
                    0xffff,
                    rng.random_range(0..0x10000)
                ]
            );
            m.hdr.len = Some(v as u16);
        }
        "ext-len" => {
            let Some(i) = some_ext(rng, m, &[]) else {
                return false;
            };
            let w = m.exts[i].true_words();
            let v = pick!(
                rng,
                [
                    w.wrapping_sub(1),
                    w + 1,
                    0,
                    0xffff,
                    rng.random_range(0..0x10000),
                    w + 64
                ]
            );
            m.exts[i].len = Some(v as u16);
        }
        "dup-ext" => {
            let Some(i) = some_ext(rng, m, &[]) else {
                return false;
            };
            let e = m.exts[i].clone();
            let at = rng.random_range(0..=m.exts.len());
            m.exts.insert(at, e);
        }
        "unknown-ext" => {
            let t = pick!(
                rng,
                [
                    0,
                    27,
                    28,
                    31,
                    0xf0,
                    0xff,
                    0x100,
                    0x7fff,
                    0xffff,
                    rng.random()
                ]
            );
            let n = pick!(rng, [4, 12, 20, rng.random_range(0..64)]);
            let at = rng.random_range(0..=m.exts.len());
            m.exts.insert(
                at,
                Ext {
                    ext_type: t,
                    len: None,
                    body: random_bytes(rng, n),
                },
            );
        }
        "drop-ext" => {
            let Some(i) = some_ext(rng, m, &[]) else {
                return false;
            };
            m.exts.remove(i);
        }
        "swap-ext" => {
            if m.exts.len() < 2 {
                return false;
            }
            let (a, b) = (
                rng.random_range(0..m.exts.len()),
                rng.random_range(0..m.exts.len()),
            );
            m.exts.swap(a, b);
        }
        "family" => {
            let Some(i) = some_ext(rng, m, ADDRS) else {
                return mutate_request(rng, m, true);
            };
            let body = &mut m.exts[i].body;
            match rng.random_range(0..3) {
                0 => {
                    let f = pick!(rng, [0u16, 1, 2, 10, 17, 0xffff, rng.random()]);
                    set16(body, 4, f);
                }
                1 => {
                    // The other family's sockaddr, whole and well framed.
                    let v6 = get16(body, 4) == 2;
                    let mut sa = vec![0u8; if v6 { 28 } else { 16 }];
                    set16(&mut sa, 0, if v6 { 10 } else { 2 });
                    let n = if v6 { 16 } else { 4 };
                    let off = if v6 { 8 } else { 4 };
                    for x in &mut sa[off..off + n] {
                        *x = rng.random();
                    }
                    body.truncate(4);
                    body.extend(sa);
                }
                _ => {
                    // Right family, wrong size: v4 in a v6-sized body or
                    // the reverse.
                    let v6 = get16(body, 4) == 10;
                    body.resize(if v6 { 4 + 16 } else { 4 + 28 }, 0);
                }
            }
        }
        "prefix" => {
            let Some(i) = some_ext(rng, m, ADDRS) else {
                return false;
            };
            let p = pick!(rng, [33, 64, 128, 129, 200, 255, rng.random()]);
            if let Some(b) = m.exts[i].body.get_mut(1) {
                *b = p;
            }
        }
        "key-bits" => {
            let Some(i) = some_ext(rng, m, &[EXT_KEY_AUTH, EXT_KEY_ENCRYPT]) else {
                return false;
            };
            let body = &mut m.exts[i].body;
            let bits = get16(body, 0);
            let room = (body.len().saturating_sub(4) * 8) as u16;
            let v = pick!(
                rng,
                [
                    bits.wrapping_add(1),
                    bits.wrapping_add(8),
                    bits.wrapping_sub(1),
                    bits.wrapping_sub(8),
                    0,
                    0xffff,
                    room.wrapping_add(8),
                    room.wrapping_add(64),
                    rng.random(),
                ],
            );
            set16(body, 0, v);
            if rng.random_bool(0.3) {
                // The key itself one byte short or long as well.
                if rng.random_bool(0.5) {
                    body.pop();
                } else {
                    body.push(rng.random());
                }
            }
        }
        "oversize" => match rng.random_range(0..4) {
            0 => {
                // Larger than sadb_msg_len can describe: the length wraps.
                let n = pick!(rng, [524_288, 600_000, rng.random_range(524_288..700_000)]);
                m.exts.push(Ext {
                    ext_type: EXT_KMPRIVATE,
                    len: None,
                    body: vec![0x5a; n],
                });
            }
            1 => {
                // Describable, but beyond the socket's send buffer.
                let n = pick!(rng, [65_536, 212_992, 300_000, 524_000]);
                m.exts.push(Ext {
                    ext_type: EXT_KMPRIVATE,
                    len: None,
                    body: vec![0xa5; n],
                });
            }
            2 => {
                // Many small unknown extensions.
                for k in 0..rng.random_range(100..3000) {
                    m.exts.push(Ext {
                        ext_type: 27 + (k % 200) as u16,
                        len: None,
                        body: vec![0; 4],
                    });
                }
            }
            _ => {
                // Just under and over 64 KiB (the old u16 byte limit).
                let n = pick!(rng, [65_520 - 16, 65_536 - 16, 65_544]);
                m.exts.push(Ext {
                    ext_type: EXT_KMPRIVATE,
                    len: None,
                    body: vec![0; n],
                });
            }
        },
        "reserved" => {
            let t = [
                EXT_ADDRESS_SRC,
                EXT_ADDRESS_DST,
                EXT_KEY_AUTH,
                EXT_KEY_ENCRYPT,
                EXT_POLICY,
                EXT_SA2,
                EXT_SPIRANGE,
            ];
            match some_ext(rng, m, &t) {
                Some(i) if rng.random_bool(0.7) => {
                    let v: u8 = rng.random_range(1..=255);
                    let e = &mut m.exts[i];
                    let off = match e.ext_type {
                        EXT_ADDRESS_SRC | EXT_ADDRESS_DST => 2,
                        EXT_KEY_AUTH | EXT_KEY_ENCRYPT => 2,
                        EXT_POLICY => 3,
                        EXT_SA2 => pick!(rng, [1, 2]),
                        _ => 8,
                    };
                    if let Some(b) = e.body.get_mut(off) {
                        *b = v;
                    }
                }
                _ => m.hdr.reserved = rng.random_range(1..=0xffff),
            }
        }
        "version" => m.hdr.version = pick!(rng, [0, 1, 3, 255]),
        "hdr-field" => match rng.random_range(0..5) {
            0 => {
                m.hdr.msg_type = pick!(rng, [0, 12, 17, 21, 23, 24, 25, 26, 100, 255, rng.random()])
            }
            1 => m.hdr.satype = pick!(rng, [0, 1, 2, 3, 4, 5, 8, 9, 10, 255, rng.random()]),
            2 => m.hdr.errno = rng.random(),
            3 => m.hdr.seq = pick!(rng, [0, u32::MAX, rng.random()]),
            _ => m.hdr.pid = pick!(rng, [0, 1, u32::MAX, rng.random()]),
        },
        "sa-field" => {
            let Some(i) = some_ext(rng, m, &[EXT_SA]) else {
                return false;
            };
            let b = &mut m.exts[i].body;
            if b.len() < 12 {
                return false;
            }
            match rng.random_range(0..6) {
                0 => b[0..4].copy_from_slice(
                    &pick!(rng, [0u32, u32::MAX, 0xff, 0x1_0000, rng.random()]).to_be_bytes(),
                ),
                1 => b[4] = rng.random(),
                2 => b[5] = pick!(rng, [0, 2, 3, 4, 255]),
                3 => b[6] = pick!(rng, [1, 4, 11, 12, 200, 249, 250, 252, 255, rng.random()]),
                4 => b[7] = pick!(rng, [1, 4, 5, 17, 21, 25, 29, 200, 254, 255, rng.random()]),
                _ => set32(
                    b,
                    8,
                    pick!(rng, [u32::MAX, 0x400, 0x8000_0000, rng.random()]),
                ),
            }
        }
        "policy-field" => {
            let Some(i) = some_ext(rng, m, &[EXT_POLICY]) else {
                return false;
            };
            let b = &mut m.exts[i].body;
            match rng.random_range(0..4) {
                0 => set16(b, 0, pick!(rng, [3, 4, 5, 255, 0xffff])),
                1 => b[2] = pick!(rng, [0, 4, 5, 255]),
                2 => set32(
                    b,
                    4,
                    pick!(rng, [0, 3, 4, 7, 8 * 1000 + 2, u32::MAX, rng.random()]),
                ),
                _ => set32(b, 8, rng.random()),
            }
        }
        "request" => return mutate_request(rng, m, false),
        "lifetime" => {
            if let Some(i) = some_ext(rng, m, &[EXT_LIFETIME_HARD, EXT_LIFETIME_SOFT]) {
                if rng.random_bool(0.5) {
                    m.exts.remove(i);
                } else {
                    // Soft beyond hard, or every limit at its maximum.
                    let b = &mut m.exts[i].body;
                    for x in b.iter_mut().skip(rng.random_range(0..4) * 4) {
                        *x = 0xff;
                    }
                }
            } else {
                let t = pick!(rng, [EXT_LIFETIME_HARD, EXT_LIFETIME_SOFT]);
                m.exts.push(Ext {
                    ext_type: t,
                    len: None,
                    body: random_bytes(rng, 28),
                });
            }
        }
        "spirange" => {
            if let Some(i) = some_ext(rng, m, &[EXT_SPIRANGE]) {
                let b = &mut m.exts[i].body;
                let (lo, hi) = (
                    pick!(rng, [0u32, 1, 0x200, u32::MAX]),
                    pick!(rng, [0u32, 0xff, 0x100, 0x1_0000, u32::MAX]),
                );
                set32(b, 0, lo);
                set32(b, 4, hi);
            } else {
                let mut body = vec![0u8; 12];
                set32(&mut body, 0, rng.random());
                set32(&mut body, 4, rng.random());
                m.exts.push(Ext {
                    ext_type: EXT_SPIRANGE,
                    len: None,
                    body,
                });
            }
        }
        _ => return false,
    }
    true
}

/// Breaks the framing or fields of one `sadb_x_ipsecrequest` (or, with
/// `family`, its tunnel endpoints).
fn mutate_request(rng: &mut ChaCha8Rng, m: &mut Msg, family: bool) -> bool {
    let Some(i) = some_ext(rng, m, &[EXT_POLICY]) else {
        return false;
    };
    let b = &mut m.exts[i].body;
    // Requests start at body offset 12.
    let mut starts = Vec::new();
    let mut off = 12;
    while off + 16 <= b.len() {
        let n = usize::from(get16(b, off));
        if n < 16 {
            break;
        }
        starts.push((off, n));
        off += n;
    }
    if family {
        let Some(&(at, n)) = starts.iter().find(|(_, n)| *n > 16) else {
            return false;
        };
        let which = if rng.random_bool(0.5) {
            16
        } else {
            16 + (n - 16) / 2
        };
        set16(b, at + which, pick!(rng, [0, 1, 2, 10, 0xffff]));
        return true;
    }
    if starts.is_empty() || rng.random_bool(0.2) {
        // Extra requests: past XFRM_MAX_DEPTH, or a stub.
        let n = pick!(rng, [1, 6, 7, 20]);
        for _ in 0..n {
            let mut rq = vec![0u8; 16];
            set16(&mut rq, 0, 16);
            set16(&mut rq, 2, 50);
            rq[4] = 1;
            rq[5] = 2;
            b.extend(rq);
        }
        if rng.random_bool(0.3) {
            let n = rng.random_range(1..16);
            b.extend(random_bytes(rng, n));
        }
        return true;
    }
    let (at, n) = starts[rng.random_range(0..starts.len())];
    match rng.random_range(0..6) {
        0 => set16(
            b,
            at,
            pick!(rng, [0, 8, 15, 17, (n + 8) as u16, 0xffff, rng.random()]),
        ),
        1 => set16(
            b,
            at + 2,
            pick!(rng, [0, 6, 17, 43, 60, 255, 0x132, rng.random()]),
        ),
        2 => b[at + 4] = pick!(rng, [0, 3, 4, 255]),
        3 => b[at + 5] = pick!(rng, [0, 4, 255]),
        4 => set32(
            b,
            at + 8,
            pick!(rng, [0x3fff, 0x4000, u32::MAX, rng.random()]),
        ),
        _ => b.truncate(at + rng.random_range(1..n)),
    }
    true
}

/// Applies `n` mutations (names pushed to `names`) and returns the bytes.
pub fn apply(
    rng: &mut ChaCha8Rng,
    m: &mut Msg,
    n: usize,
    names: &mut Vec<&'static str>,
) -> Vec<u8> {
    let mut bytes_muts = Vec::new();
    for _ in 0..n {
        let name = NAMES[rng.random_range(0..NAMES.len())];
        match name {
            "truncate" | "flip" | "random" => bytes_muts.push(name),
            _ => {
                if structural(rng, m, name) {
                    names.push(name);
                } else {
                    bytes_muts.push("flip");
                }
            }
        }
    }
    let mut b = m.encode();
    for name in bytes_muts {
        names.push(name);
        match name {
            "truncate" => {
                if b.len() > 1 {
                    let cut = rng.random_range(0..b.len());
                    b.truncate(cut);
                    if b.len() >= 16 && rng.random_bool(0.6) {
                        // Keep the base header self-consistent so the
                        // extension walk is what fails.
                        let w = (b.len() / 8) as u16;
                        b[4..6].copy_from_slice(&w.to_ne_bytes());
                    }
                }
            }
            "flip" => {
                for _ in 0..rng.random_range(1..=8) {
                    if b.is_empty() {
                        break;
                    }
                    let lo = if b.len() > 16 && rng.random_bool(0.8) {
                        16
                    } else {
                        0
                    };
                    let i = rng.random_range(lo..b.len());
                    b[i] ^= rng.random_range(1..=255u8);
                }
            }
            _ => {
                let len = pick!(rng, [0, 1, 8, 15, 16, 24, rng.random_range(0..400)]);
                b = random_bytes(rng, len);
                if b.len() >= 16 && rng.random_bool(0.5) {
                    b[0] = 2;
                    b[1] = rng.random_range(1..=24);
                    let w = (b.len() / 8) as u16;
                    b[4..6].copy_from_slice(&w.to_ne_bytes());
                    b[6] = 0;
                    b[7] = 0;
                }
            }
        }
    }
    b
}
