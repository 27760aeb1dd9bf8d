//! setkey(8) for rxfrm: parses KAME/ipsec-tools setkey input, turns it into
//! PF_KEY v2 messages with `rxfrm_logic::pfkey`, and prints replies the way
//! ipsec-tools does.

pub mod ast;
pub mod cli;
pub mod dump;
pub mod exec;
pub mod kdebug;
pub mod lexer;
pub mod msg;
pub mod names;
pub mod parser;
pub mod policy;
pub mod reader;
pub mod socket;
