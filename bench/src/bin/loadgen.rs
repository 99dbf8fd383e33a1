//! `loadgen`: a SignalR load generator over WebSockets (JSON or MessagePack).
//!
//! ```text
//! loadgen echo|broadcast|idle --url ws://127.0.0.1:5000/hubs/test [options]
//! loadgen broadcast --url ws://127.0.0.1:5001/hubs/test --url ws://127.0.0.1:5002/hubs/test
//! ```
//!
//! `broadcast` may be given several URLs, the nodes of one scaled-out hub: its
//! receivers are spread round-robin over them and the sender uses the first
//! (see `bench/scaleout.sh`).
//!
//! Frames are pre-encoded once per connection and patched in place (id,
//! sequence number, timestamp); replies are read in place without allocating.
//! The last line printed is `RESULT key=value ...` for scripts.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize};
use std::time::{Duration, Instant};

use bench::args::Args;
use bench::hist::Histogram;
use bench::procfs::{CpuSnapshot, cpu_seconds, run_queue_seconds, vm_rss_kib};
use bench::protocol::{CallTemplate, Message, Protocol, RS, read_digits, write_digits};
use bench::ws::{self, OP_BINARY, OP_TEXT, WsReader, WsWriter};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

const USAGE: &str = "\
usage: loadgen echo|broadcast|idle [options]
  --url ws://HOST:PORT/PATH     hub URL (default ws://127.0.0.1:5000/hubs/test); broadcast:
                                repeat it (or give URL,URL,...) to spread the receivers
                                round-robin over several nodes, the sender on the first
  --protocol json|messagepack   hub protocol (default json)
  --connections N               echo: concurrent callers (default 10);
                                broadcast: receivers (default 100); idle: connections (default 10000)
  --duration S                  measured seconds (default 10)
  --warmup S                    seconds before measuring (default 2)
  --hold S                      idle: seconds to hold the connections (default 40)
  --drain S                     broadcast: seconds to wait for late deliveries (default 10)
  --negotiate                   POST /negotiate first (default: skipNegotiation)
  --sources K                   bind client sockets to 127.0.0.1..127.0.0.K (default: 1 per 20,000)
  --connect-concurrency N       connection attempts in flight (default 64)
  --connect-timeout S           give up opening one connection after S seconds (default 30)
  --server-pid PID              report the server's CPU and (idle) RSS from /proc; repeat it
                                (or give PID,PID,...) to sum several processes
  --threads N                   runtime threads (default 1: a current-thread runtime)";

/// Run phases.
// 0: connecting.
const WARMUP: u8 = 1;
const MEASURE: u8 = 2;
const STOP: u8 = 3;

/// Failures printed at most this many times each.
const SHOW_FAILURES: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scenario {
    Echo,
    Broadcast,
    Idle,
}

#[derive(Debug)]
struct Config {
    scenario: Scenario,
    /// Where to connect, one per `--url` (never empty): echo and idle use the
    /// first only; broadcast spreads its receivers over all (see
    /// [`Config::receiver_target`]).
    targets: Vec<Arc<Target>>,
    connections: usize,
    duration: Duration,
    warmup: Duration,
    hold: Duration,
    drain: Duration,
    connect_concurrency: usize,
    /// The server processes to watch in /proc (summed when several).
    server_pids: Vec<u32>,
    threads: usize,
}

impl Config {
    /// The first target: every connection of echo and idle, and broadcast's sender.
    fn target(&self) -> &Arc<Target> {
        &self.targets[0]
    }

    /// The node broadcast receiver `index` connects to: round-robin.
    fn receiver_node(&self, index: usize) -> usize {
        index % self.targets.len()
    }

    /// The target broadcast receiver `index` connects to.
    fn receiver_target(&self, index: usize) -> &Arc<Target> {
        &self.targets[self.receiver_node(index)]
    }
}

/// How long opening one connection may take (set once from the options).
static CONNECT_TIMEOUT: std::sync::OnceLock<Duration> = std::sync::OnceLock::new();

/// Where and how to connect.
#[derive(Debug)]
struct Target {
    addr: SocketAddr,
    host: String,
    path: String,
    protocol: Protocol,
    negotiate: bool,
    sources: Vec<IpAddr>,
}

/// Takes every `--key VALUE` out of `args`, for the options that may be
/// repeated ([`Args`] keeps only the last of each); a value may also list
/// several, separated by commas. Follows [`Args::parse`]: a value is the next
/// word unless it starts with `--`.
fn take_repeated(args: &mut Vec<String>, key: &str) -> Result<Vec<String>, String> {
    let option = format!("--{key}");
    let mut values = Vec::new();
    let mut rest = Vec::with_capacity(args.len());
    let mut words = std::mem::take(args).into_iter().peekable();
    while let Some(word) = words.next() {
        if word != option {
            rest.push(word);
            continue;
        }
        match words.next_if(|next| !next.starts_with("--")) {
            Some(value) => values.extend(
                value
                    .split(',')
                    .filter(|part| !part.is_empty())
                    .map(str::to_owned),
            ),
            None => return Err(format!("--{key} needs a value")),
        }
    }
    *args = rest;
    Ok(values)
}

