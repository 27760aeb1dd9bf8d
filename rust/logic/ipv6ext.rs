//! IPv6 extension headers (RFC 8200 §4): the one walk over a packet's
//! header chain that transport-mode insertion, input stripping, AH's
//! mutable-field rules and flow parsing all share, so that they cannot
//! disagree about where a header is.
//!
//! Walked over (each yields its protocol, offset, length and the offset of
//! the next-header byte that names it): hop-by-hop options (0), routing
//! (43) and destination options (60), `(len + 1) * 8` bytes; fragment
//! (44), 8 bytes; AH (51), `(len + 2) * 4` bytes. Everything else ends the
//! walk: ESP (50) and IPcomp (108), whose payload is transformed, no next
//! header (59), and any upper-layer protocol. So does a fragment header
//! with a non-zero offset: the bytes after it are the middle of the
//! original payload, not the header its next-header field names.
//!
//! The walk reads through [`PacketBytes`], so the datapath can run it over
//! the whole packet, and it is bounded twice: by the datagram (40 + payload
//! length, or the source's end for a jumbogram's payload length 0), so a
//! header running past it is [`ExtError::Truncated`] rather than read from
//! link padding or guessed; and by [`MAX_EXT_HEADERS`], so a long chain of
//! small headers is an error, not a loop.

use crate::logic::bytes::PacketBytes;

/// The fixed IPv6 header.
pub const IPV6_HDR_LEN: usize = 40;
/// Most extension headers a walk steps over; one more is
/// [`ExtError::TooMany`]. RFC 8200 §4.1 recommends at most one of each
/// (two destination options), eight or so in all; 16 leaves room for
/// nested IPsec (AH is an extension header too) and still bounds the walk.
pub const MAX_EXT_HEADERS: usize = 16;

/// Hop-by-hop options.
pub const NEXTHDR_HOP: u8 = 0;
/// Routing header.
pub const NEXTHDR_ROUTING: u8 = 43;
/// Fragment header.
pub const NEXTHDR_FRAGMENT: u8 = 44;
/// ESP.
pub const NEXTHDR_ESP: u8 = 50;
/// AH.
pub const NEXTHDR_AUTH: u8 = 51;
/// No next header.
pub const NEXTHDR_NONE: u8 = 59;
/// Destination options.
pub const NEXTHDR_DEST: u8 = 60;
/// IPcomp.
pub const NEXTHDR_IPCOMP: u8 = 108;

/// Offset of the next-header byte in the fixed IPv6 header.
const IPV6_NEXTHDR_POS: usize = 6;
const FRAG_HDR_LEN: usize = 8;
/// AH's fixed part (next header, length, reserved, SPI, sequence number).
const AH_FIXED_LEN: usize = 12;

/// Why a header chain could not be walked.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ExtError {
    /// Fewer than 40 bytes, or a header running past the datagram (or
    /// past the bytes the source has).
    Truncated,
    /// The version is not 6.
    NotIpv6,
    /// An AH header whose length is below its 12 fixed bytes.
    Malformed,
    /// More than [`MAX_EXT_HEADERS`] extension headers.
    TooMany,
    /// No header of the chain starts at the offset asked for.
    NotFound,
}

/// Where a header is: its protocol, its offset and the offset of the
/// next-header byte that names it (6, in the IPv6 header, for the first).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Position {
    /// Protocol number of the header.
    pub proto: u8,
    /// Its offset from the start of the IPv6 header.
    pub offset: usize,
    /// Offset of the byte holding `proto`.
    pub nexthdr_pos: usize,
}

/// One extension header the walk stepped over.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ExtHeader {
    /// Protocol number, offset and naming byte.
    pub at: Position,
    /// Its length in bytes.
    pub len: usize,
    /// The protocol of the header after it (its own next-header byte).
    pub next: u8,
}

impl ExtHeader {
    /// Offset just past the header.
    pub fn end(&self) -> usize {
        self.at.offset.saturating_add(self.len)
    }
}

/// The fields of a fragment header (RFC 8200 §4.5).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Fragment {
    /// Fragment offset in 8-byte units.
    pub offset: u16,
    /// The M flag: more fragments follow.
    pub more: bool,
    /// Identification.
    pub ident: u32,
}

impl Fragment {
    /// The first fragment (offset 0), which carries the headers after the
    /// fragment header.
    pub fn is_first(&self) -> bool {
        self.offset == 0
    }

    /// An atomic fragment (RFC 6946): offset 0 and no more fragments, a
    /// whole datagram behind a fragment header.
    pub fn is_atomic(&self) -> bool {
        self.offset == 0 && !self.more
    }
}

