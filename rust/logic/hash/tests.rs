use super::*;
use core::hash::Hasher;
use std::collections::HashMap;
use std::vec::Vec as StdVec;

/// Deterministic xorshift for reproducible op sequences.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
#[allow(deprecated)]
fn sip24_matches_core_siphasher() {
    // Our generic Sip<2,4> must equal core's SipHasher (2-4), so the 1-3
    // instantiation of the same code is trustworthy.
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for len in 0..70usize {
        let data: StdVec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let (k0, k1) = (rng.next(), rng.next());
        let mut ours = Sip::<2, 4>::new(k0, k1);
        // Split writes exercise the tail buffering.
        let cut = len / 3;
        ours.write(&data[..cut]);
        ours.write(&data[cut..]);
        let mut theirs = core::hash::SipHasher::new_with_keys(k0, k1);
        theirs.write(&data);
        assert_eq!(ours.finish(), theirs.finish(), "len {len}");
    }
}

#[test]
fn seed_changes_hash() {
    let a = HashSeed::fixed(1, 2).hash(&42u32);
    let b = HashSeed::fixed(1, 3).hash(&42u32);
    let c = HashSeed::fixed(1, 2).hash(&42u32);
    assert_ne!(a, b);
    assert_eq!(a, c);
    assert_ne!(HashSeed::random().hash(&1u8), HashSeed::random().hash(&1u8));
    assert_eq!(std::format!("{:?}", HashSeed::fixed(7, 7)), "HashSeed(..)");
}

#[test]
fn model_100k_ops() {
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    let mut ours: HashIndex<u32, u64> = HashIndex::new();
    let mut model: HashMap<u32, u64> = HashMap::new();
    for step in 0..100_000u64 {
        let key = (rng.next() % 5_000) as u32;
        match rng.next() % 4 {
            0 | 1 => assert_eq!(ours.insert(key, step).unwrap(), model.insert(key, step)),
            2 => assert_eq!(ours.remove(&key), model.remove(&key)),
            _ => {
                if let Some(v) = ours.get_mut(&key) {
                    *v += 1;
                }
                if let Some(v) = model.get_mut(&key) {
                    *v += 1;
                }
            }
        }
        assert_eq!(ours.len(), model.len());
        let probe = (rng.next() % 5_000) as u32;
        assert_eq!(ours.get(&probe), model.get(&probe));
        assert_eq!(ours.contains_key(&probe), model.contains_key(&probe));
    }
    let mut all: StdVec<(u32, u64)> = ours.iter().map(|(k, v)| (*k, *v)).collect();
    let mut want: StdVec<(u32, u64)> = model.iter().map(|(k, v)| (*k, *v)).collect();
    all.sort();
    want.sort();
    assert_eq!(all, want);
    // Chains stay short with a random seed and load factor <= 1.
    assert!(ours.max_chain() < 12, "chain {}", ours.max_chain());
}

#[test]
fn multi_values_and_remove_where() {
    let mut h: HashIndex<u8, u32> = HashIndex::with_seed(HashSeed::fixed(9, 9));
    for v in 0..10 {
        h.insert_multi((v % 3) as u8, v).unwrap();
    }
    let mut zero: StdVec<u32> = h.get_all(&0).copied().collect();
    zero.sort();
    assert_eq!(zero, [0, 3, 6, 9]);
    assert_eq!(h.remove_where(&0, |&v| v == 6), Some(6));
    assert_eq!(h.remove_where(&0, |&v| v == 6), None);
    let mut zero: StdVec<u32> = h.get_all(&0).copied().collect();
    zero.sort();
    assert_eq!(zero, [0, 3, 9]);
    assert_eq!(h.get_all(&7).count(), 0);
    assert_eq!(h.len(), 9);
    h.retain(|k, v| *k != 1 || *v > 4);
    let mut one: StdVec<u32> = h.get_all(&1).copied().collect();
    one.sort();
    assert_eq!(one, [7]);
    assert_eq!(h.len(), 7);
    h.clear();
    assert!(h.is_empty());
    assert_eq!(h.get(&2), None);
    h.insert(2, 5).unwrap();
    assert_eq!(h.get(&2), Some(&5));
}

#[test]
fn multi_model_with_removals() {
    // A multi-map against a model of (key, value) pairs, exercising
    // swap_remove relinking with many entries per chain.
    let mut rng = Rng(77);
    let mut h: HashIndex<u16, u32> = HashIndex::new();
    let mut model: StdVec<(u16, u32)> = StdVec::new();
    for step in 0..30_000u32 {
        let key = (rng.next() % 64) as u16;
        let insert = !matches!(rng.next() % 3, 0);
        if insert {
            h.insert_multi(key, step).unwrap();
            model.push((key, step));
        } else if let Some(pos) = model.iter().position(|e| e.0 == key) {
            let v = model[pos].1;
            assert_eq!(h.remove_where(&key, |&x| x == v), Some(v));
            model.swap_remove(pos);
        } else {
            assert_eq!(h.remove(&key), None);
        }
    }
    for key in 0..64u16 {
        let mut got: StdVec<u32> = h.get_all(&key).copied().collect();
        let mut want: StdVec<u32> = model.iter().filter(|e| e.0 == key).map(|e| e.1).collect();
        got.sort();
        want.sort();
        assert_eq!(got, want);
    }
}

#[test]
fn reserve_then_inserts_keep_values_and_grow() {
    let mut h: HashIndex<u64, u64> = HashIndex::new();
    h.reserve(1000).unwrap();
    for i in 0..100_000u64 {
        assert_eq!(h.insert(i * 7919, i).unwrap(), None);
    }
    for i in (0..100_000u64).step_by(97) {
        assert_eq!(h.get(&(i * 7919)), Some(&i));
    }
    assert_eq!(h.values().count(), 100_000);
    for v in h.values_mut() {
        *v += 1;
    }
    assert_eq!(h.get(&0), Some(&1));
    for (_, v) in h.iter_mut() {
        *v -= 1;
    }
    assert_eq!(h.get(&7919), Some(&1));
    assert!(h.reserve(usize::MAX).is_err());
    assert_eq!(h.len(), 100_000);
}