/// Resolves one `ws://HOST:PORT/PATH` URL; `connections` is how many
/// connections will open to it, to choose how many source addresses to use.
fn parse_target(
    url: &str,
    protocol: Protocol,
    negotiate: bool,
    sources: Option<u8>,
    connections: usize,
) -> Result<Target, String> {
    let rest = url
        .strip_prefix("ws://")
        .ok_or("--url must start with ws://")?;
    let (host, path) = match rest.find('/') {
        Some(slash) => (&rest[..slash], &rest[slash..]),
        None => (rest, "/"),
    };
    let addr = host
        .to_socket_addrs()
        .map_err(|error| format!("--url: cannot resolve `{host}`: {error}"))?
        .next()
        .ok_or_else(|| format!("--url: `{host}` has no address"))?;
    // Each source address gives ~28k ephemeral ports (net.ipv4.ip_local_port_range).
    let sources = match addr {
        SocketAddr::V4(v4) if v4.ip().is_loopback() => {
            let count = sources
                .unwrap_or((1 + connections / 20_000).min(254) as u8)
                .max(1);
            (1..=count)
                .map(|last| IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)))
                .collect()
        }
        _ => Vec::new(),
    };
    Ok(Target {
        addr,
        host: host.to_owned(),
        path: path.to_owned(),
        protocol,
        negotiate,
        sources,
    })
}

fn parse_config() -> Result<Config, String> {
    let mut words: Vec<String> = std::env::args().skip(1).collect();
    let mut urls = take_repeated(&mut words, "url")?;
    let server_pids = take_repeated(&mut words, "server-pid")?
        .iter()
        .map(|pid| {
            pid.parse()
                .map_err(|_| format!("--server-pid: cannot parse `{pid}`"))
        })
        .collect::<Result<Vec<u32>, String>>()?;
    let mut args = Args::parse(words);
    if args.flag("help")? {
        return Err(String::new());
    }
    let scenario = match args.positional() {
        [word] => match word.as_str() {
            "echo" => Scenario::Echo,
            "broadcast" => Scenario::Broadcast,
            "idle" => Scenario::Idle,
            other => return Err(format!("unknown scenario `{other}`")),
        },
        [] => return Err("no scenario given".into()),
        _ => return Err("one scenario only".into()),
    };
    if urls.is_empty() {
        urls.push("ws://127.0.0.1:5000/hubs/test".to_owned());
    }
    if urls.len() > 1 && scenario != Scenario::Broadcast {
        return Err("several --url: only broadcast spreads its connections over nodes".into());
    }
    let protocol = args.value("protocol", Protocol::Json)?;
    let default_connections = match scenario {
        Scenario::Echo => 10,
        Scenario::Broadcast => 100,
        Scenario::Idle => 10_000,
    };
    let connections: usize = args.value("connections", default_connections)?;
    let seconds = |args: &mut Args, key: &str, default: f64| -> Result<Duration, String> {
        let value: f64 = args.value(key, default)?;
        Duration::try_from_secs_f64(value).map_err(|_| format!("--{key}: bad duration"))
    };
    let duration = seconds(&mut args, "duration", 10.0)?;
    let warmup = seconds(&mut args, "warmup", 2.0)?;
    let hold = seconds(&mut args, "hold", 40.0)?;
    let drain = seconds(&mut args, "drain", 10.0)?;
    let negotiate = args.flag("negotiate")?;
    let sources: Option<u8> = args.optional("sources")?;
    let connect_concurrency = args.value("connect-concurrency", 64usize)?.max(1);
    let connect_timeout = seconds(&mut args, "connect-timeout", 30.0)?;
    let _ = CONNECT_TIMEOUT.set(connect_timeout);
    let threads = args.value("threads", 1usize)?.max(1);
    args.finish()?;

    // The connections, the broadcast sender included, over the nodes.
    let per_target = (connections + 1).div_ceil(urls.len());
    let targets = urls
        .iter()
        .map(|url| parse_target(url, protocol, negotiate, sources, per_target).map(Arc::new))
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Config {
        scenario,
        targets,
        connections,
        duration,
        warmup,
        hold,
        drain,
        connect_concurrency,
        server_pids,
        threads,
    })
}

