//! Real processes for scale-out tests: `redis-server`, and `testhub` nodes.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
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

/// How a [`RedisServer`] keeps its data across a restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persistence {
    /// None: a restarted server starts empty.
    None,
    /// An append-only file, fsynced after every write (`appendfsync always`):
    /// a server killed with SIGKILL and restarted has every acknowledged write.
    AofAlways,
}

/// A `redis-server` (Debian's package) on a free port, without persistence
/// unless asked, in a directory of its own (removed when dropped).
#[derive(Debug)]
pub struct RedisServer {
    /// Its port.
    pub port: u16,
    persistence: Persistence,
    /// More `redis-server` arguments (cluster or replica settings).
    extra: Vec<String>,
    dir: PathBuf,
    child: Option<Child>,
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl RedisServer {
    /// Starts it and waits until it answers PING.
    pub async fn start() -> Self {
        Self::start_with(Persistence::None, &[]).await
    }

    /// Starts it with `persistence` and more `redis-server` arguments, and
    /// waits until it answers PING.
    pub async fn start_with(persistence: Persistence, extra: &[&str]) -> Self {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("redis-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a directory for redis-server");
        let mut server = Self {
            port,
            persistence,
            extra: extra.iter().map(|arg| arg.to_string()).collect(),
            dir,
            child: None,
        };
        server.restart().await;
        server
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Its process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    /// Kills it (a Redis outage), and waits until it is gone.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill(&mut child, "redis-server").await;
        }
    }

    /// Freezes it (SIGSTOP): its sockets stay open, nothing answers.
    pub async fn pause(&self) {
        signal(self.pid().expect("redis-server runs"), "STOP").await;
    }

    /// Lets it run again (SIGCONT) after [`RedisServer::pause`].
    pub async fn resume(&self) {
        signal(self.pid().expect("redis-server runs"), "CONT").await;
    }

    /// Starts it again on the same port (with the same data, if persistent).
    pub async fn restart(&mut self) {
        assert!(
            Path::new("/usr/bin/redis-server").exists() || which("redis-server"),
            "redis-server is not installed: `apt-get install -y redis-server` (.ci/run does)"
        );
        let mut command = Command::new("redis-server");
        command
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .arg("--dir")
            .arg(&self.dir)
            .args(["--save", ""]);
        match self.persistence {
            Persistence::None => command.args(["--appendonly", "no"]),
            Persistence::AofAlways => {
                command.args(["--appendonly", "yes", "--appendfsync", "always"])
            }
        };
        let child = command
            .args(&self.extra)
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

/// Sends `kill -SIGNAL pid`.
async fn signal(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .await
        .expect("run kill");
    assert!(status.success(), "kill -{signal} {pid} failed");
}

fn which(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).exists()))
}

/// Whether a Redis answers PING on `port` (within a second: whatever else
/// might answer there must not stall the caller).
pub(crate) async fn ping(port: u16) -> bool {
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
pub(crate) async fn kill(child: &mut Child, name: &str) {
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
    /// What it logged (stderr), line by line; also copied to this test's stderr.
    log: Arc<Mutex<Vec<String>>>,
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
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start testhub");
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let lines = log.clone();
        tokio::spawn(async move {
            let mut stderr = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = stderr.next_line().await {
                eprintln!("[testhub] {line}");
                lines
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(line);
            }
        });
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
            log,
            _stdin: stdin,
        }
    }

    /// Its test hub URL.
    pub fn hub_url(&self) -> String {
        format!("http://{}{}", self.addr, samples::testhub::PATH)
    }

    /// The lines it logged so far that contain `text`.
    pub fn logged(&self, text: &str) -> Vec<String> {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|line| line.contains(text))
            .cloned()
            .collect()
    }

    /// Stops it (SIGKILL), and waits until it is gone.
    pub async fn kill(mut self) {
        kill(&mut self.child, "testhub").await;
    }
}
