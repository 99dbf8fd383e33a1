//! The `idle` scenario: many connections open and sit idle, each pinging
//! like the official clients (SignalR; Socket.IO's server pings and the
//! connections answer), while the server's memory per connection and its CPU
//! are measured.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::protocol::Message;

use super::Config;
use super::counters::{Common, MEASURE, STOP};
use super::report::{cpu_snapshot, finish, server_rss_kib};
use super::target::Target;

/// The keep-alive interval of the official clients.
const PING_INTERVAL: Duration = Duration::from_secs(15);

#[derive(Debug, Default)]
struct IdleShared {
    common: Common,
    alive: AtomicUsize,
    /// Keep-alive frames sent: SignalR's pings or Socket.IO's pongs.
    pings: AtomicU64,
    received: AtomicU64,
}

async fn idle_connection(
    index: usize,
    total: usize,
    target: Arc<Target>,
    shared: Arc<IdleShared>,
    gate: Arc<Semaphore>,
    ping: Option<Arc<[u8]>>,
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
                Ok(Some(frame)) => {
                    shared.received.fetch_add(1, Relaxed);
                    let wire = target.wire;
                    let pinged = || wire.messages(frame.payload).any(|(_, m)| m == Message::Ping);
                    if let Some(pong) = wire.pong_frame().filter(|_| pinged()) {
                        if let Err(error) = writer.send_raw(pong).await {
                            shared.alive.fetch_sub(1, Relaxed);
                            return common.broke(index, format_args!("pong failed: {error}"));
                        }
                        shared.pings.fetch_add(1, Relaxed);
                    }
                }
                end => {
                    shared.alive.fetch_sub(1, Relaxed);
                    return common.broke(index, format_args!("idle connection ended: {end:?}"));
                }
            },
            () = tokio::time::sleep_until(next_ping), if ping.is_some() => {
                let ping = ping.as_deref().unwrap_or_default();
                if let Err(error) = writer.send_raw(ping).await {
                    shared.alive.fetch_sub(1, Relaxed);
                    return common.broke(index, format_args!("ping failed: {error}"));
                }
                shared.pings.fetch_add(1, Relaxed);
                next_ping += PING_INTERVAL;
            }
        }
    }
}

/// Runs the idle scenario and prints its results, the `RESULT` line last.
pub async fn run(config: &Config) {
    let rss = || server_rss_kib(config);
    let rss_before = rss();
    let shared = Arc::new(IdleShared::default());
    let gate = Arc::new(Semaphore::new(config.connect_concurrency));
    let ping: Option<Arc<[u8]>> = config.target().wire.keepalive_frame().map(Arc::from);
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
