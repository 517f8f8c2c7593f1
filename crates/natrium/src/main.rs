//! `natrium`: parse the command line, set up logging, and run the server until a signal.

mod cli;

use cli::Command;
use natrium_server::{log, Options, Server};
use std::process::ExitCode;
use tracing::{debug, error};

fn main() -> ExitCode {
    let options = match cli::parse(std::env::args().skip(1)) {
        Command::Run(options) => options,
        Command::Version => {
            println!("natrium: v{}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Command::Help => {
            println!("{}", cli::USAGE);
            return ExitCode::SUCCESS;
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
            return ExitCode::from(code);
        }
    };
    if let Err(e) = log::init(
        options.debug,
        options.trace,
        options.logtime,
        options.log_file.as_deref(),
    ) {
        eprintln!("natrium: cannot open log file: {e}");
        return ExitCode::FAILURE;
    }
    match run(*options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            error!("{message}");
            eprintln!("natrium: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(options: Options) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let pid_file = options.pid_file.clone();
    if let Some(path) = &pid_file {
        std::fs::write(path, std::process::id().to_string())
            .map_err(|e| format!("could not write pidfile: {e}"))?;
    }
    let result = runtime.block_on(async {
        let server = Server::bind(options).await.map_err(|e| e.to_string())?;
        server.run(shutdown_signal()).await;
        Ok(())
    });
    if let Some(path) = &pid_file {
        let _ = std::fs::remove_file(path);
    }
    result
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut interrupt), Ok(mut terminate)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        error!("cannot install signal handlers");
        return std::future::pending().await;
    };
    let name = tokio::select! {
        _ = interrupt.recv() => "interrupt",
        _ = terminate.recv() => "terminated",
    };
    debug!("Trapped {name:?} signal");
}
