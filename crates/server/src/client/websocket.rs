//! A websocket client: the upgrade (nats-server's `wsUpgrade`), then [`WsStream`], which
//! turns frames into the byte stream the ordinary reader and writer tasks use.
//!
//! Each write of the writer task (one outbound batch) becomes one binary frame; reads
//! yield the unmasked payload of text, binary and continuation frames. Pings are answered
//! and a client's close is echoed from inside the stream. Outgoing bytes always sit in one
//! buffer of whole frames, so a pong queued by the reader never lands inside a data frame
//! the writer is sending. With permessage-deflate, a batch larger than nats-server's
//! threshold goes as one compressed message, and compressed messages are inflated as they
//! complete.

use super::auth::CookieCredentials;
use super::transport::{AsyncStream, SharedTcp, Transport};
use super::{ClientShared, CloseReason};
use crate::options::WebsocketOptions;
use crate::tls::TlsOptions;
use natrium_websocket::{
    close_payload, write_frame_header, CloseStatus, Compressor, Decoder, Event, FrameError,
    HandshakeError, OpCode, OriginPolicy, Upgrade, COMPRESS_THRESHOLD_BYTES,
};
use parking_lot::Mutex;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tracing::{debug, error};

/// The websocket listener's settings, prepared once at start.
pub(crate) struct WebsocketListener {
    pub options: WebsocketOptions,
    pub origins: OriginPolicy,
    /// The `headers` option as response lines.
    pub extra_headers: String,
}

impl WebsocketListener {
    pub(crate) fn new(options: WebsocketOptions) -> Result<WebsocketListener, String> {
        let origins = OriginPolicy::new(options.same_origin, &options.allowed_origins)?;
        let extra_headers = options
            .headers
            .iter()
            .map(|(name, value)| format!("{name}: {value}\r\n"))
            .collect();
        Ok(WebsocketListener {
            options,
            origins,
            extra_headers,
        })
    }

    fn tls(&self) -> Option<&TlsOptions> {
        self.options.tls.as_ref()
    }
}

/// The largest data frame a client may send: nats-server's bound on a compressed message,
/// eight times `max_payload`, at most 64 MiB.
pub(crate) fn frame_payload_bytes_max(max_payload: usize) -> u64 {
    (max_payload as u64 * 8).min(64 * 1024 * 1024)
}

/// The close status nats-server sends for `reason` (`wsEnqueueCloseMessage`).
pub(crate) fn close_status(reason: CloseReason) -> CloseStatus {
    use CloseReason as R;
    match reason {
        R::ClientClosed => CloseStatus::NormalClosure,
        R::AuthenticationTimeout
        | R::AuthenticationViolation
        | R::AuthenticationExpired
        | R::SlowConsumerPendingBytes
        | R::SlowConsumerWriteDeadline
        | R::MaxConnectionsExceeded
        | R::MaxAccountConnectionsExceeded
        | R::MaxControlLineExceeded => CloseStatus::PolicyViolation,
        R::TlsHandshakeError => CloseStatus::TlsHandshake,
        R::ParseError | R::ProtocolViolation | R::BadClientProtocolVersion => {
            CloseStatus::ProtocolError
        }
        R::MaxPayloadExceeded => CloseStatus::MessageTooBig,
        R::ServerShutdown => CloseStatus::GoingAway,
        R::WriteError | R::ReadError | R::StaleConnection => CloseStatus::AbnormalClosure,
        R::NoRespondersRequiresHeaders => CloseStatus::InternalServerError,
    }
}

/// The reason a read error ends the connection: an oversized frame is a payload too
/// large, as in nats-server; other frame errors are read errors.
pub(crate) fn read_error_reason(error: &io::Error) -> CloseReason {
    match error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<FrameError>())
    {
        Some(frame) if frame.status == CloseStatus::MessageTooBig => {
            CloseReason::MaxPayloadExceeded
        }
        _ => CloseReason::ReadError,
    }
}

