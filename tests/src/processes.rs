//! Real processes for scale-out tests: `redis-server`, and `testhub` nodes.

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, ChildStdin, Command};

/// A free port on 127.0.0.1 (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// A `redis-server` (Debian's package) on a free port, without persistence.
#[derive(Debug)]
pub struct RedisServer {
    /// Its port.
    pub port: u16,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts it and waits until it answers PING.
    pub async fn start() -> Self {
        let mut server = Self {
            port: free_port(),
            child: None,
        };
        server.restart().await;
        server
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills it (a Redis outage), and waits until it is gone.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill(&mut child, "redis-server").await;
        }
    }

    /// Starts it again on the same port.
    pub async fn restart(&mut self) {
        assert!(
            Path::new("/usr/bin/redis-server").exists() || which("redis-server"),
            "redis-server is not installed: `apt-get install -y redis-server` (.ci/run does)"
        );
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start redis-server");
        self.child = Some(child);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while !ping(self.port).await {
            assert!(
                tokio::time::Instant::now() < deadline,
                "redis-server did not start"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn which(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).exists()))
}

/// Whether a Redis answers PING on `port` (within a second: whatever else
/// might answer there must not stall the caller).
async fn ping(port: u16) -> bool {
    let exchange = async {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
        stream.write_all(b"PING\r\n").await.ok()?;
        let mut reply = [0u8; 7];
        stream.read_exact(&mut reply).await.ok()?;
        Some(&reply == b"+PONG\r\n")
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(1), exchange).await,
        Ok(Some(true))
    )
}

/// Sends SIGKILL to `child` and waits (at most 10 s) until it is reaped:
/// the port it held is then free again.
async fn kill(child: &mut Child, name: &str) {
    let _ = child.start_kill();
    let waited = tokio::time::timeout(Duration::from_secs(10), child.wait()).await;
    assert!(
        waited.is_ok(),
        "{name} (pid {:?}) was not reaped within 10 s of SIGKILL",
        child.id()
    );
}

/// A `testhub` process (alone, or joined to a Redis backplane).
#[derive(Debug)]
pub struct TestHubProcess {
    /// Where it listens.
    pub addr: SocketAddr,
    child: Child,
    /// The node stops when this closes (when the test is gone).
    _stdin: ChildStdin,
}

impl TestHubProcess {
    /// Starts the testhub binary `program` (`env!("CARGO_BIN_EXE_testhub-process")`
    /// in integration tests) with `--addr 127.0.0.1:0 --redis <redis>`, and
    /// waits for its `listening on` line. It stops when killed, dropped, or
    /// when this test process ends in any way (its stdin closes).
    pub async fn start(program: &str, redis: &str) -> Self {
        Self::start_with(program, &["--redis", redis]).await
    }

    /// Starts the testhub binary `program` alone (no backplane).
    pub async fn start_alone(program: &str) -> Self {
        Self::start_with(program, &[]).await
    }

    /// Starts the testhub binary `program` with `--addr 127.0.0.1:0` and `args`.
    pub async fn start_with(program: &str, args: &[&str]) -> Self {
        let mut child = Command::new(program)
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("start testhub");
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("testhub announces itself within 30 s")
            .expect("read testhub's stdout")
            .expect("testhub printed its address");
        let addr = line
            .strip_prefix("listening on http://")
            .and_then(|addr| addr.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line from testhub: {line}"));
        Self {
            addr,
            child,
            _stdin: stdin,
        }
    }

    /// Its test hub URL.
    pub fn hub_url(&self) -> String {
        format!("http://{}{}", self.addr, samples::testhub::PATH)
    }

    /// Stops it (SIGKILL), and waits until it is gone.
    pub async fn kill(mut self) {
        kill(&mut self.child, "testhub").await;
    }
}
