//! The NATS client protocol on the wire: a zero-copy parser for what clients send and
//! an encoder for what the server sends. No I/O and no allocation per message.

pub mod encode;
pub mod errors;
mod parser;

pub use errors::ProtocolError;
pub use parser::{control_line, parse_op, ClientOp, ParserLimits, Publish};
