//! WebSocket (RFC 6455) for NATS clients, as nats-server speaks it, with no I/O: the HTTP/1.1
//! upgrade (`handshake`), the frame codec (`frame`) and permessage-deflate (`deflate`). The
//! server crate runs them over its sockets; keeping them pure is what lets `fuzz/` drive
//! them without a server.

pub mod deflate;
pub mod frame;
pub mod handshake;

pub use deflate::{Compressor, DeflateError, COMPRESS_THRESHOLD_BYTES};
pub use frame::{
    close_payload, write_frame_header, CloseStatus, Decoder, Event, FrameError, OpCode,
    MAX_CONTROL_PAYLOAD_BYTES,
};
pub use handshake::{
    accept_key, check_upgrade, parse_request, write_http_error, write_switching_protocols,
    HandshakeError, OriginPolicy, Request, Upgrade, REQUEST_BYTES_MAX,
};
