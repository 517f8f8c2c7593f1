//! The client protocol parser: one complete op at a time from a byte buffer.
//!
//! The caller keeps unconsumed bytes and calls again when more arrive, so an op split
//! across reads at any byte parses exactly as if it had arrived whole. Ops borrow
//! their subjects and payloads from the caller's buffer: nothing is copied.

use crate::errors::ProtocolError;

/// Limits the parser enforces while framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParserLimits {
    /// Longest control line (the arguments after the verb), in bytes.
    pub max_control_line: usize,
    /// Largest PUB/HPUB message (headers included), in bytes; 0 means no limit.
    pub max_payload: usize,
    /// Whether the client announced header support (HPUB allowed).
    pub headers: bool,
}

impl Default for ParserLimits {
    fn default() -> Self {
        ParserLimits {
            max_control_line: 4096,
            max_payload: 1024 * 1024,
            headers: true,
        }
    }
}

/// A message a client publishes, with or without headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Publish<'a> {
    /// The subject published to.
    pub subject: &'a [u8],
    /// The reply subject, if any.
    pub reply: Option<&'a [u8]>,
    /// For HPUB, how many leading bytes of `message` are the header block.
    pub header_len: Option<usize>,
    /// The header block (HPUB only) followed by the payload.
    pub message: &'a [u8],
    /// The size argument as sent; nats-server echoes it verbatim in MSG and HMSG.
    pub size_token: &'a [u8],
    /// The header size argument as sent (HPUB only).
    pub header_token: &'a [u8],
}

impl<'a> Publish<'a> {
    /// The payload after any header block.
    pub fn payload(&self) -> &'a [u8] {
        &self.message[self.header_len.unwrap_or(0)..]
    }

    /// The header block, for HPUB.
    pub fn headers(&self) -> Option<&'a [u8]> {
        self.header_len.map(|len| &self.message[..len])
    }
}

