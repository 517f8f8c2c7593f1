//! The monitoring listener: hyper serving HTTP/1.1, nats-server's routes under an optional
//! base path, JSONP `callback=`, and the gathering of live figures for each endpoint.

use super::connz::{self, ConnState, ConnzOptions, SubsLevel};
use super::jetstream;
use super::metrics::{self, AccountFigures, ServerFigures};
use super::others::{
    AccountInfo, AccountStat, AccountStatz, Accountz, DataStats, Gatewayz, HealthStatus, Leafz,
    Routez,
};
use super::process::ProcessUsage;
use super::query::{Query, QueryError};
use super::subsz::{self, SublistStats, Subsz, SubszOptions};
use super::varz::{EmptySection, Varz};
use super::{format, sub_detail};
use crate::info::{NATS_COMPATIBLE_VERSION, PROTOCOL_VERSION};
use crate::options::ListenPort;
use crate::server::ServerState;
use crate::tls::TlsOptions;
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;
use tracing::{debug, error};

/// Binds the monitoring listener on `host` and `port` (`Random` picks a free port).
pub(crate) async fn bind_listener(host: &str, port: &ListenPort) -> std::io::Result<TcpListener> {
    let port = match port {
        ListenPort::Fixed(port) => *port,
        ListenPort::Random => 0,
    };
    let address = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    TcpListener::bind(address).await
}

/// What every handler needs besides the server state.
struct Endpoint {
    server: Arc<ServerState>,
    /// The base path, normalised to `""` or `/prefix` without a trailing slash.
    base_path: String,
    /// The port actually bound (`/varz` `http_port`).
    http_port: u16,
}

/// Serves monitoring requests on `listener` until the task is dropped; over TLS when `tls`
/// is given (HTTPS monitoring, with the client listener's certificate).
pub(crate) async fn serve(
    server: Arc<ServerState>,
    listener: TcpListener,
    tls: Option<TlsOptions>,
) {
    let options = server.options();
    let base_path = options.http_base_path.trim_end_matches('/');
    let base_path = if base_path.is_empty() || base_path.starts_with('/') {
        base_path.to_string()
    } else {
        format!("/{base_path}")
    };
    let http_port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    server.monitor.http_port.store(http_port, Ordering::Relaxed);
    let endpoint = Arc::new(Endpoint {
        server,
        base_path,
        http_port,
    });
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                error!("monitoring: error accepting connection: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let endpoint = Arc::clone(&endpoint);
        let tls = tls.clone();
        tokio::spawn(async move {
            let service =
                hyper::service::service_fn(move |request: Request<hyper::body::Incoming>| {
                    let endpoint = Arc::clone(&endpoint);
                    // Off the async workers: `/jsz` details wait for the JetStream thread.
                    let (parts, _) = request.into_parts();
                    let request = Request::from_parts(parts, ());
                    async move {
                        let response =
                            tokio::task::spawn_blocking(move || endpoint.handle(&request)).await;
                        Ok::<_, Infallible>(response.unwrap_or_else(|_| {
                            let mut failed = Response::new(Full::new(Bytes::new()));
                            *failed.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                            failed
                        }))
                    }
                });
            let http = hyper::server::conn::http1::Builder::new();
            let served = match tls {
                None => http.serve_connection(TokioIo::new(stream), service).await,
                Some(tls) => {
                    let acceptor = tls.monitor_acceptor();
                    match tokio::time::timeout(tls.timeout, acceptor.accept(stream)).await {
                        Ok(Ok(stream)) => {
                            http.serve_connection(TokioIo::new(stream), service).await
                        }
                        Ok(Err(e)) => {
                            debug!("monitoring: TLS handshake error: {e}");
                            return;
                        }
                        Err(_) => {
                            debug!("monitoring: TLS handshake timeout");
                            return;
                        }
                    }
                }
            };
            if let Err(e) = served {
                debug!("monitoring: connection ended: {e}");
            }
        });
    }
}

/// The longest `/jsz` waits for the JetStream thread's stream details.
const JSZ_DETAILS_WAIT_MAX: std::time::Duration = std::time::Duration::from_secs(2);

/// An endpoint's handler: its answer, or an error answer (a 400).
type Handler = fn(&Endpoint, &Query) -> Result<Reply, Reply>;

/// A handler's answer before it becomes an HTTP response.
enum Reply {
    Json(Vec<u8>),
    Html(String),
    Metrics(String),
    BadRequest(String),
    NotFound,
}

