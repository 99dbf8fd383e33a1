//! Connections to Redis, whatever the deployment: one server, a Cluster, or
//! the primary Sentinel names (followed across failovers).
//!
//! [`Redis`] hands out one shared multiplexed connection for commands,
//! reconnecting after a failure (at most once per backoff step, so that
//! callers fail fast while Redis is away instead of queueing on a
//! connection attempt), dedicated connections for blocking reads, and
//! pub/sub subscriptions (sharded in a Cluster).

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::sentinel::{SentinelClient, SentinelServerType};
use redis::{AsyncConnectionConfig, Client, Cmd, Pipeline, RedisError, RedisFuture, Value};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::options::Deployment;

/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a command may wait for its answer (blocking reads add their block).
pub(crate) const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
/// Backoff between connection attempts after a failure: from, to.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(2));
/// Sharded pub/sub messages waiting for the subscriber, at most; beyond,
/// they are dropped (and logged), like any pub/sub message that cannot be
/// delivered.
const PUSH_CAPACITY: usize = 65_536;

/// A connection to a server or to a Cluster.
#[derive(Clone)]
pub(crate) enum Conn {
    Single(MultiplexedConnection),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Single(conn) => conn.req_packed_command(cmd),
            Conn::Cluster(conn) => conn.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(conn) => conn.req_packed_commands(pipeline, offset, count),
            Conn::Cluster(conn) => conn.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(conn) => conn.get_db(),
            Conn::Cluster(conn) => conn.get_db(),
        }
    }
}

/// Where connections go.
enum Target {
    Standalone(Client),
    Sentinel(tokio::sync::Mutex<SentinelClient>),
    Cluster(Vec<String>),
}

/// The shared command connection, and when to try again after a failure.
#[derive(Default)]
struct Slot {
    conn: Option<(u64, Conn)>,
    generation: u64,
    retry_at: Option<Instant>,
    backoff: Duration,
}

/// Connections to one Redis deployment.
#[derive(Clone)]
pub(crate) struct Redis {
    inner: Arc<Inner>,
}

struct Inner {
    target: Target,
    slot: tokio::sync::Mutex<Slot>,
    /// The address of the primary in use (Sentinel), to notice a failover.
    primary: Mutex<Option<String>>,
    /// Bumped when Sentinel names another primary: subscriptions renew.
    primary_changed: watch::Sender<u64>,
}

impl Redis {
    /// Connections to `deployment` (none is opened yet).
    pub(crate) fn new(deployment: &Deployment) -> Result<Self, RedisError> {
        let target = match deployment {
            Deployment::Standalone(url) => Target::Standalone(Client::open(url.as_str())?),
            Deployment::Sentinel { sentinels, service } => {
                let client = SentinelClient::build(
                    sentinels.clone(),
                    service.clone(),
                    None,
                    SentinelServerType::Master,
                )?;
                Target::Sentinel(tokio::sync::Mutex::new(client))
            }
            Deployment::Cluster(nodes) => {
                // Checks the URLs now.
                ClusterClientBuilder::new(nodes.clone()).build()?;
                Target::Cluster(nodes.clone())
            }
        };
        Ok(Self {
            inner: Arc::new(Inner {
                target,
                slot: tokio::sync::Mutex::default(),
                primary: Mutex::new(None),
                primary_changed: watch::Sender::new(0),
            }),
        })
    }

    /// Whether this is a Redis Cluster.
    pub(crate) fn is_cluster(&self) -> bool {
        matches!(self.inner.target, Target::Cluster(_))
    }

