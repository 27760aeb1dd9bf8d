//! A read-only view of a packet's bytes that need not be contiguous.
//!
//! Header parsing reads through [`PacketBytes`] rather than a slice so
//! that the datapath can back it with `skb_copy_bits` over the real,
//! possibly non-linear packet: a parser then sees every byte the packet
//! has, not a fixed prefix copied in advance. The host tests (and any
//! caller with a linear buffer) use the `[u8]` implementation.

/// Random access to a packet's bytes, offsets from its network header.
pub trait PacketBytes {
    /// Bytes available from offset 0.
    fn len(&self) -> usize;

    /// Whether no bytes are available.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Copies the `out.len()` bytes at `off` into `out`; `None` (and `out`
    /// unspecified) unless they are all there.
    fn read(&self, off: usize, out: &mut [u8]) -> Option<()>;

    /// The byte at `off`.
    fn byte(&self, off: usize) -> Option<u8> {
        let [b] = self.array::<1>(off)?;
        Some(b)
    }

    /// The `N` bytes at `off`.
    fn array<const N: usize>(&self, off: usize) -> Option<[u8; N]> {
        let mut b = [0u8; N];
        self.read(off, &mut b)?;
        Some(b)
    }

    /// The big-endian u16 at `off`.
    fn be16(&self, off: usize) -> Option<u16> {
        self.array(off).map(u16::from_be_bytes)
    }

    /// The big-endian u32 at `off`.
    fn be32(&self, off: usize) -> Option<u32> {
        self.array(off).map(u32::from_be_bytes)
    }
}

impl PacketBytes for [u8] {
    fn len(&self) -> usize {
        <[u8]>::len(self)
    }

    fn read(&self, off: usize, out: &mut [u8]) -> Option<()> {
        let src = self.get(off..off.checked_add(out.len())?)?;
        for (d, s) in out.iter_mut().zip(src) {
            *d = *s;
        }
        Some(())
    }
}

/// The first `len` bytes of another source: a datagram without the link
/// padding after it, or the part of a packet in front of a header.
#[derive(Debug)]
pub struct Prefix<'a, S: PacketBytes + ?Sized> {
    src: &'a S,
    len: usize,
}

// By hand: derived impls would ask `S: Clone`, which `[u8]` is not.
impl<S: PacketBytes + ?Sized> Clone for Prefix<'_, S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S: PacketBytes + ?Sized> Copy for Prefix<'_, S> {}

impl<'a, S: PacketBytes + ?Sized> Prefix<'a, S> {
    /// `src` cut at `len` (or at its own end, if shorter).
    pub fn new(src: &'a S, len: usize) -> Self {
        Prefix {
            src,
            len: len.min(src.len()),
        }
    }
}

impl<S: PacketBytes + ?Sized> PacketBytes for Prefix<'_, S> {
    fn len(&self) -> usize {
        self.len
    }

    fn read(&self, off: usize, out: &mut [u8]) -> Option<()> {
        if off.checked_add(out.len())? > self.len {
            return None;
        }
        self.src.read(off, out)
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
pub(crate) mod testing;
