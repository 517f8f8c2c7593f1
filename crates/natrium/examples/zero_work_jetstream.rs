//! The ceiling a client sets on synchronous JetStream publishing, for BENCHMARKS.md (issue 8).
//!
//! `cargo run --release -p natrium --example zero_work_jetstream -- [PORT | -p PORT ...]`
//! (default 14998) listens on 127.0.0.1 and answers every request at once without storing anything: a
//! PubAck for a publish, a canned stream info for `STREAM.CREATE`/`INFO` (natsbench's
//! `BENCHCON_<n>_...` streams claim their `n` messages), "not found" for `STREAM.DELETE` and
//! `CONSUMER.INFO`, a canned consumer for `CONSUMER.*CREATE`, and as many made-up messages as
//! a pull request asks for. A consumer created with a `deliver_subject` (push) gets the claimed
//! messages from a thread of their own, as fast as the socket takes them, paced only by flow
//! control the way nats-server paces it (a window of 2 MiB doubling to 32 MiB per answered
//! request, a request once half the window is out; `ZW_LIMIT` sets another largest window
//! and `ZW_WRITE` another write size, in bytes). natsbench's `-s jspub -mode sync` and
//! `-s jsconsume -mode pull|push` against it measure what the client and the loopback alone
//! allow, which no real server can beat. Not a test double: nothing in the test suite uses it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};

const INFO: &[u8] = b"INFO {\"server_id\":\"ZERO\",\"server_name\":\"zero\",\"version\":\"2.9.10\",\"proto\":1,\"headers\":true,\"max_payload\":1048576,\"jetstream\":true}\r\n";

fn main() -> std::io::Result<()> {
    // A bare port, or `-p PORT` among nats-server's flags (the rest are ignored), so that
    // `../shared/bench/compare.sh` can start it as a candidate.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port = args
        .iter()
        .position(|arg| arg == "-p")
        .and_then(|at| args.get(at + 1))
        .or_else(|| args.first())
        .filter(|arg| arg.parse::<u16>().is_ok())
        .cloned()
        .unwrap_or_else(|| "14998".to_string());
    let listener = TcpListener::bind(format!("127.0.0.1:{port}"))?;
    for stream in listener.incoming() {
        let stream = stream?;
        std::thread::spawn(move || serve(stream));
    }
    Ok(())
}

/// One connection, one blocking thread: the cheapest wake-up a server can have.
fn serve(mut socket: TcpStream) -> std::io::Result<()> {
    socket.set_nodelay(true)?;
    socket.write_all(INFO)?;
    let writer = Arc::new(Mutex::new(socket.try_clone()?));
    let flow = Arc::new(Flow::default());
    let mut pending = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let mut session = Session::default();
    loop {
        let read = socket.read(&mut chunk)?;
        if read == 0 {
            return Ok(());
        }
        pending.extend_from_slice(&chunk[..read]);
        let mut at = 0;
        while let Some(end) = pending[at..].windows(2).position(|w| w == b"\r\n") {
            let line = String::from_utf8_lossy(&pending[at..at + end]).into_owned();
            let fields: Vec<&str> = line.split(' ').collect();
            let mut next = at + end + 2;
            match fields[0].to_ascii_uppercase().as_str() {
                "PING" => session.out.extend_from_slice(b"PONG\r\n"),
                "SUB" => {
                    let sid = fields[fields.len() - 1].to_string();
                    session.subscriptions.push((fields[1].to_string(), sid));
                }
                op @ ("PUB" | "HPUB") => {
                    let size: usize = fields[fields.len() - 1].parse().unwrap_or(0);
                    if pending.len() < next + size + 2 {
                        break;
                    }
                    let body = String::from_utf8_lossy(&pending[next..next + size]).into_owned();
                    next += size + 2;
                    if fields.len() == if op == "PUB" { 4 } else { 5 } {
                        session.request(fields[1], fields[2], &body);
                    } else if fields[1].starts_with("$JS.FC.") {
                        flow.answered(fields[1]);
                    }
                }
                _ => {}
            }
            at = next;
        }
        pending.drain(..at);
        if !session.out.is_empty() {
            writer.lock().unwrap().write_all(&session.out)?;
            session.out.clear();
        }
        if let Some(push) = session.push.take() {
            let (writer, flow) = (Arc::clone(&writer), Arc::clone(&flow));
            std::thread::spawn(move || push.run(&writer, &flow));
        }
    }
}

