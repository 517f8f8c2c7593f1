//! TLS for a client connection: INFO in plain text then the handshake (the NATS way), or
//! the handshake first (`handshake_first`), as nats-server's `createClientEx` orders them.

use super::transport::{write_all_tcp, SharedTcp, Transport};
use super::{ClientShared, CloseReason};
use crate::tls::{self, HandshakeFirst, TlsOptions};
use natrium_proto::encode;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tracing::{debug, error};

/// Sends INFO and runs the handshake in the order `tls` asks for; returns the TLS transport,
/// or the reason the connection ends (the failure is logged here).
pub(super) async fn establish_tls(
    shared: &ClientShared,
    socket: &Arc<TcpStream>,
    tls: &TlsOptions,
    info: &[u8],
    write_deadline: Duration,
) -> Result<Transport, CloseReason> {
    let label = shared.label();
    let handshake_first = match tls.handshake_first {
        HandshakeFirst::Off => false,
        HandshakeFirst::On => true,
        // A client that speaks first is starting a handshake; a silent one waits for INFO.
        // Peeking (not mere readiness, which may be spurious) leaves the bytes for rustls.
        HandshakeFirst::Fallback(delay) => {
            let mut first = [0u8; 1];
            matches!(
                tokio::time::timeout(delay, socket.peek(&mut first)).await,
                Ok(Ok(1))
            )
        }
    };
    if !handshake_first {
        // INFO goes in plain text straight to the socket: the writer task starts only once
        // the connection is encrypted.
        let mut frame = Vec::new();
        encode::write_info(&mut frame, info);
        match tokio::time::timeout(write_deadline, write_all_tcp(socket, &frame)).await {
            Ok(Ok(())) => {}
            _ => return Err(CloseReason::WriteError),
        }
    }
    debug!("{label} - Starting TLS client connection handshake");
    let stream = match tls.accept(SharedTcp(Arc::clone(socket))).await {
        Ok(stream) => stream,
        Err(e) => {
            error!("{label} - {e}");
            return Err(CloseReason::TlsHandshakeError);
        }
    };
    debug!("{label} - TLS handshake complete");
    if tls.verify_and_map {
        shared.authz.lock().certificate = tls::peer_identity(&stream);
    }
    debug!("{label} - {}", tls::describe_session(&stream));
    if let Some(reason) = shared.close_reason() {
        // Closed (server shutdown) while the handshake ran.
        return Err(reason);
    }
    if handshake_first {
        shared.send_now(|out| encode::write_info(out, info));
    }
    Ok(Transport::Stream(Box::new(stream)))
}