    /// The shared command connection: the open one, or a new one unless the
    /// last attempt failed less than a backoff step ago.
    pub(crate) async fn shared(&self) -> Result<(u64, Conn), RedisError> {
        let mut slot = self.inner.slot.lock().await;
        if let Some(conn) = &slot.conn {
            return Ok(conn.clone());
        }
        if slot.retry_at.is_some_and(|at| Instant::now() < at) {
            return Err(RedisError::from((
                redis::ErrorKind::Io,
                "Redis is unreachable (waiting before the next attempt)",
            )));
        }
        match self.connect(RESPONSE_TIMEOUT).await {
            Ok(conn) => {
                slot.generation += 1;
                slot.conn = Some((slot.generation, conn.clone()));
                slot.retry_at = None;
                slot.backoff = Duration::ZERO;
                Ok((slot.generation, conn))
            }
            Err(error) => {
                slot.backoff = (slot.backoff * 2).clamp(BACKOFF.0, BACKOFF.1);
                slot.retry_at = Some(Instant::now() + slot.backoff);
                Err(error)
            }
        }
    }

    /// Runs `pipeline` on the shared connection; a connection that failed
    /// is dropped (the next call reconnects).
    pub(crate) async fn query<T: redis::FromRedisValue>(
        &self,
        pipeline: &Pipeline,
    ) -> Result<T, RedisError> {
        let (generation, mut conn) = self.shared().await?;
        let result = pipeline.query_async(&mut conn).await;
        if let Err(error) = &result {
            self.failed(generation, error).await;
        }
        result
    }

    /// Runs one command on the shared connection (as [`Redis::query`]).
    pub(crate) async fn command<T: redis::FromRedisValue>(
        &self,
        cmd: &Cmd,
    ) -> Result<T, RedisError> {
        let (generation, mut conn) = self.shared().await?;
        let result = cmd.query_async(&mut conn).await;
        if let Err(error) = &result {
            self.failed(generation, error).await;
        }
        result
    }

    /// Drops the shared connection `generation` if `error` says it is broken.
    async fn failed(&self, generation: u64, error: &RedisError) {
        if broken(error) {
            let mut slot = self.inner.slot.lock().await;
            if slot
                .conn
                .as_ref()
                .is_some_and(|(open, _)| *open == generation)
            {
                slot.conn = None;
            }
        }
    }

    /// A connection of its own (for blocking reads), answering within
    /// `response_timeout`.
    pub(crate) async fn dedicated(&self, response_timeout: Duration) -> Result<Conn, RedisError> {
        self.connect(response_timeout).await
    }

