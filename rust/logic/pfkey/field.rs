//! Bounds-checked field access behind the wire views. A read past the end
//! yields zero and a write past the end is dropped, so no view method can
//! panic; `new_checked` makes that case unreachable anyway.

/// One fixed-width integer codec: `get`/`set` at a byte offset.
macro_rules! codec {
    ($name:ident, $t:ty, $n:expr, $from:ident, $to:ident) => {
        pub(crate) mod $name {
            pub(crate) fn get(b: &[u8], off: usize) -> $t {
                let mut a = [0u8; $n];
                if let Some(s) = b.get(off..off.saturating_add($n)) {
                    a.copy_from_slice(s);
                }
                <$t>::$from(a)
            }

            pub(crate) fn set(b: &mut [u8], off: usize, v: $t) {
                if let Some(s) = b.get_mut(off..off.saturating_add($n)) {
                    s.copy_from_slice(&v.$to());
                }
            }
        }
    };
}

codec!(ne8, u8, 1, from_ne_bytes, to_ne_bytes);
codec!(ne16, u16, 2, from_ne_bytes, to_ne_bytes);
codec!(ne32, u32, 4, from_ne_bytes, to_ne_bytes);
codec!(ne64, u64, 8, from_ne_bytes, to_ne_bytes);
codec!(be16, u16, 2, from_be_bytes, to_be_bytes);
codec!(be32, u32, 4, from_be_bytes, to_be_bytes);

/// Fixed-size byte arrays (addresses).
macro_rules! bytes_codec {
    ($name:ident, $n:expr) => {
        pub(crate) mod $name {
            pub(crate) fn get(b: &[u8], off: usize) -> [u8; $n] {
                let mut a = [0u8; $n];
                if let Some(s) = b.get(off..off.saturating_add($n)) {
                    a.copy_from_slice(s);
                }
                a
            }

            pub(crate) fn set(b: &mut [u8], off: usize, v: [u8; $n]) {
                if let Some(s) = b.get_mut(off..off.saturating_add($n)) {
                    s.copy_from_slice(&v);
                }
            }
        }
    };
}

bytes_codec!(a4, 4);
bytes_codec!(a16, 16);

/// Declares a smoltcp-style view `Name<T: AsRef<[u8]>>` over the fixed part
/// of a wire struct, with getters, and setters when `T: AsMut<[u8]>`.
macro_rules! view {
    (
        $(#[$m:meta])*
        $name:ident, $len:expr;
        $( $(#[$fm:meta])* $get:ident, $set:ident : $t:ty = $codec:ident @ $off:expr; )*
    ) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, Debug)]
        // `len` getters are wire fields, not container lengths.
        #[allow(clippy::len_without_is_empty)]
        pub struct $name<T: AsRef<[u8]>> {
            buf: T,
        }

        impl<T: AsRef<[u8]>> $name<T> {
            /// Size of the fixed part in bytes.
            pub const LEN: usize = $len;

            /// Wraps `buf` unchecked: fields past its end read as zero.
            pub const fn new_unchecked(buf: T) -> Self {
                Self { buf }
            }

            /// Wraps `buf` if it holds the fixed part, else `EINVAL`.
            pub fn new_checked(buf: T) -> Result<Self, $crate::logic::pfkey::Errno> {
                if buf.as_ref().len() < $len {
                    Err($crate::logic::pfkey::Errno::EINVAL)
                } else {
                    Ok(Self { buf })
                }
            }

            /// The wrapped buffer.
            pub fn into_inner(self) -> T {
                self.buf
            }

            /// All wrapped bytes.
            pub fn as_bytes(&self) -> &[u8] {
                self.buf.as_ref()
            }

            /// The bytes after the fixed part.
            pub fn payload(&self) -> &[u8] {
                self.buf.as_ref().get($len..).unwrap_or(&[])
            }

            $(
                $(#[$fm])*
                pub fn $get(&self) -> $t {
                    $crate::logic::pfkey::field::$codec::get(self.buf.as_ref(), $off)
                }
            )*
        }

        impl<'a> $name<&'a [u8]> {
            /// The bytes after the fixed part, borrowed for the buffer's lifetime.
            pub fn rest(&self) -> &'a [u8] {
                self.buf.get($len..).unwrap_or(&[])
            }
        }

        impl<T: AsRef<[u8]> + AsMut<[u8]>> $name<T> {
            /// The bytes after the fixed part, writable.
            pub fn payload_mut(&mut self) -> &mut [u8] {
                self.buf.as_mut().get_mut($len..).unwrap_or(&mut [])
            }

            $(
                /// Sets the field the getter without `set_` reads.
                pub fn $set(&mut self, v: $t) {
                    $crate::logic::pfkey::field::$codec::set(self.buf.as_mut(), $off, v)
                }
            )*
        }
    };
}

pub(crate) use view;