fn pretty<T: Serialize>(value: &T) -> Reply {
    // nats-server indents its answers with two spaces (`json.MarshalIndent`).
    Reply::Json(serde_json::to_vec_pretty(value).unwrap_or_default())
}

impl From<QueryError> for Reply {
    fn from(error: QueryError) -> Reply {
        Reply::BadRequest(error.0)
    }
}

/// The handler of an endpoint path, and the name its requests are counted under.
fn handler(path: &str) -> Option<(&'static str, Handler)> {
    let found: (&'static str, Handler) = match path {
        "/" => ("/", |e, _| Ok(e.root())),
        "/varz" => ("/varz", |e, _| Ok(e.varz())),
        "/connz" => ("/connz", Endpoint::connz),
        "/subsz" | "/subscriptionsz" => ("/subsz", Endpoint::subsz),
        "/healthz" => ("/healthz", Endpoint::healthz),
        "/routez" => ("/routez", |e, _| Ok(e.routez())),
        "/gatewayz" => ("/gatewayz", |e, _| Ok(e.gatewayz())),
        "/leafz" => ("/leafz", |e, _| Ok(e.leafz())),
        "/accountz" => ("/accountz", Endpoint::accountz),
        "/accstatz" => ("/accstatz", Endpoint::accstatz),
        "/jsz" => ("/jsz", Endpoint::jsz),
        "/metrics" => ("/metrics", |e, _| Ok(e.metrics())),
        _ => return None,
    };
    Some(found)
}

/// An endpoint's JSON answer outside HTTP (the system account's `$SYS.REQ` requests), or
/// the text of its error. Not counted in `/varz` `http_req_stats`, as nats-server does not.
pub(crate) fn answer(
    server: &Arc<ServerState>,
    path: &str,
    query: &Query,
) -> Result<Vec<u8>, String> {
    let endpoint = Endpoint {
        server: Arc::clone(server),
        base_path: String::new(),
        http_port: server.monitor.http_port.load(Ordering::Relaxed),
    };
    let Some((_, reply)) = handler(path) else {
        return Err(format!("no endpoint {path}"));
    };
    match reply(&endpoint, query).unwrap_or_else(|error| error) {
        Reply::Json(body) => Ok(body),
        Reply::BadRequest(text) => Err(text),
        Reply::Html(_) | Reply::Metrics(_) | Reply::NotFound => Err(format!("no endpoint {path}")),
    }
}

impl Endpoint {
    fn handle<B>(&self, request: &Request<B>) -> Response<Full<Bytes>> {
        let query = Query::parse(request.uri().query());
        let reply = self.route(request.uri().path(), &query);
        let (status, content_type, body) = match reply {
            Reply::Json(body) => (StatusCode::OK, "application/json", body),
            Reply::Html(body) => (
                StatusCode::OK,
                "text/html; charset=utf-8",
                body.into_bytes(),
            ),
            Reply::Metrics(body) => (StatusCode::OK, metrics::CONTENT_TYPE, body.into_bytes()),
            Reply::BadRequest(text) => (
                StatusCode::BAD_REQUEST,
                "text/plain; charset=utf-8",
                text.into_bytes(),
            ),
            Reply::NotFound => (
                StatusCode::NOT_FOUND,
                "text/plain; charset=utf-8",
                b"404 page not found\n".to_vec(),
            ),
        };
        let (content_type, body) = match query.get("callback") {
            // JSONP, as nats-server's ResponseHandler does it.
            Some(callback) if !callback.is_empty() && content_type == "application/json" => {
                let mut wrapped = Vec::with_capacity(body.len() + callback.len() + 2);
                wrapped.extend_from_slice(callback.as_bytes());
                wrapped.push(b'(');
                wrapped.extend_from_slice(&body);
                wrapped.push(b')');
                ("application/javascript", wrapped)
            }
            _ => (content_type, body),
        };
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = status;
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        response
    }

    fn route(&self, path: &str, query: &Query) -> Reply {
        // As Go's ServeMux with nats-server's patterns: exact paths, the index at the
        // base path itself.
        let root = if self.base_path.is_empty() {
            "/"
        } else {
            self.base_path.as_str()
        };
        let rest = if path == root {
            "/"
        } else {
            match path.strip_prefix(self.base_path.as_str()) {
                Some(rest) if rest != "/" => rest,
                _ => return Reply::NotFound,
            }
        };
        let Some((counted, reply)) = handler(rest) else {
            return Reply::NotFound;
        };
        self.server.monitor.count_request(counted);
        reply(self, query).unwrap_or_else(|error| error)
    }