/// Runs the upgrade on an accepted socket: TLS (for `wss`), the request, its checks, the
/// 101. Refusals are answered with nats-server's HTTP statuses and logged; `None` then.
pub(crate) async fn upgrade(
    listener: &WebsocketListener,
    socket: &Arc<TcpStream>,
    peer: SocketAddr,
    max_payload: usize,
) -> Option<Transport> {
    let mut stream: Box<dyn AsyncStream> = match listener.tls() {
        Some(tls) => match tls.accept(SharedTcp(Arc::clone(socket))).await {
            Ok(stream) => Box::new(stream),
            Err(e) => {
                error!("{peer} - websocket {e}");
                return None;
            }
        },
        None => Box::new(SharedTcp(Arc::clone(socket))),
    };
    let timeout = listener.options.handshake_timeout();
    let request = match tokio::time::timeout(timeout, read_request(&mut stream)).await {
        Ok(Ok(request)) => request,
        Ok(Err(Some(refusal))) => {
            refuse(&mut stream, peer, &refusal).await;
            return None;
        }
        Ok(Err(None)) => return None,
        Err(_) => {
            debug!("{peer} - websocket handshake timeout");
            return None;
        }
    };
    let upgrade = match natrium_websocket::check_upgrade(
        &request,
        &listener.origins,
        listener.tls().is_some(),
    ) {
        Ok(upgrade) => upgrade,
        Err(refusal) => {
            refuse(&mut stream, peer, &refusal).await;
            return None;
        }
    };
    let compress = listener.options.compression && upgrade.compression_offered;
    let mut response = Vec::new();
    natrium_websocket::write_switching_protocols(
        &mut response,
        &upgrade,
        compress,
        &listener.extra_headers,
    );
    let sent = tokio::time::timeout(timeout, async {
        stream.write_all(&response).await?;
        stream.flush().await
    })
    .await;
    if !matches!(sent, Ok(Ok(()))) {
        return None;
    }
    let compression = compress.then_some(max_payload);
    let mut ws = WsStream::new(
        stream,
        &upgrade,
        frame_payload_bytes_max(max_payload),
        compression,
    );
    ws.cookies = cookie_credentials(&listener.options, &request);
    ws.forwarded_for = upgrade.forwarded_for;
    Some(Transport::Websocket(Box::new(ws)))
}

/// nats-server's label for a websocket client in logs: `wid`, with the address a proxy
/// reported in `X-Forwarded-For` before the socket's.
pub(crate) fn label(forwarded_for: Option<IpAddr>, peer: SocketAddr, id: u64) -> String {
    match forwarded_for {
        Some(IpAddr::V6(ip)) => format!("[{ip}]/{peer} - wid:{id}"),
        Some(ip) => format!("{ip}/{peer} - wid:{id}"),
        None => format!("{peer} - wid:{id}"),
    }
}

/// The values of the cookies `user_cookie`, `pass_cookie` and `token_cookie` name.
fn cookie_credentials(
    options: &WebsocketOptions,
    request: &natrium_websocket::Request,
) -> CookieCredentials {
    let value = |name: &str| {
        (!name.is_empty())
            .then(|| request.cookie(name))
            .flatten()
            .map(str::to_string)
    };
    CookieCredentials {
        user: value(&options.user_cookie),
        pass: value(&options.pass_cookie),
        auth_token: value(&options.token_cookie),
    }
}

/// Reads one request; `Err(Some)` is a refusal to answer, `Err(None)` a vanished client.
async fn read_request(
    stream: &mut Box<dyn AsyncStream>,
) -> Result<natrium_websocket::Request, Option<HandshakeError>> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk).await.map_err(|_| None)?;
        if n == 0 {
            return Err(None);
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some((request, length)) = natrium_websocket::parse_request(&buf).map_err(Some)? {
            if length != buf.len() {
                return Err(Some(HandshakeError {
                    status: 400,
                    reason: "client sent data before handshake is complete".to_string(),
                }));
            }
            return Ok(request);
        }
    }
}

