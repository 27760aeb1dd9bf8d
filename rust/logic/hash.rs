//! A keyed hash and a fallible, chained hash index for `no_std`.
//!
//! SPD and SAD keys come from the network (addresses, SPIs), so bucket
//! choice is keyed with a secret random seed (SipHash-1-3): a remote peer
//! cannot aim many keys at one chain. Entries live densely in one vector and
//! chain through `u32` links, so a table costs two allocations however large
//! it grows, iteration is a slice walk, and every allocation is fallible.

use core::hash::{Hash, Hasher};

use crate::seam::{random_u32, AllocError, Vec};

/// The secret key of a table's hash function.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct HashSeed {
    k0: u64,
    k1: u64,
}

impl HashSeed {
    /// A fresh 128-bit seed from the kernel's random source.
    pub fn random() -> Self {
        let w = |a: u32, b: u32| (u64::from(a) << 32) | u64::from(b);
        HashSeed {
            k0: w(random_u32(), random_u32()),
            k1: w(random_u32(), random_u32()),
        }
    }

    /// A fixed seed, for reproducible tests.
    pub const fn fixed(k0: u64, k1: u64) -> Self {
        HashSeed { k0, k1 }
    }

    /// A hasher keyed with this seed.
    pub fn hasher(&self) -> SipHasher13 {
        Sip::new(self.k0, self.k1)
    }

    /// The keyed hash of `key`.
    pub fn hash<K: Hash + ?Sized>(&self, key: &K) -> u64 {
        let mut h = self.hasher();
        key.hash(&mut h);
        h.finish()
    }
}

impl core::fmt::Debug for HashSeed {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // The seed is what keeps chains short against chosen keys: keep it out of logs.
        f.write_str("HashSeed(..)")
    }
}

/// SipHash with `C` compression and `D` finalization rounds, streaming.
#[derive(Clone)]
pub struct Sip<const C: usize, const D: usize> {
    v: [u64; 4],
    tail: u64,
    ntail: u32,
    length: u64,
}

/// SipHash-1-3, the variant Rust's and Linux's hash tables use.
pub type SipHasher13 = Sip<1, 3>;

impl<const C: usize, const D: usize> Sip<C, D> {
    /// A hasher keyed with `(k0, k1)`.
    pub fn new(k0: u64, k1: u64) -> Self {
        Sip {
            v: [
                k0 ^ 0x736f_6d65_7073_6575,
                k1 ^ 0x646f_7261_6e64_6f6d,
                k0 ^ 0x6c79_6765_6e65_7261,
                k1 ^ 0x7465_6462_7974_6573,
            ],
            tail: 0,
            ntail: 0,
            length: 0,
        }
    }

    fn round(v: &mut [u64; 4]) {
        v[0] = v[0].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(13) ^ v[0];
        v[0] = v[0].rotate_left(32);
        v[2] = v[2].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(16) ^ v[2];
        v[0] = v[0].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(21) ^ v[0];
        v[2] = v[2].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(17) ^ v[2];
        v[2] = v[2].rotate_left(32);
    }

    fn compress(&mut self, m: u64) {
        self.v[3] ^= m;
        for _ in 0..C {
            Self::round(&mut self.v);
        }
        self.v[0] ^= m;
    }
}

impl<const C: usize, const D: usize> Hasher for Sip<C, D> {
    fn write(&mut self, mut bytes: &[u8]) {
        self.length = self.length.wrapping_add(bytes.len() as u64);
        while let Some((&b, rest)) = bytes.split_first() {
            if self.ntail == 0 && rest.len() >= 7 {
                // Whole little-endian words straight from the input.
                let mut w = [0u8; 8];
                w.copy_from_slice(&bytes[..8]);
                self.compress(u64::from_le_bytes(w));
                bytes = &bytes[8..];
                continue;
            }
            self.tail |= u64::from(b) << (8 * self.ntail);
            self.ntail += 1;
            if self.ntail == 8 {
                let m = self.tail;
                self.compress(m);
                self.tail = 0;
                self.ntail = 0;
            }
            bytes = rest;
        }
    }

    fn finish(&self) -> u64 {
        let mut v = self.v;
        let b = ((self.length & 0xff) << 56) | self.tail;
        v[3] ^= b;
        for _ in 0..C {
            Self::round(&mut v);
        }
        v[0] ^= b;
        v[2] ^= 0xff;
        for _ in 0..D {
            Self::round(&mut v);
        }
        v[0] ^ v[1] ^ v[2] ^ v[3]
    }
}

