//! Command-line flags with nats-server's names and Go's `flag` package rules:
//! `-name` and `--name` are the same, values follow as `-p 4222` or `-p=4222`, booleans
//! take only the `-D=false` form, and parsing stops at the first non-flag argument.

use natrium_auth::Secret;
use natrium_server::tls::{TlsOptions, TlsSpec};
use natrium_server::{ListenPort, Options};
use std::path::PathBuf;

/// A flag's effect on the options, applied over the config file (flags win, as in nats-server).
#[derive(Debug, Clone, PartialEq)]
pub enum Setting {
    /// `-a`.
    Host(String),
    /// `-p`.
    Port(ListenPort),
    /// `-n`.
    ServerName(String),
    /// `-P`.
    PidFile(PathBuf),
    /// `--client_advertise`.
    ClientAdvertise(String),
    /// `-l`.
    LogFile(PathBuf),
    /// `-T`.
    LogTime(bool),
    /// `-D` (and `-DV`).
    Debug(bool),
    /// `-V` (and `-DV`).
    Trace(bool),
    /// `-m`.
    HttpPort(ListenPort),
    /// `-ms`.
    HttpsPort(ListenPort),
    /// `-js`.
    JetStream(bool),
    /// `-sd`.
    StoreDir(String),
    /// `--user`: the single user's name.
    User(String),
    /// `--pass`: the single user's password (a `Secret`, so it never shows in debug output).
    Pass(Secret),
    /// `--auth`: the token every client must present.
    Auth(Secret),
    /// `--tls` (`--tls=false` turns TLS off, whatever else is given).
    Tls(bool),
    /// `--tlscert`.
    TlsCert(PathBuf),
    /// `--tlskey`.
    TlsKey(PathBuf),
    /// `--tlscacert`.
    TlsCaCert(PathBuf),
    /// `--tlsverify`.
    TlsVerify(bool),
}

impl Setting {
    /// Applies the flag to `options`.
    pub fn apply(&self, options: &mut Options) {
        match self.clone() {
            Setting::Host(host) => options.host = host,
            Setting::Port(port) => options.port = port,
            Setting::ServerName(name) => options.server_name = name,
            Setting::PidFile(path) => options.pid_file = Some(path),
            Setting::ClientAdvertise(url) => options.client_advertise = url,
            Setting::LogFile(path) => options.log_file = Some(path),
            Setting::LogTime(on) => options.logtime = on,
            Setting::Debug(on) => options.debug = on,
            Setting::Trace(on) => options.trace = on,
            Setting::HttpPort(port) => options.http_port = Some(port),
            Setting::HttpsPort(port) => options.https_port = Some(port),
            Setting::JetStream(on) => options.jetstream.enabled = on,
            Setting::StoreDir(dir) => options.jetstream.store_dir = dir,
            // Flags win over the file's `authorization` values, as nats-server's MergeOptions.
            Setting::User(name) => options.auth.username = Some(name),
            Setting::Pass(password) => options.auth.password = Some(password),
            Setting::Auth(token) => options.auth.token = Some(token),
            // Applied together by `apply_tls_flags`, since they build one configuration.
            Setting::Tls(_)
            | Setting::TlsCert(_)
            | Setting::TlsKey(_)
            | Setting::TlsCaCert(_)
            | Setting::TlsVerify(_) => {}
        }
    }
}