/// Logs a refused upgrade as nats-server does and answers with its status.
async fn refuse(stream: &mut Box<dyn AsyncStream>, peer: SocketAddr, refusal: &HandshakeError) {
    error!("{peer} - websocket handshake error: {}", refusal.reason);
    let mut response = Vec::new();
    natrium_websocket::write_http_error(&mut response, refusal.status);
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), async {
        stream.write_all(&response).await?;
        stream.shutdown().await
    })
    .await;
}

/// nats-server's `wsFrameSizeForBrowsers`: browsers behave better with frames no larger
/// than this, so data sent to a `User-Agent: Mozilla/...` client is cut into such frames.
const BROWSER_FRAME_BYTES_MAX: usize = 4096;

/// The close frame the writer asks for when the connection ends; shared with the stream.
pub(crate) type CloseRequest = Arc<Mutex<Option<Vec<u8>>>>;

/// Frames over a byte stream (plain or TLS).
pub(crate) struct WsStream {
    inner: Box<dyn AsyncStream>,
    decoder: Decoder,
    events: Vec<Event>,
    /// Whole frames waiting to be written; written from the front only.
    outgoing: Vec<u8>,
    outgoing_pos: usize,
    /// A close arrived or a frame was refused: reads end.
    read_closed: bool,
    /// A close frame is queued; nothing more is framed.
    close_sent: bool,
    /// Outbound data frames are cut to this size for browsers, as nats-server does.
    data_frame_bytes_max: usize,
    /// Set when permessage-deflate was negotiated.
    compressor: Option<Box<Compressor>>,
    /// Compressed messages are cut into fragments of this size (not for Safari).
    compressed_fragment_bytes_max: usize,
    /// Woken when the reader queues a pong or close: only the writer task writes, since
    /// a socket keeps one waker per direction and the reader must not take the writer's.
    writer: Option<Arc<ClientShared>>,
    pub(crate) close_request: CloseRequest,
    /// Credentials the upgrade's cookies carried, handed to the connection's CONNECT.
    pub(crate) cookies: CookieCredentials,
    /// The client's address as a proxy reported it, for the log label.
    pub(crate) forwarded_for: Option<IpAddr>,
}

impl WsStream {
    /// A stream after `upgrade`; `compression` holds the inflated-message bound
    /// (`max_payload`) when permessage-deflate was negotiated.
    fn new(
        inner: Box<dyn AsyncStream>,
        upgrade: &Upgrade,
        frame_bytes_max: u64,
        compression: Option<usize>,
    ) -> WsStream {
        let mut decoder = Decoder::new(!upgrade.no_masking, frame_bytes_max);
        if let Some(inflated_bytes_max) = compression {
            decoder = decoder.with_compression(inflated_bytes_max);
        }
        let data_frame_bytes_max = if upgrade.browser {
            BROWSER_FRAME_BYTES_MAX
        } else {
            usize::MAX
        };
        WsStream {
            inner,
            decoder,
            events: Vec::new(),
            outgoing: Vec::new(),
            outgoing_pos: 0,
            read_closed: false,
            close_sent: false,
            data_frame_bytes_max,
            compressor: compression.map(|_| Box::new(Compressor::new())),
            compressed_fragment_bytes_max: if upgrade.safari {
                usize::MAX
            } else {
                data_frame_bytes_max
            },
            close_request: Arc::new(Mutex::new(None)),
            writer: None,
            cookies: CookieCredentials::default(),
            forwarded_for: None,
        }
    }

    /// Names the connection whose writer task sends the frames the reader queues.
    pub(crate) fn set_writer(&mut self, shared: Arc<ClientShared>) {
        self.writer = Some(shared);
    }

    /// Forgets frames already written, so the buffer is reused from its start.
    fn reuse_drained(&mut self) {
        if self.outgoing_pos == self.outgoing.len() {
            self.outgoing.clear();
            self.outgoing_pos = 0;
        }
    }

