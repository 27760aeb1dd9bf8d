//! Allocation seam, host side.
//!
//! The shared code allocates only through these types. Their API is exactly
//! the one `rust/sys/seam.rs` offers in the kernel (over `KVVec`/`KBox`):
//! every allocation is fallible and nothing beyond that API is exposed, so
//! code that builds here builds in rxfrm.ko too.

use core::fmt;
use core::ops::{Deref, DerefMut};

/// Allocation failed; the kernel maps it to `ENOMEM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllocError;

/// A growable array whose every allocation is fallible.
#[derive(Default, PartialEq, Eq)]
pub struct Vec<T>(alloc::vec::Vec<T>);

impl<T> Vec<T> {
    /// As `alloc`'s `new`; allocating calls return `AllocError` instead of aborting.
    pub const fn new() -> Self {
        Vec(alloc::vec::Vec::new())
    }

    /// As `alloc`'s `with_capacity`; allocating calls return `AllocError` instead of aborting.
    pub fn with_capacity(n: usize) -> Result<Self, AllocError> {
        let mut v = Self::new();
        v.reserve(n)?;
        Ok(v)
    }

    /// As `alloc`'s `reserve`; allocating calls return `AllocError` instead of aborting.
    pub fn reserve(&mut self, additional: usize) -> Result<(), AllocError> {
        self.0.try_reserve(additional).map_err(|_| AllocError)
    }

    /// As `alloc`'s `push`; allocating calls return `AllocError` instead of aborting.
    pub fn push(&mut self, value: T) -> Result<(), AllocError> {
        self.reserve(1)?;
        self.0.push(value);
        Ok(())
    }

    /// As `alloc`'s `insert`; allocating calls return `AllocError` instead of aborting.
    pub fn insert(&mut self, index: usize, value: T) -> Result<(), AllocError> {
        self.reserve(1)?;
        self.0.insert(index, value);
        Ok(())
    }

    /// As `alloc`'s `pop`; allocating calls return `AllocError` instead of aborting.
    pub fn pop(&mut self) -> Option<T> {
        self.0.pop()
    }

    /// As `alloc`'s `truncate`; allocating calls return `AllocError` instead of aborting.
    pub fn truncate(&mut self, len: usize) {
        self.0.truncate(len)
    }

    /// As `alloc`'s `clear`; allocating calls return `AllocError` instead of aborting.
    pub fn clear(&mut self) {
        self.0.clear()
    }

    /// Removes `index` in O(1) by moving the last element into its place.
    pub fn swap_remove(&mut self, index: usize) -> T {
        self.0.swap_remove(index)
    }

    /// Removes `index` keeping order (O(n)).
    pub fn remove(&mut self, index: usize) -> T {
        self.0.remove(index)
    }

    /// As `alloc`'s `retain`; allocating calls return `AllocError` instead of aborting.
    pub fn retain(&mut self, keep: impl FnMut(&T) -> bool) {
        self.0.retain(keep)
    }

    /// As `alloc`'s `capacity`; allocating calls return `AllocError` instead of aborting.
    pub fn capacity(&self) -> usize {
        self.0.capacity()
    }
}

impl<T: Clone> Vec<T> {
    /// As `alloc`'s `extend_from_slice`; allocating calls return `AllocError` instead of aborting.
    pub fn extend_from_slice(&mut self, other: &[T]) -> Result<(), AllocError> {
        self.reserve(other.len())?;
        self.0.extend_from_slice(other);
        Ok(())
    }

    /// As `alloc`'s `try_clone`; allocating calls return `AllocError` instead of aborting.
    pub fn try_clone(&self) -> Result<Self, AllocError> {
        Self::from_slice(self)
    }

    /// As `alloc`'s `from_slice`; allocating calls return `AllocError` instead of aborting.
    pub fn from_slice(s: &[T]) -> Result<Self, AllocError> {
        let mut v = Self::new();
        v.extend_from_slice(s)?;
        Ok(v)
    }

    /// Appends `n` copies of `value`.
    pub fn extend_with(&mut self, n: usize, value: T) -> Result<(), AllocError> {
        self.reserve(n)?;
        self.0.resize(self.0.len() + n, value);
        Ok(())
    }
}

impl<T> Deref for Vec<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<T> DerefMut for Vec<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.0
    }
}

impl<T: fmt::Debug> fmt::Debug for Vec<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<'a, T> IntoIterator for &'a Vec<T> {
    type Item = &'a T;
    type IntoIter = core::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<'a, T> IntoIterator for &'a mut Vec<T> {
    type Item = &'a mut T;
    type IntoIter = core::slice::IterMut<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter_mut()
    }
}

/// A heap box whose allocation is fallible.
#[derive(PartialEq, Eq)]
pub struct Box<T>(alloc::boxed::Box<T>);

impl<T> Box<T> {
    /// As `alloc`'s `new`; allocating calls return `AllocError` instead of aborting.
    pub fn new(value: T) -> Result<Self, AllocError> {
        // std has no stable fallible Box::new; the host aborts on OOM anyway.
        Ok(Box(alloc::boxed::Box::new(value)))
    }

    /// As `alloc`'s `into_inner`; allocating calls return `AllocError` instead of aborting.
    pub fn into_inner(b: Self) -> T {
        *b.0
    }
}

impl<T> Deref for Box<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for Box<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: fmt::Debug> fmt::Debug for Box<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Overwrites secret material so that it does not outlive its owner
/// (the kernel side calls `memzero_explicit`). `black_box` makes the
/// stores observable, so the compiler may not drop them as dead.
pub fn zeroize(buf: &mut [u8]) {
    buf.fill(0);
    core::hint::black_box(&*buf);
}

/// Random bits for hash seeds and SPI allocation (`get_random_u32` in the
/// kernel). The host build only needs values that differ between tables.
pub fn random_u32() -> u32 {
    use core::sync::atomic::{AtomicU32, Ordering};
    static STATE: AtomicU32 = AtomicU32::new(0x9e37_79b9);
    let mut x = STATE.fetch_add(0x6d2b_79f5, Ordering::Relaxed);
    x = (x ^ (x >> 15)).wrapping_mul(0x2c1b_3c6d);
    x = (x ^ (x >> 12)).wrapping_mul(0x297a_2d39);
    x ^ (x >> 15)
}

/// Where the kernel lets other tasks run during a long walk
/// (`cond_resched`); nothing to do on the host.
pub fn cond_resched() {}
