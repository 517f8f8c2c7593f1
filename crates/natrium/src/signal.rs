//! `--signal`: find a running server and send it the signal for a command, as nats-server's
//! `-sl` does.

use std::path::Path;

/// The signal nats-server sends for each `--signal` command.
fn signal_for(command: &str) -> Option<libc::c_int> {
    Some(match command {
        "stop" => libc::SIGKILL,
        "quit" => libc::SIGINT,
        "term" => libc::SIGTERM,
        "reopen" => libc::SIGUSR1,
        "reload" => libc::SIGHUP,
        "ldm" => libc::SIGUSR2,
        _ => return None,
    })
}

/// Resolves the target (a PID, a PID file, else `pid_file`, else the one running natrium)
/// and sends the signal for `command`.
pub fn send(command: &str, target: Option<&str>, pid_file: Option<&Path>) -> Result<(), String> {
    let signal = signal_for(command).ok_or_else(|| format!("unknown signal {command:?}"))?;
    let pid = match target {
        Some(target) => match target.parse::<i32>() {
            Ok(pid) => pid,
            Err(_) => read_pid_file(Path::new(target))?,
        },
        None => match pid_file {
            Some(path) => read_pid_file(path)?,
            None => find_single_server()?,
        },
    };
    // SAFETY: kill(2) takes plain integers and has no memory effects in this process.
    let result = unsafe { libc::kill(pid, signal) };
    if result != 0 {
        return Err(format!(
            "failed to signal process {pid}: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

fn read_pid_file(path: &Path) -> Result<i32, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("could not read pid file {}: {e}", path.display()))?;
    text.trim()
        .parse()
        .map_err(|_| format!("invalid pid: {}", text.trim()))
}

/// The PID of the only other process named `natrium`, like nats-server's `pgrep` lookup.
fn find_single_server() -> Result<i32, String> {
    let own = std::process::id() as i32;
    let mut found = Vec::new();
    let entries = std::fs::read_dir("/proc").map_err(|e| format!("cannot list processes: {e}"))?;
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let is_natrium = std::fs::read_to_string(entry.path().join("comm"))
            .is_ok_and(|comm| comm.trim() == "natrium");
        if is_natrium && pid != own {
            found.push(pid);
        }
    }
    match found.as_slice() {
        [] => Err("no natrium processes running".to_string()),
        [pid] => Ok(*pid),
        many => Err(format!(
            "multiple natrium processes running:\n{}",
            many.iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_map_to_nats_server_signals() {
        assert_eq!(signal_for("reload"), Some(libc::SIGHUP));
        assert_eq!(signal_for("ldm"), Some(libc::SIGUSR2));
        assert_eq!(signal_for("reopen"), Some(libc::SIGUSR1));
        assert_eq!(signal_for("bogus"), None);
        assert_eq!(
            send("bogus", Some("1"), None),
            Err("unknown signal \"bogus\"".into())
        );
    }
}
