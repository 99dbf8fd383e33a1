//! Every sample binary works away from the source tree: copied into a
//! directory outside the repository and started there, it serves its page
//! (built into the binary) and the official browser client (found in the
//! `node_modules` given, or the repository's); without the client, a sample
//! with a page refuses to start with a one-line fix.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What a sample serves that shows it works.
#[derive(Clone, Copy)]
enum Serves {
    /// A page at `/` containing this, and the official client.
    Page(&'static str),
    /// A hub at this path (and no page).
    Hub(&'static str),
}

/// Every sample binary, and what it serves.
const SAMPLES: [(&str, &str, Serves); 6] = [
    (
        "chat",
        env!("CARGO_BIN_EXE_chat"),
        Serves::Page("<title>SignalR Chat (Rust)</title>"),
    ),
    (
        "axum-chat",
        env!("CARGO_BIN_EXE_axum-chat"),
        Serves::Page("<title>SignalR Chat (Rust)</title>"),
    ),
    (
        "clock",
        env!("CARGO_BIN_EXE_clock"),
        Serves::Page("<title>SignalR Clock (Rust)</title>"),
    ),
    (
        "whiteboard",
        env!("CARGO_BIN_EXE_whiteboard"),
        Serves::Page("<title>SignalR Whiteboard (Rust)</title>"),
    ),
    (
        "testhub",
        env!("CARGO_BIN_EXE_testhub"),
        Serves::Hub("/hubs/test"),
    ),
    (
        "weatherhub",
        env!("CARGO_BIN_EXE_weatherhub"),
        Serves::Hub("/weatherHub"),
    ),
];

/// Held while a binary is copied and started: a child forked by one test
/// while the other still has its copy open for writing inherits that
/// descriptor, and executing the copy then fails with "Text file busy".
static COPY_AND_START: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A directory of its own outside the repository, removed when dropped.
struct Elsewhere(PathBuf);

impl Elsewhere {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("sample-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert!(!dir.starts_with(samples::repo_root().canonicalize().unwrap()));
        Self(dir)
    }

    /// `binary`, copied here.
    fn copy(&self, binary: &str) -> PathBuf {
        let copy = self.0.join(Path::new(binary).file_name().unwrap());
        std::fs::copy(binary, &copy).expect("copy the binary");
        copy
    }
}

impl Drop for Elsewhere {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A started sample, killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `binary` in `dir` with `args`; its address once it listens.
fn start(binary: &Path, dir: &Path, args: &[&str]) -> (Running, SocketAddr) {
    let mut child = Command::new(binary)
        .args(["--addr", "127.0.0.1:0"])
        .args(args)
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the sample");
    let stdout = child.stdout.take().unwrap();
    let running = Running(child);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read its first line");
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .and_then(|addr| addr.parse().ok())
        .unwrap_or_else(|| panic!("{}: unexpected first line {line:?}", binary.display()));
    (running, addr)
}

/// `GET path`: the status and the body.
fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response[9..12].parse().expect("a status code");
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn every_sample_serves_its_page_and_client_from_outside_the_repository() {
    let node_modules = samples::repo_root().join("node_modules");
    assert!(
        node_modules.join("@microsoft/signalr").is_dir(),
        "run `npm ci` in the repository first (scripts/test.sh does)"
    );
    let node_modules = node_modules.to_str().unwrap();
    for (name, binary, page) in SAMPLES {
        let elsewhere = Elsewhere::new(name);
        let args: &[&str] = match page {
            Serves::Page(_) => &["--node-modules", node_modules],
            Serves::Hub(_) => &[],
        };
        let guard = COPY_AND_START
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let copy = elsewhere.copy(binary);
        let (_running, addr) = start(&copy, &elsewhere.0, args);
        drop(guard);
        match page {
            Serves::Page(marker) => {
                let (status, body) = get(addr, "/");
                assert_eq!(status, 200, "{name}: /");
                assert!(body.contains(marker), "{name}: the page");
                let (status, body) = get(addr, "/lib/signalr.min.js");
                assert_eq!(status, 200, "{name}: the client");
                assert!(body.contains("signalR"), "{name}: the official client");
            }
            Serves::Hub(path) => {
                let (status, _) = get(addr, path);
                assert_eq!(status, 400, "{name}: the hub answers (no connection id)");
            }
        }
    }
}

#[test]
fn a_sample_without_the_browser_client_refuses_to_start_saying_how_to_fix_it() {
    for (name, binary, page) in SAMPLES {
        if let Serves::Hub(_) = page {
            continue;
        }
        let elsewhere = Elsewhere::new(&format!("{name}-refused"));
        let guard = COPY_AND_START
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let copy = elsewhere.copy(binary);
        let started = Instant::now();
        let output = Command::new(copy)
            .args(["--addr", "127.0.0.1:0", "--node-modules", "no-such-dir"])
            .current_dir(&elsewhere.0)
            .output()
            .expect("run the sample");
        drop(guard);
        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(output.status.code(), Some(1), "{name}");
        assert!(output.stdout.is_empty(), "{name}: it never listened");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.lines().count(), 1, "{name}: one line: {stderr}");
        assert!(
            stderr.starts_with("error: ") && stderr.contains("npm ci"),
            "{name}: {stderr}"
        );
    }
}
