//! Measuring and printing what every scenario reports: CPU and memory from
//! `/proc`, the closing CPU lines and the `RESULT key=value ...` line.

use std::sync::atomic::Ordering::Relaxed;

use crate::procfs::{CpuSnapshot, cpu_seconds, run_queue_seconds, vm_rss_kib};

use super::Config;
use super::counters::Common;

pub(crate) fn us(nanos: u64) -> String {
    format!("{:.1}", nanos as f64 / 1000.0)
}

/// This process's CPU counters and the servers', summed over the processes
/// when `--server-pid` named several (`other` is `None` if one is unreadable).
pub(crate) fn cpu_snapshot(config: &Config) -> CpuSnapshot {
    match config.server_pids.as_slice() {
        [] => CpuSnapshot::take(None),
        &[pid] => CpuSnapshot::take(Some(pid)),
        pids => {
            let mut snapshot = CpuSnapshot::take(None);
            snapshot.other = pids.iter().map(|&pid| cpu_seconds(Some(pid))).sum();
            snapshot.other_wait = pids.iter().map(|&pid| run_queue_seconds(Some(pid))).sum();
            snapshot
        }
    }
}

/// The servers' resident memory in KiB, summed over the processes.
pub(crate) fn server_rss_kib(config: &Config) -> Option<u64> {
    if config.server_pids.is_empty() {
        return None;
    }
    config
        .server_pids
        .iter()
        .map(|&pid| vm_rss_kib(Some(pid)))
        .sum()
}

/// Prints the CPU use and the RESULT line.
pub(crate) fn finish(
    config: &Config,
    common: &Common,
    window: (&CpuSnapshot, &CpuSnapshot),
    mut pairs: Vec<(&str, String)>,
) {
    let (own, server) = window.0.cores_until(window.1);
    let (own_wait, server_wait) = window.0.waits_until(window.1);
    let saturated = own >= 0.9 * config.threads as f64;
    println!(
        "loadgen CPU: {own:.2} cores of {} (runtime threads){}",
        config.threads,
        if saturated {
            " -- SATURATED: the load generator is the bottleneck, the server's number is a lower bound"
        } else {
            ""
        }
    );
    // Several server processes may share cores on purpose: then they also
    // wait for each other, which is no sign of other work.
    let processes = config.server_pids.len();
    let (shared_cores, server_disturbed) = if processes > 1 {
        (
            format!(" ({processes} processes, summed; they also wait for each other)"),
            0.0,
        )
    } else {
        (String::new(), server_wait.unwrap_or(0.0))
    };
    if let Some(server) = server {
        println!(
            "server CPU: {server:.2} cores{}",
            if processes > 1 {
                format!(" ({processes} processes)")
            } else {
                String::new()
            }
        );
    }
    // Time runnable but not running: other work on the same core.
    println!(
        "run-queue wait per second: loadgen {own_wait:.3} s, server {}{shared_cores}{}",
        server_wait.map_or("?".to_owned(), |wait| format!("{wait:.3} s")),
        if own_wait.max(server_disturbed) > 0.05 {
            " -- DISTURBED: other work took CPU from this run"
        } else {
            ""
        }
    );
    pairs.extend([
        (
            "failed_connections",
            common.failed.load(Relaxed).to_string(),
        ),
        (
            "broken_connections",
            common.broken.load(Relaxed).to_string(),
        ),
        ("wrong", common.wrong.load(Relaxed).to_string()),
        ("other_messages", common.other.load(Relaxed).to_string()),
        ("loadgen_cpu", format!("{own:.2}")),
        (
            "loadgen_saturated",
            if saturated { "yes" } else { "no" }.to_owned(),
        ),
    ]);
    pairs.push(("loadgen_runq", format!("{own_wait:.3}")));
    if let Some(server) = server {
        pairs.push(("server_cpu", format!("{server:.2}")));
    }
    if let Some(wait) = server_wait {
        pairs.push(("server_runq", format!("{wait:.3}")));
    }
    let mut line = format!(
        "RESULT scenario={} protocol={} connections={}",
        format!("{:?}", config.scenario).to_lowercase(),
        config.target().wire.name(),
        config.connections
    );
    for (key, value) in pairs {
        line.push_str(&format!(" {key}={value}"));
    }
    println!("{line}");
}

/// Server CPU microseconds per operation over a window: less sensitive to
/// other work on the machine than operations per second.
pub(crate) fn per_op(start: &CpuSnapshot, end: &CpuSnapshot, operations: u64) -> String {
    match (start.other, end.other) {
        (Some(before), Some(after)) if operations > 0 => {
            format!("{:.2}", (after - before) * 1e6 / operations as f64)
        }
        _ => "?".to_owned(),
    }
}
