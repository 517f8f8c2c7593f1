//! `natrium`: parse the command line, load the options, set up logging, and run the server;
//! then turn signals into reloads, log reopens, lame duck mode and shutdown.

mod cli;
mod signal;

use cli::{Command, OptionSources};
use natrium_server::log::{self, LogSettings};
use natrium_server::{Options, Server, ServerHandle};
use std::process::ExitCode;
use tracing::{debug, error, warn};

fn main() -> ExitCode {
    match cli::parse(std::env::args().skip(1)) {
        Command::Run(sources) => run(sources),
        Command::CheckConfig(sources) => match sources.load() {
            Ok(_) => {
                let file = sources.config_file.unwrap_or_default();
                eprintln!("natrium: configuration file {} is valid", file.display());
                ExitCode::SUCCESS
            }
            Err(message) => fail(&message),
        },
        Command::Signal {
            command,
            target,
            sources,
        } => {
            let pid_file = sources
                .load()
                .ok()
                .and_then(|(options, _)| options.pid_file);
            match signal::send(&command, target.as_deref(), pid_file.as_deref()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(message) => fail(&message),
            }
        }
        Command::Version => {
            println!("natrium: v{}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Command::Help => {
            println!("{}", cli::USAGE);
            ExitCode::SUCCESS
        }
        Command::Fail {
            message,
            code,
            usage,
        } => {
            eprintln!("{message}");
            if usage {
                println!("{}", cli::USAGE);
            }
            ExitCode::from(code)
        }
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("natrium: {message}");
    ExitCode::FAILURE
}

fn run(sources: OptionSources) -> ExitCode {
    let (options, warnings) = match sources.load() {
        Ok(loaded) => loaded,
        Err(message) => return fail(&message),
    };
    if let Err(e) = log::init(&LogSettings::from_options(&options)) {
        return fail(&format!("cannot open log file: {e}"));
    }
    for warning in warnings {
        warn!("{warning}");
    }
    match serve(options, sources) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            error!("{message}");
            fail(&message)
        }
    }
}

fn serve(options: Options, sources: OptionSources) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    if let Some(path) = &options.pid_file {
        std::fs::write(path, std::process::id().to_string())
            .map_err(|e| format!("could not write pidfile: {e}"))?;
    }
    if let Some(path) = &options.config_file {
        tracing::info!("Using configuration file: {}", path.display());
    }
    let result = runtime.block_on(async {
        let server = Server::bind(options).await.map_err(|e| e.to_string())?;
        let handle = server.handle();
        let signals = tokio::spawn(handle_signals(handle.clone(), sources));
        server.run().await;
        signals.abort();
        if let Some(path) = &handle.options().pid_file {
            let _ = std::fs::remove_file(path);
        }
        Ok(())
    });
    // Client tasks still finishing must not hold the process open.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    result
}

/// Turns signals into server actions until shutdown: SIGHUP reloads, SIGUSR1 reopens the
/// log file, SIGUSR2 enters lame duck mode, SIGINT and SIGTERM stop the server.
async fn handle_signals(handle: ServerHandle, sources: OptionSources) {
    use tokio::signal::unix::{signal, SignalKind};
    let kinds = [
        SignalKind::hangup(),
        SignalKind::user_defined1(),
        SignalKind::user_defined2(),
        SignalKind::interrupt(),
        SignalKind::terminate(),
    ];
    let mut streams = Vec::new();
    for kind in kinds {
        match signal(kind) {
            Ok(stream) => streams.push(stream),
            Err(e) => {
                error!("cannot install signal handlers: {e}");
                return;
            }
        }
    }
    let [hangup, user1, user2, interrupt, terminate] = &mut streams[..] else {
        return;
    };
    loop {
        tokio::select! {
            _ = hangup.recv() => {
                debug!("Trapped \"hangup\" signal");
                reload(&handle, &sources);
            }
            _ = user1.recv() => {
                debug!("Trapped \"user defined signal 1\" signal");
                if let Err(e) = log::reopen() {
                    error!("Failed to reopen log file: {e}");
                }
            }
            _ = user2.recv() => {
                debug!("Trapped \"user defined signal 2\" signal");
                handle.enter_lame_duck_mode();
            }
            _ = interrupt.recv() => {
                debug!("Trapped \"interrupt\" signal");
                handle.shutdown();
                return;
            }
            _ = terminate.recv() => {
                debug!("Trapped \"terminated\" signal");
                handle.shutdown();
                return;
            }
        }
    }
}

/// Re-reads the config file and applies it; any failure leaves the running options alone.
fn reload(handle: &ServerHandle, sources: &OptionSources) {
    if sources.config_file.is_none() {
        error!("Failed to reload server configuration: can only reload config when a file is provided using -c or --config");
        return;
    }
    let result = sources.load().and_then(|(options, warnings)| {
        for warning in warnings {
            warn!("{warning}");
        }
        handle.reload(options)
    });
    if let Err(e) = result {
        error!("Failed to reload server configuration: {e}");
    }
}
