//! The reader side of a client connection: CONNECT, SUB/UNSUB, PING/PONG and the read loop.

use super::auth::{self, ReaderAuth};
use super::transport::{Reader, Transport};
use super::websocket::{self, WebsocketListener};
use super::{handshake, writer, ClientIdentity, ClientShared, CloseReason};
use crate::account::{Account, GLOBAL_ACCOUNT};
use crate::info::ConnectOptions;
use crate::options::Options;
use crate::router::{remove_subscription, Router};
use crate::server::ServerState;
use crate::subscription::{Subscription, SubscriptionRef};
use crate::system::SystemEvent;
use bytes::{Buf, BytesMut};
use natrium_proto::{
    control_line, encode, errors, parse_op, ClientOp, ParserLimits, ProtocolError,
};
use natrium_subject::mapping::Mappings;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::net::TcpStream;
use tracing::{debug, error, trace};

/// The read buffer starts this small, so idle connections cost little.
const READ_BUFFER_BYTES_MIN: usize = 512;
/// The read buffer grows (while reads fill it) up to this size.
const READ_BUFFER_BYTES_MAX: usize = 64 * 1024;
/// The longest a producer waits, per read, for its backed-up consumers.
const PRODUCER_STALL_MAX: std::time::Duration = std::time::Duration::from_secs(1);

/// Reader-side state of one client connection.
pub(crate) struct Connection {
    pub(super) server: Arc<ServerState>,
    pub(super) shared: Arc<ClientShared>,
    pub(super) account: Arc<Account>,
    pub(super) label: Arc<str>,
    pub(super) router: Router,
    pub(super) connect: ConnectOptions,
    /// The server options as of the last read batch (reloads take effect between batches).
    pub(super) options: Arc<Options>,
    options_generation: u64,
    pub(super) limits: ParserLimits,
    pub(super) trace: bool,
    /// Counters accumulated over a read batch, published once at its end.
    pub(super) batch_in_msgs: u64,
    pub(super) batch_in_bytes: u64,
    /// Authentication and the publish gate (see `auth.rs`).
    pub(super) auth: ReaderAuth,
    /// The user name or nkey the client authenticated as, for `/connz`.
    pub(super) authed_user: String,
    /// The account's subject mappings as of the last read batch; `None` when it has none.
    pub(super) mappings: Option<Arc<Mappings>>,
    pub(super) mappings_generation: u64,
    /// Where a mapped subject is written, reused for every message.
    pub(super) mapped_subject: Vec<u8>,
    /// Subscriptions allowed: the smaller of the server's and the account's limit.
    pub(super) max_subscriptions: Option<usize>,
    /// Set at the first PING after CONNECT (see `send_info_after_first_pong`).
    pub(super) first_pong_sent: bool,
}

/// Serves one accepted socket until it closes.
pub(crate) async fn run_client(server: Arc<ServerState>, stream: TcpStream, peer: SocketAddr) {
    let _ = stream.set_nodelay(true);
    serve(server, Arc::new(stream), peer, None).await;
}

/// Serves one socket accepted by the websocket listener: the upgrade, then the same
/// connection as over TCP.
pub(crate) async fn run_websocket_client(
    server: Arc<ServerState>,
    listener: Arc<WebsocketListener>,
    stream: TcpStream,
    peer: SocketAddr,
) {
    let _ = stream.set_nodelay(true);
    let socket = Arc::new(stream);
    let max_payload = server.options().max_payload;
    if let Some(transport) = websocket::upgrade(&listener, &socket, peer, max_payload).await {
        serve(server, socket, peer, Some(transport)).await;
    }
}

