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

/// CPU seconds of this process and of an optional other one, taken together.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuSnapshot {
    /// When the snapshot was taken.
    pub at: Option<std::time::Instant>,
    /// This process's CPU seconds.
    pub own: f64,
    /// The other process's CPU seconds, if it was given and readable.
    pub other: Option<f64>,
}

impl CpuSnapshot {
    /// Reads both counters now.
    pub fn take(other: Option<u32>) -> Self {
        Self {
            at: Some(std::time::Instant::now()),
            own: cpu_seconds(None).unwrap_or(0.0),
            other: other.and_then(|pid| cpu_seconds(Some(pid))),
        }
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
    }
}
