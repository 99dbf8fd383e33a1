//! The run phase and the counters every scenario keeps: connections opened,
//! failed and broken, unexpected replies; failures are printed a few times
//! each.

use std::io;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize};
use std::time::{Duration, Instant};

/// Run phases.
// 0: connecting.
pub(crate) const WARMUP: u8 = 1;
pub(crate) const MEASURE: u8 = 2;
pub(crate) const STOP: u8 = 3;

/// Failures printed at most this many times each.
const SHOW_FAILURES: usize = 5;

/// Counters every scenario has.
#[derive(Debug, Default)]
pub(crate) struct Common {
    pub(crate) phase: AtomicU8,
    pub(crate) ready: AtomicUsize,
    pub(crate) failed: AtomicUsize,
    /// Connections the server closed (or that broke) before the end.
    pub(crate) broken: AtomicUsize,
    /// Replies that were not what was expected.
    pub(crate) wrong: AtomicU64,
    /// Messages of other kinds than expected.
    pub(crate) other: AtomicU64,
    shown: AtomicUsize,
}

impl Common {
    pub(crate) fn phase(&self) -> u8 {
        self.phase.load(Relaxed)
    }

    pub(crate) fn show(&self, what: std::fmt::Arguments<'_>) {
        if self.shown.fetch_add(1, Relaxed) < SHOW_FAILURES {
            eprintln!("loadgen: {what}");
        }
    }

    pub(crate) fn connect_failed(&self, index: usize, error: &io::Error) {
        self.failed.fetch_add(1, Relaxed);
        self.show(format_args!("connection {index} failed to open: {error}"));
    }

    pub(crate) fn broke(&self, index: usize, why: std::fmt::Arguments<'_>) {
        if self.phase() < STOP {
            self.broken.fetch_add(1, Relaxed);
            self.show(format_args!("connection {index} ended early: {why}"));
        }
    }

    /// Waits until every connection opened or failed; prints progress.
    pub(crate) async fn wait_connected(&self, total: usize) -> Duration {
        let start = Instant::now();
        let mut last_print = Instant::now();
        loop {
            let (ready, failed) = (self.ready.load(Relaxed), self.failed.load(Relaxed));
            if ready + failed >= total {
                return start.elapsed();
            }
            if last_print.elapsed() >= Duration::from_secs(5) {
                last_print = Instant::now();
                eprintln!("loadgen: {ready}/{total} connected, {failed} failed");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}