fn invalid(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

impl Target {
    fn source(&self, index: usize) -> Option<IpAddr> {
        // One source: let connect() choose the port (no bind needed).
        (self.sources.len() > 1).then(|| self.sources[index % self.sources.len()])
    }

    /// `POST {path}/negotiate?negotiateVersion=1`; returns the connection token.
    async fn negotiate(&self, source: Option<IpAddr>) -> io::Result<String> {
        let (base, query) = match self.path.split_once('?') {
            Some((base, query)) => (base, format!("&{query}")),
            None => (self.path.as_str(), String::new()),
        };
        let mut stream = ws::connect_tcp(self.addr, source).await?;
        let request = format!(
            "POST {}/negotiate?negotiateVersion=1{query} HTTP/1.1\r\nHost: {}\r\n\
             Content-Length: 0\r\nConnection: close\r\n\r\n",
            base.trim_end_matches('/'),
            self.host
        );
        stream.write_all(request.as_bytes()).await?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await?;
        let head_end =
            ws::find(&response, b"\r\n\r\n").ok_or_else(|| invalid("negotiate: no head"))?;
        if !response.starts_with(b"HTTP/1.1 200") {
            let status = String::from_utf8_lossy(&response[..head_end]);
            return Err(invalid(format!(
                "negotiate: {}",
                status.lines().next().unwrap_or("")
            )));
        }
        // The body is one small JSON object (possibly chunked: take the braces).
        let body = &response[head_end + 4..];
        let open = body.iter().position(|&b| b == b'{');
        let close = body.iter().rposition(|&b| b == b'}');
        let (Some(open), Some(close)) = (open, close) else {
            return Err(invalid("negotiate: no JSON body"));
        };
        let json: serde_json::Value = serde_json::from_slice(&body[open..=close])
            .map_err(|error| invalid(format!("negotiate: {error}")))?;
        json.get("connectionToken")
            .or_else(|| json.get("connectionId"))
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| invalid(format!("negotiate: no token in {json}")))
    }

    /// Connects (optionally negotiating), upgrades and completes the SignalR
    /// handshake, within the connect timeout.
    async fn open(&self, index: usize, read_capacity: usize) -> io::Result<(WsReader, WsWriter)> {
        let limit = CONNECT_TIMEOUT
            .get()
            .copied()
            .unwrap_or(Duration::from_secs(30));
        match tokio::time::timeout(limit, self.open_now(index, read_capacity)).await {
            Ok(result) => result,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("not open after {limit:?}"),
            )),
        }
    }

    async fn open_now(
        &self,
        index: usize,
        read_capacity: usize,
    ) -> io::Result<(WsReader, WsWriter)> {
        let source = self.source(index);
        let mut path = self.path.clone();
        if self.negotiate {
            let token = self.negotiate(source).await?;
            path.push(if path.contains('?') { '&' } else { '?' });
            path.push_str("id=");
            path.push_str(&token);
        }
        let stream = ws::connect_tcp(self.addr, source).await?;
        let (mut reader, mut writer) =
            ws::upgrade(stream, &self.host, &path, read_capacity).await?;
        writer
            .send(OP_TEXT, &self.protocol.handshake_request())
            .await?;
        loop {
            let Some(frame) = reader.recv().await? else {
                return Err(invalid("closed during the handshake"));
            };
            if frame.opcode != OP_TEXT && frame.opcode != OP_BINARY {
                continue;
            }
            let end = frame
                .payload
                .iter()
                .position(|&b| b == RS)
                .ok_or_else(|| invalid("handshake response without separator"))?;
            if &frame.payload[..end] != b"{}" {
                return Err(invalid(format!(
                    "handshake refused: {}",
                    String::from_utf8_lossy(&frame.payload[..end])
                )));
            }
            break;
        }
        Ok((reader, writer))
    }
}

/// Counters every scenario has.
#[derive(Debug, Default)]
struct Common {
    phase: AtomicU8,
    ready: AtomicUsize,
    failed: AtomicUsize,
    /// Connections the server closed (or that broke) before the end.
    broken: AtomicUsize,
    /// Replies that were not what was expected.
    wrong: AtomicU64,
    /// Messages of other kinds than expected.
    other: AtomicU64,
    shown: AtomicUsize,
}

impl Common {
    fn phase(&self) -> u8 {
        self.phase.load(Relaxed)
    }

    fn show(&self, what: std::fmt::Arguments<'_>) {
        if self.shown.fetch_add(1, Relaxed) < SHOW_FAILURES {
            eprintln!("loadgen: {what}");
        }
    }

    fn connect_failed(&self, index: usize, error: &io::Error) {
        self.failed.fetch_add(1, Relaxed);
        self.show(format_args!("connection {index} failed to open: {error}"));
    }

    fn broke(&self, index: usize, why: std::fmt::Arguments<'_>) {
        if self.phase() < STOP {
            self.broken.fetch_add(1, Relaxed);
            self.show(format_args!("connection {index} ended early: {why}"));
        }
    }

