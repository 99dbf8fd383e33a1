//! What the accept loop does when `accept` fails (out of file descriptors,
//! most often): it pauses, longer while the failures go on, and logs the
//! first failure and then a summary at most every few seconds, not one line
//! per attempt.

use std::io;
use std::time::Duration;

use tokio::time::Instant;

/// The first pause after a failed accept.
const FIRST_PAUSE: Duration = Duration::from_millis(10);
/// The longest pause: the listener is retried at least this often.
const LONGEST_PAUSE: Duration = Duration::from_secs(1);
/// The shortest interval between two log lines about failed accepts.
const LOG_INTERVAL: Duration = Duration::from_secs(10);

/// Failed accepts since the last successful one.
#[derive(Debug, Default)]
pub(crate) struct AcceptFailures {
    /// Failures in a row (0: the last accept succeeded).
    in_a_row: u32,
    /// Failures not yet reported in a log line.
    unreported: u64,
    /// When a failure was last logged.
    last_logged: Option<Instant>,
}

impl AcceptFailures {
    /// Records a failure; returns how long to pause before accepting again.
    pub(crate) fn failed(&mut self, error: &io::Error) -> Duration {
        self.in_a_row = self.in_a_row.saturating_add(1);
        self.unreported += 1;
        let now = Instant::now();
        let due = self
            .last_logged
            .is_none_or(|logged| now.duration_since(logged) >= LOG_INTERVAL);
        if due {
            tracing::warn!(
                %error,
                failures = self.unreported,
                "accept failed; new connections wait until it succeeds again"
            );
            self.unreported = 0;
            self.last_logged = Some(now);
        }
        Self::pause_after(self.in_a_row)
    }

    /// Records a successful accept, reporting failures not yet logged.
    pub(crate) fn recovered(&mut self) {
        if self.in_a_row == 0 {
            return;
        }
        tracing::info!(
            failures = self.unreported,
            "accepting connections again after failed accepts"
        );
        *self = Self::default();
    }

    /// The pause after `in_a_row` failures: doubling from [`FIRST_PAUSE`] up
    /// to [`LONGEST_PAUSE`].
    fn pause_after(in_a_row: u32) -> Duration {
        let doublings = in_a_row.saturating_sub(1).min(16);
        FIRST_PAUSE
            .saturating_mul(1 << doublings)
            .min(LONGEST_PAUSE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn too_many_files() -> io::Error {
        io::Error::from_raw_os_error(24)
    }

    #[test]
    fn pauses_double_up_to_a_second() {
        let pauses: Vec<u128> = (1..=9)
            .map(|n| AcceptFailures::pause_after(n).as_millis())
            .collect();
        assert_eq!(pauses, [10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
        assert_eq!(AcceptFailures::pause_after(u32::MAX), LONGEST_PAUSE);
    }

    #[tokio::test(start_paused = true)]
    async fn logs_once_per_interval_and_resets_on_success() {
        let mut failures = AcceptFailures::default();
        failures.failed(&too_many_files());
        let first_logged = failures.last_logged;
        assert!(first_logged.is_some());
        for _ in 0..100 {
            failures.failed(&too_many_files());
        }
        assert_eq!(failures.last_logged, first_logged, "not logged again yet");
        assert_eq!(failures.unreported, 100);
        tokio::time::advance(LOG_INTERVAL).await;
        failures.failed(&too_many_files());
        assert_eq!(failures.unreported, 0, "the summary reported them");
        failures.recovered();
        assert_eq!(failures.in_a_row, 0);
        assert_eq!(
            failures.failed(&too_many_files()),
            FIRST_PAUSE,
            "a new run of failures starts with the shortest pause"
        );
    }
}
