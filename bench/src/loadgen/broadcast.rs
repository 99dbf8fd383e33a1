//! The `broadcast` scenario: receivers connect (round-robin over the nodes
//! when several `--url` are given), then one sender calls `SendToAll`
//! (Socket.IO: emits `broadcast` with an ack) in a loop; the receivers time
//! every delivery (`Receive`; Socket.IO: event `message`) and check that none
//! is lost or duplicated.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinSet;

use crate::hist::Histogram;
use crate::protocol::{Message, read_digits, write_digits};

use super::Config;
use super::counters::{Common, MEASURE, STOP, WARMUP};
use super::report::{cpu_snapshot, finish, per_op, us};
use super::target::Target;

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
    /// `--paced`.
    paced: bool,
    /// `--paced`: deliveries of the last `SendToAll` still to arrive.
    outstanding: AtomicU64,
    /// `--paced`: told when `outstanding` reaches 0.
    all_delivered: Notify,
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
    let (mut reader, mut writer) = match opened {
        Ok(halves) => halves,
        Err(error) => {
            state.closed.store(true, Relaxed);
            return common.connect_failed(index, &error);
        }
    };
    common.ready.fetch_add(1, Relaxed);
    let wire = target.wire;
    let delivery = wire.delivery_target();
    loop {
        let frame = match reader.recv().await {
            Ok(Some(frame)) => frame,
            end => {
                state.closed.store(true, Relaxed);
                return common.broke(index, format_args!("receiver ended: {end:?}"));
            }
        };
        let now = shared.epoch.elapsed().as_nanos() as u64;
        for (record, message) in wire.messages(frame.payload) {
            match message {
                Message::Invocation {
                    target,
                    arg: Some(arg),
                } if target == delivery && arg.len() == STAMP.end => {
                    let (Some(seq), Some(stamp)) =
                        (read_digits(&arg[SEQ]), read_digits(&arg[STAMP]))
                    else {
                        common.wrong.fetch_add(1, Relaxed);
                        continue;
                    };
                    shared.deliveries.fetch_add(1, Relaxed);
                    // `--paced`: the last receiver to get it wakes the sender
                    // (a late copy of a round given up on counts for nothing).
                    let counted = shared
                        .outstanding
                        .fetch_update(Relaxed, Relaxed, |left| left.checked_sub(1));
                    if counted == Ok(1) {
                        shared.all_delivered.notify_one();
                    }
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
                Message::Ping => {
                    if let Some(pong) = wire.pong_frame()
                        && let Err(error) = writer.send_raw(pong).await
                    {
                        state.closed.store(true, Relaxed);
                        return common.broke(index, format_args!("pong failed: {error}"));
                    }
                }
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
    let wire = target.wire;
    let mut call = wire.broadcast_call(&format!("b{:010}-{:020}", 0, 0));
    let _ = start.wait_for(|&started| started).await;
    let paced = shared.paced;
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
        if paced {
            shared
                .outstanding
                .store(shared.receivers.len() as u64, Relaxed);
        }
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
            for (record, message) in wire.messages(frame.payload) {
                match message {
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
                    Message::Invocation { .. } => {}
                    Message::Ping => {
                        if let Some(pong) = wire.pong_frame()
                            && let Err(error) = writer.send_raw(pong).await
                        {
                            common.broke(index, format_args!("sender pong failed: {error}"));
                            break 'calls;
                        }
                    }
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
        if paced {
            // Every receiver's copy, or (one lost or a receiver gone) give up
            // waiting after 30 s: the loss is counted either way.
            let all = async {
                while shared.outstanding.load(Relaxed) > 0 {
                    shared.all_delivered.notified().await;
                }
            };
            if tokio::time::timeout(Duration::from_secs(30), all)
                .await
                .is_err()
            {
                common.show(format_args!(
                    "SendToAll {seq}: not every receiver had it after 30 s"
                ));
                shared.outstanding.store(0, Relaxed);
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

/// Runs the broadcast scenario and prints its results, the `RESULT` line last.
pub async fn run(config: &Config) {
    let receivers = config.connections;
    let nodes = config.targets.len();
    let shared = Arc::new(BroadcastShared {
        common: Common::default(),
        epoch: Instant::now(),
        deliveries: AtomicU64::new(0),
        sends: AtomicU64::new(0),
        send_errors: AtomicU64::new(0),
        last_sent: AtomicU64::new(0),
        paced: config.paced,
        outstanding: AtomicU64::new(0),
        all_delivered: Notify::new(),
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
        config.target().wire.name()
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
