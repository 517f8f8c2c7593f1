//! The HTTP/1.1 upgrade (RFC 6455 4.2) with nats-server's checks, order, statuses and texts
//! (`wsUpgrade`, `checkOrigin`), and the responses it writes.

use base64::Engine;

/// The longest upgrade request read; a longer one is refused with 431 (Go's limit is
/// 1 MB, but no honest upgrade comes near this).
pub const REQUEST_BYTES_MAX: usize = 16 * 1024;
/// Headers beyond this count are refused, as malformed.
const HEADERS_MAX: usize = 64;
/// RFC 6455 1.3: concatenated with the client's key to prove the upgrade was understood.
const ACCEPT_GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// An upgrade refused: the HTTP status to answer with and nats-server's reason for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeError {
    /// The HTTP status.
    pub status: u16,
    /// The reason, logged as `websocket handshake error: <reason>`.
    pub reason: String,
}

impl HandshakeError {
    fn new(status: u16, reason: impl Into<String>) -> HandshakeError {
        HandshakeError {
            status,
            reason: reason.into(),
        }
    }
}

/// An HTTP request, as far as the upgrade needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `GET`, hopefully.
    pub method: String,
    /// The request target.
    pub path: String,
    /// Header names and values in arrival order (values lossily decoded).
    pub headers: Vec<(String, String)>,
}

impl Request {
    /// Every value of header `name` (case-insensitive).
    pub fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The first value of header `name`, or "" (Go's `Header.Get`).
    pub fn get<'a>(&'a self, name: &'a str) -> &'a str {
        self.values(name).next().unwrap_or("")
    }

    /// Whether header `name` holds `token` in one of its comma-separated lists
    /// (nats-server's `wsHeaderContains`).
    pub fn contains_token(&self, name: &str, token: &str) -> bool {
        self.values(name)
            .flat_map(|value| value.split(','))
            .any(|item| item.trim_matches([' ', '\t']).eq_ignore_ascii_case(token))
    }

    /// The value of cookie `name`, if the request carries it (the last one, as nats-server
    /// keeps the last of Go's `Request.Cookies`).
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.values("Cookie")
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .filter(|(key, _)| *key == name)
            .last()
            .map(|(_, value)| value.trim_matches('"'))
    }
}

/// Reads a request from the start of `buf`: `Ok(None)` until its headers are complete,
/// then the request and how many bytes it took.
pub fn parse_request(buf: &[u8]) -> Result<Option<(Request, usize)>, HandshakeError> {
    let mut headers = [httparse::EMPTY_HEADER; HEADERS_MAX];
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(buf) {
        Ok(httparse::Status::Complete(length)) => {
            let parsed = Request {
                method: request.method.unwrap_or_default().to_string(),
                path: request.path.unwrap_or_default().to_string(),
                headers: request
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_string(),
                            String::from_utf8_lossy(h.value).into_owned(),
                        )
                    })
                    .collect(),
            };
            Ok(Some((parsed, length)))
        }
        Ok(httparse::Status::Partial) if buf.len() >= REQUEST_BYTES_MAX => {
            Err(HandshakeError::new(431, "request headers too large"))
        }
        Ok(httparse::Status::Partial) => Ok(None),
        Err(e) => Err(HandshakeError::new(400, format!("malformed request: {e}"))),
    }
}

/// A host (lower-case) and port, with the scheme's default port filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
struct HostPort {
    host: String,
    port: String,
}

/// nats-server's `wsGetHostAndPort`: `host[:port]`, the port defaulting by scheme.
fn host_and_port(tls: bool, text: &str) -> Result<HostPort, String> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("address {text}: missing ']' in address"))?;
        match after.strip_prefix(':') {
            Some(port) => (host, Some(port)),
            None if after.is_empty() => (host, None),
            None => return Err(format!("address {text}: unexpected text after ']'")),
        }
    } else {
        match text.matches(':').count() {
            0 => (text, None),
            1 => {
                let (host, port) = text.split_once(':').unwrap_or((text, ""));
                (host, Some(port))
            }
            _ => return Err(format!("address {text}: too many colons in address")),
        }
    };
    let port = match port {
        Some(port) => port.to_string(),
        None if tls => "443".to_string(),
        None => "80".to_string(),
    };
    Ok(HostPort {
        host: host.to_lowercase(),
        port,
    })
}