    /// Waits until every connection opened or failed; prints progress.
    async fn wait_connected(&self, total: usize) -> Duration {
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

fn us(nanos: u64) -> String {
    format!("{:.1}", nanos as f64 / 1000.0)
}

/// This process's CPU counters and the servers', summed over the processes
/// when `--server-pid` named several (`other` is `None` if one is unreadable).
fn cpu_snapshot(config: &Config) -> CpuSnapshot {
    match config.server_pids.as_slice() {
        [] => CpuSnapshot::take(None),
        &[pid] => CpuSnapshot::take(Some(pid)),
        pids => {
            let mut snapshot = CpuSnapshot::take(None);
            snapshot.other = pids.iter().map(|&pid| cpu_seconds(Some(pid))).sum();
            snapshot.other_wait = pids.iter().map(|&pid| run_queue_seconds(Some(pid))).sum();
            snapshot
        }
    }
}

/// The servers' resident memory in KiB, summed over the processes.
fn server_rss_kib(config: &Config) -> Option<u64> {
    if config.server_pids.is_empty() {
        return None;
    }
    config
        .server_pids
        .iter()
        .map(|&pid| vm_rss_kib(Some(pid)))
        .sum()
}

/// Prints the CPU use and the RESULT line.
fn finish(
    config: &Config,
    common: &Common,
    window: (&CpuSnapshot, &CpuSnapshot),
    mut pairs: Vec<(&str, String)>,
) {
    let (own, server) = window.0.cores_until(window.1);
    let (own_wait, server_wait) = window.0.waits_until(window.1);
    let saturated = own >= 0.9 * config.threads as f64;
    println!(
        "loadgen CPU: {own:.2} cores of {} (runtime threads){}",
        config.threads,
        if saturated {
            " -- SATURATED: the load generator is the bottleneck, the server's number is a lower bound"
        } else {
            ""
        }
    );
    // Several server processes may share cores on purpose: then they also
    // wait for each other, which is no sign of other work.
    let processes = config.server_pids.len();
    let (shared_cores, server_disturbed) = if processes > 1 {
        (
            format!(" ({processes} processes, summed; they also wait for each other)"),
            0.0,
        )
    } else {
        (String::new(), server_wait.unwrap_or(0.0))
    };
    if let Some(server) = server {
        println!(
            "server CPU: {server:.2} cores{}",
            if processes > 1 {
                format!(" ({processes} processes)")
            } else {
                String::new()
            }
        );
    }
    // Time runnable but not running: other work on the same core.
    println!(
        "run-queue wait per second: loadgen {own_wait:.3} s, server {}{shared_cores}{}",
        server_wait.map_or("?".to_owned(), |wait| format!("{wait:.3} s")),
        if own_wait.max(server_disturbed) > 0.05 {
            " -- DISTURBED: other work took CPU from this run"
        } else {
            ""
        }
    );
    pairs.extend([
        (
            "failed_connections",
            common.failed.load(Relaxed).to_string(),
        ),
        (
            "broken_connections",
            common.broken.load(Relaxed).to_string(),
        ),
        ("wrong", common.wrong.load(Relaxed).to_string()),
        ("other_messages", common.other.load(Relaxed).to_string()),
        ("loadgen_cpu", format!("{own:.2}")),
        (
            "loadgen_saturated",
            if saturated { "yes" } else { "no" }.to_owned(),
        ),
    ]);
    pairs.push(("loadgen_runq", format!("{own_wait:.3}")));
    if let Some(server) = server {
        pairs.push(("server_cpu", format!("{server:.2}")));
    }
    if let Some(wait) = server_wait {
        pairs.push(("server_runq", format!("{wait:.3}")));
    }
    let mut line = format!(
        "RESULT scenario={} protocol={} connections={}",
        format!("{:?}", config.scenario).to_lowercase(),
        config.target().protocol.name(),
        config.connections
    );
    for (key, value) in pairs {
        line.push_str(&format!(" {key}={value}"));
    }
    println!("{line}");
}

/// Server CPU microseconds per operation over a window: less sensitive to
/// other work on the machine than operations per second.
fn per_op(start: &CpuSnapshot, end: &CpuSnapshot, operations: u64) -> String {
    match (start.other, end.other) {
        (Some(before), Some(after)) if operations > 0 => {
            format!("{:.2}", (after - before) * 1e6 / operations as f64)
        }
        _ => "?".to_owned(),
    }
}

/// Waits for the tasks to end after STOP, up to `grace`; aborts the rest and
/// returns how many were still running.
async fn settle(tasks: &mut JoinSet<()>, grace: Duration) -> usize {
    let _ = tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} }).await;
    let left = tasks.len();
    tasks.abort_all();
    left
}

// ---------------------------------------------------------------- echo

#[derive(Debug, Default)]
struct EchoShared {
    common: Common,
    calls: AtomicU64,
    latency: Histogram,
}

async fn echo_connection(
    index: usize,
    target: Arc<Target>,
    shared: Arc<EchoShared>,
    gate: Arc<Semaphore>,
    mut start: watch::Receiver<bool>,
) {
    let common = &shared.common;
    let permit = gate.acquire().await;
    let opened = target.open(index, 4096).await;
    drop(permit);
    let (mut reader, mut writer) = match opened {
        Ok(halves) => halves,
        Err(error) => return common.connect_failed(index, &error),
    };
    common.ready.fetch_add(1, Relaxed);
    if start.wait_for(|&started| started).await.is_err() {
        return;
    }
    let protocol = target.protocol;
    // 32 bytes: e<connection>-<call>-<padding>.
    let arg = format!("e{:08}-{:010}-xxxxxxxxxxx", index % 100_000_000, 0);
    let mut call = CallTemplate::new(protocol, "Echo", &arg);
    let mut seq = 0u64;
    while common.phase() < STOP {
        seq += 1;
        call.set_id(seq);
        write_digits(&mut call.arg_mut()[10..20], seq);
        let sent = Instant::now();
        if let Err(error) = writer.send_raw(call.frame()).await {
            return common.broke(index, format_args!("write failed: {error}"));
        }
        let mut answered = false;
        while !answered {
            let frame = match reader.recv().await {
                Ok(Some(frame)) => frame,
                Ok(None) => return common.broke(index, format_args!("closed by the server")),
                Err(error) => return common.broke(index, format_args!("read failed: {error}")),
            };
            for record in protocol.records(frame.payload) {
                match protocol.parse(record) {
                    Message::Completion { id, result, error } => {
                        if error || id != call.id() || result != Some(call.arg()) {
                            common.wrong.fetch_add(1, Relaxed);
                            common.show(format_args!(
                                "wrong reply to {:?}: {:?}",
                                String::from_utf8_lossy(call.id()),
                                String::from_utf8_lossy(record)
                            ));
                        }
                        answered = true;
                    }
                    Message::Ping => {}
                    Message::Close => {
                        return common.broke(
                            index,
                            format_args!("Close: {:?}", String::from_utf8_lossy(record)),
                        );
                    }
                    _ => {
                        common.other.fetch_add(1, Relaxed);
                    }
                }
            }
        }
        let elapsed = sent.elapsed();
        shared.calls.fetch_add(1, Relaxed);
        if common.phase() == MEASURE {
            shared.latency.record(elapsed.as_nanos() as u64);
        }
    }
    let _ = writer.close().await;
}