/// One operation sent by a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientOp<'a> {
    /// `CONNECT {json}`: the client's options.
    Connect(&'a [u8]),
    /// `PUB` or `HPUB`.
    Publish(Publish<'a>),
    /// `SUB <subject> [queue] <sid>`.
    Subscribe {
        /// The subscription filter.
        subject: &'a [u8],
        /// The queue group, if any.
        queue: Option<&'a [u8]>,
        /// The client's subscription id.
        sid: &'a [u8],
    },
    /// `UNSUB <sid> [max]`.
    Unsubscribe {
        /// The client's subscription id.
        sid: &'a [u8],
        /// Deliver this many in total and then unsubscribe; `None` (or an unparsable
        /// number, as in nats-server) unsubscribes at once.
        max: Option<u64>,
    },
    /// `PING`.
    Ping,
    /// `PONG`.
    Pong,
    /// `INFO {json}` (clients may send it; the server ignores it).
    Info(&'a [u8]),
    /// `+OK`.
    Ok,
    /// `-ERR <message>`.
    Err(&'a [u8]),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Verb {
    Connect,
    Pub,
    HPub,
    Sub,
    Unsub,
    Ping,
    Pong,
    Info,
    Ok,
    Err,
}

/// Each verb, and whether a space or tab must follow it (verbs with arguments).
const VERBS: [(&[u8], Verb, bool); 10] = [
    (b"CONNECT", Verb::Connect, true),
    (b"PUB", Verb::Pub, true),
    (b"HPUB", Verb::HPub, true),
    (b"SUB", Verb::Sub, true),
    (b"UNSUB", Verb::Unsub, true),
    (b"PING", Verb::Ping, false),
    (b"PONG", Verb::Pong, false),
    (b"INFO", Verb::Info, true),
    (b"+OK", Verb::Ok, false),
    (b"-ERR", Verb::Err, true),
];

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Finds the verb at the start of `buf`: `Ok(None)` if more bytes are needed to decide.
fn match_verb(buf: &[u8]) -> Result<Option<(Verb, usize)>, ProtocolError> {
    let mut undecided = false;
    for &(name, verb, needs_blank) in &VERBS {
        let available = buf.len().min(name.len());
        if !buf[..available].eq_ignore_ascii_case(&name[..available]) {
            continue;
        }
        if buf.len() < name.len() + usize::from(needs_blank) {
            undecided = true;
            continue;
        }
        if needs_blank && !is_blank(buf[name.len()]) {
            continue;
        }
        return Ok(Some((verb, name.len())));
    }
    if undecided {
        Ok(None)
    } else {
        Err(ProtocolError::UnknownOperation)
    }
}

/// Most digits nats-server accepts in a size.
const MAX_SIZE_DIGITS: usize = 9;

/// Parses nats-server's size syntax: 1 to 9 ASCII digits, no sign.
fn parse_size(digits: &[u8]) -> Option<usize> {
    if digits.is_empty() || digits.len() > MAX_SIZE_DIGITS {
        return None;
    }
    let mut value: usize = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10 + usize::from(b - b'0');
    }
    Some(value)
}

/// Splits arguments on spaces and tabs into at most `N` slots; `None` if there are more.
fn split_args<const N: usize>(arg: &[u8]) -> Option<([&[u8]; N], usize)> {
    let mut args: [&[u8]; N] = [&[]; N];
    let mut count = 0;
    for part in arg.split(|&b| is_blank(b)).filter(|part| !part.is_empty()) {
        if count == N {
            return None;
        }
        args[count] = part;
        count += 1;
    }
    Some((args, count))
}

/// Returns the first line of `buf` without its line ending, for protocol tracing.
pub fn control_line(buf: &[u8]) -> &[u8] {
    let end = memchr::memchr(b'\n', buf).unwrap_or(buf.len());
    let line = &buf[..end];
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Parses one op from the front of `buf`.
///
/// Returns `Ok(None)` when `buf` holds only part of an op, or
/// `Ok(Some((op, consumed)))` where `consumed` bytes make up the op.
pub fn parse_op<'a>(
    buf: &'a [u8],
    limits: &ParserLimits,
) -> Result<Option<(ClientOp<'a>, usize)>, ProtocolError> {
    if buf.is_empty() {
        return Ok(None);
    }
    let Some((verb, verb_len)) = match_verb(buf)? else {
        return Ok(None);
    };
    if verb == Verb::HPub && !limits.headers {
        return Err(ProtocolError::HeadersNotSupported);
    }
    let arg_start = verb_len + buf[verb_len..].iter().take_while(|&&b| is_blank(b)).count();
    let Some(newline) = memchr::memchr(b'\n', &buf[arg_start..]).map(|i| arg_start + i) else {
        // A trailing CR may be the start of the line end, which does not count.
        let partial = &buf[arg_start..];
        let length = partial.strip_suffix(b"\r").unwrap_or(partial).len();
        if length > limits.max_control_line {
            return Err(ProtocolError::MaxControlLineExceeded {
                length,
                max: limits.max_control_line,
            });
        }
        return Ok(None);
    };
    let arg_end = if newline > arg_start && buf[newline - 1] == b'\r' {
        newline - 1
    } else {
        newline
    };
    let arg = &buf[arg_start..arg_end.max(arg_start)];
    if arg.len() > limits.max_control_line {
        return Err(ProtocolError::MaxControlLineExceeded {
            length: arg.len(),
            max: limits.max_control_line,
        });
    }
    let line_len = newline + 1;
    let op = match verb {
        Verb::Connect => ClientOp::Connect(arg),
        Verb::Info => ClientOp::Info(arg),
        Verb::Err => ClientOp::Err(arg),
        Verb::Ping => ClientOp::Ping,
        Verb::Pong => ClientOp::Pong,
        Verb::Ok => ClientOp::Ok,
        Verb::Sub => parse_sub(arg)?,
        Verb::Unsub => parse_unsub(arg)?,
        Verb::Pub | Verb::HPub => return parse_publish(buf, arg, line_len, verb, limits),
    };
    Ok(Some((op, line_len)))
}

fn parse_sub(arg: &[u8]) -> Result<ClientOp<'_>, ProtocolError> {
    let bad = || bad_arguments("processSub Parse Error", arg);
    match split_args::<3>(arg).ok_or_else(bad)? {
        ([subject, sid, _], 2) => Ok(ClientOp::Subscribe {
            subject,
            queue: None,
            sid,
        }),
        ([subject, queue, sid], 3) => Ok(ClientOp::Subscribe {
            subject,
            queue: Some(queue),
            sid,
        }),
        _ => Err(bad()),
    }
}

fn bad_arguments(context: &'static str, arg: &[u8]) -> ProtocolError {
    ProtocolError::BadArguments {
        context,
        arg: String::from_utf8_lossy(arg).into_owned(),
    }
}

fn parse_unsub(arg: &[u8]) -> Result<ClientOp<'_>, ProtocolError> {
    let bad = || bad_arguments("processUnsub Parse Error", arg);
    match split_args::<2>(arg).ok_or_else(bad)? {
        ([sid, _], 1) => Ok(ClientOp::Unsubscribe { sid, max: None }),
        ([sid, max], 2) => Ok(ClientOp::Unsubscribe {
            sid,
            max: parse_size(max).map(|n| n as u64),
        }),
        _ => Err(bad()),
    }
}