    fn now(&self) -> (SystemTime, String) {
        let now = SystemTime::now();
        (now, format::rfc3339_nanos(now))
    }

    fn root(&self) -> Reply {
        Reply::Html(super::others::index_html(env!("CARGO_PKG_VERSION")))
    }

    fn varz(&self) -> Reply {
        let server = &self.server;
        let options = server.options();
        let usage = ProcessUsage::read();
        let cpu = server.monitor.cpu.percent(Instant::now(), usage.cpu_ticks);
        let (now, now_text) = self.now();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let https_port = match &options.https_port {
            Some(_) => self.http_port,
            None => 0,
        };
        let http_port = if options.http_port.is_some() {
            self.http_port
        } else {
            0
        };
        let stats = &server.stats;
        pretty(&Varz {
            server_id: server.server_id.clone(),
            server_name: server.server_name.clone(),
            version: NATS_COMPATIBLE_VERSION.to_string(),
            proto: PROTOCOL_VERSION,
            go: format!("natrium {}", env!("CARGO_PKG_VERSION")),
            host: options.host.clone(),
            port: server.port,
            max_connections: options.max_connections,
            max_subscriptions: options.max_subscriptions,
            ping_interval: format::duration_nanos(options.ping_interval),
            ping_max: options.ping_max,
            http_host: http_host(&options),
            http_port,
            http_base_path: options.http_base_path.clone(),
            https_port,
            auth_timeout: options.effective_auth_timeout().as_secs_f64(),
            max_control_line: options.max_control_line,
            max_payload: options.max_payload,
            max_pending: options.max_pending,
            cluster: EmptySection::default(),
            gateway: EmptySection::default(),
            leaf: EmptySection::default(),
            mqtt: EmptySection::default(),
            websocket: EmptySection::default(),
            jetstream: jetstream::varz_section(jetstream::snapshot(server).as_ref()),
            // nats-server's default TLS handshake timeout, echoed even without TLS.
            tls_timeout: 2.0,
            write_deadline: format::duration_nanos(options.write_deadline),
            start: format::rfc3339_nanos(server.monitor.start),
            now: now_text,
            uptime: format::uptime(now.duration_since(server.monitor.start).unwrap_or_default()),
            mem: usage.resident_bytes,
            cores,
            gomaxprocs: cores,
            cpu,
            connections: server.client_count(),
            total_connections: stats.total_connections.load(Ordering::Relaxed),
            routes: 0,
            remotes: 0,
            leafnodes: 0,
            in_msgs: stats.in_msgs.load(Ordering::Relaxed),
            out_msgs: stats.out_msgs.load(Ordering::Relaxed),
            in_bytes: stats.in_bytes.load(Ordering::Relaxed),
            out_bytes: stats.out_bytes.load(Ordering::Relaxed),
            slow_consumers: stats.slow_consumers.load(Ordering::Relaxed),
            subscriptions: total_subscriptions(server),
            http_req_stats: server.monitor.request_counts.lock().clone(),
            config_load_time: format::rfc3339_nanos(*server.monitor.config_load_time.lock()),
        })
    }

    fn connz(&self, query: &Query) -> Result<Reply, Reply> {
        let options = ConnzOptions::from_query(query)?;
        let monitor = &self.server.monitor;
        let with_subscriptions = options.subs != SubsLevel::None;
        let open = if options.state == ConnState::Closed {
            Vec::new()
        } else {
            self.server
                .clients_snapshot()
                .iter()
                .map(|client| monitor.connection_record(client, with_subscriptions))
                .collect()
        };
        let closed = if options.state == ConnState::Open {
            Vec::new()
        } else {
            monitor.closed.snapshot()
        };
        let (now, _) = self.now();
        Ok(pretty(&connz::connz(
            &self.server.server_id,
            now,
            &options,
            open,
            closed,
        )))
    }

    /// Sublist figures of the account called `account`, or of all of them when empty.
    fn sublist_stats(&self, account: &str) -> SublistStats {
        let mut stats = SublistStats::default();
        for each in self.server.accounts.all() {
            if account.is_empty() || account == each.name {
                stats.add(each.sublist.counters());
            }
        }
        stats
    }

