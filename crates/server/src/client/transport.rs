//! The byte stream under a connection's reader and writer tasks.
//!
//! Plain TCP stays as it was: both tasks share the socket through an `Arc` and call
//! `try_read`/`try_write` on it, with no lock and no boxing. Any other stream (TLS today,
//! websocket framing later) is boxed once and split into halves with `tokio::io::split`,
//! whose lock is uncontended in practice (one reader task, one writer task).

use super::websocket::{self, CloseRequest, WsStream};
use super::CloseReason;
use bytes::BytesMut;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, Interest, ReadBuf};
use tokio::net::TcpStream;

/// A byte stream a connection can run over.
pub(crate) trait AsyncStream: AsyncRead + AsyncWrite + Send + Unpin {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin> AsyncStream for T {}

/// How long a closing frame may take to leave before the socket is shut anyway.
const FINISH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// What a connection reads from and writes to.
pub(crate) enum Transport {
    /// Plain TCP, shared by both tasks.
    Tcp(Arc<TcpStream>),
    /// Anything layered over the socket (TLS).
    Stream(Box<dyn AsyncStream>),
    /// Websocket frames over the socket or TLS.
    Websocket(Box<WsStream>),
}

impl Transport {
    /// Splits the transport between the reader task and the writer task.
    pub(crate) fn split(self) -> (Reader, Writer) {
        match self {
            Transport::Tcp(socket) => (Reader::Tcp(Arc::clone(&socket)), Writer::Tcp(socket)),
            Transport::Stream(stream) => {
                let (read, write) = tokio::io::split(stream);
                (Reader::Stream(read), Writer::Stream(write))
            }
            Transport::Websocket(stream) => {
                let close_request = Arc::clone(&stream.close_request);
                let (read, write) = tokio::io::split(stream);
                (
                    Reader::Websocket(read),
                    Writer::Websocket(write, close_request),
                )
            }
        }
    }
}

/// The reader task's half.
pub(crate) enum Reader {
    /// Plain TCP.
    Tcp(Arc<TcpStream>),
    /// A layered stream's read half.
    Stream(tokio::io::ReadHalf<Box<dyn AsyncStream>>),
    /// A websocket's read half: frame payloads.
    Websocket(tokio::io::ReadHalf<Box<WsStream>>),
}

impl Reader {
    /// Reads what is available into `buf`'s spare capacity; 0 means the peer closed.
    pub(crate) async fn read_buf(&mut self, buf: &mut BytesMut) -> io::Result<usize> {
        match self {
            Reader::Tcp(socket) => loop {
                socket.readable().await?;
                match socket.try_read_buf(buf) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                    result => return result,
                }
            },
            Reader::Stream(stream) => match stream.read_buf(buf).await {
                // A TLS peer that closes its socket without close_notify has still
                // closed; Go's TLS reports that as EOF too.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(0),
                result => result,
            },
            Reader::Websocket(stream) => stream.read_buf(buf).await,
        }
    }

    /// Why a read error ends the connection.
    pub(crate) fn error_reason(&self, error: &io::Error) -> CloseReason {
        match self {
            Reader::Websocket(_) => websocket::read_error_reason(error),
            _ => CloseReason::ReadError,
        }
    }
}

/// The writer task's half.
pub(crate) enum Writer {
    /// Plain TCP.
    Tcp(Arc<TcpStream>),
    /// A layered stream's write half.
    Stream(tokio::io::WriteHalf<Box<dyn AsyncStream>>),
    /// A websocket's write half (each write one frame), and where the closing frame is asked for.
    Websocket(tokio::io::WriteHalf<Box<WsStream>>, CloseRequest),
}

impl Writer {
    /// Writes all of `data` and pushes it to the socket.
    pub(crate) async fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        match self {
            Writer::Tcp(socket) => write_all_tcp(socket, data).await,
            Writer::Stream(stream) => {
                stream.write_all(data).await?;
                // TLS buffers records; flushing sends them now, as one batch.
                stream.flush().await
            }
            Writer::Websocket(stream, _) => {
                stream.write_all(data).await?;
                stream.flush().await
            }
        }
    }

    /// Whether the reader may queue frames for this writer to send (a websocket's pongs).
    pub(crate) fn queues_frames(&self) -> bool {
        matches!(self, Writer::Websocket(..))
    }

    /// Sends frames the reader queued; nothing for other streams.
    pub(crate) async fn flush_queued(&mut self) -> io::Result<()> {
        match self {
            Writer::Websocket(stream, _) => stream.flush().await,
            _ => Ok(()),
        }
    }

    /// Ends the stream the way its protocol wants before the socket is shut: a websocket
    /// sends its close frame with nats-server's status for `reason`.
    pub(crate) async fn finish(&mut self, reason: CloseReason) {
        if let Writer::Websocket(stream, close_request) = self {
            let status = websocket::close_status(reason) as u16;
            *close_request.lock() = Some(natrium_websocket::close_payload(status, reason.as_str()));
            let _ = tokio::time::timeout(FINISH_TIMEOUT, stream.shutdown()).await;
        }
    }
}

/// Writes all of `data` to a shared socket, waiting for it to become writable as needed.
pub(crate) async fn write_all_tcp(socket: &TcpStream, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        socket.ready(Interest::WRITABLE).await?;
        match socket.try_write(data) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A socket shared through an `Arc` as an owned stream, so TLS can run over the same
/// socket that `ClientShared` keeps to shut it down from other tasks.
pub(crate) struct SharedTcp(pub(crate) Arc<TcpStream>);

impl AsyncRead for SharedTcp {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            ready!(self.0.poll_read_ready(cx))?;
            let unfilled = buf.initialize_unfilled();
            match self.0.try_read(unfilled) {
                Ok(n) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                // Readiness was cleared; polling again registers the waker.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncWrite for SharedTcp {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            ready!(self.0.poll_write_ready(cx))?;
            match self.0.try_write(data) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                result => return Poll::Ready(result),
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let result = socket2::SockRef::from(self.0.as_ref()).shutdown(std::net::Shutdown::Write);
        Poll::Ready(result)
    }
}