/// Flow control between the pushing thread and the reading one.
#[derive(Default)]
struct Flow {
    /// The subject of the unanswered request, if one is out.
    outstanding: Mutex<Option<String>>,
    answered: Condvar,
}

impl Flow {
    /// The client answered the request on `subject`.
    fn answered(&self, subject: &str) {
        let mut outstanding = self.outstanding.lock().unwrap();
        if outstanding.as_deref() == Some(subject) {
            *outstanding = None;
            self.answered.notify_one();
        }
    }
}

/// A push consumer's deliveries, made up.
struct Push {
    deliver: String,
    sid: String,
    stream: String,
    consumer: String,
    count: u64,
}

impl Push {
    /// Sends `count` messages in writes of about 32 KiB, requesting flow control as nats-server
    /// does and waiting for the answer once a whole window is out.
    fn run(self, writer: &Mutex<TcpStream>, flow: &Flow) -> std::io::Result<()> {
        let knob = |name: &str, default: i64| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        };
        let limit = knob("ZW_LIMIT", 32 * 1024 * 1024);
        let write_bytes = knob("ZW_WRITE", 32 * 1024) as usize;
        let (mut window, mut pending, mut covered) = (limit / 16, 0i64, 0i64);
        let payload = [b'x'; 128];
        let mut out = Vec::with_capacity(64 * 1024);
        let mut requests = 0u64;
        for seq in 1..=self.count {
            let head = format!(
                "MSG {} {} $JS.ACK.{}.{}.1.{seq}.{seq}.1764165000000000000.{} {}\r\n",
                self.deliver,
                self.sid,
                self.stream,
                self.consumer,
                self.count - seq,
                payload.len()
            );
            out.extend_from_slice(head.as_bytes());
            out.extend_from_slice(&payload);
            out.extend_from_slice(b"\r\n");
            pending += (self.deliver.len() + head.len() + payload.len()) as i64;
            let mut outstanding = flow.outstanding.lock().unwrap();
            if outstanding.is_none() && covered > 0 {
                // The last request was answered: the window grows and its bytes are settled.
                window = (window * 2).min(limit);
                pending -= covered;
                covered = 0;
            }
            if outstanding.is_none() && pending > window / 2 {
                requests += 1;
                let subject = format!("$JS.FC.{}.{}.{requests}", self.stream, self.consumer);
                let status = "NATS/1.0 100 FlowControl Request\r\n\r\n";
                out.extend_from_slice(
                    format!(
                        "HMSG {} {} {subject} {} {}\r\n{status}\r\n",
                        self.deliver,
                        self.sid,
                        status.len(),
                        status.len()
                    )
                    .as_bytes(),
                );
                *outstanding = Some(subject);
                covered = pending;
            }
            let stalled = outstanding.is_some() && pending >= window;
            drop(outstanding);
            if out.len() >= write_bytes || stalled || seq == self.count {
                writer.lock().unwrap().write_all(&out)?;
                out.clear();
            }
            if stalled {
                let outstanding = flow.outstanding.lock().unwrap();
                drop(
                    flow.answered
                        .wait_while(outstanding, |o| o.is_some())
                        .unwrap(),
                );
            }
        }
        Ok(())
    }
}

/// natsbench's consume streams are named `BENCHCON_<n>_<size>_<storage>`: they claim `n`.
fn claimed_messages(stream: &str) -> Option<u64> {
    let rest = stream.strip_prefix("BENCHCON_")?;
    rest.split('_').next()?.parse().ok()
}

/// What one connection has said and is owed.
#[derive(Default)]
struct Session {
    /// (subject, sid) of every SUB: the response mux's `_INBOX.x.*` and pull inboxes.
    subscriptions: Vec<(String, String)>,
    /// Publishes answered so far: the next PubAck's sequence.
    stored: u64,
    /// Messages made up for pull requests so far: their sequences.
    delivered: u64,
    out: Vec<u8>,
    /// A push consumer just created, to start once its create response is out.
    push: Option<Push>,
}

