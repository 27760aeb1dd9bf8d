use super::*;
use std::collections::HashSet;

fn recv(w: &mut ReplayWindow, lo: u32) -> Result<u64, ReplayError> {
    let full = w.check(lo)?;
    w.advance(full)?;
    Ok(full)
}

#[test]
fn in_order_and_duplicates() {
    let mut w = ReplayWindow::new(64, false).unwrap();
    assert_eq!(w.check(0), Err(ReplayError::SeqZero));
    for s in 1..=500u32 {
        assert_eq!(recv(&mut w, s), Ok(u64::from(s)));
        assert_eq!(w.check(s), Err(ReplayError::Replayed));
    }
    assert_eq!(w.top(), 500);
    assert_eq!(w.check(499), Err(ReplayError::Replayed));
    assert_eq!(w.check(400), Err(ReplayError::TooOld));
}

#[test]
fn check_does_not_change_state() {
    let mut w = ReplayWindow::new(32, false).unwrap();
    assert_eq!(w.check(10), Ok(10));
    assert_eq!(w.check(10), Ok(10));
    assert_eq!(w.top(), 0);
    // Two packets with one number pass check; only the first advances.
    let a = w.check(7).unwrap();
    let b = w.check(7).unwrap();
    assert_eq!(w.advance(a), Ok(()));
    assert_eq!(w.advance(b), Err(ReplayError::Replayed));
    assert_eq!(w.advance(0), Err(ReplayError::SeqZero));
}

#[test]
fn out_of_order_within_window_and_edges() {
    for size in [32u32, 64, 1024, 4096] {
        let mut w = ReplayWindow::new(size, false).unwrap();
        let top = 10_000u32;
        recv(&mut w, top).unwrap();
        // Oldest acceptable is top - size + 1; one more is too old.
        let oldest = top - size + 1;
        assert_eq!(w.check(oldest - 1), Err(ReplayError::TooOld), "size {size}");
        assert_eq!(recv(&mut w, oldest), Ok(u64::from(oldest)), "size {size}");
        assert_eq!(w.check(oldest), Err(ReplayError::Replayed));
        // Every number in between, in reverse order, once.
        for s in (oldest + 1..top).rev() {
            assert_eq!(recv(&mut w, s), Ok(u64::from(s)), "size {size} seq {s}");
        }
        for s in oldest..=top {
            assert_eq!(w.check(s), Err(ReplayError::Replayed));
        }
        // Sliding by one pushes `oldest` out of the window.
        recv(&mut w, top + 1).unwrap();
        assert_eq!(w.check(oldest), Err(ReplayError::TooOld));
        assert_eq!(w.check(oldest + 1), Err(ReplayError::Replayed));
    }
}

#[test]
fn big_jumps_clear_stale_bits() {
    let mut w = ReplayWindow::new(128, false).unwrap();
    for s in 1..=128u32 {
        recv(&mut w, s).unwrap();
    }
    // Jump by less than the ring: numbers skipped over must be fresh even
    // though their ring bits held older numbers.
    recv(&mut w, 200).unwrap();
    for s in 129..200u32 {
        assert_eq!(w.check(s), Ok(u64::from(s)), "seq {s}");
    }
    assert_eq!(w.check(72), Err(ReplayError::TooOld));
    assert_eq!(w.check(73), Err(ReplayError::Replayed));
    assert_eq!(w.check(128), Err(ReplayError::Replayed));
    // Jump by far more than the ring.
    recv(&mut w, 1_000_000).unwrap();
    for s in 999_873..1_000_000u32 {
        assert_eq!(w.check(s), Ok(u64::from(s)));
    }
    assert_eq!(w.check(999_872), Err(ReplayError::TooOld));
    recv(&mut w, u32::MAX).unwrap();
    assert_eq!(w.check(u32::MAX), Err(ReplayError::Replayed));
}

#[test]
fn window_zero_disables_checking() {
    let mut w = ReplayWindow::new(0, false).unwrap();
    assert_eq!(recv(&mut w, 5), Ok(5));
    assert_eq!(recv(&mut w, 5), Ok(5));
    assert_eq!(recv(&mut w, 1), Ok(1));
    assert_eq!(w.check(0), Err(ReplayError::SeqZero));
    assert_eq!(
        ReplayWindow::new(4097, false).unwrap_err(),
        WindowError::TooLarge
    );
}

#[test]
fn matches_model_on_random_traffic() {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for size in [32u32, 64, 100, 1024, 4096] {
        let mut w = ReplayWindow::new(size, false).unwrap();
        let mut seen: HashSet<u64> = HashSet::new();
        let mut top = 0u64;
        let mut base = 1u64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Mostly near the front, sometimes far ahead or behind.
            let s = match x % 10 {
                0 => base + x % 9000,
                1 => base.saturating_sub(x % 6000).max(1),
                _ => base + x % 70,
            };
            base += x % 3;
            let want = if s + u64::from(size) <= top {
                Err(ReplayError::TooOld)
            } else if seen.contains(&s) {
                Err(ReplayError::Replayed)
            } else {
                Ok(s)
            };
            assert_eq!(
                recv(&mut w, s as u32),
                want,
                "size {size} seq {s} top {top}"
            );
            if want.is_ok() {
                seen.insert(s);
                top = top.max(s);
            }
        }
    }
}

