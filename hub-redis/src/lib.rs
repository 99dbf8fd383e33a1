//! A Redis backplane for `hub-core`: several server processes serve one hub,
//! as ASP.NET Core SignalR's Redis backplane does.
//!
//! ```no_run
//! # async fn run(builder: hub_core::HubBuilder) -> Result<(), hub_redis::RedisBackplaneError> {
//! let backplane = hub_redis::RedisBackplane::connect("redis://127.0.0.1:6379", "chat").await?;
//! let hub = builder.backplane(backplane).build();
//! # let _ = hub;
//! # Ok(())
//! # }
//! ```
//!
//! # What crosses Redis
//! Each hub uses two pub/sub channels, `{prefix}:{hub}:all` and
//! `{prefix}:{hub}:node:{node id}`, and a sorted set `{prefix}:{hub}:nodes` of
//! live nodes (a heartbeat every 2 s, a node is gone after 6 s of silence).
//! A message to clients crosses once per send (encoded once per hub
//! protocol); group changes, client results, membership queries and forwarded
//! transport requests are small request/reply messages.
//!
//! # Failures
//! [`RedisBackplane::connect`] fails when Redis cannot be reached, unless
//! [`RedisOptions::start_degraded`] is set. While running, a lost connection
//! is re-established with exponential backoff (logged); local delivery goes
//! on meanwhile, and messages that could not be published are counted as
//! lost (`HubContext::cluster_stats`) and logged, never dropped silently.

use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures_util::StreamExt;
use hub_core::cluster::{BackplaneFuture, Deliver};
use hub_core::{Backplane, BackplaneError};
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// How often a node announces it is alive.
const HEARTBEAT: Duration = Duration::from_secs(2);
/// A node silent for this long is no longer counted.
const NODE_EXPIRY: Duration = Duration::from_secs(6);

/// Why the backplane could not start.
#[derive(Debug, thiserror::Error)]
pub enum RedisBackplaneError {
    /// The URL is not a Redis URL.
    #[error("invalid Redis URL `{url}`: {source}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// Why it is invalid.
        source: redis::RedisError,
    },
    /// Redis did not answer.
    #[error("cannot reach Redis at `{url}`: {source}")]
    Unreachable {
        /// The URL given.
        url: String,
        /// The connection error.
        source: redis::RedisError,
    },
}

/// Options of a Redis backplane.
#[derive(Debug, Clone)]
pub struct RedisOptions {
    /// `redis://host:port[/db]`.
    pub url: String,
    /// The hub's name in channel names (one backplane per hub).
    pub hub: String,
    /// Prefix of every channel and key (`signalr`), to share a Redis.
    pub channel_prefix: String,
    /// This node's id (a fresh random id by default); URL-safe.
    pub node_id: Option<String>,
    /// Start even if Redis is unreachable, and join once it is (false: fail).
    pub start_degraded: bool,
}

impl RedisOptions {
    /// Options for `hub` on the Redis at `url`.
    pub fn new(url: impl Into<String>, hub: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            hub: hub.into(),
            channel_prefix: "signalr".into(),
            node_id: None,
            start_degraded: false,
        }
    }
}

/// A [`Backplane`] over Redis pub/sub.
#[derive(Clone)]
pub struct RedisBackplane {
    inner: Arc<Inner>,
}

struct Inner {
    node_id: String,
    all_channel: String,
    node_channel_prefix: String,
    nodes_key: String,
    client: redis::Client,
    publisher: ConnectionManager,
    deliver: OnceLock<Deliver>,
    /// The subscriber and heartbeat tasks, stopped when the backplane is dropped.
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        for task in self
            .tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
        {
            task.abort();
        }
    }
}

impl RedisBackplane {
    /// Connects to the Redis at `url` for the hub named `hub`.
    pub async fn connect(url: &str, hub: &str) -> Result<Self, RedisBackplaneError> {
        Self::connect_with(RedisOptions::new(url, hub)).await
    }

    /// Connects with options.
    pub async fn connect_with(options: RedisOptions) -> Result<Self, RedisBackplaneError> {
        let url = options.url.clone();
        let client = redis::Client::open(url.as_str()).map_err(|source| {
            RedisBackplaneError::InvalidUrl {
                url: url.clone(),
                source,
            }
        })?;
        let config = ConnectionManagerConfig::new()
            .set_min_delay(Duration::from_millis(100))
            .set_max_delay(Duration::from_secs(5))
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)));
        let publisher = if options.start_degraded {
            ConnectionManager::new_lazy_with_config(client.clone(), config)
        } else {
            ConnectionManager::new_with_config(client.clone(), config).await
        }
        .map_err(|source| RedisBackplaneError::Unreachable {
            url: url.clone(),
            source,
        })?;
        let node_id = options.node_id.unwrap_or_else(hub_core::random_id);
        let base = format!("{}:{}", options.channel_prefix, options.hub);
        let inner = Arc::new(Inner {
            all_channel: format!("{base}:all"),
            node_channel_prefix: format!("{base}:node:"),
            nodes_key: format!("{base}:nodes"),
            node_id,
            client,
            publisher,
            deliver: OnceLock::new(),
            tasks: Mutex::default(),
        });
        if !options.start_degraded {
            // Listed before it serves anyone: another node asked about a
            // connection of this one must find it alive.
            announce(&inner)
                .await
                .map_err(|source| RedisBackplaneError::Unreachable {
                    url: url.clone(),
                    source,
                })?;
        }
        let heartbeat = tokio::spawn(heartbeat(Arc::downgrade(&inner)));
        inner
            .tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(heartbeat);
        tracing::info!(node = %inner.node_id, channel = %inner.all_channel, "joined the Redis backplane");
        Ok(Self { inner })
    }
}