    fn subsz(&self, query: &Query) -> Result<Reply, Reply> {
        let options = SubszOptions::from_query(query)?;
        let stats = self.sublist_stats(&options.account);
        if !options.subscriptions {
            // nats-server 2.9 answers with the statistics alone here.
            return Ok(pretty(&stats));
        }
        let mut subscriptions = Vec::new();
        for client in self.server.clients_snapshot() {
            let account = client.account_name();
            if !options.account.is_empty() && *account != *options.account {
                continue;
            }
            for sub in client.subscriptions() {
                subscriptions.push(sub_detail(&sub, Some(&account)));
            }
        }
        let (total, page) = subsz::page(&options, subscriptions);
        if page.is_empty() {
            // So does it when the page is empty.
            return Ok(pretty(&stats));
        }
        Ok(pretty(&Subsz {
            server_id: self.server.server_id.clone(),
            now: self.now().1,
            stats,
            total,
            offset: options.offset,
            limit: options.limit,
            subscriptions: page,
        }))
    }

    fn healthz(&self, query: &Query) -> Result<Reply, Reply> {
        // Decoded only for their 400s: with JetStream off every check passes.
        query.bool("js-enabled")?;
        query.bool("js-enabled-only")?;
        query.bool("js-server-only")?;
        let status = HealthStatus {
            status: "ok",
            error: None,
        };
        Ok(Reply::Json(serde_json::to_vec(&status).unwrap_or_default()))
    }

    fn routez(&self) -> Reply {
        pretty(&Routez {
            server_id: self.server.server_id.clone(),
            now: self.now().1,
            num_routes: 0,
            routes: Vec::new(),
        })
    }

    fn gatewayz(&self) -> Reply {
        pretty(&Gatewayz {
            server_id: self.server.server_id.clone(),
            now: self.now().1,
            outbound_gateways: Default::default(),
            inbound_gateways: Default::default(),
        })
    }

    fn leafz(&self) -> Reply {
        pretty(&Leafz {
            server_id: self.server.server_id.clone(),
            now: self.now().1,
            leafnodes: 0,
            leafs: None,
        })
    }

    fn accountz(&self, query: &Query) -> Result<Reply, Reply> {
        let account = query.get("acc").unwrap_or_default();
        let mut answer = Accountz {
            server_id: self.server.server_id.clone(),
            now: self.now().1,
            accounts: None,
            account_detail: None,
        };
        if account.is_empty() {
            let names = self
                .server
                .accounts
                .all()
                .iter()
                .map(|a| a.name.clone())
                .collect();
            answer.accounts = Some(names);
        } else if let Some(found) = self.server.lookup_account(account) {
            let options = self.server.options();
            answer.account_detail = Some(AccountInfo {
                account_name: found.name.clone(),
                update_time: format::rfc3339_nanos(*self.server.monitor.config_load_time.lock()),
                expired: false,
                complete: true,
                jetstream_enabled: jetstream::snapshot(&self.server).is_some()
                    && options.jetstream_account_limits(&found.name).is_some(),
                leafnode_connections: 0,
                client_connections: found.connections(),
                subscriptions: found.sublist.count(),
                sublist_stats: self.sublist_stats(account),
            });
        } else {
            return Err(Reply::BadRequest(format!(
                "Account {account} does not exist"
            )));
        }
        Ok(pretty(&answer))
    }

    fn accstatz(&self, query: &Query) -> Result<Reply, Reply> {
        let include_unused = query.bool("unused")?;
        // `accs=A,B` names the accounts wanted (nats-server's `Accounts` option).
        let named: Vec<&str> = query
            .get("accs")
            .map(|list| list.split(',').filter(|name| !name.is_empty()).collect())
            .unwrap_or_default();
        let statz = self
            .account_figures()
            .into_iter()
            .filter(|account| named.is_empty() || named.contains(&account.name.as_str()))
            .filter(|account| include_unused || account.connections > 0)
            .map(account_stat_of)
            .collect();
        Ok(pretty(&AccountStatz {
            server_id: self.server.server_id.clone(),
            now: self.now().1,
            account_statz: statz,
        }))
    }