/// The `--tls*` flags as nats-server's `overrideTLS` applies them: `--tls=false` removes
/// TLS; any other TLS flag replaces the config file's certificate, key, CA and verify (and
/// resets its ciphers and curves) while its timeout, pinned certs and handshake order stay.
fn apply_tls_flags(settings: &[Setting], options: &mut Options) -> Result<(), String> {
    let mut spec = TlsSpec::default();
    let mut any = false;
    for setting in settings {
        match setting {
            Setting::Tls(false) => {
                options.tls = None;
                return Ok(());
            }
            Setting::Tls(true) => {}
            Setting::TlsCert(path) => spec.cert_file = Some(path.clone()),
            Setting::TlsKey(path) => spec.key_file = Some(path.clone()),
            Setting::TlsCaCert(path) => spec.ca_file = Some(path.clone()),
            Setting::TlsVerify(on) => spec.verify = *on,
            _ => continue,
        }
        any = true;
    }
    if !any {
        return Ok(());
    }
    if spec.cert_file.is_none() {
        return Err("TLS Server certificate must be present and valid".to_string());
    }
    if spec.key_file.is_none() {
        return Err("TLS Server private key must be present and valid".to_string());
    }
    let tls = match &options.tls {
        Some(existing) => existing.with_spec(spec),
        None => TlsOptions::new(spec),
    };
    options.tls = Some(tls.map_err(|e| e.to_string())?);
    Ok(())
}

/// Where the options come from: a config file (optional) and the flags over it.
#[derive(Debug, Clone, Default)]
pub struct OptionSources {
    /// `-c`: the configuration file.
    pub config_file: Option<PathBuf>,
    /// The flags, in command-line order.
    pub settings: Vec<Setting>,
}

impl OptionSources {
    /// Reads the config file (if any) and applies the flags over it; returns the options
    /// and the config file's warnings.
    pub fn load(&self) -> Result<(Options, Vec<String>), String> {
        let (mut options, warnings) = match &self.config_file {
            Some(path) => natrium_server::configure::load_file(path).map_err(|e| e.to_string())?,
            None => (Options::default(), Vec::new()),
        };
        for setting in &self.settings {
            setting.apply(&mut options);
        }
        apply_tls_flags(&self.settings, &mut options)?;
        Ok((options, warnings))
    }
}

/// What the command line asks for.
#[derive(Debug)]
pub enum Command {
    /// Run a server.
    Run(OptionSources),
    /// `-t`: check the configuration file and exit.
    CheckConfig(OptionSources),
    /// `--signal`: send a signal to a running server.
    Signal {
        /// The command (`stop`, `quit`, `term`, `reopen`, `reload`, `ldm`).
        command: String,
        /// The PID or PID file given after `=`, if any.
        target: Option<String>,
        /// The options, for `pid_file` when no target is given.
        sources: OptionSources,
    },
    /// Print the version and exit 0.
    Version,
    /// Print the usage text and exit 0.
    Help,
    /// Print `message` to standard error and exit with `code`, with the usage text if `usage`.
    Fail {
        /// What went wrong.
        message: String,
        /// The exit status.
        code: u8,
        /// Whether to print the usage text too.
        usage: bool,
    },
}

/// The usage text, in nats-server's layout, listing the flags Natrium implements.
pub const USAGE: &str = "
Usage: natrium [options]

Server Options:
    -a, --addr, --net <host>         Bind to host address (default: 0.0.0.0)
    -p, --port <port>                Use port for clients (default: 4222)
    -n, --name
        --server_name <server_name>  Server name (default: auto)
    -P, --pid <file>                 File to store PID
    -m, --http_port <port>           Use port for http monitoring
    -ms,--https_port <port>          Use port for https monitoring
    -c, --config <file>              Configuration file
    -t                               Test configuration and exit
    -sl,--signal <signal>[=<pid>]    Send signal to natrium process (ldm, stop, quit, term, reopen, reload)
                                     <pid> can be either a PID (e.g. 1) or the path to a PID file (e.g. /var/run/natrium.pid)
        --client_advertise <string>  Client URL to advertise to other servers

JetStream Options:
    -js, --jetstream                 Enable JetStream functionality
    -sd, --store_dir <dir>           Set the storage directory

Logging Options:
    -l, --log <file>                 File to redirect log output
    -T, --logtime                    Timestamp log entries (default: true)
    -D, --debug                      Enable debugging output
    -V, --trace                      Trace the raw protocol
    -VV                              Verbose trace (traces system account as well)
    -DV                              Debug and trace
    -DVV                             Debug and verbose trace (traces system account as well)