    async fn connect(&self, response_timeout: Duration) -> Result<Conn, RedisError> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(response_timeout));
        match &self.inner.target {
            Target::Cluster(nodes) => {
                let client = ClusterClientBuilder::new(nodes.clone())
                    .connection_timeout(CONNECT_TIMEOUT)
                    .response_timeout(response_timeout)
                    .retries(2)
                    .build()?;
                Ok(Conn::Cluster(
                    Box::pin(client.get_async_connection()).await?,
                ))
            }
            _ => {
                let client = self.client().await?;
                let conn = client
                    .get_multiplexed_async_connection_with_config(&config)
                    .await?;
                Ok(Conn::Single(conn))
            }
        }
    }

    /// A client of the server (for Sentinel, of the primary it names now).
    async fn client(&self) -> Result<Client, RedisError> {
        match &self.inner.target {
            Target::Standalone(client) => Ok(client.clone()),
            Target::Sentinel(sentinel) => {
                let client = tokio::time::timeout(CONNECT_TIMEOUT * 2, async {
                    sentinel.lock().await.async_get_client().await
                })
                .await
                .map_err(|_| {
                    RedisError::from((redis::ErrorKind::Io, "the sentinels did not answer in time"))
                })??;
                let address = client.get_connection_info().addr().to_string();
                let mut primary = self
                    .inner
                    .primary
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                if primary.as_deref() != Some(address.as_str()) {
                    if primary.is_some() {
                        tracing::warn!(primary = %address, "Sentinel names a new Redis primary");
                        self.inner.primary_changed.send_modify(|n| *n += 1);
                    }
                    *primary = Some(address);
                }
                Ok(client)
            }
            Target::Cluster(_) => Err(RedisError::from((
                redis::ErrorKind::InvalidClientConfig,
                "a Cluster has no single client",
            ))),
        }
    }

    /// With Sentinel: asks the sentinels which server is the primary; if it
    /// is another one than in use, drops the shared connection (subscribers
    /// learn it through [`Redis::primary_changes`]). Otherwise nothing.
    pub(crate) async fn follow_primary(&self) {
        let Target::Sentinel(_) = &self.inner.target else {
            return;
        };
        let before = *self.inner.primary_changed.borrow();
        if self.client().await.is_ok() && *self.inner.primary_changed.borrow() != before {
            self.inner.slot.lock().await.conn = None;
        }
    }

    /// Changes whenever Sentinel names another primary.
    pub(crate) fn primary_changes(&self) -> watch::Receiver<u64> {
        self.inner.primary_changed.subscribe()
    }

    /// Subscribes to `channels` (sharded channels in a Cluster): the
    /// payloads received, until the subscription fails. Fails if Redis
    /// does not confirm the subscription in time.
    pub(crate) async fn subscribe(
        &self,
        channels: &[String],
    ) -> Result<Pin<Box<dyn Stream<Item = Bytes> + Send>>, RedisError> {
        tokio::time::timeout(
            CONNECT_TIMEOUT + RESPONSE_TIMEOUT,
            self.subscribe_now(channels),
        )
        .await
        .map_err(|_| {
            RedisError::from((
                redis::ErrorKind::Io,
                "Redis did not confirm the subscription in time",
            ))
        })?
    }

    async fn subscribe_now(
        &self,
        channels: &[String],
    ) -> Result<Pin<Box<dyn Stream<Item = Bytes> + Send>>, RedisError> {
        if let Target::Cluster(nodes) = &self.inner.target {
            let (sender, receiver) = mpsc::channel(PUSH_CAPACITY);
            let client = ClusterClientBuilder::new(nodes.clone())
                .connection_timeout(CONNECT_TIMEOUT)
                .response_timeout(RESPONSE_TIMEOUT)
                .use_protocol(redis::ProtocolVersion::RESP3)
                .push_sender(BoundedPush(sender))
                .build()?;
            let mut conn = Box::pin(client.get_async_connection()).await?;
            conn.ssubscribe(channels).await?;
            // The connection lives as long as the stream: it resubscribes
            // by itself after a failure.
            let messages =
                futures_util::stream::unfold((receiver, conn), |(mut receiver, conn)| async move {
                    loop {
                        let push = receiver.recv().await?;
                        if push.kind == redis::PushKind::SMessage
                            && let Some(Value::BulkString(payload)) = push.data.get(1)
                        {
                            return Some((Bytes::copy_from_slice(payload), (receiver, conn)));
                        }
                    }
                });
            return Ok(Box::pin(messages));
        }
        let client = self.client().await?;
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(channels).await?;
        Ok(Box::pin(pubsub.into_on_message().map(|message| {
            Bytes::copy_from_slice(message.get_payload_bytes())
        })))
    }
}

/// Whether `error` means the connection is of no more use (rather than a
/// command that failed on a good connection). `READONLY`: the server is a
/// replica now (a failover happened).
pub(crate) fn broken(error: &RedisError) -> bool {
    error.is_io_error()
        || error.is_timeout()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
        || error.is_unrecoverable_error()
        || error.code() == Some("READONLY")
}

/// Hands sharded pub/sub pushes to the subscriber without blocking the
/// connection: when its queue is full, the message is dropped and logged.
struct BoundedPush(mpsc::Sender<redis::PushInfo>);

impl redis::aio::AsyncPushSender for BoundedPush {
    fn send(&self, info: redis::PushInfo) -> Result<(), redis::aio::SendError> {
        match self.0.try_send(info) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!("backplane subscriber behind: a sharded pub/sub message dropped");
                Ok(())
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Err(redis::aio::SendError),
        }
    }
}
