//! The FFI layer: every `unsafe` block of rxfrm.ko lives below this module,
//! each with its `// SAFETY:` argument. The rest of the module uses the safe
//! wrappers exported here.

pub(crate) mod bindings;
pub(crate) mod crypto;
pub(crate) mod param;
pub(crate) mod pernet;
pub(crate) mod skb;
pub(crate) mod sock;
pub(crate) mod sync_cell;
pub(crate) mod ticker;
pub(crate) mod util;
