//! Allocation seam, kernel side (`crate::seam`): the API of
//! rust/logic/host_seam.rs over `KVVec`/`KBox`. The shared logic only ever
//! runs in process context, so allocations use GFP_KERNEL_ACCOUNT (the
//! memory of SAs and policies is charged to the memcg of the PF_KEY client
//! that asks for them: a user-namespace root can create a million); 6.12's `Vec`
//! lacks the removal methods, which are built here on `set_len`.

use core::fmt;
use core::ops::{Deref, DerefMut};
use kernel::alloc::{flags::GFP_KERNEL_ACCOUNT, KBox, KVVec};

pub use kernel::alloc::AllocError;

/// A growable array whose every allocation is fallible.
pub struct Vec<T>(KVVec<T>);

impl<T> Default for Vec<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: PartialEq> PartialEq for Vec<T> {
    fn eq(&self, other: &Self) -> bool {
        self[..] == other[..]
    }
}

impl<T: Eq> Eq for Vec<T> {}

impl<T> Vec<T> {
    /// An empty vector; does not allocate.
    pub const fn new() -> Self {
        Vec(KVVec::new())
    }

    /// An empty vector with room for `n` elements.
    pub fn with_capacity(n: usize) -> Result<Self, AllocError> {
        Ok(Vec(KVVec::with_capacity(n, GFP_KERNEL_ACCOUNT)?))
    }

    /// Makes room for `additional` more elements.
    pub fn reserve(&mut self, additional: usize) -> Result<(), AllocError> {
        self.0.reserve(additional, GFP_KERNEL_ACCOUNT)
    }

    /// Appends `value`.
    pub fn push(&mut self, value: T) -> Result<(), AllocError> {
        self.0.push(value, GFP_KERNEL_ACCOUNT)
    }

    /// Inserts `value` at `index`, shifting the rest right.
    pub fn insert(&mut self, index: usize, value: T) -> Result<(), AllocError> {
        assert!(index <= self.len(), "insert index out of bounds");
        self.push(value)?;
        self[index..].rotate_right(1);
        Ok(())
    }

    /// Removes and returns the last element.
    pub fn pop(&mut self) -> Option<T> {
        let len = self.len();
        if len == 0 {
            return None;
        }
        // SAFETY: element `len - 1` is initialised; after `set_len` the
        // vector no longer owns it, so reading it out moves it exactly once.
        unsafe {
            self.0.set_len(len - 1);
            Some(core::ptr::read(self.0.as_ptr().add(len - 1)))
        }
    }

    /// Drops the elements from `len` on.
    pub fn truncate(&mut self, len: usize) {
        let old = self.len();
        if len >= old {
            return;
        }
        // SAFETY: elements `len..old` are initialised; shrinking first means
        // a panicking destructor can not cause a double drop.
        unsafe {
            self.0.set_len(len);
            let tail = core::ptr::slice_from_raw_parts_mut(self.0.as_mut_ptr().add(len), old - len);
            core::ptr::drop_in_place(tail);
        }
    }

    /// Drops every element.
    pub fn clear(&mut self) {
        self.truncate(0)
    }

    /// Removes `index` in O(1) by moving the last element into its place.
    pub fn swap_remove(&mut self, index: usize) -> T {
        let last = self.len().checked_sub(1).expect("swap_remove on empty Vec");
        self.swap(index, last);
        self.pop().expect("non-empty")
    }

    /// Removes `index` keeping order (O(n)).
    pub fn remove(&mut self, index: usize) -> T {
        self[index..].rotate_left(1);
        self.pop().expect("non-empty")
    }

    /// Keeps the elements for which `keep` is true, in order.
    pub fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        let mut w = 0;
        for r in 0..self.len() {
            if keep(&self[r]) {
                self.swap(w, r);
                w += 1;
            }
        }
        self.truncate(w);
    }

    /// Allocated capacity in elements.
    pub fn capacity(&self) -> usize {
        self.0.capacity()
    }
}

impl<T: Clone> Vec<T> {
    /// Appends clones of `other`.
    pub fn extend_from_slice(&mut self, other: &[T]) -> Result<(), AllocError> {
        self.0.extend_from_slice(other, GFP_KERNEL_ACCOUNT)
    }

    /// A copy of the vector.
    pub fn try_clone(&self) -> Result<Self, AllocError> {
        Self::from_slice(self)
    }

    /// A vector holding clones of `s`.
    pub fn from_slice(s: &[T]) -> Result<Self, AllocError> {
        let mut v = Self::with_capacity(s.len())?;
        v.extend_from_slice(s)?;
        Ok(v)
    }

    /// Appends `n` copies of `value`.
    pub fn extend_with(&mut self, n: usize, value: T) -> Result<(), AllocError> {
        self.0.extend_with(n, value, GFP_KERNEL_ACCOUNT)
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
        self[..].fmt(f)
    }
}

impl<'a, T> IntoIterator for &'a Vec<T> {
    type Item = &'a T;
    type IntoIter = core::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a, T> IntoIterator for &'a mut Vec<T> {
    type Item = &'a mut T;
    type IntoIter = core::slice::IterMut<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter_mut()
    }
}

/// A heap box whose allocation is fallible.
pub struct Box<T>(KBox<T>);

impl<T> Box<T> {
    /// Moves `value` to the heap.
    pub fn new(value: T) -> Result<Self, AllocError> {
        Ok(Box(KBox::new(value, GFP_KERNEL_ACCOUNT)?))
    }

    /// Moves the value back out.
    pub fn into_inner(b: Self) -> T {
        KBox::into_inner(b.0)
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

impl<T: PartialEq> PartialEq for Box<T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: Eq> Eq for Box<T> {}

impl<T: fmt::Debug> fmt::Debug for Box<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

/// Overwrites secret material (`memzero_explicit`).
pub fn zeroize(buf: &mut [u8]) {
    crate::sys::util::zeroize(buf)
}

/// `get_random_u32()`.
pub fn random_u32() -> u32 {
    crate::sys::util::random_u32()
}

/// Lets other tasks run during a long walk (`cond_resched`): the logic
/// runs under the namespace's control mutex, in process context.
pub fn cond_resched() {
    crate::sys::util::cond_resched()
}
