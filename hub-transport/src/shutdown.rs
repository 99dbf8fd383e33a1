//! Graceful shutdown: the signal a server waits for, and the connection
//! tasks it waits for afterwards.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long shutdown waits for connections to say goodbye.
pub(crate) const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The tasks serving a server's connections, and the token telling them to stop.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConnectionTasks {
    /// Cancelled when the server shuts down.
    pub(crate) shutdown: CancellationToken,
    /// Every task serving a connection, awaited on shutdown.
    pub(crate) tracker: TaskTracker,
}

impl ConnectionTasks {
    /// Tells every connection to close (clients get a Close message with
    /// `allowReconnect`), then waits up to [`SHUTDOWN_GRACE`] for them.
    pub(crate) async fn shut_down(&self) {
        self.shutdown.cancel();
        self.tracker.close();
        if tokio::time::timeout(SHUTDOWN_GRACE, self.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                remaining = self.tracker.len(),
                "connections still open after the shutdown grace period"
            );
        }
    }
}

/// Resolves on Ctrl-C, or on SIGTERM on Unix: what [`Server::run_until_signal`](crate::Server::run_until_signal)
/// waits for, for servers run another way (axum's graceful shutdown).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
