//! A connection's writer task: drains the outbound buffer in whole batches, enforces the
//! write deadline, and runs the PING timer.

use super::transport::Writer;
use super::{ClientShared, CloseReason};
use crate::server::ServerState;
use natrium_proto::{encode, errors};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{sleep_until, Instant};
use tracing::{debug, info};

/// The first server PING goes this soon after CONNECT (or at `ping_interval` if shorter).
const FIRST_PING_DELAY: Duration = Duration::from_secs(2);
/// A batch buffer larger than this is released once the connection has been idle for
/// [`OVERSIZED_BUFFER_IDLE`] rather than kept for reuse.
const RETAINED_BATCH_BYTES_MAX: usize = 1024 * 1024;
/// How long an idle connection keeps buffers larger than [`RETAINED_BATCH_BYTES_MAX`].
const OVERSIZED_BUFFER_IDLE: Duration = Duration::from_secs(1);

/// Writes everything `shared` queues to `writer` until the connection closes.
pub(crate) async fn write_loop(
    server: Arc<ServerState>,
    shared: Arc<ClientShared>,
    mut writer: Writer,
) {
    let mut batch: Vec<u8> = Vec::new();
    let mut next_ping = Instant::now() + server.options().ping_interval;
    let mut first_ping_armed = false;
    let mut first_ping_due = false;
    loop {
        // Once per wake, so a reload's new limits apply from the next batch on.
        let options = server.options();
        let closing = {
            let mut state = shared.outbound.lock();
            std::mem::swap(&mut state.buf, &mut batch);
            state.in_flight = batch.len();
            state.closed.is_some()
        };
        if !batch.is_empty() {
            let written =
                tokio::time::timeout(options.write_deadline, writer.write_all(&batch)).await;
            match written {
                Ok(Ok(())) => {}
                Ok(Err(_)) => {
                    shared.close(CloseReason::WriteError, false);
                    shared.note_drained(options.max_pending);
                    break;
                }
                Err(_) => {
                    info!(
                        "{} - Slow Consumer Detected: WriteDeadline of {:?} exceeded with 1 chunks of {} total bytes.",
                        shared.label(),
                        options.write_deadline,
                        batch.len()
                    );
                    server.stats.slow_consumers.fetch_add(1, Ordering::Relaxed);
                    shared
                        .account()
                        .stats
                        .slow_consumers
                        .fetch_add(1, Ordering::Relaxed);
                    shared.close(CloseReason::SlowConsumerWriteDeadline, false);
                    shared.note_drained(options.max_pending);
                    break;
                }
            }
            batch.clear();
            shared.outbound.lock().in_flight = 0;
            shared.note_drained(options.max_pending);
            continue;
        }
        // Nothing is queued. Buffers a burst grew past the bound are released only once the
        // connection has stayed idle a while: a stream of large batches with short gaps
        // reuses them instead of growing fresh pages for every batch.
        let oversized = batch.capacity() > RETAINED_BATCH_BYTES_MAX
            || shared.outbound.lock().buf.capacity() > RETAINED_BATCH_BYTES_MAX;
        let release_at = Instant::now() + OVERSIZED_BUFFER_IDLE;
        if !closing && writer.queues_frames() {
            // A wake with nothing queued may be the reader asking for a pong to go out.
            let flushed = tokio::time::timeout(options.write_deadline, writer.flush_queued()).await;
            if !matches!(flushed, Ok(Ok(()))) {
                shared.close(CloseReason::WriteError, false);
                break;
            }
        }
        if closing {
            if let Some(reason) = shared.close_reason() {
                writer.finish(reason).await;
            }
            shared.shutdown_socket();
            break;
        }
        if !first_ping_armed && shared.connect_received.load(Ordering::Acquire) {
            first_ping_armed = true;
            first_ping_due = true;
            next_ping = Instant::now() + options.ping_interval.min(FIRST_PING_DELAY);
        }
        tokio::select! {
            _ = shared.wake_writer.notified() => {}
            _ = sleep_until(release_at), if oversized => {
                batch = Vec::new();
                let mut state = shared.outbound.lock();
                if state.buf.is_empty() {
                    state.buf = Vec::new();
                }
            }
            _ = sleep_until(next_ping) => {
                next_ping = Instant::now() + options.ping_interval;
                // The first PING after CONNECT is always sent: it measures the round trip.
                let first = std::mem::replace(&mut first_ping_due, false);
                ping_timer(&server, &shared, first);
            }
        }
    }
    shared.outbound.lock().in_flight = 0;
}

/// Sends a PING, or ends a connection whose PINGs have gone unanswered too long.
fn ping_timer(server: &ServerState, shared: &ClientShared, first: bool) {
    let options = server.options();
    let idle_ms = server
        .now_ms()
        .saturating_sub(shared.last_activity_ms.load(Ordering::Relaxed));
    let outstanding = shared.pings_outstanding.load(Ordering::Relaxed);
    if !first && u128::from(idle_ms) < options.ping_interval.as_millis() {
        // The client is clearly alive; nats-server delays its PING in that case too.
        debug!("{} - Delaying PING due to client activity", shared.label());
        return;
    }
    if outstanding + 1 > options.ping_max {
        debug!("{} - Stale Client Connection - Closing", shared.label());
        shared.send_now(|out| encode::write_err(out, errors::STALE_CONNECTION));
        shared.close(CloseReason::StaleConnection, true);
        return;
    }
    shared.pings_outstanding.fetch_add(1, Ordering::Relaxed);
    shared.note_ping_sent();
    shared.send_now(|out| out.extend_from_slice(encode::PING));
}
