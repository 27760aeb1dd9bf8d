//! A PF_KEY message as the mutator sees it: a base header and a list of
//! extensions, each with its own length field that may lie. `encode`
//! writes exactly what the fields say, so a mutation of a length or a
//! body survives to the wire.

/// `struct sadb_msg`, every field settable (`len: None` is the true one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub version: u8,
    pub msg_type: u8,
    pub errno: u8,
    pub satype: u8,
    pub len: Option<u16>,
    pub reserved: u16,
    pub seq: u32,
    pub pid: u32,
}

/// One extension: its type, an optional false length (words), and the
/// bytes after the 4-byte `sadb_ext` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ext {
    pub ext_type: u16,
    pub len: Option<u16>,
    pub body: Vec<u8>,
}

impl Ext {
    /// The true length in words (body padded to 8).
    pub fn true_words(&self) -> usize {
        (4 + self.body.len()).div_ceil(8)
    }
}

/// A message under construction or mutation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Msg {
    pub hdr: Header,
    pub exts: Vec<Ext>,
}

impl Msg {
    /// Splits a well-framed message (as built by the codec) into parts.
    pub fn split(b: &[u8]) -> Option<Msg> {
        if b.len() < 16 {
            return None;
        }
        let hdr = Header {
            version: b[0],
            msg_type: b[1],
            errno: b[2],
            satype: b[3],
            len: None,
            reserved: u16::from_ne_bytes([b[6], b[7]]),
            seq: u32::from_ne_bytes([b[8], b[9], b[10], b[11]]),
            pid: u32::from_ne_bytes([b[12], b[13], b[14], b[15]]),
        };
        let mut exts = Vec::new();
        let mut off = 16;
        while off + 4 <= b.len() {
            let words = usize::from(u16::from_ne_bytes([b[off], b[off + 1]]));
            let ext_type = u16::from_ne_bytes([b[off + 2], b[off + 3]]);
            let end = off + words * 8;
            if words == 0 || end > b.len() {
                return None;
            }
            exts.push(Ext {
                ext_type,
                len: None,
                body: b[off + 4..end].to_vec(),
            });
            off = end;
        }
        (off == b.len()).then_some(Msg { hdr, exts })
    }

    /// The wire bytes: each extension's body zero-padded to 8 bytes, every
    /// length field its override or its true value (truncated to 16 bits).
    pub fn encode(&self) -> Vec<u8> {
        let mut out =
            Vec::with_capacity(16 + self.exts.iter().map(|e| e.body.len() + 8).sum::<usize>());
        out.extend([
            self.hdr.version,
            self.hdr.msg_type,
            self.hdr.errno,
            self.hdr.satype,
        ]);
        out.extend([0, 0]);
        out.extend(self.hdr.reserved.to_ne_bytes());
        out.extend(self.hdr.seq.to_ne_bytes());
        out.extend(self.hdr.pid.to_ne_bytes());
        for e in &self.exts {
            let words = e.len.unwrap_or(e.true_words() as u16);
            out.extend(words.to_ne_bytes());
            out.extend(e.ext_type.to_ne_bytes());
            out.extend(&e.body);
            let pad = (8 - (4 + e.body.len()) % 8) % 8;
            out.extend(std::iter::repeat_n(0, pad));
        }
        let words = self.hdr.len.unwrap_or((out.len() / 8) as u16);
        out[4..6].copy_from_slice(&words.to_ne_bytes());
        out
    }

    /// The first extension of `t`, if any.
    pub fn ext_mut(&mut self, t: u16) -> Option<&mut Ext> {
        self.exts.iter_mut().find(|e| e.ext_type == t)
    }
}

/// Lower-case hex of `b`, runs of 32 or more equal bytes written as
/// `(xx*count)` (oversize messages are mostly one fill byte).
pub fn hex_rle(b: &[u8]) -> String {
    if b.is_empty() {
        // A field of its own in a log line.
        return "-".into();
    }
    let mut s = String::with_capacity(b.len() * 2);
    let mut i = 0;
    while i < b.len() {
        let mut j = i + 1;
        while j < b.len() && b[j] == b[i] {
            j += 1;
        }
        if j - i >= 32 {
            s.push_str(&format!("({:02x}*{})", b[i], j - i));
        } else {
            for x in &b[i..j] {
                s.push_str(&format!("{x:02x}"));
            }
        }
        i = j;
    }
    s
}

/// The bytes of a [`hex_rle`] string (`None` if it is not one).
pub fn unhex_rle(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = s.trim();
    if rest == "-" {
        return Some(out);
    }
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('(') {
            let end = r.find(')')?;
            let (byte, count) = r[..end].split_once('*')?;
            let byte = u8::from_str_radix(byte, 16).ok()?;
            let count: usize = count.parse().ok()?;
            out.extend(std::iter::repeat_n(byte, count));
            rest = &r[end + 1..];
        } else {
            let end = rest.find('(').unwrap_or(rest.len());
            out.extend(unhex(&rest[..end])?);
            rest = &rest[end..];
        }
    }
    Some(out)
}

/// Lower-case hex of `b`.
pub fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        s.push_str(&format!("{x:02x}"));
    }
    s
}

/// Bytes of a hex string (`None` if it is not one).
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_encode_round_trip() {
        let mut b = vec![2, 3, 0, 3, 4, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0];
        b.extend([2, 0, 1, 0, 0, 0, 0x12, 0x34, 32, 1, 0, 3, 0, 0, 0, 0]);
        b[4..6].copy_from_slice(&4u16.to_ne_bytes());
        let m = Msg::split(&b).unwrap();
        assert_eq!(m.exts.len(), 1);
        assert_eq!(m.encode(), b);
        assert_eq!(unhex(&hex(&b)).unwrap(), b);
        let mut big = b.clone();
        big.extend([0x5a; 1000]);
        big.push(1);
        let rle = hex_rle(&big);
        assert!(rle.len() < 200, "{rle}");
        assert_eq!(unhex_rle(&rle).unwrap(), big);
    }
}
