//! PF_KEY lifetimes (RFC 2367 §2.3.4) for SAs and policies, and when they
//! expire. Times are seconds on the caller's clock; 0 means "no limit".

/// A soft or hard limit. Each field is a separate limit; 0 disables it.
#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
pub struct Lifetime {
    /// `sadb_lifetime_allocations`; Linux applies it as a packet limit.
    pub allocations: u64,
    /// Bytes processed.
    pub bytes: u64,
    /// Seconds since the entry was added.
    pub addtime: u64,
    /// Seconds since the entry was first used.
    pub usetime: u64,
}

/// What an entry has consumed so far (`SADB_EXT_LIFETIME_CURRENT`).
#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
pub struct LifetimeCurrent {
    /// Packets processed (reported as allocations).
    pub allocations: u64,
    /// Bytes processed.
    pub bytes: u64,
    /// When the entry was added.
    pub addtime: u64,
    /// When the entry was first used; 0 if never.
    pub usetime: u64,
}

/// Which limit was crossed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Expiry {
    /// Renegotiate: the entry stays usable (and becomes dying).
    Soft,
    /// The entry must be removed.
    Hard,
}

impl Lifetime {
    /// Whether no limit is set.
    pub fn is_unlimited(&self) -> bool {
        *self == Lifetime::default()
    }

    /// Whether `cur` has reached this limit at time `now`. An unused entry
    /// never reaches its use-time limit.
    pub fn reached(&self, cur: &LifetimeCurrent, now: u64) -> bool {
        let hit = |limit: u64, used: u64| limit != 0 && used >= limit;
        hit(self.allocations, cur.allocations)
            || hit(self.bytes, cur.bytes)
            || hit(self.addtime, now.saturating_sub(cur.addtime))
            || (cur.usetime != 0 && hit(self.usetime, now.saturating_sub(cur.usetime)))
    }
}

impl LifetimeCurrent {
    /// Counters of an entry added at `now`.
    pub fn new(now: u64) -> Self {
        LifetimeCurrent {
            addtime: now,
            ..LifetimeCurrent::default()
        }
    }

    /// Accounts one packet of `bytes` processed at `now`.
    pub fn account(&mut self, bytes: u64, now: u64) {
        if self.usetime == 0 {
            self.usetime = now;
        }
        self.allocations = self.allocations.saturating_add(1);
        self.bytes = self.bytes.saturating_add(bytes);
    }
}

/// Per-entry bookkeeping so that each soft and hard expiry is reported
/// once.
#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
pub struct ExpiryState {
    soft_fired: bool,
    hard_fired: bool,
}

impl ExpiryState {
    /// The expiry to report now, if any; neither is reported twice. When
    /// both limits were crossed since the last poll, soft comes first (the
    /// next poll gives hard), as the packet path reports them in order.
    pub fn poll(
        &mut self,
        hard: &Lifetime,
        soft: &Lifetime,
        cur: &LifetimeCurrent,
        now: u64,
    ) -> Option<Expiry> {
        if !self.hard_fired && hard.reached(cur, now) {
            if !self.soft_fired && !soft.is_unlimited() && soft.reached(cur, now) {
                self.soft_fired = true;
                return Some(Expiry::Soft);
            }
            self.hard_fired = true;
            return Some(Expiry::Hard);
        }
        if !self.soft_fired && !self.hard_fired && soft.reached(cur, now) {
            self.soft_fired = true;
            return Some(Expiry::Soft);
        }
        None
    }

    /// Whether the soft expiry was reported.
    pub fn soft_fired(&self) -> bool {
        self.soft_fired
    }

    /// Whether the hard expiry was reported.
    pub fn hard_fired(&self) -> bool {
        self.hard_fired
    }

    /// Forgets the soft report (new lifetimes were installed by UPDATE).
    pub fn rearm_soft(&mut self) {
        self.soft_fired = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_single_reports() {
        let hard = Lifetime {
            addtime: 100,
            bytes: 10_000,
            ..Lifetime::default()
        };
        let soft = Lifetime {
            addtime: 80,
            usetime: 10,
            ..Lifetime::default()
        };
        let mut cur = LifetimeCurrent::new(1000);
        let mut st = ExpiryState::default();
        assert_eq!(st.poll(&hard, &soft, &cur, 1050), None);
        // Use time counts from first use only.
        cur.account(100, 1060);
        cur.account(100, 1065);
        assert_eq!(cur.usetime, 1060);
        assert_eq!(cur.allocations, 2);
        assert_eq!(st.poll(&hard, &soft, &cur, 1069), None);
        assert_eq!(st.poll(&hard, &soft, &cur, 1070), Some(Expiry::Soft));
        assert_eq!(st.poll(&hard, &soft, &cur, 1071), None);
        assert!(st.soft_fired());
        cur.bytes = 10_000;
        assert_eq!(st.poll(&hard, &soft, &cur, 1071), Some(Expiry::Hard));
        assert_eq!(st.poll(&hard, &soft, &cur, 5000), None);
        assert!(st.hard_fired());
        // Both crossed since the last poll: soft first, then hard.
        let mut st = ExpiryState::default();
        let cur = LifetimeCurrent::new(0);
        assert_eq!(st.poll(&hard, &soft, &cur, 100), Some(Expiry::Soft));
        assert_eq!(st.poll(&hard, &soft, &cur, 100), Some(Expiry::Hard));
        assert_eq!(st.poll(&hard, &soft, &cur, 100), None);
        // A soft limit past the hard one never fires.
        let mut st = ExpiryState::default();
        let late = Lifetime {
            addtime: 500,
            ..Lifetime::default()
        };
        assert_eq!(st.poll(&hard, &late, &cur, 100), Some(Expiry::Hard));
        assert_eq!(st.poll(&hard, &late, &cur, 100), None);
        assert!(Lifetime::default().is_unlimited());
        assert!(!Lifetime::default().reached(&cur, u64::MAX));
        // A clock that goes backwards does not underflow.
        assert!(!hard.reached(&LifetimeCurrent::new(500), 10));
    }
}