/// Serves a client over `socket`; `upgraded` is a websocket, else INFO and (maybe) TLS
/// come first as the client port's options say.
async fn serve(
    server: Arc<ServerState>,
    socket: Arc<TcpStream>,
    peer: SocketAddr,
    upgraded: Option<Transport>,
) {
    let id = server.next_client_id.fetch_add(1, Ordering::Relaxed);
    let label = match &upgraded {
        Some(Transport::Websocket(ws)) => websocket::label(ws.forwarded_for, peer, id),
        _ => format!("{peer} - cid:{id}"),
    };
    let shared = Arc::new(ClientShared::new(
        id,
        peer,
        label.clone(),
        Some(Arc::clone(&socket)),
        Arc::clone(server.global_account()),
    ));
    if upgraded.is_some() {
        shared.websocket.store(true, Ordering::Relaxed);
    }
    debug!("{label} - Client connection created");

    let nonce = auth::new_nonce(&server.authenticator_for(&shared));
    let info = server.client_info_json(&shared, false, nonce.as_deref());
    shared.authz.lock().nonce = nonce;
    let options = server.options();
    // Registered before the handshake, so max_connections also bounds handshakes in progress.
    let admitted = server.register_client(&shared);
    let transport = match (&options.tls, upgraded) {
        (_, Some(mut upgraded)) => {
            if let Transport::Websocket(stream) = &mut upgraded {
                stream.set_writer(Arc::clone(&shared));
                shared.authz.lock().cookies = std::mem::take(&mut stream.cookies);
            }
            shared.send_now(|out| encode::write_info(out, &info));
            Ok(upgraded)
        }
        (Some(tls), None) if admitted => {
            handshake::establish_tls(&shared, &socket, tls, &info, options.write_deadline).await
        }
        _ => {
            shared.send_now(|out| encode::write_info(out, &info));
            shared.allow_direct_writes();
            Ok(Transport::Tcp(Arc::clone(&socket)))
        }
    };
    drop(options);
    let mut final_subscriptions = Vec::new();
    let reason = match transport {
        Err(reason) => {
            shared.close(reason, false);
            reason
        }
        Ok(transport) => {
            let (mut reader, writer) = transport.split();
            let writer = tokio::spawn(writer::write_loop(
                Arc::clone(&server),
                Arc::clone(&shared),
                writer,
            ));
            let reason = if admitted {
                let mut connection =
                    Connection::new(Arc::clone(&server), Arc::clone(&shared), label);
                let reason = connection.read_loop(&mut reader).await;
                final_subscriptions = connection.remove_all_subscriptions();
                connection.account.remove_connection();
                reason
            } else {
                error!("{label} - maximum connections exceeded");
                shared.send_now(|out| encode::write_err(out, errors::MAX_CONNECTIONS_EXCEEDED));
                CloseReason::MaxConnectionsExceeded
            };
            // A reason set elsewhere (slow consumer, stale connection) wins over what the
            // reader saw.
            shared.close(reason, true);
            let _ = writer.await;
            reason
        }
    };
    shared.release_socket();
    server.unregister_client(id);
    let reason = shared.close_reason().unwrap_or(reason);
    // Refused connections are remembered too, as nats-server does.
    let record = server
        .monitor
        .record_closed(&shared, reason, &final_subscriptions);
    if let Some(events) = server.system.get() {
        // Billing events: for clients that got into an account other than `$G`.
        let connected = shared.connect_received.load(Ordering::Acquire);
        if connected && record.account.as_ref() != GLOBAL_ACCOUNT {
            events.push(SystemEvent::Disconnect(record));
        }
    }
    debug!("{} - Client connection closed: {reason}", shared.label());
}

impl Connection {
    /// Tells the system account a client got into an account (not `$G`, whose clients
    /// nats-server does not announce).
    pub(super) fn announce_connect(&self) {
        let Some(events) = self.server.system.get() else {
            return;
        };
        if self.account.name != GLOBAL_ACCOUNT {
            let record = self.server.monitor.connection_record(&self.shared, false);
            events.push(SystemEvent::Connect(record));
        }
    }

    fn new(server: Arc<ServerState>, shared: Arc<ClientShared>, label: String) -> Self {
        let options_generation = server.options_generation();
        let options = server.options();
        let limits = ParserLimits {
            max_control_line: options.max_control_line,
            max_payload: options.max_payload,
            headers: false,
        };
        let trace = options.trace;
        let router = Router::new(server.seed_for(shared.id), Arc::clone(&shared));
        let auth = ReaderAuth::start(&server, &shared);
        // Every client starts in `$G`, which has no limits, as in nats-server.
        let account = Arc::clone(server.global_account());
        account.try_add_connection();
        // The generation is read before the table, so a replacement in between is seen again.
        let mappings_generation = account.mappings_generation();
        let mappings = account.mappings();
        let mut connection = Connection {
            account,
            server,
            shared,
            label: label.into(),
            router,
            connect: ConnectOptions::default(),
            options,
            options_generation,
            limits,
            trace,
            batch_in_msgs: 0,
            batch_in_bytes: 0,
            auth,
            authed_user: String::new(),
            mappings,
            mappings_generation,
            mapped_subject: Vec::new(),
            max_subscriptions: None,
            first_pong_sent: false,
        };
        connection.apply_account_limits();
        connection
    }

