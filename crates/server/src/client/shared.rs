//! The part of a connection other connections touch: its outbound buffer and its socket.
//!
//! Publishers append frames to a subscriber's outbound buffer under a short lock and
//! mark the subscriber "flush pending"; at the end of each read batch they wake its
//! writer once. So a burst of messages costs one wake and one write, not one per message.

use super::CloseReason;
use parking_lot::Mutex;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio::sync::Notify;

/// What happened to a frame offered to a connection's outbound buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queued {
    /// Queued; the caller must wake this connection's writer at the end of its batch.
    NeedsFlush,
    /// Queued; a wake is already promised by someone.
    FlushAlreadyPending,
    /// Not queued: the connection is closed.
    Closed,
    /// Not queued: it would have gone over `max_pending`; the connection is now closed.
    SlowConsumer,
}

pub(crate) struct OutboundState {
    /// Frames waiting for the writer.
    pub buf: Vec<u8>,
    /// Bytes the writer has taken but not yet finished writing.
    pub in_flight: usize,
    /// Set once; the writer drains (or drops) what is left and shuts the socket.
    pub closed: Option<CloseReason>,
    /// Messages queued to this connection.
    pub out_msgs: u64,
    /// Bytes queued to this connection.
    pub out_bytes: u64,
}

/// A connection as seen by the rest of the server.
pub struct ClientShared {
    /// The connection id (`cid`).
    pub id: u64,
    /// The client's address.
    pub peer: SocketAddr,
    /// Set at CONNECT for clients (protocol 1) that accept INFO updates later on.
    pub info_updates: AtomicBool,
    /// `ip:port - cid:N`, plus the client's name once known: the prefix of its log lines.
    label: Mutex<Arc<str>>,
    /// Whether the client accepts HMSG; messages with headers are stripped otherwise.
    pub headers: AtomicBool,
    /// PINGs sent and not yet answered.
    pub pings_outstanding: AtomicU32,
    /// Milliseconds since server start of the last inbound read batch.
    pub last_activity_ms: AtomicU64,
    /// Set by the reader at CONNECT: the writer re-arms the first PING.
    pub connect_received: AtomicBool,
    pub(crate) outbound: Mutex<OutboundState>,
    flush_pending: AtomicBool,
    /// Set while more than half of `max_pending` is queued: publishers should stall.
    pub(crate) backed_up: AtomicBool,
    /// Signalled when a backed-up connection has drained below half of `max_pending`.
    pub(crate) drained: Notify,
    pub(crate) wake_writer: Notify,
    socket: Mutex<Option<Arc<TcpStream>>>,
}

impl ClientShared {
    pub(crate) fn new(id: u64, peer: SocketAddr, label: String, socket: Arc<TcpStream>) -> Self {
        ClientShared {
            id,
            peer,
            info_updates: AtomicBool::new(false),
            label: Mutex::new(label.into()),
            headers: AtomicBool::new(false),
            pings_outstanding: AtomicU32::new(0),
            last_activity_ms: AtomicU64::new(0),
            connect_received: AtomicBool::new(false),
            outbound: Mutex::new(OutboundState {
                buf: Vec::new(),
                in_flight: 0,
                closed: None,
                out_msgs: 0,
                out_bytes: 0,
            }),
            flush_pending: AtomicBool::new(false),
            backed_up: AtomicBool::new(false),
            drained: Notify::new(),
            wake_writer: Notify::new(),
            socket: Mutex::new(Some(socket)),
        }
    }

    /// The log prefix for this connection.
    pub fn label(&self) -> Arc<str> {
        Arc::clone(&self.label.lock())
    }

    pub(crate) fn set_label(&self, label: String) {
        *self.label.lock() = label.into();
    }

    /// Appends one frame written by `write` unless that would exceed `max_pending`.
    /// `counts_as_message` adds it to the connection's outbound message statistics.
    pub fn queue(
        &self,
        max_pending: usize,
        counts_as_message: bool,
        write: impl FnOnce(&mut Vec<u8>),
    ) -> Queued {
        {
            let mut state = self.outbound.lock();
            if state.closed.is_some() {
                return Queued::Closed;
            }
            let before = state.buf.len();
            write(&mut state.buf);
            let added = state.buf.len() - before;
            if state.buf.len() + state.in_flight > max_pending {
                state.buf.truncate(before);
                drop(state);
                self.close(CloseReason::SlowConsumerPendingBytes, false);
                return Queued::SlowConsumer;
            }
            if counts_as_message {
                state.out_msgs += 1;
                state.out_bytes += added as u64;
            }
            if state.buf.len() + state.in_flight > max_pending / 2 {
                self.backed_up.store(true, Ordering::Release);
            }
        }
        if self.flush_pending.load(Ordering::Relaxed)
            || self.flush_pending.swap(true, Ordering::AcqRel)
        {
            Queued::FlushAlreadyPending
        } else {
            Queued::NeedsFlush
        }
    }

    /// Queues protocol bytes outside any read batch and wakes the writer at once.
    pub fn send_now(&self, write: impl FnOnce(&mut Vec<u8>)) {
        if self.queue(usize::MAX, false, write) == Queued::NeedsFlush {
            self.flush();
        }
    }

    /// Wakes the writer for what was queued with [`Queued::NeedsFlush`].
    pub fn flush(&self) {
        self.flush_pending.store(false, Ordering::Release);
        self.wake_writer.notify_one();
    }

    /// True while publishers to this connection should hold back.
    pub fn is_backed_up(&self) -> bool {
        self.backed_up.load(Ordering::Acquire)
    }

    /// Called by the writer after each write: releases stalled publishers once the
    /// connection has drained below half of `max_pending`.
    pub(crate) fn note_drained(&self, max_pending: usize) {
        if self.backed_up.load(Ordering::Acquire) {
            let state = self.outbound.lock();
            if state.closed.is_some() || state.buf.len() + state.in_flight <= max_pending / 2 {
                self.backed_up.store(false, Ordering::Release);
                self.drained.notify_waiters();
            }
        }
    }

    /// Marks the connection closed; returns false if it already was. With `flush`, what
    /// is queued (such as a final `-ERR`) is still written; without, it is dropped and
    /// the socket is shut down at once, which also unblocks a writer stuck on a full socket.
    pub fn close(&self, reason: CloseReason, flush: bool) -> bool {
        {
            let mut state = self.outbound.lock();
            if state.closed.is_some() {
                return false;
            }
            state.closed = Some(reason);
            if !flush {
                state.buf = Vec::new();
            }
        }
        if !flush {
            self.shutdown_socket();
        }
        self.wake_writer.notify_one();
        true
    }

    /// Why the connection closed, if it has.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.outbound.lock().closed
    }

    /// Shuts the socket down in both directions, waking both of its tasks.
    pub(crate) fn shutdown_socket(&self) {
        if let Some(socket) = self.socket.lock().as_ref() {
            // Errors mean the socket is already gone, which is what we want.
            let _ = socket2::SockRef::from(socket.as_ref()).shutdown(std::net::Shutdown::Both);
        }
    }

    /// Drops the socket handle so the descriptor closes once both tasks are done.
    pub(crate) fn release_socket(&self) {
        self.socket.lock().take();
    }

    /// Messages and bytes queued to this connection so far.
    pub fn outbound_totals(&self) -> (u64, u64) {
        let state = self.outbound.lock();
        (state.out_msgs, state.out_bytes)
    }
}
