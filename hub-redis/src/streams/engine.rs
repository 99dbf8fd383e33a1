//! The streams backplane's tasks: the writer (local queue to stream), the
//! reader (stream to the hub), and the heartbeat.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use hub_core::BackplaneError;
use hub_core::cluster::Deliver;
use redis::{RedisError, Value};

use tokio::time::Instant;

use super::entry::{self, StreamId};
use super::queue::{Full, Queue};
use super::sequence::{Seen, Senders};
use crate::connection::{Conn, RESPONSE_TIMEOUT, Redis, broken};
use crate::nodes::{self, Membership};
use crate::options::{RedisOptions, StreamOptions};
use crate::stats::{Counters, RedisStats};
use crate::tasks::Tasks;

/// How long a batch waits for its replicas (`WAIT`), in milliseconds.
const WAIT_MS: u64 = 1000;
/// Backoff between attempts while Redis is away: from, to.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(50), Duration::from_secs(1));

fn next_backoff(backoff: Duration) -> Duration {
    (backoff * 2).clamp(BACKOFF.0, BACKOFF.1)
}

/// The streams backplane of one hub on this node.
#[derive(Clone)]
pub(crate) struct Streams {
    guard: Arc<Guard>,
}

/// Stops the tasks when the last handle is dropped.
struct Guard {
    shared: Arc<Shared>,
    tasks: Tasks,
    subscribed: AtomicBool,
}

struct Shared {
    redis: Redis,
    membership: Membership,
    /// This process: node id and a random incarnation (a node restarted
    /// under the same id numbers its messages anew).
    sender: String,
    stream_key: String,
    epoch_key: String,
    options: StreamOptions,
    queue: Queue,
    counters: Counters,
    /// Where reading starts: the stream's last entry when this node joined
    /// (found before this node writes anything, so it reads its own).
    start: tokio::sync::Mutex<Option<StreamId>>,
    /// The epoch of the stream this node reads.
    epoch: Mutex<Option<String>>,
}

impl Streams {
    /// The streams backplane of `options.hub` as `node_id`; unless
    /// `options.start_degraded`, fails when Redis cannot be reached.
    pub(crate) async fn connect(
        redis: Redis,
        options: &RedisOptions,
        streams: StreamOptions,
        node_id: String,
    ) -> Result<Self, RedisError> {
        let base = options.base();
        let shared = Arc::new(Shared {
            membership: Membership {
                redis: redis.clone(),
                node_id: node_id.clone(),
                nodes_key: format!("{base}:nodes"),
            },
            redis,
            sender: format!("{node_id}/{}", hub_core::random_id()),
            stream_key: format!("{base}:stream"),
            epoch_key: format!("{base}:epoch"),
            queue: Queue::new(streams.queue_capacity, streams.queue_bytes),
            options: streams,
            counters: Counters::new(&options.hub),
            start: tokio::sync::Mutex::new(None),
            epoch: Mutex::new(None),
        });
        if !options.start_degraded {
            shared.membership.announce().await?;
            shared.start().await?;
            let epoch = shared.current_epoch().await?;
            *shared.lock_epoch() = Some(epoch);
        }
        let guard = Arc::new(Guard {
            shared: shared.clone(),
            tasks: Tasks::default(),
            subscribed: AtomicBool::new(false),
        });
        let weak = Arc::downgrade(&guard);
        guard
            .tasks
            .spawn(nodes::heartbeat(shared.membership.clone(), move || {
                weak.strong_count() > 0
            }));
        guard.tasks.spawn(write_loop(shared.clone()));
        tracing::info!(node = %node_id, stream = %shared.stream_key, "joined the Redis Streams backplane");
        Ok(Self { guard })
    }

    pub(crate) fn node_id(&self) -> &str {
        &self.guard.shared.membership.node_id
    }

    pub(crate) fn stream_key(&self) -> &str {
        &self.guard.shared.stream_key
    }

    /// Queues `message`; refused (and counted) when the queue is full.
    pub(crate) fn publish(&self, to: Option<&str>, message: Bytes) -> Result<(), BackplaneError> {
        let shared = &self.guard.shared;
        match shared.queue.push(to.map(str::to_owned), message) {
            Ok(_) => Ok(()),
            Err(Full { seq }) => {
                shared.counters.refused();
                let refused = shared.counters.snapshot().refused;
                if refused.is_power_of_two() {
                    tracing::warn!(
                        refused,
                        capacity = shared.options.queue_capacity,
                        bytes = shared.options.queue_bytes,
                        "backplane queue full while Redis is away: message {seq} refused"
                    );
                }
                Err(BackplaneError(format!(
                    "the backplane's local queue is full: message {seq} refused"
                )))
            }
        }
    }