/// Splits an origin URL (`scheme://host[:port][/...]`) as Go's `url.ParseRequestURI` would
/// for the origins browsers send.
fn parse_origin(origin: &str) -> Result<(String, String), String> {
    let (scheme, rest) = origin
        .split_once("://")
        .filter(|(scheme, _)| !scheme.is_empty())
        .ok_or_else(|| format!("parse {origin:?}: invalid URI for request"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    Ok((scheme.to_lowercase(), authority.to_string()))
}

/// One entry of `allowed_origins`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AllowedOrigin {
    scheme: String,
    host: String,
    port: String,
}

/// `same_origin` and `allowed_origins`, prepared (nats-server's `wsSetOriginOptions`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OriginPolicy {
    same_origin: bool,
    allowed: Vec<AllowedOrigin>,
}

impl OriginPolicy {
    /// Prepares the policy; an origin that does not parse is an error, worded as
    /// nats-server's `validateWebsocketOptions`.
    pub fn new(same_origin: bool, allowed_origins: &[String]) -> Result<OriginPolicy, String> {
        let mut allowed = Vec::new();
        for origin in allowed_origins {
            let (scheme, authority) =
                parse_origin(origin).map_err(|e| format!("unable to parse allowed origin: {e}"))?;
            // nats-server 2.12.15's checks: an origin is an absolute http(s) URL with a host.
            if scheme != "http" && scheme != "https" {
                return Err(format!(
                    "unable to parse allowed origin {origin:?}: allowed origins must be absolute URLs with http or https scheme"
                ));
            }
            if authority.is_empty() {
                return Err(format!(
                    "unable to parse allowed origin {origin:?}: host is required"
                ));
            }
            let host_port = host_and_port(scheme == "https", &authority)
                .map_err(|e| format!("unable to parse allowed origin: {e}"))?;
            allowed.push(AllowedOrigin {
                scheme,
                host: host_port.host,
                port: host_port.port,
            });
        }
        Ok(OriginPolicy {
            same_origin,
            allowed,
        })
    }

    /// nats-server's `checkOrigin`: no checks configured, or no `Origin` header, passes.
    fn check(&self, request: &Request, tls: bool) -> Result<(), String> {
        if !self.same_origin && self.allowed.is_empty() {
            return Ok(());
        }
        let mut origin = request.get("Origin");
        if origin.is_empty() {
            origin = request.get("Sec-Websocket-Origin");
        }
        if origin.is_empty() {
            return Ok(());
        }
        let (scheme, authority) = parse_origin(origin)?;
        let from = host_and_port(scheme == "https", &authority)?;
        if self.same_origin {
            let host = host_and_port(tls, request.get("Host"))?;
            if from != host {
                return Err("not same origin".to_string());
            }
        }
        if !self.allowed.is_empty()
            && !self
                .allowed
                .iter()
                .any(|a| a.host == from.host && a.scheme == scheme && a.port == from.port)
        {
            return Err("not in the allowed list".to_string());
        }
        Ok(())
    }
}

/// An accepted upgrade: what the response and the connection need to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upgrade {
    /// The client's `Sec-WebSocket-Key`.
    pub key: String,
    /// The client asked not to mask its frames (`Nats-No-Masking: true`).
    pub no_masking: bool,
    /// The client offered permessage-deflate.
    pub compression_offered: bool,
    /// The client's address as a proxy reported it (`X-Forwarded-For`), if it is an IP.
    pub forwarded_for: Option<std::net::IpAddr>,
    /// Whether the client looks like a browser (`User-Agent: Mozilla/...`).
    pub browser: bool,
    /// Safari, which nats-server found mishandles compressed messages cut into fragments.
    pub safari: bool,
}

