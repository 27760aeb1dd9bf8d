//! pfkey-fuzz: a structure-aware, seeded PF_KEY v2 fuzzer for rxfrm.
//!
//! - [`gen`]: the seeded sequence of valid messages of every type, and
//!   [`mutate`] what is done to most of them;
//! - [`validate`]: an independent, strict RFC 2367 checker of replies;
//! - [`host`]: drives the key engine in-process; [`kernel`]: real PF_KEY
//!   sockets; [`sim`]: the kernel target's harness over simulated sockets;
//! - [`run`]: the loop, logs, reproducers and replay; [`stats`]: the
//!   report.

pub mod gen;
pub mod host;
#[cfg(target_os = "linux")]
pub mod kernel;
pub mod mutate;
pub mod run;
#[cfg(target_os = "linux")]
pub mod sim;
pub mod stats;
pub mod validate;
pub mod wire;