async fn run_echo(config: &Config) {
    let shared = Arc::new(EchoShared::default());
    let gate = Arc::new(Semaphore::new(config.connect_concurrency));
    let (start, started) = watch::channel(false);
    let mut tasks = JoinSet::new();
    for index in 0..config.connections {
        tasks.spawn(echo_connection(
            index,
            config.target().clone(),
            shared.clone(),
            gate.clone(),
            started.clone(),
        ));
    }
    let common = &shared.common;
    common.wait_connected(config.connections).await;
    common.phase.store(WARMUP, Relaxed);
    let _ = start.send(true);
    tokio::time::sleep(config.warmup).await;
    let (calls0, cpu0) = (shared.calls.load(Relaxed), cpu_snapshot(config));
    common.phase.store(MEASURE, Relaxed);
    tokio::time::sleep(config.duration).await;
    let (calls1, cpu1) = (shared.calls.load(Relaxed), cpu_snapshot(config));
    common.phase.store(STOP, Relaxed);
    let unanswered = settle(&mut tasks, Duration::from_secs(5)).await;

    let seconds = (cpu1.at.unwrap() - cpu0.at.unwrap()).as_secs_f64();
    let rate = (calls1 - calls0) as f64 / seconds;
    let latency = &shared.latency;
    println!(
        "echo {} x{}: {rate:.0} calls/s over {seconds:.1} s; latency p50 {} us, p99 {} us, p99.9 {} us, max {} us",
        config.target().protocol.name(),
        config.connections,
        us(latency.quantile(0.5)),
        us(latency.quantile(0.99)),
        us(latency.quantile(0.999)),
        us(latency.max()),
    );
    println!(
        "wrong replies {}, connections failed {} / broken {}, unanswered at stop {unanswered}",
        common.wrong.load(Relaxed),
        common.failed.load(Relaxed),
        common.broken.load(Relaxed),
    );
    finish(
        config,
        common,
        (&cpu0, &cpu1),
        vec![
            ("calls_per_s", format!("{rate:.0}")),
            ("server_us_per_call", per_op(&cpu0, &cpu1, calls1 - calls0)),
            ("p50_us", us(latency.quantile(0.5))),
            ("p99_us", us(latency.quantile(0.99))),
            ("p999_us", us(latency.quantile(0.999))),
            ("unanswered", unanswered.to_string()),
        ],
    );
}

// ----------------------------------------------------------- broadcast

/// What one receiver saw, by sequence number (the server writes in order).
#[derive(Debug)]
struct ReceiverState {
    next: AtomicU64,
    lost: AtomicU64,
    duplicate: AtomicU64,
    closed: AtomicBool,
}

#[derive(Debug)]
struct BroadcastShared {
    common: Common,
    epoch: Instant,
    deliveries: AtomicU64,
    sends: AtomicU64,
    send_errors: AtomicU64,
    /// The last sequence number the server completed.
    last_sent: AtomicU64,
    sender_done: AtomicBool,
    latency: Histogram,
    send_latency: Histogram,
    /// The delivery latency per node, when there are several.
    node_latency: Box<[Histogram]>,
    receivers: Box<[ReceiverState]>,
}

/// The broadcast payload, 32 bytes: `b<seq:10>-<send time in ns since epoch:20>`.
const SEQ: std::ops::Range<usize> = 1..11;
const STAMP: std::ops::Range<usize> = 12..32;

async fn receiver(
    index: usize,
    node: usize,
    target: Arc<Target>,
    shared: Arc<BroadcastShared>,
    gate: Arc<Semaphore>,
) {
    let common = &shared.common;
    let state = &shared.receivers[index];
    let permit = gate.acquire().await;
    let opened = target.open(index, 4096).await;
    drop(permit);
    let (mut reader, _writer) = match opened {
        Ok(halves) => halves,
        Err(error) => {
            state.closed.store(true, Relaxed);
            return common.connect_failed(index, &error);
        }
    };
    common.ready.fetch_add(1, Relaxed);
    let protocol = target.protocol;
    loop {
        let frame = match reader.recv().await {
            Ok(Some(frame)) => frame,
            end => {
                state.closed.store(true, Relaxed);
                return common.broke(index, format_args!("receiver ended: {end:?}"));
            }
        };
        let now = shared.epoch.elapsed().as_nanos() as u64;
        for record in protocol.records(frame.payload) {
            match protocol.parse(record) {
                Message::Invocation {
                    target: b"Receive",
                    arg: Some(arg),
                } if arg.len() == STAMP.end => {
                    let (Some(seq), Some(stamp)) =
                        (read_digits(&arg[SEQ]), read_digits(&arg[STAMP]))
                    else {
                        common.wrong.fetch_add(1, Relaxed);
                        continue;
                    };
                    shared.deliveries.fetch_add(1, Relaxed);
                    if common.phase() == MEASURE {
                        let latency = now.saturating_sub(stamp);
                        shared.latency.record(latency);
                        if let Some(histogram) = shared.node_latency.get(node) {
                            histogram.record(latency);
                        }
                    }
                    let next = state.next.load(Relaxed);
                    if seq >= next {
                        state.lost.fetch_add(seq - next, Relaxed);
                        state.next.store(seq + 1, Relaxed);
                    } else {
                        state.duplicate.fetch_add(1, Relaxed);
                    }
                }
                Message::Ping => {}
                Message::Close => {
                    state.closed.store(true, Relaxed);
                    return common.broke(
                        index,
                        format_args!("Close: {:?}", String::from_utf8_lossy(record)),
                    );
                }
                _ => {
                    common.wrong.fetch_add(1, Relaxed);
                    common.show(format_args!(
                        "receiver {index}: unexpected {:?}",
                        String::from_utf8_lossy(record)
                    ));
                }
            }
        }
    }
}