    fn queue_frame(&mut self, op: OpCode, payload: &[u8]) {
        if self.close_sent {
            return;
        }
        self.reuse_drained();
        write_frame_header(&mut self.outgoing, op, payload.len());
        self.outgoing.extend_from_slice(payload);
        if op == OpCode::Close {
            self.close_sent = true;
        }
    }

    /// Writes queued frames until done or the socket is full.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.outgoing_pos < self.outgoing.len() {
            let n = ready!(
                Pin::new(&mut self.inner).poll_write(cx, &self.outgoing[self.outgoing_pos..])
            )?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.outgoing_pos += n;
        }
        self.outgoing.clear();
        self.outgoing_pos = 0;
        Poll::Ready(Ok(()))
    }

    /// Queues the answers to pings and closes found by the last decode, for the writer.
    fn handle_events(&mut self) {
        let events = std::mem::take(&mut self.events);
        for event in &events {
            match event {
                Event::Ping(payload) => self.queue_frame(OpCode::Pong, payload),
                Event::Close { .. } => {
                    let payload = event.close_payload().unwrap_or_default();
                    self.queue_frame(OpCode::Close, &payload);
                    self.read_closed = true;
                }
            }
        }
        self.events = events;
        self.events.clear();
        self.wake_writer();
    }

    /// Moves inflated payload the decoder holds into `buf`; how many bytes moved.
    fn take_pending(&mut self, buf: &mut ReadBuf<'_>) -> usize {
        let pending = self.decoder.pending();
        if pending.is_empty() {
            return 0;
        }
        let count = pending.len().min(buf.remaining());
        buf.put_slice(&pending[..count]);
        self.decoder.consume_pending(count);
        count
    }

    fn wake_writer(&self) {
        if self.outgoing_pos < self.outgoing.len() {
            if let Some(shared) = &self.writer {
                shared.wake_writer.notify_one();
            }
        }
    }
}

impl AsyncRead for WsStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        // Inflated payload goes out before anything more is read, to keep the order.
        if buf.remaining() == 0 || this.take_pending(buf) > 0 || this.read_closed {
            return Poll::Ready(Ok(()));
        }
        loop {
            // Frames are read into the caller's buffer and decoded where they lie: the
            // payload moves to the front, unmasked, with no copy through another buffer.
            let before = buf.filled().len();
            ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
            let n = buf.filled().len() - before;
            if n == 0 {
                this.read_closed = true;
                return Poll::Ready(Ok(()));
            }
            let (payload, decoded) = this
                .decoder
                .decode_in_place(&mut buf.filled_mut()[before..], &mut this.events);
            buf.set_filled(before + payload);
            let inflated = this.take_pending(buf);
            this.handle_events();
            if let Err(refused) = decoded {
                this.queue_frame(
                    OpCode::Close,
                    &close_payload(refused.status as u16, &refused.message),
                );
                this.wake_writer();
                this.read_closed = true;
                return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, refused)));
            }
            // Only headers or control frames arrived: read on, as 0 bytes would mean EOF.
            if payload > 0 || inflated > 0 || this.read_closed {
                return Poll::Ready(Ok(()));
            }
        }
    }
}

impl AsyncWrite for WsStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        // One frame at a time: the previous one (and any control frame) goes first.
        ready!(this.poll_drain(cx))?;
        if this.close_sent {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        this.reuse_drained();
        match &mut this.compressor {
            Some(compressor) if data.len() > COMPRESS_THRESHOLD_BYTES => {
                compressor
                    .write_message(&mut this.outgoing, data, this.compressed_fragment_bytes_max)
                    .map_err(io::Error::other)?;
            }
            _ => {
                for frame in data.chunks(this.data_frame_bytes_max) {
                    this.queue_frame(OpCode::Binary, frame);
                }
            }
        }
        // The frame is ours now; flushing (or the next write) sends what is left.
        let _ = this.poll_drain(cx)?;
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let requested = this.close_request.lock().take();
        if let Some(payload) = requested {
            this.queue_frame(OpCode::Close, &payload);
        }
        ready!(this.poll_drain(cx))?;
        ready!(Pin::new(&mut this.inner).poll_flush(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}
