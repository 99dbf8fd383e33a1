//! What the streams backplane counts, also exported as metrics
//! (`signalr_backplane_*{hub}`, through the `metrics` facade).

use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of one backplane (streams mode; pub/sub counts in
/// `hub_core::ClusterStats` only).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RedisStats {
    /// Messages waiting in the local queue now (Redis away or slow).
    pub queued: u64,
    /// Messages written to the stream.
    pub written: u64,
    /// Messages refused because the local queue was full (lost for the
    /// other nodes; the hub counts them in `ClusterStats::lost` too).
    pub refused: u64,
    /// Writes that failed and were retried (a batch counts once per attempt).
    pub retries: u64,
    /// Entries read twice (a write retried after Redis had applied it, or a
    /// read repeated after a reconnection) and dropped.
    pub duplicates: u64,
    /// Messages of other nodes known to be missing: a node's sequence
    /// numbers skipped them (Redis lost or trimmed them, or the sender's
    /// queue refused them).
    pub missed: u64,
    /// Times Redis was found to have lost the stream (its epoch key gone or
    /// changed: restarted without persistence, flushed, failed over to a
    /// replica that had not replicated it).
    pub stream_resets: u64,
}

/// The live counters behind [`RedisStats`].
#[derive(Debug)]
pub(crate) struct Counters {
    hub: String,
    queued: AtomicU64,
    written: AtomicU64,
    refused: AtomicU64,
    retries: AtomicU64,
    duplicates: AtomicU64,
    missed: AtomicU64,
    stream_resets: AtomicU64,
}

impl Counters {
    pub(crate) fn new(hub: &str) -> Self {
        Self {
            hub: hub.to_owned(),
            queued: AtomicU64::new(0),
            written: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            missed: AtomicU64::new(0),
            stream_resets: AtomicU64::new(0),
        }
    }

    pub(crate) fn snapshot(&self) -> RedisStats {
        RedisStats {
            queued: self.queued.load(Ordering::Relaxed),
            written: self.written.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            duplicates: self.duplicates.load(Ordering::Relaxed),
            missed: self.missed.load(Ordering::Relaxed),
            stream_resets: self.stream_resets.load(Ordering::Relaxed),
        }
    }

    fn count(&self, counter: &AtomicU64, metric: &'static str, n: u64) {
        if n > 0 {
            counter.fetch_add(n, Ordering::Relaxed);
            metrics::counter!(metric, "hub" => self.hub.clone()).increment(n);
        }
    }

    pub(crate) fn set_queued(&self, n: usize) {
        self.queued.store(n as u64, Ordering::Relaxed);
        metrics::gauge!("signalr_backplane_queued", "hub" => self.hub.clone()).set(n as f64);
    }

    pub(crate) fn written(&self, n: u64) {
        self.count(&self.written, "signalr_backplane_written_total", n);
    }

    pub(crate) fn refused(&self) {
        self.count(&self.refused, "signalr_backplane_refused_total", 1);
    }

    pub(crate) fn retried(&self) {
        self.count(&self.retries, "signalr_backplane_retries_total", 1);
    }

    pub(crate) fn duplicates(&self, n: u64) {
        self.count(&self.duplicates, "signalr_backplane_duplicates_total", n);
    }

    pub(crate) fn missed(&self, n: u64) {
        self.count(&self.missed, "signalr_backplane_missed_total", n);
    }

    pub(crate) fn stream_reset(&self) {
        self.count(
            &self.stream_resets,
            "signalr_backplane_stream_resets_total",
            1,
        );
    }
}