async fn sender(
    index: usize,
    target: Arc<Target>,
    shared: Arc<BroadcastShared>,
    mut start: watch::Receiver<bool>,
) {
    let common = &shared.common;
    let (mut reader, mut writer) = match target.open(index, 4096).await {
        Ok(halves) => halves,
        Err(error) => {
            shared.sender_done.store(true, Relaxed);
            return common.connect_failed(index, &error);
        }
    };
    common.ready.fetch_add(1, Relaxed);
    let protocol = target.protocol;
    let mut call = CallTemplate::new(protocol, "SendToAll", &format!("b{:010}-{:020}", 0, 0));
    let _ = start.wait_for(|&started| started).await;
    let mut seq = 0u64;
    'calls: while common.phase() < STOP {
        seq += 1;
        call.set_id(seq);
        write_digits(&mut call.arg_mut()[SEQ], seq);
        let sent = Instant::now();
        write_digits(
            &mut call.arg_mut()[STAMP],
            (sent - shared.epoch).as_nanos() as u64,
        );
        if let Err(error) = writer.send_raw(call.frame()).await {
            common.broke(index, format_args!("sender write failed: {error}"));
            break;
        }
        loop {
            let frame = match reader.recv().await {
                Ok(Some(frame)) => frame,
                end => {
                    common.broke(index, format_args!("sender ended: {end:?}"));
                    break 'calls;
                }
            };
            let mut answered = false;
            for record in protocol.records(frame.payload) {
                match protocol.parse(record) {
                    Message::Completion { id, error, .. } if id == call.id() => {
                        if error {
                            shared.send_errors.fetch_add(1, Relaxed);
                            common.show(format_args!(
                                "SendToAll failed: {:?}",
                                String::from_utf8_lossy(record)
                            ));
                        }
                        answered = true;
                    }
                    // Its own copy of the broadcasts, and keep-alives.
                    Message::Invocation { .. } | Message::Ping => {}
                    _ => {
                        common.wrong.fetch_add(1, Relaxed);
                        common.show(format_args!(
                            "sender: unexpected {:?}",
                            String::from_utf8_lossy(record)
                        ));
                    }
                }
            }
            if answered {
                break;
            }
        }
        shared.last_sent.store(seq, Relaxed);
        shared.sends.fetch_add(1, Relaxed);
        if common.phase() == MEASURE {
            shared.send_latency.record(sent.elapsed().as_nanos() as u64);
        }
    }
    shared.sender_done.store(true, Relaxed);
    // Stay connected until the end: closing would not change the receivers'
    // view, but keep the connection count steady.
    std::future::pending::<()>().await;
}

