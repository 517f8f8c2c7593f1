//! The process's memory and CPU use, read from `/proc/self` on Linux (elsewhere: zeros),
//! as `/varz` and `/metrics` report them.

use parking_lot::Mutex;
use std::time::Instant;

/// Clock ticks per second in `/proc/<pid>/stat` (`_SC_CLK_TCK`; nats-server assumes 100 too).
pub const CLOCK_TICKS_PER_SECOND: u64 = 100;

/// One reading of the process's resource use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProcessUsage {
    /// Resident memory in bytes.
    pub resident_bytes: u64,
    /// User plus system CPU time, in clock ticks.
    pub cpu_ticks: u64,
}

impl ProcessUsage {
    /// Reads `/proc/self/stat` and `/proc/self/status`; zeros where they cannot be read.
    pub fn read() -> ProcessUsage {
        let cpu_ticks = std::fs::read_to_string("/proc/self/stat")
            .ok()
            .and_then(|stat| cpu_ticks_from_stat(&stat))
            .unwrap_or(0);
        let resident_bytes = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|status| resident_bytes_from_status(&status))
            .unwrap_or(0);
        ProcessUsage {
            resident_bytes,
            cpu_ticks,
        }
    }

    /// CPU time in seconds.
    pub fn cpu_seconds(&self) -> f64 {
        self.cpu_ticks as f64 / CLOCK_TICKS_PER_SECOND as f64
    }
}

/// `utime + stime` from a `/proc/<pid>/stat` line. Fields are counted after the command
/// name's closing parenthesis, since the name itself may hold spaces.
pub fn cpu_ticks_from_stat(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace();
    // After the name: state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
    // cmajflt utime(14) stime(15), numbered as in proc(5).
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// `VmRSS` from `/proc/<pid>/status`, in bytes.
pub fn resident_bytes_from_status(status: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// CPU use as a percentage of one core, averaged over windows of at least a second
/// (nats-server samples once a second the same way).
pub struct CpuSampler {
    last: Mutex<CpuSample>,
}

struct CpuSample {
    at: Instant,
    cpu_ticks: u64,
    percent: f64,
}

/// The shortest window a CPU percentage is computed over.
const CPU_WINDOW_SECONDS_MIN: f64 = 1.0;

impl CpuSampler {
    /// Starts measuring from `at`, when the process had used `cpu_ticks`.
    pub fn new(at: Instant, cpu_ticks: u64) -> Self {
        CpuSampler {
            last: Mutex::new(CpuSample {
                at,
                cpu_ticks,
                percent: 0.0,
            }),
        }
    }

    /// The CPU percentage as of `now`, when the process had used `cpu_ticks`; the
    /// previous figure while less than a second has passed since the last one.
    pub fn percent(&self, now: Instant, cpu_ticks: u64) -> f64 {
        let mut last = self.last.lock();
        let elapsed = now.saturating_duration_since(last.at).as_secs_f64();
        if elapsed >= CPU_WINDOW_SECONDS_MIN {
            let used = cpu_ticks.saturating_sub(last.cpu_ticks) as f64;
            let percent = used / CLOCK_TICKS_PER_SECOND as f64 / elapsed * 100.0;
            // One decimal, as nats-server reports it.
            last.percent = (percent * 10.0).round() / 10.0;
            last.at = now;
            last.cpu_ticks = cpu_ticks;
        }
        last.percent
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn parses_proc_files() {
        let stat = "4242 (nat (x) rium) S 1 4242 4242 0 -1 4194560 1077 0 0 0 37 12 0 0 20 0 3 0 \
                    12345 123456789 2970 18446744073709551615";
        assert_eq!(cpu_ticks_from_stat(stat), Some(49));
        assert_eq!(cpu_ticks_from_stat("garbage"), None);
        let status = "Name:\tnatrium\nVmPeak:\t  10 kB\nVmRSS:\t   11880 kB\nThreads:\t3\n";
        assert_eq!(resident_bytes_from_status(status), Some(11880 * 1024));
        assert_eq!(resident_bytes_from_status("Name: x\n"), None);
    }

    #[test]
    fn cpu_percent_is_over_a_window() {
        let start = Instant::now();
        let sampler = CpuSampler::new(start, 100);
        assert_eq!(
            sampler.percent(start + Duration::from_millis(500), 150),
            0.0
        );
        assert_eq!(sampler.percent(start + Duration::from_secs(2), 200), 50.0);
        assert_eq!(
            sampler.percent(start + Duration::from_millis(2500), 999),
            50.0
        );
    }

    #[test]
    fn reads_this_process() {
        if cfg!(target_os = "linux") {
            assert!(ProcessUsage::read().resident_bytes > 0);
        }
    }
}
