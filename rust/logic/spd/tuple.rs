//! Tuple-space search over selectors (Srinivasan et al., 1999).
//!
//! Selectors are grouped into classes by shape: family, both prefix
//! lengths, and which of proto/sport/dport are pinned. Within a class a
//! selector matches a flow exactly when the flow, masked to the class's
//! shape, equals the selector's masked fields, so each class is a hash table
//! and a lookup costs one probe per class, however many policies exist.

use core::hash::Hash;

use crate::logic::addr::IpAddr;
use crate::logic::hash::HashIndex;
use crate::logic::selector::{FlowKey, Selector};
use crate::seam::{AllocError, Vec};

/// A selector class: what a selector pins (also the datapath's classes).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Shape {
    v6: bool,
    src_plen: u8,
    dst_plen: u8,
    proto: bool,
    sport: bool,
    dport: bool,
}

/// The fields of a flow or selector that one class compares.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct MaskedKey {
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    sport: u16,
    dport: u16,
}

impl Shape {
    /// The class `sel` belongs to.
    pub fn of(sel: &Selector) -> Shape {
        Shape {
            v6: matches!(sel.src, IpAddr::V6(_)),
            src_plen: sel.src_plen,
            dst_plen: sel.dst_plen,
            proto: !sel.proto_any(),
            sport: sel.sport != 0,
            dport: sel.dport != 0,
        }
    }

    fn key(&self, src: &IpAddr, dst: &IpAddr, proto: u8, sport: u16, dport: u16) -> MaskedKey {
        MaskedKey {
            src: src.masked(self.src_plen),
            dst: dst.masked(self.dst_plen),
            proto: if self.proto { proto } else { 0 },
            sport: if self.sport { sport } else { 0 },
            dport: if self.dport { dport } else { 0 },
        }
    }

    /// The key `s` is filed under in its class.
    pub fn sel_key(&self, s: &Selector) -> MaskedKey {
        self.key(&s.src, &s.dst, s.proto, s.sport, s.dport)
    }

    /// The key a flow probes this class with.
    pub fn flow_key(&self, f: &FlowKey) -> MaskedKey {
        self.key(&f.src, &f.dst, f.proto, f.sport, f.dport)
    }

    /// Whether the class holds IPv6 selectors (a flow probes only its
    /// own family's classes).
    pub fn is_v6(&self) -> bool {
        self.v6
    }
}

struct Class<V> {
    shape: Shape,
    table: HashIndex<MaskedKey, V>,
}

/// Selector classes of one direction, each mapping masked keys to values
/// (policy indexes); one key may hold several values.
pub(super) struct TupleSpace<V> {
    classes: Vec<Class<V>>,
    by_shape: HashIndex<Shape, usize>,
}

impl<V: Copy + PartialEq> TupleSpace<V> {
    pub(super) fn new() -> Self {
        TupleSpace {
            classes: Vec::new(),
            by_shape: HashIndex::new(),
        }
    }

    /// Number of non-empty classes.
    pub(super) fn class_count(&self) -> usize {
        self.classes.len()
    }

    fn class_of(&self, shape: &Shape) -> Option<usize> {
        self.by_shape.get(shape).copied()
    }

    /// Adds `v` under `sel`; on failure nothing changed.
    pub(super) fn insert(&mut self, sel: &Selector, v: V) -> Result<(), AllocError> {
        let shape = Shape::of(sel);
        let key = shape.sel_key(sel);
        if let Some(c) = self.class_of(&shape) {
            return self.classes[c].table.insert_multi(key, v);
        }
        let mut table = HashIndex::new();
        table.insert_multi(key, v)?;
        self.classes.reserve(1)?;
        self.by_shape.reserve(1)?;
        let pos = self.classes.len();
        self.classes.push(Class { shape, table })?;
        self.by_shape.insert(shape, pos)?;
        Ok(())
    }

    /// Removes `v` from under `sel`; drops the class once empty.
    pub(super) fn remove(&mut self, sel: &Selector, v: V) -> bool {
        let shape = Shape::of(sel);
        let Some(c) = self.class_of(&shape) else {
            return false;
        };
        let key = shape.sel_key(sel);
        if self.classes[c]
            .table
            .remove_where(&key, |x| *x == v)
            .is_none()
        {
            return false;
        }
        if self.classes[c].table.is_empty() {
            self.by_shape.remove(&shape);
            self.classes.swap_remove(c);
            if let Some(moved) = self.classes.get(c) {
                if let Some(p) = self.by_shape.get_mut(&moved.shape) {
                    *p = c;
                }
            }
        }
        true
    }

    /// Values whose selector has the same class and masked key as `sel`
    /// (a superset of the exact duplicates of `sel`).
    pub(super) fn same_key(&self, sel: &Selector, mut f: impl FnMut(V)) {
        let shape = Shape::of(sel);
        if let Some(c) = self.class_of(&shape) {
            let key = shape.sel_key(sel);
            for v in self.classes[c].table.get_all(&key) {
                f(*v);
            }
        }
    }

    /// Calls `f` with every value whose selector matches `flow`; returns
    /// the number of classes probed.
    pub(super) fn matching(&self, flow: &FlowKey, mut f: impl FnMut(V)) -> usize {
        let v6 = matches!(flow.src, IpAddr::V6(_));
        if matches!(flow.dst, IpAddr::V6(_)) != v6 {
            return 0;
        }
        let mut probed = 0;
        for class in self.classes.iter().filter(|c| c.shape.is_v6() == v6) {
            probed += 1;
            let key = class.shape.flow_key(flow);
            for v in class.table.get_all(&key) {
                f(*v);
            }
        }
        probed
    }

    /// Forgets everything.
    pub(super) fn clear(&mut self) {
        self.classes.clear();
        self.by_shape.clear();
    }
}