/// Checks an upgrade request in nats-server's order (RFC 6455 4.2.1), over TLS or not.
pub fn check_upgrade(
    request: &Request,
    origins: &OriginPolicy,
    tls: bool,
) -> Result<Upgrade, HandshakeError> {
    if request.method != "GET" {
        return Err(HandshakeError::new(405, "request method must be GET"));
    }
    if request.get("Host").is_empty() {
        return Err(HandshakeError::new(400, "'Host' missing in request"));
    }
    if !request.contains_token("Upgrade", "websocket") {
        return Err(HandshakeError::new(
            400,
            "invalid value for header 'Upgrade'",
        ));
    }
    if !request.contains_token("Connection", "Upgrade") {
        return Err(HandshakeError::new(
            400,
            "invalid value for header 'Connection'",
        ));
    }
    let key = request.get("Sec-Websocket-Key");
    if key.is_empty() {
        return Err(HandshakeError::new(400, "key missing"));
    }
    // RFC 6455 4.2.1: 16 random bytes in base64 (checked from nats-server 2.12.15 on).
    let decoded = base64::engine::general_purpose::STANDARD.decode(key);
    if decoded.map_or(true, |bytes| bytes.len() != 16) {
        return Err(HandshakeError::new(400, "invalid websocket key"));
    }
    if !request.contains_token("Sec-Websocket-Version", "13") {
        return Err(HandshakeError::new(400, "invalid version"));
    }
    if let Err(e) = origins.check(request, tls) {
        return Err(HandshakeError::new(403, format!("origin not allowed: {e}")));
    }
    let compression_offered = request
        .values("Sec-Websocket-Extensions")
        .flat_map(|value| value.split([',', ';']))
        .any(|item| {
            item.trim_matches([' ', '\t'])
                .eq_ignore_ascii_case(crate::deflate::EXTENSION)
        });
    let forwarded_for = request
        .values("X-Forwarded-For")
        .next()
        .and_then(|value| value.trim().parse().ok());
    let user_agent = request.get("User-Agent");
    let browser = user_agent.starts_with("Mozilla/");
    Ok(Upgrade {
        key: key.to_string(),
        no_masking: request.get("Nats-No-Masking") == "true",
        compression_offered,
        forwarded_for,
        browser,
        // Chrome on macOS says "Safari/" too; only Safari also says "Version/".
        safari: browser && user_agent.contains("Version/") && user_agent.contains("Safari/"),
    })
}

/// `Sec-WebSocket-Accept` for `key`: base64 of SHA-1 over the key and the GUID.
pub fn accept_key(key: &str) -> String {
    let mut context = ring::digest::Context::new(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY);
    context.update(key.as_bytes());
    context.update(ACCEPT_GUID);
    base64::engine::general_purpose::STANDARD.encode(context.finish())
}