    /// Starts reading the stream into `deliver`, once.
    pub(crate) fn subscribe(&self, deliver: Deliver) -> Result<(), BackplaneError> {
        if self.guard.subscribed.swap(true, Ordering::AcqRel) {
            return Err(BackplaneError("the backplane is already subscribed".into()));
        }
        self.guard
            .tasks
            .spawn(read_loop(self.guard.shared.clone(), deliver));
        Ok(())
    }

    pub(crate) async fn nodes(&self) -> Result<Vec<String>, RedisError> {
        self.guard.shared.membership.live().await
    }

    pub(crate) fn stats(&self) -> RedisStats {
        self.guard.shared.counters.snapshot()
    }
}

impl Shared {
    fn lock_epoch(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.epoch.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Where this node starts reading (found once).
    async fn start(&self) -> Result<StreamId, RedisError> {
        let mut start = self.start.lock().await;
        if let Some(id) = *start {
            return Ok(id);
        }
        let last: Value = self
            .redis
            .command(
                redis::cmd("XREVRANGE")
                    .arg(&self.stream_key)
                    .arg("+")
                    .arg("-")
                    .arg("COUNT")
                    .arg(1),
            )
            .await?;
        let id = entry::parse_entries(&last)
            .map_err(|error| RedisError::from((redis::ErrorKind::Parse, "XREVRANGE", error)))?
            .first()
            .map_or(StreamId::default(), |entry| entry.id);
        *start = Some(id);
        Ok(id)
    }

    /// The stream's epoch in Redis, made now if it has none.
    async fn current_epoch(&self) -> Result<String, RedisError> {
        let mut pipeline = redis::pipe();
        pipeline
            .cmd("SET")
            .arg(&self.epoch_key)
            .arg(hub_core::random_id())
            .arg("NX")
            .ignore()
            .cmd("GET")
            .arg(&self.epoch_key);
        let (epoch,): (Option<String>,) = self.redis.query(&pipeline).await?;
        epoch.ok_or_else(|| RedisError::from((redis::ErrorKind::Parse, "the epoch vanished")))
    }
}

/// Writes the local queue to the stream, in order, a batch per round trip;
/// after a failure, retries from the first unwritten message.
async fn write_loop(shared: Arc<Shared>) {
    let mut backoff = Duration::ZERO;
    let mut failing_since: Option<Instant> = None;
    loop {
        let batch = shared.queue.front(shared.options.batch.max(1));
        if batch.is_empty() {
            shared.counters.set_queued(0);
            shared.queue.ready().await;
            continue;
        }
        if !backoff.is_zero() {
            tokio::time::sleep(backoff).await;
        }
        let written = async {
            shared.start().await?;
            let mut pipeline = redis::pipe();
            for pending in &batch {
                entry::xadd(
                    &mut pipeline,
                    &shared.stream_key,
                    shared.options.retention,
                    &shared.sender,
                    pending,
                );
            }
            let replicas = shared.options.replicas;
            if replicas == 0 {
                return shared.redis.query::<()>(&pipeline).await;
            }
            pipeline.cmd("WAIT").arg(replicas).arg(WAIT_MS);
            let (acknowledged,): (usize,) = shared.redis.query(&pipeline).await?;
            if acknowledged < replicas {
                return Err(RedisError::from((
                    redis::ErrorKind::Io,
                    "not enough replicas acknowledged the batch",
                    format!("{acknowledged} of {replicas}"),
                )));
            }
            Ok(())
        }
        .await;
        match written {
            Ok(()) => {
                let left = shared.queue.pop(batch.len());
                shared.counters.written(batch.len() as u64);
                shared.counters.set_queued(left);
                backoff = Duration::ZERO;
                if let Some(since) = failing_since.take() {
                    tracing::info!(
                        queued = left,
                        after = ?since.elapsed(),
                        "Redis is back: the queued backplane messages are being written, in order"
                    );
                }
            }
            Err(error) => {
                shared.counters.retried();
                shared.counters.set_queued(shared.queue.pop(0));
                backoff = next_backoff(backoff);
                if failing_since.is_none() {
                    failing_since = Some(Instant::now());
                    tracing::warn!(
                        %error,
                        capacity = shared.options.queue_capacity,
                        "cannot write to the backplane stream: messages wait in the local queue and are retried in order"
                    );
                }
            }
        }
    }
}

/// Reads the stream from where this node stopped, and hands each message
/// for this node to `deliver` once.
async fn read_loop(shared: Arc<Shared>, deliver: Deliver) {
    let read_timeout = shared.options.block + RESPONSE_TIMEOUT;
    let block = shared.options.block.as_millis() as u64;
    let mut conn: Option<Conn> = None;
    let mut position: Option<StreamId> = None;
    let mut senders = Senders::default();
    let mut backoff = Duration::ZERO;
    let mut down_since: Option<Instant> = None;
    let mut primary_changes = shared.redis.primary_changes();
    loop {
        if !backoff.is_zero() {
            tokio::time::sleep(backoff).await;
        }
        if primary_changes.has_changed().unwrap_or(false) {
            // Sentinel named another primary: read from it.
            primary_changes.mark_unchanged();
            conn = None;
        }
        let read: Result<(Option<String>, Value), RedisError> = async {
            if conn.is_none() {
                conn = Some(shared.redis.dedicated(read_timeout).await?);
            }
            if position.is_none() {
                position = Some(shared.start().await?);
            }
            if shared.lock_epoch().is_none() {
                let epoch = shared.current_epoch().await?;
                *shared.lock_epoch() = Some(epoch);
            }
            let from = position.unwrap_or_default().to_string();
            let mut pipeline = redis::pipe();
            pipeline
                .cmd("GET")
                .arg(&shared.epoch_key)
                .cmd("XREAD")
                .arg("COUNT")
                .arg(shared.options.batch.max(1))
                .arg("BLOCK")
                .arg(block)
                .arg("STREAMS")
                .arg(&shared.stream_key)
                .arg(from);
            let Some(conn) = conn.as_mut() else {
                unreachable!("connected above")
            };
            pipeline.query_async(conn).await
        }
        .await;
        let (epoch, reply) = match read {
            Ok(read) => read,
            Err(error) => {
                if broken(&error) {
                    conn = None;
                }
                backoff = next_backoff(backoff);
                if down_since.is_none() {
                    down_since = Some(Instant::now());
                    tracing::warn!(
                        %error,
                        resume_from = %position.unwrap_or_default(),
                        "cannot read the backplane stream; retrying, and resuming where this node stopped"
                    );
                }
                continue;
            }
        };
        backoff = Duration::ZERO;
        if let Some(since) = down_since.take() {
            tracing::info!(after = ?since.elapsed(), from = %position.unwrap_or_default(), "reading the backplane stream again");
        }
        let mine = shared.lock_epoch().clone();
        if epoch != mine {
            // Redis lost the stream (or another node saw it first and
            // started a new epoch): what it held and this node had not
            // read is gone; sequence gaps will name what each sender lost.
            shared.counters.stream_reset();
            tracing::error!(
                was = ?mine,
                now = ?epoch,
                "Redis lost the backplane stream (restarted without persistence, flushed, or failed over before replicating it): messages may be lost; reading the new stream from its start"
            );
            match shared.current_epoch().await {
                Ok(epoch) => *shared.lock_epoch() = Some(epoch),
                Err(_) => *shared.lock_epoch() = None,
            }
            position = Some(StreamId::default());
            continue;
        }
        let entries = match entry::parse_read(&reply) {
            Ok(entries) => entries,
            Err(error) => {
                tracing::warn!(%error, "unreadable reply from the backplane stream");
                backoff = next_backoff(backoff);
                continue;
            }
        };
        for entry in entries {
            position = Some(entry.id);
            let Some(message) = entry.message else {
                tracing::warn!(id = %entry.id, "a stream entry not written by a backplane was skipped");
                continue;
            };
            match senders.see(&message.sender, message.seq) {
                Seen::Duplicate => shared.counters.duplicates(1),
                Seen::New { missed } => {
                    if missed > 0 {
                        shared.counters.missed(missed);
                        tracing::warn!(
                            sender = %message.sender,
                            missed,
                            before = message.seq,
                            "backplane messages missing from the stream (lost by Redis, trimmed, or refused by the sender's full queue)"
                        );
                    }
                    let node = &shared.membership.node_id;
                    if message.to.as_ref().is_none_or(|to| to == node) {
                        deliver(message.data);
                    }
                }
            }
        }
    }
}
