//! rxfrm's pure logic: no kernel dependency, `core` plus the allocation seam
//! (`crate::seam`). Compiled into rxfrm.ko and into the host test crate.
//! No `unsafe`, in either build.

#![forbid(unsafe_code)]

pub mod addr;
pub mod ah;
pub mod algs;
pub mod bytes;
pub mod dump_order;
pub mod engine;
pub mod esp;
pub mod hash;
pub mod ipcomp;
pub mod ipv6ext;
pub mod lifetime;
pub mod mode;
pub mod overhead;
pub mod packet;
pub mod pfkey;
pub mod replay;
pub mod sad;
pub mod secpath;
pub mod selector;
pub mod spd;
pub mod spi;
pub mod stats;
pub mod suite;
pub mod types;