/// The 101 response, accepting permessage-deflate when `compress` (the option is on and the
/// client offered it), with `extra_headers` (`Name: value\r\n` lines, the `headers` option).
pub fn write_switching_protocols(
    out: &mut Vec<u8>,
    upgrade: &Upgrade,
    compress: bool,
    extra_headers: &str,
) {
    out.extend_from_slice(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ",
    );
    out.extend_from_slice(accept_key(&upgrade.key).as_bytes());
    out.extend_from_slice(b"\r\n");
    if compress {
        out.extend_from_slice(crate::deflate::EXTENSION_RESPONSE.as_bytes());
    }
    if upgrade.no_masking {
        out.extend_from_slice(b"Nats-No-Masking: true\r\n");
    }
    out.extend_from_slice(extra_headers.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// An error response as Go's `http.Error` writes it after nats-server's `wsReturnHTTPError`
/// (the status text as the body), closing the connection.
pub fn write_http_error(out: &mut Vec<u8>, status: u16) {
    let text = match status {
        400 => "Bad Request",
        403 => "Forbidden",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        _ => "Internal Server Error",
    };
    let body = format!("{text}\n");
    out.extend_from_slice(
        format!(
            "HTTP/1.1 {status} {text}\r\nConnection: close\r\nContent-Length: {}\r\nContent-Type: text/plain; charset=utf-8\r\nSec-Websocket-Version: 13\r\nX-Content-Type-Options: nosniff\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "GET / HTTP/1.1\r\nHost: localhost:8080\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

    fn request(extra: &str) -> Request {
        let text = format!("{GOOD}{extra}\r\n");
        parse_request(text.as_bytes()).unwrap().unwrap().0
    }

    /// Runs the checks over `text` and returns the status and reason, or 101.
    fn check(text: &str, origins: &OriginPolicy) -> (u16, String) {
        let parsed = parse_request(text.as_bytes()).unwrap().unwrap().0;
        match check_upgrade(&parsed, origins, false) {
            Ok(_) => (101, String::new()),
            Err(e) => (e.status, e.reason),
        }
    }

    #[test]
    fn the_rfc_example_key() {
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn refusals_in_nats_servers_order() {
        let none = OriginPolicy::default();
        let cases = [
            (
                GOOD.replace("GET", "POST"),
                405,
                "request method must be GET",
            ),
            (
                GOOD.replace("Host: localhost:8080\r\n", ""),
                400,
                "'Host' missing in request",
            ),
            (
                GOOD.replace("Upgrade: websocket", "Upgrade: h2c"),
                400,
                "invalid value for header 'Upgrade'",
            ),
            (
                GOOD.replace("keep-alive, Upgrade", "keep-alive"),
                400,
                "invalid value for header 'Connection'",
            ),
            (
                GOOD.replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""),
                400,
                "key missing",
            ),
            (
                GOOD.replace("dGhlIHNhbXBsZSBub25jZQ==", "c2hvcnQ="),
                400,
                "invalid websocket key",
            ),
            (
                GOOD.replace("dGhlIHNhbXBsZSBub25jZQ==", "not base64!"),
                400,
                "invalid websocket key",
            ),
            (
                GOOD.replace("Version: 13", "Version: 8"),
                400,
                "invalid version",
            ),
            (GOOD.to_string(), 101, ""),
        ];
        for (text, status, reason) in cases {
            assert_eq!(
                check(&format!("{text}\r\n"), &none),
                (status, reason.to_string())
            );
        }
    }

    #[test]
    fn origins() {
        let same = OriginPolicy::new(true, &[]).unwrap();
        let listed = OriginPolicy::new(false, &["https://example.com".to_string()]).unwrap();
        let cases = [
            (&same, "", 101, ""),
            (&same, "Origin: http://localhost:8080\r\n", 101, ""),
            (
                &same,
                "Origin: http://localhost:8081\r\n",
                403,
                "origin not allowed: not same origin",
            ),
            (&listed, "Origin: https://example.com:443\r\n", 101, ""),
            (
                &listed,
                "Origin: http://example.com\r\n",
                403,
                "origin not allowed: not in the allowed list",
            ),
        ];
        for (policy, header, status, reason) in cases {
            assert_eq!(
                check(&format!("{GOOD}{header}\r\n"), policy),
                (status, reason.to_string()),
                "{header}"
            );
        }
        let refused = |origin: &str| OriginPolicy::new(false, &[origin.to_string()]).unwrap_err();
        assert_eq!(
            refused("nope"),
            "unable to parse allowed origin: parse \"nope\": invalid URI for request"
        );
        assert_eq!(
            refused("ftp://files.example"),
            "unable to parse allowed origin \"ftp://files.example\": allowed origins must be absolute URLs with http or https scheme"
        );
        assert_eq!(
            refused("https://"),
            "unable to parse allowed origin \"https://\": host is required"
        );
    }

    #[test]
    fn options_the_request_carries() {
        let upgrade = check_upgrade(
            &request("Nats-No-Masking: true\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\nX-Forwarded-For: 10.0.0.1\r\nCookie: a=1; jwt=\"x.y\"\r\n"),
            &OriginPolicy::default(),
            false,
        )
        .unwrap();
        assert!(upgrade.no_masking && upgrade.compression_offered);
        assert_eq!(upgrade.forwarded_for, Some("10.0.0.1".parse().unwrap()));
        let mut out = Vec::new();
        write_switching_protocols(&mut out, &upgrade, false, "X-A: b\r\n");
        let text = String::from_utf8(out).unwrap();
        assert!(text.ends_with("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nNats-No-Masking: true\r\nX-A: b\r\n\r\n"));
        let mut out = Vec::new();
        write_switching_protocols(&mut out, &upgrade, true, "");
        let text = String::from_utf8(out).unwrap();
        assert!(text.ends_with("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\nNats-No-Masking: true\r\n\r\n"));
        assert_eq!(
            request("Cookie: a=1; jwt=\"x.y\"\r\n").cookie("jwt"),
            Some("x.y")
        );
    }

    #[test]
    fn incomplete_malformed_and_oversized_requests() {
        assert_eq!(parse_request(b"GET / HTTP/1.1\r\nHost: a\r\n"), Ok(None));
        assert_eq!(
            parse_request(b"\x00\x01 nonsense\r\n\r\n")
                .unwrap_err()
                .status,
            400
        );
        let mut huge = b"GET / HTTP/1.1\r\nX: ".to_vec();
        huge.resize(REQUEST_BYTES_MAX, b'a');
        assert_eq!(parse_request(&huge).unwrap_err().status, 431);
    }
}
