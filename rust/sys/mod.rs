//! The FFI layer: every `unsafe` block of rxfrm.ko lives below this module,
//! each with its `// SAFETY:` argument. The rest of the module uses the safe
//! wrappers exported here.

pub(crate) mod aead;
pub(crate) mod bhlock;
pub(crate) mod bindings;
pub(crate) mod crypto;
pub(crate) mod dst;
pub(crate) mod nf;
pub(crate) mod param;
pub(crate) mod pernet;
pub(crate) mod pkt;
pub(crate) mod procfs;
pub(crate) mod proto;
pub(crate) mod rcu;
pub(crate) mod skb;
pub(crate) mod sockpol;
pub(crate) mod sock;
pub(crate) mod sync_cell;
pub(crate) mod ticker;
pub(crate) mod util;
