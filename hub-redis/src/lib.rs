//! A Redis backplane for `hub-core`: several server processes serve one hub,
//! as ASP.NET Core SignalR's Redis backplane does, over pub/sub or, durably,
//! over a Redis Stream; on one server, a Redis Cluster, or behind Sentinel.
//!
//! ```no_run
//! # async fn run(builder: hub_core::HubBuilder) -> Result<(), hub_redis::RedisBackplaneError> {
//! use hub_redis::{Mode, RedisBackplane, RedisOptions};
//! // Pub/sub (the default), as ASP.NET Core:
//! let backplane = RedisBackplane::connect("redis://127.0.0.1:6379", "chat").await?;
//! // Or durable, on a Redis Stream:
//! let backplane = RedisBackplane::connect_with(RedisOptions {
//!     mode: Mode::parse("streams").unwrap(),
//!     ..RedisOptions::new("redis://127.0.0.1:6379", "chat")
//! })
//! .await?;
//! let hub = builder.backplane(backplane).build();
//! # let _ = hub;
//! # Ok(())
//! # }
//! ```
//!
//! # Where Redis is
//! [`RedisOptions::url`] names it ([`Deployment::parse`]): `redis://HOST:PORT`
//! for one server, `redis+cluster://HOST:PORT,HOST:PORT,…` for a Redis
//! Cluster (sharded pub/sub, `SPUBLISH`/`SSUBSCRIBE`), and
//! `redis+sentinel://HOST:PORT,…/SERVICE` for the primary that Sentinel
//! names, followed across failovers. Every key and channel of a hub shares
//! the hash tag `{prefix:hub}`, so in a Cluster one shard carries one hub.
//!
//! # The two modes
//! * [`Mode::PubSub`]: channels `{prefix:hub}:all` and
//!   `{prefix:hub}:node:{node id}`. Fast, and as ASP.NET Core: a message
//!   published while Redis is unreachable, or while a node resubscribes, is
//!   lost (counted as lost by the hub, `HubContext::cluster_stats`, and
//!   logged).
//! * [`Mode::Streams`]: a stream `{prefix:hub}:stream` (trimmed as
//!   [`StreamOptions::retention`] says) that every node reads from the last
//!   entry it saw. Messages wait in a bounded local queue while Redis is
//!   unreachable and are written in order when it is back; duplicates from
//!   retried writes are dropped by the readers; what Redis itself lost
//!   (restarted without persistence, trimmed past a node's position) is
//!   detected, logged and counted ([`RedisBackplane::stats`], metrics
//!   `signalr_backplane_*`), and the node goes on.
//!
//! Both list the live nodes in a sorted set `{prefix:hub}:nodes` (a
//! heartbeat every 2 s, a node is gone after 6 s of silence).
//!
//! # Failures
//! [`RedisBackplane::connect`] fails when Redis cannot be reached, unless
//! [`RedisOptions::start_degraded`] is set. While running, a lost connection
//! is re-established with backoff (logged); local delivery goes on meanwhile.

mod connection;
mod nodes;
mod options;
mod pubsub;
mod stats;
mod streams;
mod tasks;

pub use options::{Deployment, Mode, RedisBackplaneError, RedisOptions, Retention, StreamOptions};
pub use stats::RedisStats;

use bytes::Bytes;
use hub_core::cluster::{BackplaneFuture, Deliver};
use hub_core::{Backplane, BackplaneError};

/// A [`Backplane`] over Redis: pub/sub or streams ([`Mode`]).
#[derive(Clone)]
pub struct RedisBackplane {
    engine: Engine,
}

#[derive(Clone)]
enum Engine {
    PubSub(pubsub::PubSub),
    Streams(streams::Streams),
}

impl RedisBackplane {
    /// Connects to the Redis at `url` for the hub named `hub`, over pub/sub.
    pub async fn connect(url: &str, hub: &str) -> Result<Self, RedisBackplaneError> {
        Self::connect_with(RedisOptions::new(url, hub)).await
    }

    /// Connects with options.
    pub async fn connect_with(options: RedisOptions) -> Result<Self, RedisBackplaneError> {
        let url = options.url.clone();
        let invalid = |source| RedisBackplaneError::InvalidUrl {
            url: url.clone(),
            source,
        };
        let deployment = Deployment::parse(&url).map_err(|error| {
            invalid(redis::RedisError::from((
                redis::ErrorKind::InvalidClientConfig,
                "invalid URL",
                error,
            )))
        })?;
        let redis = connection::Redis::new(&deployment).map_err(invalid)?;
        let node_id = options.node_id.clone().unwrap_or_else(hub_core::random_id);
        let unreachable = |source| RedisBackplaneError::Unreachable {
            url: url.clone(),
            source,
        };
        let engine = match &options.mode {
            Mode::PubSub => Engine::PubSub(
                Box::pin(pubsub::PubSub::connect(redis, &options, node_id))
                    .await
                    .map_err(unreachable)?,
            ),
            Mode::Streams(streams) => Engine::Streams(
                Box::pin(streams::Streams::connect(
                    redis,
                    &options,
                    streams.clone(),
                    node_id,
                ))
                .await
                .map_err(unreachable)?,
            ),
        };
        Ok(Self { engine })
    }

    /// The counters of the streams mode (all zero in pub/sub mode, whose
    /// losses the hub counts in `ClusterStats::lost`).
    pub fn stats(&self) -> RedisStats {
        match &self.engine {
            Engine::PubSub(_) => RedisStats::default(),
            Engine::Streams(streams) => streams.stats(),
        }
    }
}

impl std::fmt::Debug for RedisBackplane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut debug = f.debug_struct("RedisBackplane");
        match &self.engine {
            Engine::PubSub(pubsub) => debug
                .field("node_id", &pubsub.node_id())
                .field("channel", &pubsub.channel()),
            Engine::Streams(streams) => debug
                .field("node_id", &streams.node_id())
                .field("stream", &streams.stream_key()),
        }
        .finish()
    }
}

fn error(error: redis::RedisError) -> BackplaneError {
    BackplaneError(error.to_string())
}

impl Backplane for RedisBackplane {
    fn node_id(&self) -> &str {
        match &self.engine {
            Engine::PubSub(pubsub) => pubsub.node_id(),
            Engine::Streams(streams) => streams.node_id(),
        }
    }

    fn publish(&self, to: Option<&str>, message: Bytes) -> BackplaneFuture<()> {
        match &self.engine {
            Engine::PubSub(pubsub) => {
                let pubsub = pubsub.clone();
                let to = to.map(str::to_owned);
                Box::pin(async move { pubsub.publish(to.as_deref(), message).await.map_err(error) })
            }
            // Queued at once, in call order (the hub calls in its order).
            Engine::Streams(streams) => Box::pin(std::future::ready(streams.publish(to, message))),
        }
    }

    fn subscribe(&self, deliver: Deliver) -> BackplaneFuture<()> {
        let engine = self.engine.clone();
        // Spawns its tasks when awaited (inside the runtime).
        Box::pin(async move {
            match engine {
                Engine::PubSub(pubsub) => pubsub.subscribe(deliver),
                Engine::Streams(streams) => streams.subscribe(deliver),
            }
        })
    }

    fn nodes(&self) -> BackplaneFuture<Vec<String>> {
        let engine = self.engine.clone();
        Box::pin(async move {
            match engine {
                Engine::PubSub(pubsub) => pubsub.nodes().await,
                Engine::Streams(streams) => streams.nodes().await,
            }
            .map_err(error)
        })
    }
}