#[test]
fn esn_infers_high_bits_across_wrap() {
    let mut w = ReplayWindow::new(64, true).unwrap();
    let near = u64::from(u32::MAX) - 10;
    w.advance(near).unwrap();
    // Case A: below the window bottom means the next subspace.
    assert_eq!(w.check(5), Ok((1 << 32) | 5));
    assert_eq!(w.check(u32::MAX - 20), Ok(u64::from(u32::MAX) - 20));
    // Low half 0 is legal once ESN wraps: its full number is 2^32.
    assert_eq!(recv(&mut w, 0), Ok(1 << 32));
    assert_eq!(w.check(0), Err(ReplayError::Replayed));
    // Case B: the window spans the wrap; high low-halves are the old subspace.
    assert_eq!(w.check(u32::MAX - 5), Ok(u64::from(u32::MAX) - 5));
    assert_eq!(w.check(u32::MAX - 10), Err(ReplayError::Replayed));
    assert_eq!(recv(&mut w, u32::MAX), Ok(u64::from(u32::MAX)));
    assert_eq!(w.check(3), Ok((1 << 32) | 3));
    // Window bottom is top - 63 = 2^32 - 63; one below it reads, per
    // Appendix A case B, as the current subspace (far ahead), not as old.
    assert_eq!(w.check(u32::MAX - 62), Ok(u64::from(u32::MAX) - 62));
    assert_eq!(
        w.check(u32::MAX - 63),
        Ok((1 << 32) | u64::from(u32::MAX - 63))
    );
    // Far past the window: into the next subspace again.
    recv(&mut w, 1000).unwrap();
    assert_eq!(w.top(), (1 << 32) | 1000);
    // Case A again: bottom 937 stays in this subspace, 936 is the next one.
    assert_eq!(w.check(937), Ok((1 << 32) | 937));
    assert_eq!(w.check(936), Ok((2 << 32) | 936));
    assert_eq!(w.check(999), Ok((1 << 32) | 999));
    assert_eq!(w.check(1000), Err(ReplayError::Replayed));
    assert_eq!(w.check(10), Ok((2 << 32) | 10));
}

#[test]
fn esn_first_subspace_and_limits() {
    let mut w = ReplayWindow::new(32, true).unwrap();
    // Nothing precedes subspace 0.
    assert_eq!(w.check(u32::MAX), Err(ReplayError::TooOld));
    assert_eq!(w.check(0), Err(ReplayError::SeqZero));
    assert_eq!(recv(&mut w, 1), Ok(1));
    assert_eq!(recv(&mut w, 40), Ok(40));
    // Bottom of the window is 40 - 31 = 9; below it is the next subspace.
    assert_eq!(w.check(9), Ok(9));
    assert_eq!(w.check(8), Ok((1 << 32) | 8));
    let mut top = ReplayWindow::new(32, true).unwrap();
    top.advance(u64::MAX - 1).unwrap();
    assert_eq!(top.check(u32::MAX), Ok(u64::MAX));
    // Past 2^64 cannot be represented: refused, not wrapped.
    assert_eq!(top.check(1), Err(ReplayError::TooOld));
}

#[test]
fn esn_sequential_stream_through_two_wraps() {
    for size in [32u32, 4096] {
        let mut w = ReplayWindow::new(size, true).unwrap();
        let start = (1u64 << 32) - 3000;
        w.advance(start).unwrap();
        for full in start + 1..start + 6000 {
            assert_eq!(recv(&mut w, full as u32), Ok(full));
        }
        let mut w2 = ReplayWindow::new(size, true).unwrap();
        w2.advance((2u64 << 32) - 1).unwrap();
        assert_eq!(recv(&mut w2, 0), Ok(2 << 32));
    }
}

#[test]
fn out_seq_refuses_to_cycle() {
    let mut s = OutSeq::new(false);
    assert_eq!(s.next_seq(), Ok(1));
    assert_eq!(s.next_seq(), Ok(2));
    let mut s = OutSeq {
        last: u64::from(u32::MAX) - 1,
        esn: false,
    };
    assert_eq!(s.next_seq(), Ok(u64::from(u32::MAX)));
    assert_eq!(s.next_seq(), Err(SeqOverflow));
    assert_eq!(s.next_seq(), Err(SeqOverflow));
    assert_eq!(s.last(), u64::from(u32::MAX));
    let mut e = OutSeq {
        last: u64::from(u32::MAX),
        esn: true,
    };
    assert_eq!(e.next_seq(), Ok(1 << 32));
    let mut e = OutSeq {
        last: u64::MAX - 1,
        esn: true,
    };
    assert_eq!(e.next_seq(), Ok(u64::MAX));
    assert_eq!(e.next_seq(), Err(SeqOverflow));
}