/// Whether the walk steps over `proto`.
fn walkable(proto: u8) -> bool {
    matches!(
        proto,
        NEXTHDR_HOP | NEXTHDR_ROUTING | NEXTHDR_FRAGMENT | NEXTHDR_DEST | NEXTHDR_AUTH
    )
}

/// A cursor over an IPv6 header chain. It stands at a [`Position`] (at
/// first the header the IPv6 header names) and [`Ipv6Walker::next_ext`]
/// steps over extension headers one at a time, so a caller can stop
/// wherever its rule says.
#[derive(Debug)]
pub struct Ipv6Walker<'a, S: PacketBytes + ?Sized> {
    src: &'a S,
    end: usize,
    at: Position,
    count: usize,
    fragment: Option<Fragment>,
    /// A fragment header with a non-zero offset was passed: `at` names
    /// its next header, but that header is in the first fragment.
    past_later_fragment: bool,
}

// By hand: derived impls would ask `S: Clone`, which `[u8]` is not.
impl<S: PacketBytes + ?Sized> Clone for Ipv6Walker<'_, S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S: PacketBytes + ?Sized> Copy for Ipv6Walker<'_, S> {}

impl<'a, S: PacketBytes + ?Sized> Ipv6Walker<'a, S> {
    /// Starts at the header the IPv6 header at offset 0 of `src` names.
    pub fn new(src: &'a S) -> Result<Self, ExtError> {
        if src.len() < IPV6_HDR_LEN {
            return Err(ExtError::Truncated);
        }
        let [vtc, _, _, _, plen_hi, plen_lo, nexthdr] =
            src.array::<7>(0).ok_or(ExtError::Truncated)?;
        if vtc >> 4 != 6 {
            return Err(ExtError::NotIpv6);
        }
        let plen = usize::from(u16::from_be_bytes([plen_hi, plen_lo]));
        // Payload length 0: a jumbogram (RFC 2675) or a BIG TCP packet,
        // whose datagram is all the source has.
        let end = if plen == 0 {
            src.len()
        } else {
            (IPV6_HDR_LEN + plen).min(src.len())
        };
        Ok(Ipv6Walker {
            src,
            end,
            at: Position {
                proto: nexthdr,
                offset: IPV6_HDR_LEN,
                nexthdr_pos: IPV6_NEXTHDR_POS,
            },
            count: 0,
            fragment: None,
            past_later_fragment: false,
        })
    }

    /// Where the walk stands.
    pub fn position(&self) -> Position {
        self.at
    }

    /// Protocol of the header at the current position.
    pub fn proto(&self) -> u8 {
        self.at.proto
    }

    /// Offset of the current position.
    pub fn offset(&self) -> usize {
        self.at.offset
    }

    /// End of the datagram as the walk bounds it.
    pub fn end(&self) -> usize {
        self.end
    }

    /// Extension headers stepped over so far.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The last fragment header stepped over, if any.
    pub fn fragment(&self) -> Option<Fragment> {
        self.fragment
    }

    /// Whether a header named `proto()` really starts at `offset()`: false
    /// after a later fragment's header, where the walk had to stop.
    pub fn at_header(&self) -> bool {
        !self.past_later_fragment
    }

    /// Whether the current position holds an extension header the walk
    /// steps over.
    pub fn at_extension(&self) -> bool {
        self.at_header() && walkable(self.at.proto)
    }

    /// The `N` bytes at `off`, if they lie within the datagram.
    fn read<const N: usize>(&self, off: usize) -> Result<[u8; N], ExtError> {
        if off.checked_add(N).ok_or(ExtError::Truncated)? > self.end {
            return Err(ExtError::Truncated);
        }
        self.src.array::<N>(off).ok_or(ExtError::Truncated)
    }

