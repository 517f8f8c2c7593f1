//! Log lines in nats-server's format: `[pid] 2006/01/02 15:04:05.000000 [INF] message`.

use natrium_gofmt::CalendarTime;
use parking_lot::Mutex;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{reload, Registry};

/// Formats events as nats-server formats its log lines.
pub struct NatsFormat {
    pid: u32,
    logtime: Arc<AtomicBool>,
}

fn level_label(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "[ERR]",
        Level::WARN => "[WRN]",
        Level::INFO => "[INF]",
        Level::DEBUG => "[DBG]",
        Level::TRACE => "[TRC]",
    }
}

/// Writes `2006/01/02 15:04:05.000000` for `time` in UTC.
fn write_timestamp(out: &mut Writer<'_>, time: SystemTime) -> fmt::Result {
    let t = CalendarTime::from_system_time(time);
    write!(
        out,
        "{:04}/{:02}/{:02} {:02}:{:02}:{:02}.{:06}",
        t.year,
        t.month,
        t.day,
        t.hour,
        t.minute,
        t.second,
        t.nanos / 1000
    )
}

impl<S, N> FormatEvent<S, N> for NatsFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        write!(writer, "[{}] ", self.pid)?;
        if self.logtime.load(Ordering::Relaxed) {
            write_timestamp(&mut writer, SystemTime::now())?;
            writer.write_char(' ')?;
        }
        write!(writer, "{} ", level_label(event.metadata().level()))?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// What the log looks like and where it goes; all of it can change on reload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSettings {
    /// Log debug lines (`-D`).
    pub debug: bool,
    /// Log protocol traces (`-V`).
    pub trace: bool,
    /// Prefix lines with the time (`-T`).
    pub logtime: bool,
    /// Log to this file instead of standard error (`-l`).
    pub file: Option<PathBuf>,
    /// Rotate the file when it passes this many bytes; 0 means never.
    pub size_limit_bytes: u64,
}

impl LogSettings {
    /// The logging part of `options`.
    pub fn from_options(options: &crate::Options) -> Self {
        LogSettings {
            debug: options.debug,
            trace: options.trace,
            logtime: options.logtime,
            file: options.log_file.clone(),
            size_limit_bytes: options.log_size_limit,
        }
    }

    fn level(&self) -> LevelFilter {
        if self.trace {
            LevelFilter::TRACE
        } else if self.debug {
            LevelFilter::DEBUG
        } else {
            LevelFilter::INFO
        }
    }
}

/// Where log lines go.
enum Sink {
    Stderr,
    File {
        path: PathBuf,
        file: File,
        written_bytes: u64,
        size_limit_bytes: u64,
    },
}

impl Sink {
    fn open(settings: &LogSettings) -> io::Result<Sink> {
        match &settings.file {
            None => Ok(Sink::Stderr),
            Some(path) => {
                let file = OpenOptions::new().create(true).append(true).open(path)?;
                let written_bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
                Ok(Sink::File {
                    path: path.clone(),
                    file,
                    written_bytes,
                    size_limit_bytes: settings.size_limit_bytes,
                })
            }
        }
    }

    fn write_line(&mut self, line: &[u8]) -> io::Result<()> {
        match self {
            Sink::Stderr => io::stderr().write_all(line),
            Sink::File {
                path,
                file,
                written_bytes,
                size_limit_bytes,
            } => {
                if *size_limit_bytes > 0
                    && *written_bytes + line.len() as u64 > *size_limit_bytes
                    && *written_bytes > 0
                {
                    // Rotate as nats-server does: keep the full file under a timestamped name.
                    let backup = rotated_name(path, SystemTime::now());
                    std::fs::rename(&*path, &backup)?;
                    *file = OpenOptions::new().create(true).append(true).open(&*path)?;
                    *written_bytes = 0;
                }
                file.write_all(line)?;
                *written_bytes += line.len() as u64;
                Ok(())
            }
        }
    }
}

/// `<log>.2006.01.02.15.04.05.000000000`, the backup name nats-server gives a rotated log.
fn rotated_name(path: &Path, time: SystemTime) -> PathBuf {
    let t = CalendarTime::from_system_time(time);
    let mut name = path.as_os_str().to_owned();
    name.push(format!(
        ".{:04}.{:02}.{:02}.{:02}.{:02}.{:02}.{:09}",
        t.year, t.month, t.day, t.hour, t.minute, t.second, t.nanos
    ));
    PathBuf::from(name)
}

/// A handle on the sink for the fmt layer; each event arrives as one whole line.
#[derive(Clone)]
struct SinkWriter(Arc<Mutex<Sink>>);

impl Write for SinkWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().write_line(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for SinkWriter {
    type Writer = SinkWriter;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// The live logger's switches.
struct LogControl {
    level: reload::Handle<LevelFilter, Registry>,
    logtime: Arc<AtomicBool>,
    sink: Arc<Mutex<Sink>>,
    settings: Mutex<LogSettings>,
}

static CONTROL: OnceLock<LogControl> = OnceLock::new();

/// Installs the global logger. A second call (tests embedding servers) changes nothing.
pub fn init(settings: &LogSettings) -> io::Result<()> {
    let sink = Arc::new(Mutex::new(Sink::open(settings)?));
    let logtime = Arc::new(AtomicBool::new(settings.logtime));
    let (level_layer, level) = reload::Layer::new(settings.level());
    let format = NatsFormat {
        pid: std::process::id(),
        logtime: Arc::clone(&logtime),
    };
    let fmt_layer = tracing_subscriber::fmt::layer()
        .event_format(format)
        .with_writer(SinkWriter(Arc::clone(&sink)));
    if tracing_subscriber::registry()
        .with(level_layer)
        .with(fmt_layer)
        .try_init()
        .is_ok()
    {
        let _ = CONTROL.set(LogControl {
            level,
            logtime,
            sink,
            settings: Mutex::new(settings.clone()),
        });
    }
    Ok(())
}

/// Applies new settings to the running logger (config reload).
pub fn reconfigure(settings: &LogSettings) -> io::Result<()> {
    let Some(control) = CONTROL.get() else {
        return Ok(());
    };
    let mut current = control.settings.lock();
    if current.file != settings.file || current.size_limit_bytes != settings.size_limit_bytes {
        *control.sink.lock() = Sink::open(settings)?;
    }
    control.logtime.store(settings.logtime, Ordering::Relaxed);
    control
        .level
        .modify(|level| *level = settings.level())
        .map_err(io::Error::other)?;
    *current = settings.clone();
    Ok(())
}

/// Closes and reopens the log file (after an external rotation, on SIGUSR1).
pub fn reopen() -> io::Result<()> {
    let Some(control) = CONTROL.get() else {
        return Ok(());
    };
    let settings = control.settings.lock().clone();
    *control.sink.lock() = Sink::open(&settings)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::rotated_name;
    use std::path::Path;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn rotated_files_are_named_like_nats_server_backups() {
        let time = UNIX_EPOCH + Duration::new(1_764_165_000, 123_456_789);
        assert_eq!(
            rotated_name(Path::new("/var/log/nats.log"), time),
            Path::new("/var/log/nats.log.2025.11.26.13.50.00.123456789")
        );
    }
}
