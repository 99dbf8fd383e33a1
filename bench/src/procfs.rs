//! What `/proc` tells about a process: CPU time and resident memory.

/// Clock ticks per second of `/proc/*/stat` (USER_HZ, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

fn proc_path(pid: Option<u32>, file: &str) -> String {
    match pid {
        Some(pid) => format!("/proc/{pid}/{file}"),
        None => format!("/proc/self/{file}"),
    }
}

/// User plus system CPU seconds used so far by `pid` (all its threads), or by
/// this process when `pid` is `None`. Resolution: 10 ms.
pub fn cpu_seconds(pid: Option<u32>) -> Option<f64> {
    let stat = std::fs::read_to_string(proc_path(pid, "stat")).ok()?;
    // Fields after the command name (which may hold spaces) in parentheses:
    // state is field 3, utime 14, stime 15.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime + stime) as f64 / TICKS_PER_SECOND)
}

/// `VmRSS` of `pid` (or this process) in KiB.
pub fn vm_rss_kib(pid: Option<u32>) -> Option<u64> {
    let status = std::fs::read_to_string(proc_path(pid, "status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Seconds the threads of `pid` (or this process) spent runnable but waiting
/// for a CPU (run-queue delay, summed over `/proc/PID/task/*/schedstat`): how
/// much other work on the same cores held them back.
pub fn run_queue_seconds(pid: Option<u32>) -> Option<f64> {
    let tasks = std::fs::read_dir(proc_path(pid, "task")).ok()?;
    let mut nanos = 0u64;
    for task in tasks.flatten() {
        let Ok(schedstat) = std::fs::read_to_string(task.path().join("schedstat")) else {
            continue;
        };
        nanos += schedstat
            .split_whitespace()
            .nth(1)
            .and_then(|field| field.parse::<u64>().ok())
            .unwrap_or(0);
    }
    Some(nanos as f64 / 1e9)
}

/// CPU seconds of this process and of an optional other one, taken together.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuSnapshot {
    /// When the snapshot was taken.
    pub at: Option<std::time::Instant>,
    /// This process's CPU seconds.
    pub own: f64,
    /// The other process's CPU seconds, if it was given and readable.
    pub other: Option<f64>,
    /// This process's run-queue seconds.
    pub own_wait: f64,
    /// The other process's run-queue seconds.
    pub other_wait: Option<f64>,
}

impl CpuSnapshot {
    /// Reads both counters now.
    pub fn take(other: Option<u32>) -> Self {
        Self {
            at: Some(std::time::Instant::now()),
            own: cpu_seconds(None).unwrap_or(0.0),
            other: other.and_then(|pid| cpu_seconds(Some(pid))),
            own_wait: run_queue_seconds(None).unwrap_or(0.0),
            other_wait: other.and_then(|pid| run_queue_seconds(Some(pid))),
        }
    }

    /// Run-queue waits between `self` and `later`, per second of wall time:
    /// (own, other).
    pub fn waits_until(&self, later: &Self) -> (f64, Option<f64>) {
        let wall = match (self.at, later.at) {
            (Some(start), Some(end)) => (end - start).as_secs_f64().max(1e-9),
            _ => return (0.0, None),
        };
        let own = (later.own_wait - self.own_wait) / wall;
        let other = match (self.other_wait, later.other_wait) {
            (Some(start), Some(end)) => Some((end - start) / wall),
            _ => None,
        };
        (own, other)
    }

    /// Cores used between `self` and `later`: (own, other).
    pub fn cores_until(&self, later: &Self) -> (f64, Option<f64>) {
        let wall = match (self.at, later.at) {
            (Some(start), Some(end)) => (end - start).as_secs_f64().max(1e-9),
            _ => return (0.0, None),
        };
        let own = (later.own - self.own) / wall;
        let other = match (self.other, later.other) {
            (Some(start), Some(end)) => Some((end - start) / wall),
            _ => None,
        };
        (own, other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_process() {
        assert!(cpu_seconds(None).is_some());
        assert!(vm_rss_kib(None).unwrap() > 0);
        let pid = std::process::id();
        assert!(vm_rss_kib(Some(pid)).is_some());
        assert!(run_queue_seconds(None).is_some());
    }
}