    async fn read_loop(&mut self, reader: &mut Reader) -> CloseReason {
        let mut buf = BytesMut::with_capacity(READ_BUFFER_BYTES_MIN);
        let mut read_size = READ_BUFFER_BYTES_MIN;
        loop {
            if buf.capacity() - buf.len() < read_size / 2 {
                buf.reserve(read_size);
            }
            let spare = buf.capacity() - buf.len();
            let n = match reader.read_buf(&mut buf).await {
                Ok(0) => return CloseReason::ClientClosed,
                Ok(n) => n,
                Err(e) => return reader.error_reason(&e),
            };
            // Grow while reads fill the buffer; shrink back when traffic is light.
            if n == spare && read_size < READ_BUFFER_BYTES_MAX {
                read_size *= 2;
            } else if n < read_size / 4 && read_size > READ_BUFFER_BYTES_MIN && buf.len() == n {
                read_size /= 2;
            }
            self.shared
                .last_activity_ms
                .store(self.server.now_ms(), Ordering::Relaxed);
            self.refresh_options();
            self.refresh_mappings();
            self.refresh_publish_check();
            let outcome = self.process_buffer(&buf);
            self.end_batch();
            if !self.router.stalled_on.is_empty() {
                self.stall_for_slow_consumers().await;
            }
            match outcome {
                Ok(consumed) => buf.advance(consumed),
                Err(reason) => return reason,
            }
            if self.shared.close_reason().is_some() {
                return CloseReason::ClientClosed;
            }
            if buf.is_empty() && buf.capacity() > READ_BUFFER_BYTES_MAX {
                buf = BytesMut::with_capacity(read_size);
            }
        }
    }

    /// Holds this (fast) producer back until the consumers it filled past half their
    /// `max_pending` drain, as nats-server does, so a consumer that is merely slower than
    /// the producer is not cut off. A consumer that stays stuck still hits its limit.
    async fn stall_for_slow_consumers(&mut self) {
        let deadline = tokio::time::Instant::now() + PRODUCER_STALL_MAX;
        for client in std::mem::take(&mut self.router.stalled_on) {
            let drained = client.drained.notified();
            if client.is_backed_up() && tokio::time::timeout_at(deadline, drained).await.is_err() {
                debug!("{} - Timed out of fast producer stall", self.label);
                return;
            }
        }
    }

    /// Picks up reloaded options: one atomic load per read batch when nothing changed.
    fn refresh_options(&mut self) {
        let generation = self.server.options_generation();
        if generation == self.options_generation {
            return;
        }
        self.options_generation = generation;
        self.options = self.server.options();
        self.limits.max_control_line = self.options.max_control_line;
        self.apply_account_limits();
        self.trace = self.options.trace;
    }

    /// Picks up replaced mappings (a reload): one atomic load per read batch otherwise.
    fn refresh_mappings(&mut self) {
        let generation = self.account.mappings_generation();
        if generation != self.mappings_generation {
            self.mappings_generation = generation;
            self.mappings = self.account.mappings();
        }
    }

    /// Handles every complete op in `buf`; returns how many bytes they used.
    fn process_buffer(&mut self, buf: &[u8]) -> Result<usize, CloseReason> {
        let mut consumed = 0;
        loop {
            match parse_op(&buf[consumed..], &self.limits) {
                Ok(Some((op, len))) => {
                    if self.trace {
                        self.trace_op(&op, &buf[consumed..consumed + len]);
                    }
                    self.process_op(op)?;
                    consumed += len;
                }
                Ok(None) => return Ok(consumed),
                Err(error) => return Err(self.protocol_error(error, &buf[consumed..])),
            }
        }
    }

    fn protocol_error(&mut self, error: ProtocolError, rest: &[u8]) -> CloseReason {
        let reason = match &error {
            ProtocolError::MaxPayloadExceeded { .. } => CloseReason::MaxPayloadExceeded,
            ProtocolError::MaxControlLineExceeded { .. } => CloseReason::MaxControlLineExceeded,
            _ => CloseReason::ProtocolViolation,
        };
        match &error {
            ProtocolError::UnknownOperation => {
                let snippet = &rest[..rest.len().min(32)];
                error!(
                    "{} - Client parser ERROR: proto='{}'...",
                    self.label,
                    String::from_utf8_lossy(snippet).escape_debug()
                );
            }
            other => error!("{} - {other}", self.label),
        }
        if let Some(message) = error.client_message() {
            self.send_err(message);
        }
        reason
    }

