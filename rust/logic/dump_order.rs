//! Insertion order for SPD and SAD dumps, with resumable cursors.
//!
//! PF_KEY dumps of 100k entries span several calls; entries may be deleted
//! or added in between. Each entry gets a increasing sequence number; the
//! log keeps (seq, value) sorted by seq, marks deletions as tombstones and
//! compacts lazily, so a cursor is just "the next seq to visit" and finds
//! its place again by binary search whatever happened meanwhile.

use crate::seam::{AllocError, Vec};

/// Tombstone marker in the seq word (seqs stay below it).
const DEAD: u64 = 1 << 63;

/// Sequence numbers and values in insertion order.
#[derive(Debug)]
pub struct OrderLog<T> {
    entries: Vec<(u64, T)>,
    dead: usize,
    next_seq: u64,
}

/// Where a dump stands: entries with `next <= seq < end` remain. Entries
/// added after the dump started are not visited, so a dump always ends.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct DumpCursor {
    next: u64,
    end: u64,
}

impl DumpCursor {
    /// Moves past the entry numbered `seq` (after it was emitted).
    pub fn advance_past(&mut self, seq: u64) {
        self.next = self.next.max(seq.saturating_add(1));
    }

    /// Whether every entry has been visited (or the log is exhausted).
    pub fn is_done(&self) -> bool {
        self.next >= self.end
    }
}

impl<T: Copy> Default for OrderLog<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Copy> OrderLog<T> {
    /// An empty log.
    pub const fn new() -> Self {
        OrderLog {
            entries: Vec::new(),
            dead: 0,
            next_seq: 1,
        }
    }

    /// Live entries.
    pub fn len(&self) -> usize {
        self.entries.len() - self.dead
    }

    /// Whether no entry is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Makes the next `push` infallible.
    pub fn reserve(&mut self) -> Result<(), AllocError> {
        if self.next_seq >= DEAD {
            return Err(AllocError);
        }
        self.entries.reserve(1)
    }

    /// Appends `value`, returning its sequence number.
    pub fn push(&mut self, value: T) -> Result<u64, AllocError> {
        self.reserve()?;
        let seq = self.next_seq;
        self.entries.push((seq, value))?;
        self.next_seq += 1;
        Ok(seq)
    }

    fn position(&self, seq: u64) -> usize {
        self.entries.partition_point(|e| e.0 & !DEAD < seq)
    }

    fn live_index(&self, seq: u64) -> Option<usize> {
        let i = self.position(seq);
        match self.entries.get(i) {
            Some(e) if e.0 == seq => Some(i),
            _ => None,
        }
    }

    /// Replaces the value of live entry `seq` (keeps its place).
    pub fn set(&mut self, seq: u64, value: T) -> bool {
        match self.live_index(seq) {
            Some(i) => {
                self.entries[i].1 = value;
                true
            }
            None => false,
        }
    }

    /// Forgets entry `seq`; returns whether it was live.
    pub fn remove(&mut self, seq: u64) -> bool {
        let Some(i) = self.live_index(seq) else {
            return false;
        };
        self.entries[i].0 |= DEAD;
        self.dead += 1;
        // Compact once tombstones outnumber live entries: amortized O(1).
        if self.dead * 2 > self.entries.len() {
            self.entries.retain(|e| e.0 & DEAD == 0);
            self.dead = 0;
        }
        true
    }

    /// Forgets every entry (sequence numbers keep increasing).
    pub fn clear(&mut self) {
        self.entries.clear();
        self.dead = 0;
    }

    /// Keeps only the entries for which `keep(seq, value)` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(u64, &T) -> bool) {
        self.entries.retain(|e| e.0 & DEAD == 0 && keep(e.0, &e.1));
        self.dead = 0;
    }

    /// A cursor over the entries present now.
    pub fn cursor(&self) -> DumpCursor {
        DumpCursor {
            next: 0,
            end: self.next_seq,
        }
    }

    /// The first live entry the cursor has not visited, if any.
    pub fn peek(&self, cursor: &DumpCursor) -> Option<(u64, T)> {
        let i = self.position(cursor.next);
        self.entries
            .get(i..)?
            .iter()
            .find(|e| e.0 & DEAD == 0)
            .filter(|e| e.0 < cursor.end)
            .copied()
    }

    /// Number of live entries the cursor has yet to visit.
    pub fn remaining(&self, cursor: &DumpCursor) -> usize {
        let (a, b) = (self.position(cursor.next), self.position(cursor.end));
        self.entries
            .get(a..b)
            .map_or(0, |s| s.iter().filter(|e| e.0 & DEAD == 0).count())
    }

    /// Live entries in order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, T)> + '_ {
        self.entries.iter().filter(|e| e.0 & DEAD == 0).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec as StdVec;

    #[test]
    fn cursor_survives_deletes_and_inserts() {
        let mut log: OrderLog<u32> = OrderLog::new();
        let seqs: StdVec<u64> = (0..1000).map(|v| log.push(v).unwrap()).collect();
        let mut cur = log.cursor();
        assert_eq!(log.remaining(&cur), 1000);
        let mut seen = StdVec::new();
        for round in 0..100 {
            // Emit 7, then delete some visited and unvisited entries.
            for _ in 0..7 {
                let Some((seq, v)) = log.peek(&cur) else {
                    break;
                };
                seen.push(v);
                cur.advance_past(seq);
            }
            for k in 0..5 {
                log.remove(seqs[(round * 37 + k * 101) % 1000]);
            }
            log.push(5000 + round as u32).unwrap();
        }
        while let Some((seq, v)) = log.peek(&cur) {
            seen.push(v);
            cur.advance_past(seq);
        }
        assert!(cur.is_done() || log.peek(&cur).is_none());
        // Strictly increasing: no entry twice, order kept; nothing added
        // after the start; every survivor was visited.
        assert!(seen.windows(2).all(|w| w[0] < w[1]));
        assert!(seen.iter().all(|&v| v < 1000));
        for (_, v) in log.iter() {
            if v < 1000 {
                assert!(seen.contains(&v));
            }
        }
        let (first, _) = log.iter().next().unwrap();
        assert!(log.set(first, 7));
        assert_eq!(log.iter().next(), Some((first, 7)));
        assert!(log.remove(first));
        assert!(!log.remove(first));
        assert!(!log.set(first, 8));
    }

    #[test]
    fn compaction_keeps_order() {
        let mut log: OrderLog<u8> = OrderLog::new();
        let s: StdVec<u64> = (0..10).map(|v| log.push(v).unwrap()).collect();
        for &q in &s[..8] {
            assert!(log.remove(q));
        }
        assert!(!log.remove(s[0]));
        assert_eq!(log.len(), 2);
        assert_eq!(log.iter().map(|e| e.1).collect::<StdVec<_>>(), [8, 9]);
        assert!(log.set(s[9], 42));
        assert!(!log.set(s[0], 42));
        log.retain(|_, &v| v != 8);
        assert_eq!(log.iter().map(|e| e.1).collect::<StdVec<_>>(), [42]);
        log.clear();
        assert!(log.is_empty());
        assert!(log.push(1).unwrap() > s[9]);
    }
}