Authorization Options:
        --user <user>                User required for connections
        --pass <password>            Password required for connections
        --auth <token>               Authorization token required for connections

TLS Options:
        --tls                        Enable TLS, do not verify clients (default: false)
        --tlscert <file>             Server certificate file
        --tlskey <file>              Private key for server certificate
        --tlsverify                  Enable TLS, verify client certificates
        --tlscacert <file>           Client certificate CA for verification

Common Options:
    -h, --help                       Show this message
    -v, --version                    Show version
";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Flag {
    Host,
    Port,
    Name,
    PidFile,
    ClientAdvertise,
    LogFile,
    LogTime,
    Debug,
    Trace,
    DebugTrace,
    Help,
    Version,
    HttpPort,
    HttpsPort,
    Config,
    CheckConfig,
    Signal,
    JetStream,
    StoreDir,
    User,
    Pass,
    Auth,
    Tls,
    TlsCert,
    TlsKey,
    TlsCaCert,
    TlsVerify,
}

impl Flag {
    fn lookup(name: &str) -> Option<Flag> {
        Some(match name {
            "a" | "addr" | "net" => Flag::Host,
            "p" | "port" => Flag::Port,
            "n" | "name" | "server_name" => Flag::Name,
            "P" | "pid" => Flag::PidFile,
            "client_advertise" => Flag::ClientAdvertise,
            "l" | "log" => Flag::LogFile,
            "T" | "logtime" => Flag::LogTime,
            "D" | "debug" => Flag::Debug,
            "V" | "trace" | "VV" => Flag::Trace,
            "DV" | "DVV" => Flag::DebugTrace,
            "h" | "help" => Flag::Help,
            "v" | "version" => Flag::Version,
            "m" | "http_port" => Flag::HttpPort,
            "ms" | "https_port" => Flag::HttpsPort,
            "c" | "config" => Flag::Config,
            "t" => Flag::CheckConfig,
            "sl" | "signal" => Flag::Signal,
            "js" | "jetstream" => Flag::JetStream,
            "sd" | "store_dir" => Flag::StoreDir,
            "user" => Flag::User,
            "pass" => Flag::Pass,
            "auth" => Flag::Auth,
            "tls" => Flag::Tls,
            "tlscert" => Flag::TlsCert,
            "tlskey" => Flag::TlsKey,
            "tlscacert" => Flag::TlsCaCert,
            "tlsverify" => Flag::TlsVerify,
            _ => return None,
        })
    }

    fn is_bool(self) -> bool {
        matches!(
            self,
            Flag::LogTime
                | Flag::Debug
                | Flag::Trace
                | Flag::DebugTrace
                | Flag::Help
                | Flag::Version
                | Flag::CheckConfig
                | Flag::JetStream
                | Flag::Tls
                | Flag::TlsVerify
        )
    }
}