impl Session {
    /// Answers a request on `subject` to `reply`.
    fn request(&mut self, subject: &str, reply: &str, body: &str) {
        if let Some(target) = subject.strip_prefix("$JS.API.CONSUMER.MSG.NEXT.") {
            let batch = body
                .split("\"batch\":")
                .nth(1)
                .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|digits| digits.parse::<u64>().ok())
                .unwrap_or(1);
            let payload = vec![b'x'; 128];
            for _ in 0..batch {
                self.delivered += 1;
                let seq = self.delivered;
                let ack = format!("$JS.ACK.{target}.1.{seq}.{seq}.1764165000000000000.0");
                self.send(reply, Some(&ack), &payload);
            }
            return;
        }
        let answer = self.answer(subject);
        self.send(reply, None, answer.as_bytes());
        if let Some(stream) = subject.strip_prefix("$JS.API.CONSUMER.CREATE.") {
            let deliver = body
                .split("\"deliver_subject\":\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next());
            if let (Some(deliver), Some(count)) = (deliver, claimed_messages(stream)) {
                let sid = self.sid_for(deliver).to_string();
                self.push = Some(Push {
                    deliver: deliver.to_string(),
                    sid,
                    stream: stream.to_string(),
                    consumer: "EPH".to_string(),
                    count,
                });
            }
        }
    }

    fn answer(&mut self, subject: &str) -> String {
        let not_found = |kind: &str, code: u32, text: &str| {
            format!(
                r#"{{"type":"io.nats.jetstream.api.v1.{kind}","error":{{"code":404,"err_code":{code},"description":"{text}"}}}}"#
            )
        };
        if subject.starts_with("$JS.API.STREAM.DELETE.") {
            return not_found("stream_delete_response", 10059, "stream not found");
        }
        if subject.starts_with("$JS.API.CONSUMER.INFO.") {
            return not_found("consumer_info_response", 10014, "consumer not found");
        }
        if subject.starts_with("$JS.API.CONSUMER.DELETE.") {
            return r#"{"type":"io.nats.jetstream.api.v1.consumer_delete_response","success":true}"#.to_string();
        }
        if subject.starts_with("$JS.API.CONSUMER.") {
            let mut tokens = subject.rsplit('.');
            let (durable, stream) = match subject.strip_prefix("$JS.API.CONSUMER.CREATE.") {
                Some(stream) if !stream.contains('.') => ("EPH", stream),
                _ => (tokens.next().unwrap_or("C"), tokens.next().unwrap_or("S")),
            };
            return format!(
                r#"{{"type":"io.nats.jetstream.api.v1.consumer_create_response","stream_name":"{stream}","name":"{durable}","created":"2026-01-01T00:00:00Z","config":{{"durable_name":"{durable}","deliver_policy":"all","ack_policy":"none","ack_wait":30000000000,"max_deliver":-1,"replay_policy":"instant","max_waiting":512,"max_ack_pending":20000}},"delivered":{{"consumer_seq":0,"stream_seq":0}},"ack_floor":{{"consumer_seq":0,"stream_seq":0}},"num_ack_pending":0,"num_redelivered":0,"num_waiting":0,"num_pending":0}}"#
            );
        }
        if subject.starts_with("$JS.API.STREAM.") {
            let name = subject.rsplit('.').next().unwrap_or("S");
            let count = claimed_messages(name).unwrap_or(self.stored);
            return format!(
                r#"{{"type":"io.nats.jetstream.api.v1.stream_info_response","config":{{"name":"{name}","subjects":["x"],"retention":"limits","max_consumers":-1,"max_msgs":-1,"max_bytes":-1,"max_age":0,"max_msg_size":-1,"storage":"file","discard":"old","num_replicas":1,"duplicate_window":120000000000}},"created":"2026-01-01T00:00:00Z","state":{{"messages":{count},"bytes":0,"first_seq":1,"first_ts":"2026-01-01T00:00:00Z","last_seq":{count},"last_ts":"2026-01-01T00:00:00Z","consumer_count":0}}}}"#
            );
        }
        self.stored += 1;
        format!(r#"{{"stream":"S", "seq":{}}}"#, self.stored)
    }

    /// The sid of the subscription that takes `subject`.
    fn sid_for(&self, subject: &str) -> &str {
        self.subscriptions
            .iter()
            .rev()
            .find(|(filter, _)| {
                filter == subject
                    || filter
                        .strip_suffix('*')
                        .is_some_and(|prefix| subject.starts_with(prefix))
            })
            .map_or("1", |(_, sid)| sid.as_str())
    }

    /// Queues a MSG to `subject` for the subscription that takes it.
    fn send(&mut self, subject: &str, reply: Option<&str>, payload: &[u8]) {
        let sid = self.sid_for(subject);
        let head = match reply {
            Some(reply) => format!("MSG {subject} {sid} {reply} {}\r\n", payload.len()),
            None => format!("MSG {subject} {sid} {}\r\n", payload.len()),
        };
        self.out.extend_from_slice(head.as_bytes());
        self.out.extend_from_slice(payload);
        self.out.extend_from_slice(b"\r\n");
    }
}
