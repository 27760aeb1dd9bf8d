//! The FFI layer: every `unsafe` block of rxfrm.ko lives below this module,
//! each with its `// SAFETY:` argument, and nothing here imports from the
//! layers above it (`datapath`, `af_key`, `netns`): what the kernel calls
//! back reaches them through traits they implement (`PernetState`,
//! `NfHandler`, `ProtoHandler`, `BundleEntry`, `NetEvents`, `KeyFamily`,
//! `ProcShow`, `aead::Completion`), the way `kernel::net::phy` reaches a
//! driver. Below it is only the pure logic (`crate::logic`).

pub(crate) mod aead;
pub(crate) mod ahash;
pub(crate) mod bhlock;
pub(crate) mod bindings;
pub(crate) mod bundle;
pub(crate) mod comp;
pub(crate) mod crypto;
pub(crate) mod dst;
pub(crate) mod inflight;
pub(crate) mod keymsg;
pub(crate) mod net;
pub(crate) mod nf;
pub(crate) mod notify;
pub(crate) mod packet;
pub(crate) mod param;
pub(crate) mod pernet;
pub(crate) mod procfs;
pub(crate) mod proto;
pub(crate) mod rcu;
pub(crate) mod secpath;
pub(crate) mod sock;
pub(crate) mod sockpol;
pub(crate) mod sync_cell;
pub(crate) mod util;
