//! The ceiling a client sets on synchronous JetStream publishing, for BENCHMARKS.md (issue 8).
//!
//! `cargo run --release -p natrium --example zero_work_jetstream -- [PORT]` (default 14998)
//! listens on 127.0.0.1 and answers every request at once without storing anything: a
//! PubAck for a publish, a canned stream info for `STREAM.CREATE`/`INFO`, "not found" for
//! `STREAM.DELETE`. natsbench's `-s jspub -mode sync` against it measures what the client and
//! the loopback round trip alone allow, which no real server can beat. Not a test double:
//! nothing in the test suite uses it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

const INFO: &[u8] = b"INFO {\"server_id\":\"ZERO\",\"server_name\":\"zero\",\"version\":\"2.9.10\",\"proto\":1,\"headers\":true,\"max_payload\":1048576,\"jetstream\":true}\r\n";

fn main() -> std::io::Result<()> {
    let port = std::env::args()
        .nth(1)
        .filter(|arg| arg.parse::<u16>().is_ok())
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
    let mut pending = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let mut out = Vec::new();
    let mut inbox_sid = String::from("1");
    let mut stored = 0u64;
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
                "PING" => out.extend_from_slice(b"PONG\r\n"),
                // The client's one wildcard reply subscription (nats.go's response mux).
                "SUB" => inbox_sid = fields[fields.len() - 1].to_string(),
                op @ ("PUB" | "HPUB") => {
                    let size: usize = fields[fields.len() - 1].parse().unwrap_or(0);
                    if pending.len() < next + size + 2 {
                        break;
                    }
                    next += size + 2;
                    let with_reply = fields.len() == if op == "PUB" { 4 } else { 5 };
                    if with_reply {
                        let body = answer(fields[1], &mut stored);
                        let reply = fields[2];
                        let head = format!("MSG {reply} {inbox_sid} {}\r\n", body.len());
                        out.extend_from_slice(head.as_bytes());
                        out.extend_from_slice(body.as_bytes());
                        out.extend_from_slice(b"\r\n");
                    }
                }
                _ => {}
            }
            at = next;
        }
        pending.drain(..at);
        if !out.is_empty() {
            socket.write_all(&out)?;
            out.clear();
        }
    }
}

/// The answer to a request on `subject`.
fn answer(subject: &str, stored: &mut u64) -> String {
    if subject.starts_with("$JS.API.STREAM.DELETE.") {
        return r#"{"type":"io.nats.jetstream.api.v1.stream_delete_response","error":{"code":404,"err_code":10059,"description":"stream not found"}}"#.to_string();
    }
    if subject.starts_with("$JS.API.STREAM.") {
        let name = subject.rsplit('.').next().unwrap_or("S");
        let count = *stored;
        return format!(
            r#"{{"type":"io.nats.jetstream.api.v1.stream_info_response","config":{{"name":"{name}","subjects":["x"],"retention":"limits","max_consumers":-1,"max_msgs":-1,"max_bytes":-1,"max_age":0,"max_msg_size":-1,"storage":"memory","discard":"old","num_replicas":1,"duplicate_window":120000000000}},"created":"2026-01-01T00:00:00Z","state":{{"messages":{count},"bytes":0,"first_seq":1,"first_ts":"2026-01-01T00:00:00Z","last_seq":{count},"last_ts":"2026-01-01T00:00:00Z","consumer_count":0}}}}"#
        );
    }
    *stored += 1;
    format!(r#"{{"stream":"S", "seq":{stored}}}"#)
}