async fn run_broadcast(config: &Config) {
    let receivers = config.connections;
    let nodes = config.targets.len();
    let shared = Arc::new(BroadcastShared {
        common: Common::default(),
        epoch: Instant::now(),
        deliveries: AtomicU64::new(0),
        sends: AtomicU64::new(0),
        send_errors: AtomicU64::new(0),
        last_sent: AtomicU64::new(0),
        sender_done: AtomicBool::new(false),
        latency: Histogram::default(),
        send_latency: Histogram::default(),
        node_latency: if nodes > 1 {
            (0..nodes).map(|_| Histogram::default()).collect()
        } else {
            Box::default()
        },
        receivers: (0..receivers)
            .map(|_| ReceiverState {
                next: AtomicU64::new(1),
                lost: AtomicU64::new(0),
                duplicate: AtomicU64::new(0),
                closed: AtomicBool::new(false),
            })
            .collect(),
    });
    let gate = Arc::new(Semaphore::new(config.connect_concurrency));
    let (start, started) = watch::channel(false);
    let mut tasks = JoinSet::new();
    for index in 0..receivers {
        tasks.spawn(receiver(
            index,
            config.receiver_node(index),
            config.receiver_target(index).clone(),
            shared.clone(),
            gate.clone(),
        ));
    }
    let common = &shared.common;
    let connect_time = common.wait_connected(receivers).await;
    println!(
        "{} receivers connected in {:.1} s ({} failed)",
        common.ready.load(Relaxed),
        connect_time.as_secs_f64(),
        common.failed.load(Relaxed)
    );
    tasks.spawn(sender(
        receivers,
        config.target().clone(),
        shared.clone(),
        started,
    ));
    common.wait_connected(receivers + 1).await;
    common.phase.store(WARMUP, Relaxed);
    let _ = start.send(true);
    tokio::time::sleep(config.warmup).await;
    let snapshot = |shared: &BroadcastShared| {
        (
            shared.deliveries.load(Relaxed),
            shared.sends.load(Relaxed),
            cpu_snapshot(config),
        )
    };
    let (deliveries0, sends0, cpu0) = snapshot(&shared);
    common.phase.store(MEASURE, Relaxed);
    tokio::time::sleep(config.duration).await;
    let (deliveries1, sends1, cpu1) = snapshot(&shared);
    common.phase.store(STOP, Relaxed);

    // The sender finishes its call in flight; then every receiver should get
    // every sequence number up to the last one sent.
    let deadline = Instant::now() + config.drain;
    while !shared.sender_done.load(Relaxed) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let last = shared.last_sent.load(Relaxed);
    let all_in = |shared: &BroadcastShared| {
        shared
            .receivers
            .iter()
            .all(|state| state.closed.load(Relaxed) || state.next.load(Relaxed) > last)
    };
    while !all_in(&shared) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tasks.abort_all();

    // Totals, and per node: (receivers, lost, duplicate, closed).
    let (mut lost, mut duplicate, mut closed) = (0u64, 0u64, 0usize);
    let mut per_node = vec![(0usize, 0u64, 0u64, 0usize); nodes];
    for (index, state) in shared.receivers.iter().enumerate() {
        let next = state.next.load(Relaxed);
        let (receiver_lost, receiver_duplicate, receiver_closed) = (
            state.lost.load(Relaxed) + (last + 1).saturating_sub(next),
            state.duplicate.load(Relaxed),
            usize::from(state.closed.load(Relaxed)),
        );
        lost += receiver_lost;
        duplicate += receiver_duplicate;
        closed += receiver_closed;
        let node = &mut per_node[config.receiver_node(index)];
        node.0 += 1;
        node.1 += receiver_lost;
        node.2 += receiver_duplicate;
        node.3 += receiver_closed;
    }
    let seconds = (cpu1.at.unwrap() - cpu0.at.unwrap()).as_secs_f64();
    let delivery_rate = (deliveries1 - deliveries0) as f64 / seconds;
    let send_rate = (sends1 - sends0) as f64 / seconds;
    let (latency, send_latency) = (&shared.latency, &shared.send_latency);
    println!(
        "broadcast {} to {receivers}: {delivery_rate:.0} deliveries/s ({send_rate:.1} SendToAll/s) over {seconds:.1} s",
        config.target().protocol.name()
    );
    println!(
        "delivery latency p50 {} us, p99 {} us, max {} us; SendToAll round trip p50 {} us, p99 {} us",
        us(latency.quantile(0.5)),
        us(latency.quantile(0.99)),
        us(latency.max()),
        us(send_latency.quantile(0.5)),
        us(send_latency.quantile(0.99)),
    );
    for (node, histogram) in shared.node_latency.iter().enumerate() {
        let (node_receivers, node_lost, node_duplicate, node_closed) = per_node[node];
        let target = &config.targets[node];
        println!(
            "node {} ({}{}{}): {node_receivers} receivers, {:.0} deliveries/s, latency p50 {} us, p99 {} us; lost {node_lost}, duplicated {node_duplicate}, closed {node_closed}",
            node + 1,
            target.addr,
            target.path,
            if node == 0 { ", the sender's" } else { "" },
            histogram.count() as f64 / seconds,
            us(histogram.quantile(0.5)),
            us(histogram.quantile(0.99)),
        );
    }
    println!(
        "{last} messages sent in all; lost {lost}, duplicated {duplicate}, receivers closed {closed}, SendToAll errors {}",
        shared.send_errors.load(Relaxed)
    );
    // `nodes` only when several: one node's line stays as it always was.
    let mut pairs = Vec::new();
    if nodes > 1 {
        pairs.push(("nodes", nodes.to_string()));
    }
    pairs.extend([
        ("deliveries_per_s", format!("{delivery_rate:.0}")),
        (
            "server_us_per_delivery",
            per_op(&cpu0, &cpu1, deliveries1 - deliveries0),
        ),
        ("sends_per_s", format!("{send_rate:.1}")),
        ("p50_us", us(latency.quantile(0.5))),
        ("p99_us", us(latency.quantile(0.99))),
        ("send_p50_us", us(send_latency.quantile(0.5))),
        ("send_p99_us", us(send_latency.quantile(0.99))),
        ("sent", last.to_string()),
        ("lost", lost.to_string()),
        ("duplicate", duplicate.to_string()),
        ("receivers_closed", closed.to_string()),
        ("send_errors", shared.send_errors.load(Relaxed).to_string()),
    ]);
    finish(config, common, (&cpu0, &cpu1), pairs);
}

// ---------------------------------------------------------------- idle

/// The keep-alive interval of the official clients.
const PING_INTERVAL: Duration = Duration::from_secs(15);

#[derive(Debug, Default)]
struct IdleShared {
    common: Common,
    alive: AtomicUsize,
    pings: AtomicU64,
    received: AtomicU64,
}

async fn idle_connection(
    index: usize,
    total: usize,
    target: Arc<Target>,
    shared: Arc<IdleShared>,
    gate: Arc<Semaphore>,
    ping: Arc<[u8]>,
) {
    let common = &shared.common;
    let permit = gate.acquire().await;
    let opened = target.open(index, 256).await;
    drop(permit);
    let (mut reader, mut writer) = match opened {
        Ok(halves) => halves,
        Err(error) => return common.connect_failed(index, &error),
    };
    common.ready.fetch_add(1, Relaxed);
    shared.alive.fetch_add(1, Relaxed);
    // Spread the pings over the interval.
    let offset = PING_INTERVAL.mul_f64(index as f64 / total.max(1) as f64);
    let mut next_ping = tokio::time::Instant::now() + offset;
    loop {
        tokio::select! {
            frame = reader.recv() => match frame {
                Ok(Some(_)) => {
                    shared.received.fetch_add(1, Relaxed);
                }
                end => {
                    shared.alive.fetch_sub(1, Relaxed);
                    return common.broke(index, format_args!("idle connection ended: {end:?}"));
                }
            },
            () = tokio::time::sleep_until(next_ping) => {
                if let Err(error) = writer.send_raw(&ping).await {
                    shared.alive.fetch_sub(1, Relaxed);
                    return common.broke(index, format_args!("ping failed: {error}"));
                }
                shared.pings.fetch_add(1, Relaxed);
                next_ping += PING_INTERVAL;
            }
        }
    }
}