impl std::fmt::Debug for RedisBackplane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBackplane")
            .field("node_id", &self.inner.node_id)
            .field("channel", &self.inner.all_channel)
            .finish()
    }
}

fn error(error: redis::RedisError) -> BackplaneError {
    BackplaneError(error.to_string())
}

fn now_millis() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as f64
}

/// Announces the node every [`HEARTBEAT`] and drops silent ones.
async fn heartbeat(inner: std::sync::Weak<Inner>) {
    let mut interval = tokio::time::interval(HEARTBEAT);
    let mut was_down = false;
    loop {
        interval.tick().await;
        let Some(inner) = inner.upgrade() else { return };
        match announce(&inner).await {
            Ok(()) if was_down => {
                tracing::info!("Redis is reachable again");
                was_down = false;
            }
            Ok(()) => {}
            Err(error) if !was_down => {
                tracing::warn!(%error, "Redis is unreachable; retrying with backoff");
                was_down = true;
            }
            Err(_) => {}
        }
    }
}

/// Lists this node among the live ones (now), and drops those silent for
/// longer than [`NODE_EXPIRY`].
async fn announce(inner: &Inner) -> redis::RedisResult<()> {
    let mut connection = inner.publisher.clone();
    let now = now_millis();
    redis::pipe()
        .zadd(&inner.nodes_key, &inner.node_id, now)
        .ignore()
        .zrembyscore(
            &inner.nodes_key,
            f64::NEG_INFINITY,
            now - NODE_EXPIRY.as_millis() as f64,
        )
        .ignore()
        .query_async(&mut connection)
        .await
}

/// Receives this node's messages, reconnecting with backoff when Redis goes away.
async fn subscriber(inner: std::sync::Weak<Inner>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let Some(strong) = inner.upgrade() else {
            return;
        };
        let channels = [
            strong.all_channel.clone(),
            format!("{}{}", strong.node_channel_prefix, strong.node_id),
        ];
        let client = strong.client.clone();
        drop(strong);
        match subscribe_once(&client, &channels).await {
            Ok(mut messages) => {
                tracing::debug!("subscribed to the backplane channels");
                backoff = Duration::from_millis(100);
                while let Some(message) = messages.next().await {
                    let Some(strong) = inner.upgrade() else {
                        return;
                    };
                    if let Some(deliver) = strong.deliver.get() {
                        deliver(Bytes::copy_from_slice(message.get_payload_bytes()));
                    }
                }
                tracing::warn!("lost the backplane subscription; reconnecting");
            }
            Err(error) => {
                tracing::warn!(%error, retry_in = ?backoff, "cannot subscribe to the backplane");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
}

async fn subscribe_once(
    client: &redis::Client,
    channels: &[String],
) -> redis::RedisResult<redis::aio::PubSubStream> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(channels).await?;
    Ok(pubsub.into_on_message())
}

impl Backplane for RedisBackplane {
    fn node_id(&self) -> &str {
        &self.inner.node_id
    }

    fn publish(&self, to: Option<&str>, message: Bytes) -> BackplaneFuture<()> {
        let channel = match to {
            None => self.inner.all_channel.clone(),
            Some(node) => format!("{}{node}", self.inner.node_channel_prefix),
        };
        let mut connection = self.inner.publisher.clone();
        Box::pin(async move {
            connection
                .publish::<_, _, i64>(channel, message.as_ref())
                .await
                .map(drop)
                .map_err(error)
        })
    }

    fn subscribe(&self, deliver: Deliver) -> BackplaneFuture<()> {
        let inner = self.inner.clone();
        Box::pin(async move {
            if inner.deliver.set(deliver).is_err() {
                return Err(BackplaneError("the backplane is already subscribed".into()));
            }
            let task = tokio::spawn(subscriber(Arc::downgrade(&inner)));
            inner
                .tasks
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(task);
            Ok(())
        })
    }

    fn nodes(&self) -> BackplaneFuture<Vec<String>> {
        let inner = self.inner.clone();
        Box::pin(async move {
            let mut connection = inner.publisher.clone();
            let since = now_millis() - NODE_EXPIRY.as_millis() as f64;
            let mut nodes: Vec<String> = connection
                .zrangebyscore(&inner.nodes_key, since, f64::INFINITY)
                .await
                .map_err(error)?;
            if !nodes.contains(&inner.node_id) {
                nodes.push(inner.node_id.clone());
            }
            Ok(nodes)
        })
    }
}