    /// Steps over the extension header at the current position and returns
    /// it; `Ok(None)`, without moving, when the walk has ended there.
    pub fn next_ext(&mut self) -> Result<Option<ExtHeader>, ExtError> {
        if !self.at_extension() {
            return Ok(None);
        }
        if self.count >= MAX_EXT_HEADERS {
            return Err(ExtError::TooMany);
        }
        let off = self.at.offset;
        let (next, len, frag) = match self.at.proto {
            NEXTHDR_FRAGMENT => {
                let [next, _, off_hi, off_lo, i0, i1, i2, i3] = self.read::<FRAG_HDR_LEN>(off)?;
                let field = u16::from_be_bytes([off_hi, off_lo]);
                let frag = Fragment {
                    offset: field >> 3,
                    more: field & 1 != 0,
                    ident: u32::from_be_bytes([i0, i1, i2, i3]),
                };
                (next, FRAG_HDR_LEN, Some(frag))
            }
            NEXTHDR_AUTH => {
                let [next, words] = self.read::<2>(off)?;
                let len = (usize::from(words) + 2) * 4;
                if len < AH_FIXED_LEN {
                    return Err(ExtError::Malformed);
                }
                (next, len, None)
            }
            _ => {
                let [next, units] = self.read::<2>(off)?;
                (next, (usize::from(units) + 1) * 8, None)
            }
        };
        let hdr_end = off.checked_add(len).ok_or(ExtError::Truncated)?;
        if hdr_end > self.end {
            return Err(ExtError::Truncated);
        }
        if let Some(f) = frag {
            self.fragment = Some(f);
            self.past_later_fragment = !f.is_first();
        }
        self.count += 1;
        let h = ExtHeader {
            at: self.at,
            len,
            next,
        };
        self.at = Position {
            proto: next,
            offset: hdr_end,
            nexthdr_pos: off,
        };
        Ok(Some(h))
    }
}

/// Where transport mode puts an ESP, AH or IPcomp header, as Linux's
/// `ip6_find_1stfragopt` decides for `xfrm6_transport_output`: after
/// hop-by-hop and routing headers, which every hop must see; after
/// destination options that no routing header precedes (those in front of
/// a routing header are for the addresses it lists, and with no routing
/// header at all Linux steps over them too); before destination options
/// that follow a routing header (for the final destination, so the
/// transform covers them), and before anything else (fragment, AH, ESP,
/// IPcomp, upper layer). Linux also steps over destination options holding
/// a Mobile IPv6 home address option, with `CONFIG_IPV6_MIP6` only, which
/// the test kernel lacks; rxfrm does not.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct InsertPoint {
    /// Offset at which the new header goes.
    pub offset: usize,
    /// The next-header byte to rewrite to the new header's protocol.
    pub nexthdr_pos: usize,
    /// What that byte named: the new header's own next header.
    pub next_header: u8,
}

/// The transport-mode insertion point of the IPv6 packet in `src`.
pub fn transport_insert_point<S: PacketBytes + ?Sized>(src: &S) -> Result<InsertPoint, ExtError> {
    let mut w = Ipv6Walker::new(src)?;
    let mut routing = false;
    loop {
        let stay = match w.proto() {
            NEXTHDR_HOP => false,
            NEXTHDR_ROUTING => {
                routing = true;
                false
            }
            NEXTHDR_DEST => routing,
            _ => true,
        };
        if stay || w.next_ext()?.is_none() {
            let p = w.position();
            return Ok(InsertPoint {
                offset: p.offset,
                nexthdr_pos: p.nexthdr_pos,
                next_header: p.proto,
            });
        }
    }
}

/// The offset of the next-header byte that names the header starting at
/// `offset` (the ESP, AH or IPcomp header input is about to remove), so
/// that it can be rewritten to what the removed header named. `NotFound`
/// unless a header of the chain starts exactly there.
pub fn nexthdr_pos_of<S: PacketBytes + ?Sized>(src: &S, offset: usize) -> Result<usize, ExtError> {
    let mut w = Ipv6Walker::new(src)?;
    loop {
        if w.offset() == offset && w.at_header() {
            return Ok(w.position().nexthdr_pos);
        }
        if w.offset() > offset || w.next_ext()?.is_none() {
            return Err(ExtError::NotFound);
        }
    }
}

/// Where a walk over every extension header ends.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct UpperLayer {
    /// The protocol (an upper layer, ESP, IPcomp or 59; after a later
    /// fragment, the fragment header's next header).
    pub proto: u8,
    /// Offset of that header (after a later fragment: of the fragment's
    /// data).
    pub offset: usize,
    /// The byte naming it.
    pub nexthdr_pos: usize,
    /// The fragment header passed, if any: the packet is a fragment, the
    /// first one when `is_first()`.
    pub fragment: Option<Fragment>,
}

/// Walks over every extension header (AH included) of the IPv6 packet in
/// `src`.
pub fn upper_layer<S: PacketBytes + ?Sized>(src: &S) -> Result<UpperLayer, ExtError> {
    let mut w = Ipv6Walker::new(src)?;
    while w.next_ext()?.is_some() {}
    let p = w.position();
    Ok(UpperLayer {
        proto: p.proto,
        offset: p.offset,
        nexthdr_pos: p.nexthdr_pos,
        fragment: w.fragment(),
    })
}

#[cfg(test)]
mod tests;