async fn run_idle(config: &Config) {
    let rss = || server_rss_kib(config);
    let rss_before = rss();
    let shared = Arc::new(IdleShared::default());
    let gate = Arc::new(Semaphore::new(config.connect_concurrency));
    let ping: Arc<[u8]> = config.target().protocol.ping_frame().into();
    let cpu0 = cpu_snapshot(config);
    let mut tasks = JoinSet::new();
    for index in 0..config.connections {
        tasks.spawn(idle_connection(
            index,
            config.connections,
            config.target().clone(),
            shared.clone(),
            gate.clone(),
            ping.clone(),
        ));
    }
    let common = &shared.common;
    let connect_time = common.wait_connected(config.connections).await;
    let cpu1 = cpu_snapshot(config);
    let ready = common.ready.load(Relaxed);
    let connect_rate = ready as f64 / connect_time.as_secs_f64().max(1e-9);
    common.phase.store(MEASURE, Relaxed);
    println!(
        "{ready} connections open in {:.1} s ({connect_rate:.0}/s), {} failed",
        connect_time.as_secs_f64(),
        common.failed.load(Relaxed)
    );
    let (own, server) = cpu0.cores_until(&cpu1);
    println!(
        "while connecting: loadgen CPU {own:.2} cores, server CPU {}",
        server.map_or("?".to_owned(), |cpu| format!("{cpu:.2} cores"))
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after = rss();
    let per_connection = match (rss_before, rss_after) {
        (Some(before), Some(after)) if ready > 0 => {
            Some(after.saturating_sub(before) as f64 / ready as f64)
        }
        _ => None,
    };
    println!(
        "server RSS before {} KiB, after {} KiB: {} KiB per connection",
        rss_before.map_or("?".into(), |kib| kib.to_string()),
        rss_after.map_or("?".into(), |kib| kib.to_string()),
        per_connection.map_or("?".into(), |kib| format!("{kib:.2}")),
    );
    let hold_start = cpu_snapshot(config);
    let deadline = Instant::now() + config.hold;
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_secs(5).min(deadline - Instant::now())).await;
        println!(
            "holding: {} alive, {} dropped, {} pings sent, {} server messages, server RSS {} KiB",
            shared.alive.load(Relaxed),
            common.broken.load(Relaxed),
            shared.pings.load(Relaxed),
            shared.received.load(Relaxed),
            rss().map_or("?".into(), |kib| kib.to_string()),
        );
    }
    let hold_end = cpu_snapshot(config);
    let rss_end = rss();
    common.phase.store(STOP, Relaxed);
    let dropped = common.broken.load(Relaxed);
    println!(
        "held {:.0} s: {dropped} dropped, {} alive",
        config.hold.as_secs_f64(),
        shared.alive.load(Relaxed)
    );
    tasks.abort_all();
    finish(
        config,
        common,
        (&hold_start, &hold_end),
        vec![
            ("connected", ready.to_string()),
            ("connect_per_s", format!("{connect_rate:.0}")),
            ("connect_loadgen_cpu", format!("{own:.2}")),
            (
                "rss_before_kib",
                rss_before.map_or("?".into(), |kib| kib.to_string()),
            ),
            (
                "rss_after_kib",
                rss_after.map_or("?".into(), |kib| kib.to_string()),
            ),
            (
                "rss_end_kib",
                rss_end.map_or("?".into(), |kib| kib.to_string()),
            ),
            (
                "rss_per_conn_kib",
                per_connection.map_or("?".into(), |kib| format!("{kib:.2}")),
            ),
            ("dropped", dropped.to_string()),
        ],
    );
}

fn main() {
    let config = match parse_config() {
        Ok(config) => config,
        Err(error) => {
            if !error.is_empty() {
                eprintln!("loadgen: {error}");
            }
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    };
    let runtime = if config.threads == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(config.threads)
            .enable_all()
            .build()
    }
    .expect("tokio runtime");
    let against = config
        .targets
        .iter()
        .map(|target| format!("{}{}", target.addr, target.path))
        .collect::<Vec<_>>()
        .join(", ");
    println!(
        "loadgen: {:?} against {against} ({}, {}), {} connections, sources {:?}",
        config.scenario,
        config.target().protocol.name(),
        if config.target().negotiate {
            "negotiate"
        } else {
            "skipNegotiation"
        },
        config.connections,
        config.target().sources,
    );
    runtime.block_on(async {
        match config.scenario {
            Scenario::Echo => run_echo(&config).await,
            Scenario::Broadcast => run_broadcast(&config).await,
            Scenario::Idle => run_idle(&config).await,
        }
    });
    // Don't wait for the aborted connections to wind down.
    runtime.shutdown_background();
}