/// Go's `strconv.ParseBool`.
fn parse_bool(value: &str) -> Option<bool> {
    match value {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

fn usage_error(message: String) -> Command {
    // nats-server's usage function exits 0 even for a bad flag; we keep that contract.
    Command::Fail {
        message,
        code: 0,
        usage: true,
    }
}

/// Parses a port flag's value: -1 is random, 0 the default.
fn parse_port(value: &str, default: u16) -> Option<ListenPort> {
    match value.parse::<i32>().ok()? {
        -1 => Some(ListenPort::Random),
        0 => Some(ListenPort::Fixed(default)),
        port => u16::try_from(port).ok().map(ListenPort::Fixed),
    }
}

/// Parses the arguments after the program name.
pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Command {
    let mut sources = OptionSources::default();
    let mut args = args.into_iter();
    let mut show_help = false;
    let mut show_version = false;
    let mut check_config = false;
    let mut signal = None;
    let mut positional = None;
    while let Some(arg) = args.next() {
        if arg == "--" {
            positional = args.next();
            break;
        }
        if arg.len() < 2 || !arg.starts_with('-') {
            positional = Some(arg);
            break;
        }
        let body = arg.strip_prefix("--").unwrap_or(&arg[1..]);
        if body.is_empty() || body.starts_with('-') || body.starts_with('=') {
            return usage_error(format!("bad flag syntax: {arg}"));
        }
        let (name, inline_value) = match body.split_once('=') {
            Some((name, value)) => (name, Some(value.to_string())),
            None => (body, None),
        };
        let Some(flag) = Flag::lookup(name) else {
            return usage_error(format!("flag provided but not defined: -{name}"));
        };
        if flag.is_bool() {
            let value = match inline_value.as_deref().map(parse_bool) {
                None => true,
                Some(Some(value)) => value,
                Some(None) => {
                    return usage_error(format!(
                        "invalid boolean value {:?} for -{name}: parse error",
                        inline_value.unwrap_or_default()
                    ))
                }
            };
            match flag {
                Flag::LogTime => sources.settings.push(Setting::LogTime(value)),
                Flag::Debug => sources.settings.push(Setting::Debug(value)),
                Flag::Trace => sources.settings.push(Setting::Trace(value)),
                Flag::DebugTrace => {
                    sources.settings.push(Setting::Debug(value));
                    sources.settings.push(Setting::Trace(value));
                }
                Flag::Help => show_help = value,
                Flag::Version => show_version = value,
                Flag::CheckConfig => check_config = value,
                Flag::JetStream => sources.settings.push(Setting::JetStream(value)),
                Flag::Tls => sources.settings.push(Setting::Tls(value)),
                Flag::TlsVerify => sources.settings.push(Setting::TlsVerify(value)),
                _ => {}
            }
            continue;
        }
        let Some(value) = inline_value.or_else(|| args.next()) else {
            return usage_error(format!("flag needs an argument: -{name}"));
        };
        let bad_value = || {
            usage_error(format!(
                "invalid value {value:?} for flag -{name}: parse error"
            ))
        };
        let setting = match flag {
            Flag::Host => Setting::Host(value.clone()),
            Flag::Port => match parse_port(&value, natrium_server::options::DEFAULT_PORT) {
                Some(port) => Setting::Port(port),
                None => return bad_value(),
            },
            Flag::HttpPort | Flag::HttpsPort => match parse_port(&value, 8222) {
                // 0 is the flag's default in nats-server: no monitoring from the command
                // line, and whatever the config file says stays.
                _ if value.parse::<i32>() == Ok(0) => continue,
                Some(port) if flag == Flag::HttpPort => Setting::HttpPort(port),
                Some(port) => Setting::HttpsPort(port),
                None => return bad_value(),
            },
            Flag::Name => Setting::ServerName(value.clone()),
            Flag::PidFile => Setting::PidFile(PathBuf::from(&value)),
            Flag::ClientAdvertise => Setting::ClientAdvertise(value.clone()),
            Flag::LogFile => Setting::LogFile(PathBuf::from(&value)),
            Flag::StoreDir => Setting::StoreDir(value.clone()),
            Flag::User => Setting::User(value.clone()),
            Flag::Pass => Setting::Pass(Secret::new(&value)),
            Flag::Auth => Setting::Auth(Secret::new(&value)),
            Flag::TlsCert => Setting::TlsCert(PathBuf::from(&value)),
            Flag::TlsKey => Setting::TlsKey(PathBuf::from(&value)),
            Flag::TlsCaCert => Setting::TlsCaCert(PathBuf::from(&value)),
            Flag::Config => {
                sources.config_file = Some(PathBuf::from(&value));
                continue;
            }
            Flag::Signal => {
                signal = Some(value.clone());
                continue;
            }
            _ => continue,
        };
        sources.settings.push(setting);
    }
    if show_help {
        return Command::Help;
    }
    if show_version {
        return Command::Version;
    }
    match positional.as_deref() {
        None => {}
        Some(word) if word.eq_ignore_ascii_case("version") => return Command::Version,
        Some(word) if word.eq_ignore_ascii_case("help") => return Command::Help,
        Some(word) => {
            return Command::Fail {
                message: format!("natrium: unrecognized command: {word:?}"),
                code: 1,
                usage: false,
            }
        }
    }
    if let Some(signal) = signal {
        let (command, target) = match signal.split_once('=') {
            Some((command, target)) => (command.to_string(), Some(target.to_string())),
            None => (signal, None),
        };
        return Command::Signal {
            command,
            target,
            sources,
        };
    }
    if check_config {
        if sources.config_file.is_none() {
            return Command::Fail {
                message:
                    "natrium: must specify [-c, --config] option to check configuration file syntax"
                        .into(),
                code: 1,
                usage: false,
            };
        }
        return Command::CheckConfig(sources);
    }
    Command::Run(sources)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Command {
        parse(args.iter().map(|s| s.to_string()))
    }

    fn options(args: &[&str]) -> Options {
        match run(args) {
            Command::Run(sources) => sources.load().expect("options"),
            other => panic!("{args:?} gave {other:?}"),
        }
        .0
    }

    fn failure(args: &[&str]) -> (String, u8) {
        match run(args) {
            Command::Fail { message, code, .. } => (message, code),
            other => panic!("{args:?} gave {other:?}"),
        }
    }

    #[test]
    fn flag_spellings_follow_go() {
        for args in [
            &["-p", "5222"][..],
            &["--port", "5222"],
            &["-p=5222"],
            &["--port=5222"],
        ] {
            assert_eq!(options(args).port, ListenPort::Fixed(5222), "{args:?}");
        }
        assert_eq!(options(&["-p", "-1"]).port, ListenPort::Random);
        let o = options(&["-a", "127.0.0.1", "--server_name", "x", "-DV", "-T=false"]);
        assert_eq!(
            (o.host.as_str(), o.server_name.as_str()),
            ("127.0.0.1", "x")
        );
        assert!(o.debug && o.trace && !o.logtime);
        assert!(options(&["-D"]).debug && !options(&["-D"]).trace);
        assert!(options(&["--trace"]).trace);
        assert_eq!(
            options(&["-P", "/tmp/n.pid"]).pid_file,
            Some(PathBuf::from("/tmp/n.pid"))
        );
    }

    #[test]
    fn errors_match_nats_server() {
        assert_eq!(
            failure(&["-bogus"]),
            ("flag provided but not defined: -bogus".into(), 0)
        );
        assert_eq!(failure(&["-p"]), ("flag needs an argument: -p".into(), 0));
        assert_eq!(
            failure(&["-p", "abc"]).0,
            "invalid value \"abc\" for flag -p: parse error"
        );
        assert_eq!(failure(&["---v"]).0, "bad flag syntax: ---v");
        assert_eq!(
            failure(&["-D", "false"]),
            ("natrium: unrecognized command: \"false\"".into(), 1)
        );
        assert!(matches!(run(&["-v"]), Command::Version));
        assert!(matches!(run(&["version"]), Command::Version));
        assert!(matches!(run(&["--help"]), Command::Help));
        assert_eq!(
            failure(&["-t"]).0,
            "natrium: must specify [-c, --config] option to check configuration file syntax"
        );
    }

    #[test]
    fn config_check_and_signal_commands() {
        assert!(
            matches!(run(&["-t", "-c", "x.conf"]), Command::CheckConfig(s) if s.config_file.is_some())
        );
        match run(&["--signal", "reload=/run/n.pid"]) {
            Command::Signal {
                command, target, ..
            } => {
                assert_eq!(
                    (command.as_str(), target.as_deref()),
                    ("reload", Some("/run/n.pid"))
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            options(&["-m", "8222"]).http_port,
            Some(ListenPort::Fixed(8222))
        );
        assert_eq!(options(&["-m", "-1"]).http_port, Some(ListenPort::Random));
        // As in nats-server, 0 leaves monitoring off.
        assert_eq!(options(&["-m", "0"]).http_port, None);
        assert_eq!(options(&["--https_port=0"]).https_port, None);
    }
}
