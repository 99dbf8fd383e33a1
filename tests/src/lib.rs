//! Helpers for the integration tests: start a sample hub on a free port, run a
//! Node.js script with the official SignalR client against it.

pub mod backplane;
pub mod browser;
pub mod chaos;
pub mod http;
pub mod node;
pub mod processes;
pub mod proxy;
pub mod python;
pub mod raw_http;
pub mod raw_ws;
pub mod topologies;

pub use node::{node_test, node_test_file, node_test_interactive};
pub use proxy::CutProxy;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use hub_core::{Hub, HubContext};
use hub_transport::{ServerBuilder, ShutdownHandle};
use tokio::task::JoinHandle;

/// A server running in the test's runtime on `127.0.0.1:0`.
#[derive(Debug)]
pub struct TestServer {
    /// The bound address.
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// The hub's context, to inspect the registry from the test.
    pub context: HubContext,
    shutdown: ShutdownHandle,
    task: JoinHandle<std::io::Result<()>>,
}

impl TestServer {
    /// Starts the test hub (`/hubs/test`) with default options.
    pub async fn testhub() -> Self {
        Self::testhub_with(samples::testhub::hub()).await
    }

    /// Starts the test hub's server around `hub` (e.g. with custom options).
    pub async fn testhub_with(hub: Hub) -> Self {
        let context = hub.context();
        Self::start(samples::testhub::server(hub), context).await
    }

    /// Starts any server; `context` is the hub the test inspects.
    pub async fn start(builder: ServerBuilder, context: HubContext) -> Self {
        let server = builder
            .bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind 127.0.0.1:0");
        let addr = server.local_addr();
        let shutdown = server.shutdown_handle();
        let task = tokio::spawn(server.run_until(std::future::pending()));
        Self {
            addr,
            base_url: format!("http://{addr}"),
            context,
            shutdown,
            task,
        }
    }

    /// The test hub's URL.
    pub fn testhub_url(&self) -> String {
        format!("{}{}", self.base_url, samples::testhub::PATH)
    }

    /// Shuts the server down gracefully and waits for it.
    pub async fn stop(self) {
        self.shutdown.shutdown();
        let result = tokio::time::timeout(Duration::from_secs(15), self.task)
            .await
            .expect("server stops within 15 s");
        result.expect("server task").expect("server result");
    }
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    samples::repo_root()
}

/// Fails with a clear message when `npm ci` has not been run.
pub fn require_node_modules() {
    let client = repo_root().join("node_modules/@microsoft/signalr");
    assert!(
        client.exists(),
        "{} is missing: run `npm ci` in the repository root (scripts/test.sh does)",
        client.display()
    );
}
