//! `clientgen`: the Rust SignalR client (`hub-client`) as a load generator,
//! to compare with `loadgen` (the bench's own minimal client) in one run.
//!
//! ```text
//! clientgen echo --url http://127.0.0.1:5000/hubs/test --connections 100 --duration 10
//! clientgen idle --url http://127.0.0.1:5000/hubs/test --connections 10000
//! ```
//!
//! `echo`: each connection invokes `Echo` with a 32-byte argument in a loop,
//! one call in flight per connection (as `loadgen echo`), on a
//! current-thread runtime. `idle`: opens the connections, then reports this
//! process's resident memory per connection. The last line printed is
//! `RESULT key=value ...`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bench::args::Args;
use bench::hist::Histogram;
use bench::procfs::vm_rss_kib;
use hub_client::{HubConnection, Protocol, TransportKind};

const USAGE: &str = "\
usage: clientgen echo|idle [options]
  --url http://HOST:PORT/PATH   hub URL (default http://127.0.0.1:5000/hubs/test)
  --protocol json|messagepack   hub protocol (default json)
  --connections N               echo: callers (default 100); idle: connections (default 10000)
  --duration S                  echo: measured seconds (default 10)
  --warmup S                    echo: seconds before measuring (default 2)
  --hold S                      idle: seconds to hold the connections once open (default 5)
  --negotiate                   negotiate first (default: skipNegotiation, as loadgen)";

struct Config {
    scenario: String,
    url: String,
    protocol: Protocol,
    connections: usize,
    duration: u64,
    warmup: u64,
    hold: u64,
    negotiate: bool,
}

fn config() -> Result<Config, String> {
    let mut args = Args::parse(std::env::args().skip(1));
    let scenario = args.positional().first().cloned().ok_or("no scenario")?;
    let idle = scenario == "idle";
    let protocol = match args.value("protocol", "json".to_owned())?.as_str() {
        "json" => Protocol::Json,
        "messagepack" => Protocol::MessagePack,
        other => return Err(format!("unknown protocol {other}")),
    };
    let config = Config {
        url: args.value("url", "http://127.0.0.1:5000/hubs/test".to_owned())?,
        protocol,
        connections: args.value("connections", if idle { 10_000 } else { 100 })?,
        duration: args.value("duration", 10)?,
        warmup: args.value("warmup", 2)?,
        hold: args.value("hold", 5)?,
        negotiate: args.flag("negotiate")?,
        scenario,
    };
    args.finish()?;
    Ok(config)
}

async fn connect(config: &Config) -> Result<HubConnection, hub_client::Error> {
    let connection = HubConnection::builder(&config.url)
        .transports(TransportKind::WebSockets)
        .protocol(config.protocol)
        .skip_negotiation(!config.negotiate)
        .build()?;
    connection.start().await?;
    Ok(connection)
}

/// Opens `count` connections, 64 attempts at a time: 64 workers, each
/// opening the next connection until `count` were attempted (no task per
/// connection waiting its turn: those would hold a connect future each, and
/// the resident memory measured afterwards would count them).
async fn open_all(config: &Arc<Config>, count: usize) -> Vec<HubConnection> {
    let next = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..64.min(count))
        .map(|_| {
            let (config, next) = (config.clone(), next.clone());
            tokio::spawn(async move {
                let (mut opened, mut failed) = (Vec::new(), 0);
                while next.fetch_add(1, Ordering::Relaxed) < count {
                    match connect(&config).await {
                        Ok(connection) => opened.push(connection),
                        Err(_) => failed += 1,
                    }
                }
                (opened, failed)
            })
        })
        .collect();
    let mut connections = Vec::with_capacity(count);
    let mut failed = 0;
    for worker in workers {
        match worker.await {
            Ok((opened, failures)) => {
                connections.extend(opened);
                failed += failures;
            }
            Err(_) => failed += 1,
        }
    }
    if failed > 0 {
        eprintln!("clientgen: {failed} connection(s) failed to open");
    }
    connections
}

async fn echo(config: Arc<Config>) {
    let connections = open_all(&config, config.connections).await;
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let latency = Arc::new(Histogram::default());
    let mut tasks = Vec::new();
    for (index, connection) in connections.iter().enumerate() {
        let (connection, measuring, stop) = (connection.clone(), measuring.clone(), stop.clone());
        let (calls, errors, latency) = (calls.clone(), errors.clone(), latency.clone());
        tasks.push(tokio::spawn(async move {
            let argument = format!("e{index:08}-{:010}-xxxxxxxxxxx", 0);
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                let echoed = connection.invoke::<String>("Echo", (&argument,)).await;
                if measuring.load(Ordering::Relaxed) {
                    match echoed {
                        Ok(_) => {
                            calls.fetch_add(1, Ordering::Relaxed);
                            latency.record(started.elapsed().as_nanos() as u64);
                        }
                        Err(_) => {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(config.warmup)).await;
    measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(config.duration)).await;
    measuring.store(false, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        let _ = task.await;
    }
    let us = |nanos: u64| nanos as f64 / 1000.0;
    println!(
        "RESULT scenario=echo client=hub-client connections={} calls_per_s={:.0} p50_us={:.0} p99_us={:.0} errors={}",
        connections.len(),
        calls.load(Ordering::Relaxed) as f64 / elapsed,
        us(latency.quantile(0.5)),
        us(latency.quantile(0.99)),
        errors.load(Ordering::Relaxed),
    );
    for connection in connections {
        connection.stop().await;
    }
}

async fn idle(config: Arc<Config>) {
    let before = vm_rss_kib(None).unwrap_or(0);
    let connections = open_all(&config, config.connections).await;
    tokio::time::sleep(Duration::from_secs(config.hold)).await;
    let after = vm_rss_kib(None).unwrap_or(0);
    let open = connections
        .iter()
        .filter(|connection| connection.state() == hub_client::ConnectionState::Connected)
        .count();
    let per_connection = (after.saturating_sub(before)) as f64 / open.max(1) as f64;
    println!(
        "RESULT scenario=idle client=hub-client connections={open} rss_before_kib={before} rss_after_kib={after} kib_per_connection={per_connection:.1}"
    );
    // Dropped without stopping: the process ends.
    std::mem::forget(connections);
}

fn main() {
    let config = match config() {
        Ok(config) => Arc::new(config),
        Err(error) => {
            eprintln!("clientgen: {error}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        match config.scenario.as_str() {
            "echo" => echo(config.clone()).await,
            "idle" => idle(config.clone()).await,
            other => {
                eprintln!("clientgen: unknown scenario {other}\n{USAGE}");
                std::process::exit(2);
            }
        }
    });
    runtime.shutdown_background();
}
