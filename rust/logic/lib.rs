//! Host build of rxfrm's pure logic.
//!
//! The kernel module compiles the very same `mod.rs` tree; both crate roots
//! provide `crate::seam` (allocation and zeroizing) and `crate::logic`, so the
//! shared files name each other as `crate::logic::…` in both worlds.
#![no_std]
// The pure logic and the host seam hold no `unsafe` (the kernel build
// forbids it in `logic` too, from mod.rs).
#![forbid(unsafe_code)]
// The kernel builds this tree with -Wunreachable_pub -Wrust_2018_idioms
// (its root allows missing_docs for it): hold the host build to the same.
#![warn(unreachable_pub, rust_2018_idioms)]

extern crate alloc;
#[cfg(test)]
extern crate std;

#[path = "host_seam.rs"]
pub mod seam;

#[path = "mod.rs"]
pub mod logic;

pub use logic::*;