    fn process_op(&mut self, op: ClientOp<'_>) -> Result<(), CloseReason> {
        if !matches!(op, ClientOp::Connect(_)) {
            self.require_connect_first()?;
        }
        match op {
            ClientOp::Publish(publish) => {
                if self.connect.pedantic
                    && !natrium_subject::is_valid_literal_subject(publish.subject)
                {
                    // nats-server's parser complains (before any mapping) but still delivers.
                    self.send_err(errors::INVALID_PUBLISH_SUBJECT);
                }
                if self.mappings.is_some() {
                    self.process_mapped_publish(&publish);
                } else {
                    self.process_permitted_publish(&publish);
                }
            }
            ClientOp::Subscribe {
                subject,
                queue,
                sid,
            } => self.process_sub(subject, queue, sid),
            ClientOp::Unsubscribe { sid, max } => self.process_unsub(sid, max),
            ClientOp::Ping => {
                self.send(encode::PONG);
                self.send_info_after_first_pong();
            }
            ClientOp::Pong => {
                self.shared.pings_outstanding.store(0, Ordering::Relaxed);
                self.shared.note_pong();
            }
            ClientOp::Connect(json) => return self.process_connect(json),
            ClientOp::Info(json) => {
                if serde_json::from_slice::<serde_json::Value>(json).is_err() {
                    error!("{} - invalid INFO from client", self.label);
                    return Err(CloseReason::ProtocolViolation);
                }
            }
            ClientOp::Ok => {}
            ClientOp::Err(message) => {
                error!(
                    "{} - Client Error {}",
                    self.label,
                    String::from_utf8_lossy(message)
                );
                return Err(CloseReason::ParseError);
            }
        }
        Ok(())
    }