fn parse_publish<'a>(
    buf: &'a [u8],
    arg: &'a [u8],
    line_len: usize,
    verb: Verb,
    limits: &ParserLimits,
) -> Result<Option<(ClientOp<'a>, usize)>, ProtocolError> {
    let is_hpub = verb == Verb::HPub;
    // HPUB has one more argument than PUB: the header size before the total size.
    let counts = if is_hpub { (3, 4) } else { (2, 3) };
    let bad = |context: &'static str| bad_arguments(context, arg);
    let parse_error = if is_hpub {
        "processHeaderPub Parse Error"
    } else {
        "processPub Parse Error"
    };
    let (args, count) = split_args::<4>(arg).ok_or_else(|| bad(parse_error))?;
    let with_reply = if count == counts.0 {
        false
    } else if count == counts.1 {
        true
    } else {
        return Err(bad(parse_error));
    };
    let subject = args[0];
    let reply = with_reply.then_some(args[1]);
    let size_token = args[count - 1];
    let header_token: &[u8] = if is_hpub { args[count - 2] } else { &[] };
    let header_len = if is_hpub {
        Some(
            parse_size(header_token)
                .ok_or_else(|| bad("processHeaderPub Bad or Missing Header Size"))?,
        )
    } else {
        None
    };
    let size = parse_size(size_token).ok_or_else(|| {
        bad(if is_hpub {
            "processHeaderPub Bad or Missing Total Size"
        } else {
            "processPub Bad or Missing Size"
        })
    })?;
    if header_len.is_some_and(|len| len > size) {
        return Err(bad("processHeaderPub Header Size larger then TotalSize"));
    }
    if limits.max_payload > 0 && size > limits.max_payload {
        return Err(ProtocolError::MaxPayloadExceeded {
            size,
            max: limits.max_payload,
        });
    }
    let message_end = line_len + size;
    if buf.len() < message_end + 2 {
        return Ok(None);
    }
    if &buf[message_end..message_end + 2] != b"\r\n" {
        return Err(ProtocolError::UnknownOperation);
    }
    let publish = Publish {
        subject,
        reply,
        header_len,
        message: &buf[line_len..message_end],
        size_token,
        header_token,
    };
    Ok(Some((ClientOp::Publish(publish), message_end + 2)))
}

#[cfg(test)]
mod tests;
