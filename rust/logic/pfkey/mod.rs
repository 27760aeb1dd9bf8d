//! PF_KEY v2 (RFC 2367 with the KAME/Linux extensions) wire codec.
//!
//! - [`consts`]: message/extension/SA/algorithm numbers and [`Errno`].
//! - [`ext`]: zero-copy views of `sadb_msg` and every extension struct.
//! - [`parse()`] / [`parse_reply`]: walk and validate a message as af_key
//!   does, giving a [`Parsed`] with typed accessors.
//! - [`check_required`]: each af_key handler's own checks.
//! - [`MsgWriter`], [`build_len`], [`build_into`], [`build_vec`]: emit
//!   messages from the `*Repr` values without allocating.
//!
//! All of it runs on bytes from any user: no indexing that can panic, no
//! unchecked arithmetic on input.

pub mod check;
pub mod consts;
pub mod ext;
mod field;
pub mod lists;
pub mod parse;
pub mod repr;
pub mod sockaddr;
pub mod sockopt;
pub mod write;

#[cfg(test)]
mod tests;

pub use check::check_required;
pub use consts::Errno;
pub use lists::*;
pub use parse::{parse, parse_reply, Parsed};
pub use repr::*;
pub use write::{build_into, build_len, build_vec, MsgWriter};