    fn process_connect(&mut self, json: &[u8]) -> Result<(), CloseReason> {
        // Keys the client leaves out keep their current values, as in nats-server.
        let mut merged = serde_json::to_value(&self.connect).unwrap_or_default();
        let update: serde_json::Map<String, serde_json::Value> = match serde_json::from_slice(json)
        {
            Ok(update) => update,
            Err(e) => {
                error!("{} - {e}", self.label);
                return Err(CloseReason::ProtocolViolation);
            }
        };
        if let Some(fields) = merged.as_object_mut() {
            // Go leaves a field untouched when the JSON says null; clients send nulls freely.
            fields.extend(update.into_iter().filter(|(_, value)| !value.is_null()));
        }
        let connect: ConnectOptions = match serde_json::from_value(merged) {
            Ok(connect) => connect,
            Err(e) => {
                error!("{} - {e}", self.label);
                return Err(CloseReason::ProtocolViolation);
            }
        };
        self.authenticate_connect(&connect)?;
        if !(0..=1).contains(&connect.protocol) {
            self.send_err(errors::INVALID_CLIENT_PROTOCOL);
            return Err(CloseReason::BadClientProtocolVersion);
        }
        let headers = connect.headers && self.options.headers;
        if connect.no_responders && !headers {
            self.send_err(errors::NO_RESPONDERS_REQUIRES_HEADERS);
            return Err(CloseReason::NoRespondersRequiresHeaders);
        }
        self.limits.headers = headers;
        self.shared.headers.store(headers, Ordering::Release);
        let name: Vec<String> = [
            (!connect.version.is_empty()).then(|| format!("v{}", connect.version)),
            (!connect.lang.is_empty()).then(|| connect.lang.clone()),
            (!connect.name.is_empty()).then(|| connect.name.clone()),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !name.is_empty() {
            let base = self
                .label
                .split(" - \"")
                .next()
                .unwrap_or_default()
                .to_string();
            let label = format!("{base} - \"{}\"", name.join(":"));
            self.shared.set_label(label.clone());
            self.label = label.into();
        }
        self.shared.set_identity(ClientIdentity {
            name: connect.name.clone(),
            lang: connect.lang.clone(),
            version: connect.version.clone(),
            user: self.authed_user.clone(),
        });
        self.shared.estimate_rtt_at_connect();
        self.shared
            .info_updates
            .store(connect.protocol >= 1, Ordering::Release);
        self.connect = connect;
        self.shared.connect_received.store(true, Ordering::Release);
        self.announce_connect();
        self.shared.wake_writer.notify_one();
        if self.connect.verbose {
            self.send(encode::OK);
        }
        Ok(())
    }

    fn process_sub(&mut self, subject: &[u8], queue: Option<&[u8]>, sid: &[u8]) {
        if !self.subscribe_permitted(subject, queue, sid) {
            return;
        }
        let mut subscriptions = self.shared.subscriptions.lock();
        if let Some(max) = self
            .max_subscriptions
            .filter(|&max| subscriptions.len() >= max)
        {
            subscriptions.retain(|_, sub| !sub.removed.load(Ordering::Acquire));
            if subscriptions.len() >= max {
                drop(subscriptions);
                error!("{} - maximum subscriptions exceeded", self.label);
                self.send_err(errors::MAX_SUBSCRIPTIONS_EXCEEDED);
                return;
            }
        }
        let duplicate = subscriptions
            .get(sid)
            .is_some_and(|existing| !existing.removed.load(Ordering::Acquire));
        if !duplicate {
            let sub = Subscription::create(Arc::clone(&self.shared), subject, queue, sid);
            if self
                .account
                .sublist
                .insert(subject, queue, sub.clone())
                .is_err()
            {
                drop(subscriptions);
                self.send_err(errors::INVALID_SUBJECT);
                return;
            }
            subscriptions.insert(sid.into(), sub);
        }
        drop(subscriptions);
        if self.connect.verbose {
            self.send(encode::OK);
        }
    }

    fn process_unsub(&mut self, sid: &[u8], max: Option<u64>) {
        if self.connect.verbose {
            self.send(encode::OK);
        }
        let Some(sub) = self.shared.subscriptions.lock().get(sid).cloned() else {
            return;
        };
        if let Some(max) = max {
            if max > sub.delivered.load(Ordering::Acquire) {
                sub.max_deliveries.store(max, Ordering::Release);
                return;
            }
        }
        self.shared.subscriptions.lock().remove(sid);
        remove_subscription(&self.account, &sub, self.trace);
    }

    /// Takes every subscription out of the sublist; returns those still live, which the
    /// closed-connection record keeps.
    fn remove_all_subscriptions(&mut self) -> Vec<SubscriptionRef> {
        let live: Vec<SubscriptionRef> = self
            .shared
            .subscriptions
            .lock()
            .drain()
            .map(|(_, sub)| sub)
            .filter(|sub| !sub.removed.swap(true, Ordering::AcqRel))
            .collect();
        self.account.sublist.remove_batch(
            live.iter()
                .map(|sub| (&*sub.subject, sub.queue.as_deref(), sub)),
        );
        live
    }

    /// Queues protocol bytes to this client itself.
    pub(super) fn send(&mut self, bytes: &[u8]) {
        self.send_with(|out| out.extend_from_slice(bytes));
    }

    pub(super) fn send_err(&mut self, message: &str) {
        if self.trace {
            trace!("{} - ->> [-ERR {message}]", self.label);
        }
        self.send_with(|out| encode::write_err(out, message));
    }

    /// Queues what `write` produces to this client, to be flushed at the end of the batch.
    pub(super) fn send_with(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        self.router.send_to(&self.shared, write);
    }

    /// Wakes every writer given data in this batch and publishes the batch's counters.
    fn end_batch(&mut self) {
        self.router.flush();
        let stats = &self.server.stats;
        if self.batch_in_msgs > 0 {
            stats
                .in_msgs
                .fetch_add(self.batch_in_msgs, Ordering::Relaxed);
            stats
                .in_bytes
                .fetch_add(self.batch_in_bytes, Ordering::Relaxed);
            let account = &self.account.stats;
            account
                .in_msgs
                .fetch_add(self.batch_in_msgs, Ordering::Relaxed);
            account
                .in_bytes
                .fetch_add(self.batch_in_bytes, Ordering::Relaxed);
            self.shared
                .in_msgs
                .fetch_add(self.batch_in_msgs, Ordering::Relaxed);
            self.shared
                .in_bytes
                .fetch_add(self.batch_in_bytes, Ordering::Relaxed);
            self.batch_in_msgs = 0;
            self.batch_in_bytes = 0;
        }
        // Deliveries stay within the publisher's account (no imports yet).
        self.router.publish_out_stats(stats, &self.account);
    }

    fn trace_op(&self, op: &ClientOp<'_>, raw: &[u8]) {
        if let ClientOp::Connect(json) = op {
            trace!("{} - <<- [CONNECT {}]", self.label, redact_secrets(json));
            return;
        }
        let line = String::from_utf8_lossy(control_line(raw));
        trace!("{} - <<- [{line}]", self.label);
        if let ClientOp::Publish(publish) = op {
            trace!(
                "{} - <<- MSG_PAYLOAD: [{:?}]",
                self.label,
                String::from_utf8_lossy(publish.message)
            );
        }
    }
}

/// The CONNECT JSON with passwords and tokens replaced, so secrets never reach a log.
fn redact_secrets(json: &[u8]) -> String {
    match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(json) {
        Ok(mut fields) => {
            for key in ["pass", "auth_token"] {
                if let Some(value) = fields.get_mut(key) {
                    if !value.is_null() {
                        *value = serde_json::Value::from("[REDACTED]");
                    }
                }
            }
            serde_json::Value::Object(fields).to_string()
        }
        Err(_) => "[unparsable CONNECT]".to_string(),
    }
}
