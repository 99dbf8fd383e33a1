//! The `echo` scenario: concurrent callers each invoke `Echo` (Socket.IO:
//! emit `echo` with an ack) with a 32-byte argument in a loop, one call in
//! flight per connection, and time the round trips.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use crate::hist::Histogram;
use crate::protocol::{Message, write_digits};

use super::Config;
use super::counters::{Common, MEASURE, STOP, WARMUP};
use super::report::{cpu_snapshot, finish, per_op, us};
use super::target::Target;

/// The line printed when the measured window opens.
pub const WINDOW_OPEN: &str = "measured window: open";
/// The line printed when the measured window closes.
pub const WINDOW_CLOSED: &str = "measured window: closed";

/// Waits for the tasks to end after STOP, up to `grace`; aborts the rest and
/// returns how many were still running.
async fn settle(tasks: &mut JoinSet<()>, grace: Duration) -> usize {
    let _ = tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} }).await;
    let left = tasks.len();
    tasks.abort_all();
    left
}

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
    let wire = target.wire;
    // 32 bytes: e<connection>-<call>-<padding>.
    let arg = format!("e{:08}-{:010}-xxxxxxxxxxx", index % 100_000_000, 0);
    let mut call = wire.echo_call(&arg);
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
            for (record, message) in wire.messages(frame.payload) {
                match message {
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
                    Message::Ping => {
                        if let Some(pong) = wire.pong_frame()
                            && let Err(error) = writer.send_raw(pong).await
                        {
                            return common.broke(index, format_args!("pong failed: {error}"));
                        }
                    }
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

/// Runs the echo scenario and prints its results, the `RESULT` line last.
pub async fn run(config: &Config) {
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
    // Markers for scripts that count the server's work over the measured
    // window with tools of their own (bench/percall.sh).
    println!("{WINDOW_OPEN}");
    tokio::time::sleep(config.duration).await;
    let (calls1, cpu1) = (shared.calls.load(Relaxed), cpu_snapshot(config));
    println!("{WINDOW_CLOSED}");
    common.phase.store(STOP, Relaxed);
    let unanswered = settle(&mut tasks, Duration::from_secs(5)).await;

    let seconds = (cpu1.at.unwrap() - cpu0.at.unwrap()).as_secs_f64();
    let rate = (calls1 - calls0) as f64 / seconds;
    let latency = &shared.latency;
    println!(
        "echo {} x{}: {rate:.0} calls/s over {seconds:.1} s; latency p50 {} us, p99 {} us, p99.9 {} us, max {} us",
        config.target().wire.name(),
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
            ("calls", (calls1 - calls0).to_string()),
            ("server_us_per_call", per_op(&cpu0, &cpu1, calls1 - calls0)),
            ("p50_us", us(latency.quantile(0.5))),
            ("p99_us", us(latency.quantile(0.99))),
            ("p999_us", us(latency.quantile(0.999))),
            ("unanswered", unanswered.to_string()),
        ],
    );
}
