//! Helpers for the integration tests: start a sample hub on a free port, run a
//! Node.js script with the official SignalR client against it.

pub mod browser;
pub mod http;
pub mod processes;
pub mod proxy;
pub mod raw_http;
pub mod raw_ws;

pub use proxy::CutProxy;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use hub_core::{Hub, HubContext};
use hub_transport::{ServerBuilder, ShutdownHandle};
use tokio::process::Command;
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

/// Runs `node --test tests/js/<script>` with `env`, and fails the test (printing
/// Node's output) unless every Node test passes.
pub async fn node_test(script: &str, env: &[(&str, &str)]) {
    node_test_file(&repo_root().join("tests/js").join(script), env).await;
}

/// Runs `node --test <path>` with `env` (a script anywhere, e.g. compiled
/// TypeScript), and fails the test unless every Node test passes.
pub async fn node_test_file(path: &Path, env: &[(&str, &str)]) {
    require_node_modules();
    let script = path.display();
    let output = node_command(path)
        .envs(env.iter().copied())
        .output()
        .await
        .expect("run node (is Node.js installed?)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "node --test {script} failed ({})\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
        output.status
    );
}

/// Runs `node tests/js/<script>` (a node:test file run directly, so that it
/// owns its stdin and stdout) and answers its requests: each line the script
/// prints that starts with `@` is passed to `answer`, which does what it asks
/// (stop a server, ...) and returns the line to write back to the script's
/// stdin. Fails the test unless every Node test passes.
pub async fn node_test_interactive<F, Fut>(script: &str, env: &[(&str, &str)], mut answer: F)
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = String>,
{
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    require_node_modules();
    let path = repo_root().join("tests/js").join(script);
    let mut child = Command::new("node")
        .arg("--test-reporter=spec")
        .arg(&path)
        .current_dir(repo_root())
        .kill_on_drop(true)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run node (is Node.js installed?)");
    let mut stdin = child.stdin.take().expect("piped stdin");
    let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
    let stderr = child.stderr.take().expect("piped stderr");
    let stderr = tokio::spawn(async move {
        let mut text = String::new();
        let _ =
            tokio::io::AsyncReadExt::read_to_string(&mut BufReader::new(stderr), &mut text).await;
        text
    });
    let mut output = String::new();
    while let Some(line) = lines.next_line().await.expect("read node's stdout") {
        if let Some(request) = line.strip_prefix('@') {
            let reply = answer(request.to_owned()).await;
            stdin
                .write_all(format!("{reply}\n").as_bytes())
                .await
                .expect("answer node");
        }
        output.push_str(&line);
        output.push('\n');
    }
    let status = child.wait().await.expect("node exits");
    let stderr = stderr.await.unwrap_or_default();
    assert!(
        status.success(),
        "node --test {script} failed ({status})\n--- stdout ---\n{output}\n--- stderr ---\n{stderr}"
    );
}

fn node_command(script: &Path) -> Command {
    let mut command = Command::new("node");
    command
        .arg("--test")
        .arg("--test-reporter=spec")
        .arg(script)
        .current_dir(repo_root())
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command
}