/// End of a chain.
const NIL: u32 = u32::MAX;

struct Slot<K, V> {
    hash: u64,
    next: u32,
    key: K,
    value: V,
}

/// A hash index from `K` to `V` with separate chaining.
///
/// `insert` keeps keys unique; `insert_multi` lets several values share a
/// key (candidate lists, secondary indexes). Failed allocations leave the
/// table exactly as it was. Iteration order is unspecified and changes on
/// removal; callers needing a stable order keep their own sequence numbers.
pub struct HashIndex<K, V> {
    seed: HashSeed,
    slots: Vec<Slot<K, V>>,
    /// Chain heads; empty or a power of two long, never fewer than `slots`.
    buckets: Vec<u32>,
}

impl<K: Eq + Hash, V> Default for HashIndex<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Eq + Hash, V> HashIndex<K, V> {
    /// An empty index with a random seed; allocates on first insert.
    pub fn new() -> Self {
        Self::with_seed(HashSeed::random())
    }

    /// An empty index keyed with `seed`.
    pub fn with_seed(seed: HashSeed) -> Self {
        HashIndex {
            seed,
            slots: Vec::new(),
            buckets: Vec::new(),
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    fn bucket_of(&self, hash: u64) -> usize {
        // Callers ensure `buckets` is non-empty; mask is len - 1.
        ((hash ^ (hash >> 32)) as usize) & (self.buckets.len().wrapping_sub(1))
    }

    /// Makes room for `additional` more entries so that the next that many
    /// inserts cannot fail.
    pub fn reserve(&mut self, additional: usize) -> Result<(), AllocError> {
        let need = self.slots.len().checked_add(additional).ok_or(AllocError)?;
        // Slot numbers are u32 and NIL is reserved.
        if need >= NIL as usize {
            return Err(AllocError);
        }
        self.slots.reserve(additional)?;
        if need > self.buckets.len() {
            self.rehash(need.max(8).checked_next_power_of_two().ok_or(AllocError)?)?;
        }
        Ok(())
    }

    /// Rebuilds the chains over `n` buckets; the old ones stay on failure.
    fn rehash(&mut self, n: usize) -> Result<(), AllocError> {
        let mut buckets = Vec::new();
        buckets.extend_with(n, NIL)?;
        self.buckets = buckets;
        self.relink();
        Ok(())
    }

    /// Re-threads every slot into `buckets`; allocates nothing.
    fn relink(&mut self) {
        for b in self.buckets.iter_mut() {
            *b = NIL;
        }
        let mask = self.buckets.len().wrapping_sub(1);
        for (i, s) in self.slots.iter_mut().enumerate() {
            let b = ((s.hash ^ (s.hash >> 32)) as usize) & mask;
            s.next = self.buckets[b];
            self.buckets[b] = i as u32;
        }
    }

    fn find(&self, key: &K, hash: u64) -> Option<usize> {
        if self.buckets.is_empty() {
            return None;
        }
        let mut i = self.buckets[self.bucket_of(hash)];
        while let Some(s) = self.slots.get(i as usize) {
            if s.hash == hash && s.key == *key {
                return Some(i as usize);
            }
            i = s.next;
        }
        None
    }

    fn push_slot(&mut self, hash: u64, key: K, value: V) -> Result<(), AllocError> {
        self.reserve(1)?;
        let b = self.bucket_of(hash);
        let i = self.slots.len() as u32;
        let next = self.buckets[b];
        self.slots.push(Slot {
            hash,
            next,
            key,
            value,
        })?;
        self.buckets[b] = i;
        Ok(())
    }

    /// Maps `key` to `value`, returning the value it replaces.
    pub fn insert(&mut self, key: K, value: V) -> Result<Option<V>, AllocError> {
        let hash = self.seed.hash(&key);
        if let Some(i) = self.find(&key, hash) {
            return Ok(Some(core::mem::replace(&mut self.slots[i].value, value)));
        }
        self.push_slot(hash, key, value)?;
        Ok(None)
    }

    /// Adds `value` under `key` even if the key is present already.
    pub fn insert_multi(&mut self, key: K, value: V) -> Result<(), AllocError> {
        let hash = self.seed.hash(&key);
        self.push_slot(hash, key, value)
    }

    /// The value under `key` (the newest-inserted-first is not guaranteed
    /// for multi keys: use `get_all`).
    pub fn get(&self, key: &K) -> Option<&V> {
        let i = self.find(key, self.seed.hash(key))?;
        Some(&self.slots[i].value)
    }

    /// The value under `key`, mutably.
    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        let i = self.find(key, self.seed.hash(key))?;
        Some(&mut self.slots[i].value)
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &K) -> bool {
        self.find(key, self.seed.hash(key)).is_some()
    }

    /// Every value stored under `key`.
    pub fn get_all<'a>(&'a self, key: &'a K) -> GetAll<'a, K, V> {
        let hash = self.seed.hash(key);
        let cur = if self.buckets.is_empty() {
            NIL
        } else {
            self.buckets[self.bucket_of(hash)]
        };
        GetAll {
            index: self,
            key,
            hash,
            cur,
        }
    }

    /// Removes the entry under `key` and returns its value.
    pub fn remove(&mut self, key: &K) -> Option<V> {
        self.remove_where(key, |_| true)
    }

    /// Removes the first entry under `key` whose value satisfies `pred`.
    pub fn remove_where(&mut self, key: &K, mut pred: impl FnMut(&V) -> bool) -> Option<V> {
        if self.buckets.is_empty() {
            return None;
        }
        let hash = self.seed.hash(key);
        let b = self.bucket_of(hash);
        let mut prev = NIL;
        let mut i = self.buckets[b];
        while let Some(s) = self.slots.get(i as usize) {
            if s.hash == hash && s.key == *key && pred(&s.value) {
                let next = s.next;
                match self.slots.get_mut(prev as usize) {
                    Some(p) => p.next = next,
                    None => self.buckets[b] = next,
                }
                return Some(self.take_slot(i as usize));
            }
            prev = i;
            i = s.next;
        }
        None
    }

    /// Removes an unlinked slot, re-pointing the link to the slot that
    /// `swap_remove` moves into its place.
    fn take_slot(&mut self, i: usize) -> V {
        let last = self.slots.len() - 1;
        let gone = self.slots.swap_remove(i);
        if i != last {
            let hash = self.slots[i].hash;
            let b = self.bucket_of(hash);
            if self.buckets[b] == last as u32 {
                self.buckets[b] = i as u32;
            } else {
                let mut j = self.buckets[b];
                while let Some(s) = self.slots.get_mut(j as usize) {
                    if s.next == last as u32 {
                        s.next = i as u32;
                        break;
                    }
                    j = s.next;
                }
            }
        }
        gone.value
    }

    /// Keeps only the entries for which `keep` is true; allocates nothing.
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &V) -> bool) {
        let before = self.slots.len();
        self.slots.retain(|s| keep(&s.key, &s.value));
        if self.slots.len() != before {
            self.relink();
        }
    }

    /// Removes every entry (keeps the allocation).
    pub fn clear(&mut self) {
        self.slots.clear();
        for b in self.buckets.iter_mut() {
            *b = NIL;
        }
    }

    /// All entries, in unspecified order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> + '_ {
        self.slots.iter().map(|s| (&s.key, &s.value))
    }

    /// All entries with mutable values, in unspecified order.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&K, &mut V)> + '_ {
        self.slots.iter_mut().map(|s| (&s.key, &mut s.value))
    }

    /// All values, in unspecified order.
    pub fn values(&self) -> impl Iterator<Item = &V> + '_ {
        self.slots.iter().map(|s| &s.value)
    }

    /// All values mutably, in unspecified order.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> + '_ {
        self.slots.iter_mut().map(|s| &mut s.value)
    }

    /// Length of the longest chain (diagnostics and tests).
    pub fn max_chain(&self) -> usize {
        let mut best = 0;
        for &head in self.buckets.iter() {
            let mut n = 0;
            let mut i = head;
            while let Some(s) = self.slots.get(i as usize) {
                n += 1;
                i = s.next;
            }
            best = best.max(n);
        }
        best
    }
}

/// Iterator over the values stored under one key.
pub struct GetAll<'a, K, V> {
    index: &'a HashIndex<K, V>,
    key: &'a K,
    hash: u64,
    cur: u32,
}

impl<'a, K: Eq, V> Iterator for GetAll<'a, K, V> {
    type Item = &'a V;

    fn next(&mut self) -> Option<&'a V> {
        while let Some(s) = self.index.slots.get(self.cur as usize) {
            self.cur = s.next;
            if s.hash == self.hash && s.key == *self.key {
                return Some(&s.value);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests;
