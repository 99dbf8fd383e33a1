//! Real processes for scale-out tests: `redis-server`, and `testhub` nodes.

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

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

    /// Kills it (a Redis outage).
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
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

async fn ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)).await else {
        return false;
    };
    if stream.write_all(b"PING\r\n").await.is_err() {
        return false;
    }
    let mut reply = [0u8; 7];
    stream.read_exact(&mut reply).await.is_ok() && &reply == b"+PONG\r\n"
}

/// A `testhub` process joined to a Redis backplane.
#[derive(Debug)]
pub struct TestHubProcess {
    /// Where it listens.
    pub addr: SocketAddr,
    child: Child,
}

impl TestHubProcess {
    /// Starts the testhub binary `program` (`env!("CARGO_BIN_EXE_testhub-process")`
    /// in integration tests) with `--addr 127.0.0.1:0 --redis <redis>`, and
    /// waits for its `listening on` line.
    pub async fn start(program: &str, redis: &str) -> Self {
        let mut child = Command::new(program)
            .args(["--addr", "127.0.0.1:0", "--redis", redis])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("start testhub");
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
        Self { addr, child }
    }

    /// Its test hub URL.
    pub fn hub_url(&self) -> String {
        format!("http://{}{}", self.addr, samples::testhub::PATH)
    }

    /// Stops it (SIGKILL).
    pub async fn kill(mut self) {
        let _ = self.child.kill().await;
    }
}
