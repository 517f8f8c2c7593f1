//! Command-line flags with nats-server's names and Go's `flag` package rules:
//! `-name` and `--name` are the same, values follow as `-p 4222` or `-p=4222`, booleans
//! take only the `-D=false` form, and parsing stops at the first non-flag argument.

use natrium_server::{ListenPort, Options};
use std::path::PathBuf;

/// What the command line asks for.
#[derive(Debug)]
pub enum Command {
    /// Run a server with these options.
    Run(Box<Options>),
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
        --client_advertise <string>  Client URL to advertise to other servers
    -m, --http_port <port>           Use port for http monitoring
    -ms,--https_port <port>          Use port for https monitoring

Logging Options:
    -l, --log <file>                 File to redirect log output
    -T, --logtime                    Timestamp log entries (default: true)
    -D, --debug                      Enable debugging output
    -V, --trace                      Trace the raw protocol
    -VV                              Verbose trace (traces system account as well)
    -DV                              Debug and trace
    -DVV                             Debug and verbose trace (traces system account as well)

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
    HttpPort,
    HttpsPort,
    LogFile,
    LogTime,
    Debug,
    Trace,
    DebugTrace,
    Help,
    Version,
}

impl Flag {
    fn lookup(name: &str) -> Option<Flag> {
        Some(match name {
            "a" | "addr" | "net" => Flag::Host,
            "p" | "port" => Flag::Port,
            "n" | "name" | "server_name" => Flag::Name,
            "P" | "pid" => Flag::PidFile,
            "client_advertise" => Flag::ClientAdvertise,
            "m" | "http_port" => Flag::HttpPort,
            "ms" | "https_port" => Flag::HttpsPort,
            "l" | "log" => Flag::LogFile,
            "T" | "logtime" => Flag::LogTime,
            "D" | "debug" => Flag::Debug,
            "V" | "trace" | "VV" => Flag::Trace,
            "DV" | "DVV" => Flag::DebugTrace,
            "h" | "help" => Flag::Help,
            "v" | "version" => Flag::Version,
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

/// A monitoring port flag: 0 leaves monitoring off, -1 picks a free port (nats-server's
/// meanings); `None` if it is not a port at all.
fn monitor_port(value: &str) -> Option<Option<ListenPort>> {
    match value.parse::<i32>().ok()? {
        0 => Some(None),
        -1 => Some(Some(ListenPort::Random)),
        port if (1..=65535).contains(&port) => Some(Some(ListenPort::Fixed(port as u16))),
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

/// Parses the arguments after the program name.
pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Command {
    let mut options = Options::default();
    let mut args = args.into_iter();
    let mut show_help = false;
    let mut show_version = false;
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
                Flag::LogTime => options.logtime = value,
                Flag::Debug => options.debug = value,
                Flag::Trace => options.trace = value,
                Flag::DebugTrace => {
                    options.debug = value;
                    options.trace = value;
                }
                Flag::Help => show_help = value,
                Flag::Version => show_version = value,
                _ => {}
            }
            continue;
        }
        let Some(value) = inline_value.or_else(|| args.next()) else {
            return usage_error(format!("flag needs an argument: -{name}"));
        };
        match flag {
            Flag::Host => options.host = value,
            Flag::Port => match value.parse::<i32>() {
                Ok(-1) => options.port = ListenPort::Random,
                Ok(0) => options.port = ListenPort::Fixed(natrium_server::options::DEFAULT_PORT),
                Ok(port) if (1..=65535).contains(&port) => {
                    options.port = ListenPort::Fixed(port as u16)
                }
                _ => {
                    return usage_error(format!(
                        "invalid value {value:?} for flag -{name}: parse error"
                    ))
                }
            },
            Flag::Name => options.server_name = value,
            Flag::PidFile => options.pid_file = Some(PathBuf::from(value)),
            Flag::ClientAdvertise => options.client_advertise = value,
            Flag::HttpPort | Flag::HttpsPort => {
                let Some(port) = monitor_port(&value) else {
                    return usage_error(format!(
                        "invalid value {value:?} for flag -{name}: parse error"
                    ));
                };
                if flag == Flag::HttpPort {
                    options.http_port = port;
                } else {
                    options.https_port = port;
                }
            }
            Flag::LogFile => options.log_file = Some(PathBuf::from(value)),
            _ => {}
        }
    }
    if show_help {
        return Command::Help;
    }
    if show_version {
        return Command::Version;
    }
    match positional.as_deref() {
        None => Command::Run(Box::new(options)),
        Some(word) if word.eq_ignore_ascii_case("version") => Command::Version,
        Some(word) if word.eq_ignore_ascii_case("help") => Command::Help,
        Some(word) => Command::Fail {
            message: format!("natrium: unrecognized command: {word:?}"),
            code: 1,
            usage: false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Command {
        parse(args.iter().map(|s| s.to_string()))
    }

    fn options(args: &[&str]) -> Options {
        match run(args) {
            Command::Run(options) => *options,
            other => panic!("{args:?} gave {other:?}"),
        }
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
    fn monitoring_ports() {
        assert_eq!(
            options(&["-m", "8222"]).http_port,
            Some(ListenPort::Fixed(8222))
        );
        assert_eq!(
            options(&["--http_port=-1"]).http_port,
            Some(ListenPort::Random)
        );
        assert_eq!(options(&["-m", "0"]).http_port, None);
        assert_eq!(
            options(&["-ms", "8443"]).https_port,
            Some(ListenPort::Fixed(8443))
        );
        assert_eq!(
            failure(&["-m", "x"]).0,
            "invalid value \"x\" for flag -m: parse error"
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
    }
}