    fn jsz(&self, query: &Query) -> Result<Reply, Reply> {
        let options = jetstream::JszOptions::from_query(query)?;
        let snapshot = jetstream::snapshot(&self.server);
        let mut answer = jetstream::jsz(&self.server.server_id, self.now().1, snapshot.as_ref());
        if snapshot.is_some() && options.wants_details() {
            let Some(details) = self
                .server
                .jetstream_details
                .get()
                .and_then(|exchange| exchange.fetch(options.level(), JSZ_DETAILS_WAIT_MAX))
            else {
                return Err(Reply::BadRequest(
                    "JetStream did not answer in time".to_string(),
                ));
            };
            let details = jetstream::account_details(&options, &details);
            answer.account_details = (!details.is_empty()).then_some(details);
        }
        Ok(pretty(&answer))
    }

    fn account_figures(&self) -> Vec<AccountFigures> {
        account_figures(&self.server)
    }

    fn metrics(&self) -> Reply {
        let server = &self.server;
        let stats = &server.stats;
        let usage = ProcessUsage::read();
        let start_time_seconds = server
            .monitor
            .start
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        let figures = ServerFigures {
            server_id: server.server_id.clone(),
            server_name: server.server_name.clone(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            connections: server.client_count() as u64,
            total_connections: stats.total_connections.load(Ordering::Relaxed),
            subscriptions: total_subscriptions(server),
            slow_consumers: stats.slow_consumers.load(Ordering::Relaxed),
            in_msgs: stats.in_msgs.load(Ordering::Relaxed),
            in_bytes: stats.in_bytes.load(Ordering::Relaxed),
            out_msgs: stats.out_msgs.load(Ordering::Relaxed),
            out_bytes: stats.out_bytes.load(Ordering::Relaxed),
            resident_bytes: usage.resident_bytes,
            cpu_seconds: usage.cpu_seconds(),
            start_time_seconds,
        };
        let snapshot = jetstream::snapshot(server);
        Reply::Metrics(metrics::render(
            &figures,
            &self.account_figures(),
            snapshot.as_ref(),
        ))
    }
}

/// Every account's traffic figures.
fn account_figures(server: &ServerState) -> Vec<AccountFigures> {
    server
        .accounts
        .all()
        .iter()
        .map(|account| {
            let stats = &account.stats;
            AccountFigures {
                name: account.name.clone(),
                connections: account.connections() as u64,
                total_connections: stats.total_connections.load(Ordering::Relaxed),
                subscriptions: account.sublist.count(),
                slow_consumers: stats.slow_consumers.load(Ordering::Relaxed),
                in_msgs: stats.in_msgs.load(Ordering::Relaxed),
                in_bytes: stats.in_bytes.load(Ordering::Relaxed),
                out_msgs: stats.out_msgs.load(Ordering::Relaxed),
                out_bytes: stats.out_bytes.load(Ordering::Relaxed),
            }
        })
        .collect()
}

/// One account's figures as `/accstatz` shows them.
fn account_stat_of(account: AccountFigures) -> AccountStat {
    AccountStat {
        acc: account.name,
        conns: account.connections as usize,
        leafnodes: 0,
        total_conns: account.connections as usize,
        sent: DataStats {
            msgs: account.out_msgs,
            bytes: account.out_bytes,
        },
        received: DataStats {
            msgs: account.in_msgs,
            bytes: account.in_bytes,
        },
        slow_consumers: account.slow_consumers,
    }
}

/// Subscriptions of every account together.
fn total_subscriptions(server: &ServerState) -> u64 {
    server
        .accounts
        .all()
        .iter()
        .map(|a| a.sublist.count())
        .sum()
}

/// One account's figures (the system account's connection count events), if it exists.
pub(crate) fn account_stat(server: &ServerState, account: &str) -> Option<AccountStat> {
    account_figures(server)
        .into_iter()
        .find(|figures| figures.name == account)
        .map(account_stat_of)
}

/// Subscriptions in every account, and how many accounts have any.
pub(crate) fn subscription_totals(server: &ServerState) -> (u64, usize) {
    let figures = account_figures(server);
    let active = figures
        .iter()
        .filter(|account| account.connections > 0 || account.subscriptions > 0)
        .count();
    (
        figures.iter().map(|account| account.subscriptions).sum(),
        active,
    )
}

/// The monitoring host: nats-server uses the client host when none is set.
fn http_host(options: &crate::options::Options) -> String {
    if options.http_host.is_empty() {
        options.host.clone()
    } else {
        options.http_host.clone()
    }
}

/// Where the monitoring listener binds.
pub(crate) fn listen_host(options: &crate::options::Options) -> String {
    http_host(options)
}
