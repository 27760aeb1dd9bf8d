//! Drop and error counters, one per event, shown as Linux's
//! `/proc/net/xfrm_stat` shows them (net/xfrm/xfrm_proc.c, v6.12): the
//! Linux counters in Linux's order, then rxfrm's own.
//!
//! rxfrm adds a counter only for an event Linux does not count. Where
//! Linux counts an event under a broader name, rxfrm counts it there too:
//! an ICV failure or a bad pad length is `XfrmInStateProtoError` (the
//! transform's input failed), and cleartext refused by a `require` policy
//! is `XfrmInTmplMismatch` (the template walk found no SA).

use core::fmt;

/// Generates `Stat`, `ALL` and `name` from one list, so they cannot drift.
macro_rules! stats {
    ($($(#[$m:meta])* $v:ident,)*) => {
        /// One counter.
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
        pub enum Stat { $($(#[$m])* $v,)* }

        impl Stat {
            /// Every counter, as the module-level [`ALL`].
            pub const ALL: [Stat; COUNT] = ALL;

            /// The name the counter is shown under.
            pub fn name(self) -> &'static str {
                match self { $(Stat::$v => stringify!($v),)* }
            }
        }

        /// Every counter, in `/proc/net/xfrm_stat` order; a counter's
        /// position here is its index into the values array.
        pub const ALL: [Stat; COUNT] = [$(Stat::$v,)*];

        /// Number of counters.
        pub const COUNT: usize = [$(stringify!($v),)*].len();
    };
}

stats! {
    /// Any inbound error not counted more precisely.
    XfrmInError,
    /// No buffer: the secpath or a copy could not be allocated.
    XfrmInBufferError,
    /// Malformed header (too short for ESP/AH, bad IP header).
    XfrmInHdrError,
    /// No SA for the SPI/destination/protocol.
    XfrmInNoStates,
    /// The transform's input failed: ICV mismatch, bad pad length.
    XfrmInStateProtoError,
    /// The mode's input (decapsulation) failed.
    XfrmInStateModeError,
    /// Replayed or out-of-window sequence number.
    XfrmInStateSeqError,
    /// The SA has expired.
    XfrmInStateExpired,
    /// The SA does not fit the packet (e.g. address family, selector).
    XfrmInStateMismatch,
    /// The SA is not valid (larval, dead).
    XfrmInStateInvalid,
    /// The SAs applied do not satisfy the policy's templates.
    XfrmInTmplMismatch,
    /// No policy authorised a tunnel-mode SA (or default policy block).
    XfrmInNoPols,
    /// An inbound policy discards the packet.
    XfrmInPolBlock,
    /// Policy lookup failed.
    XfrmInPolError,
    /// Any outbound error not counted more precisely.
    XfrmOutError,
    /// The bundle (the chain of transforms) could not be built.
    XfrmOutBundleGenError,
    /// A cached bundle turned out stale.
    XfrmOutBundleCheckError,
    /// No SA for an outbound template.
    XfrmOutNoStates,
    /// The transform's output failed.
    XfrmOutStateProtoError,
    /// The mode's output (encapsulation) failed; Linux's tunnel-mode
    /// packet-too-big check lands here.
    XfrmOutStateModeError,
    /// Sequence number overflow.
    XfrmOutStateSeqError,
    /// The SA has expired.
    XfrmOutStateExpired,
    /// An outbound policy discards the packet.
    XfrmOutPolBlock,
    /// The policy was deleted while in use.
    XfrmOutPolDead,
    /// Policy lookup failed.
    XfrmOutPolError,
    /// A forwarded packet's headers could not be decoded.
    XfrmFwdHdrError,
    /// The SA is not valid (larval, dead).
    XfrmOutStateInvalid,
    /// An ACQUIRE could not be sent or queued.
    XfrmAcquireError,
    /// An inbound-only SA was used for output (Linux 6.10+).
    XfrmOutStateDirError,
    /// An outbound-only SA was used for input (Linux 6.10+).
    XfrmInStateDirError,
    /// Padding bytes were not RFC 4303's 1, 2, 3, ... (Linux does not
    /// check their content).
    RxfrmInPadError,
    /// ACQUIREs sent to key managers (Linux counts only failures).
    RxfrmOutAcquire,
    /// A packet did not fit the path MTU after encapsulation and was
    /// refused before encryption. Linux checks this only in tunnel mode,
    /// inside `XfrmOutStateModeError`; rxfrm counts it here, not there.
    RxfrmOutMtuExceeded,
}

impl Stat {
    /// Index of the counter in a values array laid out as [`ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Writes `values` (indexed as [`ALL`], missing ones 0) as
/// `xfrm_statistics_seq_show` does: `seq_printf("%-24s\t%lu\n")`.
pub fn format_table(values: &[u64], out: &mut impl fmt::Write) -> fmt::Result {
    for (i, s) in ALL.iter().enumerate() {
        let v = values.get(i).copied().unwrap_or(0);
        writeln!(out, "{:<24}\t{}", s.name(), v)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
