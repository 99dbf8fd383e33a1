//! The pub/sub backplane: a channel for every node and one per node
//! (sharded channels in a Cluster). What is published while Redis or a
//! node's subscription is away is lost, and counted by the hub.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use hub_core::BackplaneError;
use hub_core::cluster::Deliver;
use redis::RedisError;

use crate::connection::Redis;
use crate::nodes::{self, Membership};
use crate::options::RedisOptions;
use crate::tasks::Tasks;

/// The pub/sub backplane of one hub on this node.
#[derive(Clone)]
pub(crate) struct PubSub {
    inner: Arc<Inner>,
}

struct Inner {
    membership: Membership,
    all_channel: String,
    node_channel_prefix: String,
    deliver: OnceLock<Deliver>,
    /// The subscriber and heartbeat tasks, stopped when the backplane is dropped.
    tasks: Tasks,
}

impl PubSub {
    /// The pub/sub backplane of `options.hub` as `node_id`; unless
    /// `options.start_degraded`, fails when Redis cannot be reached.
    pub(crate) async fn connect(
        redis: Redis,
        options: &RedisOptions,
        node_id: String,
    ) -> Result<Self, RedisError> {
        let base = options.base();
        let inner = Arc::new(Inner {
            all_channel: format!("{base}:all"),
            node_channel_prefix: format!("{base}:node:"),
            membership: Membership {
                redis,
                node_id,
                nodes_key: format!("{base}:nodes"),
            },
            deliver: OnceLock::new(),
            tasks: Tasks::default(),
        });
        if !options.start_degraded {
            // Listed before it serves anyone: another node asked about a
            // connection of this one must find it alive.
            inner.membership.announce().await?;
        }
        let weak = Arc::downgrade(&inner);
        inner
            .tasks
            .spawn(nodes::heartbeat(inner.membership.clone(), move || {
                weak.strong_count() > 0
            }));
        tracing::info!(node = %inner.membership.node_id, channel = %inner.all_channel, "joined the Redis pub/sub backplane");
        Ok(Self { inner })
    }

    pub(crate) fn node_id(&self) -> &str {
        &self.inner.membership.node_id
    }

    pub(crate) fn channel(&self) -> &str {
        &self.inner.all_channel
    }

    pub(crate) async fn publish(&self, to: Option<&str>, message: Bytes) -> Result<(), RedisError> {
        let channel = match to {
            None => self.inner.all_channel.clone(),
            Some(node) => format!("{}{node}", self.inner.node_channel_prefix),
        };
        let redis = &self.inner.membership.redis;
        let command = if redis.is_cluster() {
            "SPUBLISH"
        } else {
            "PUBLISH"
        };
        redis
            .command::<i64>(redis::cmd(command).arg(channel).arg(message.as_ref()))
            .await
            .map(drop)
    }

    pub(crate) fn subscribe(&self, deliver: Deliver) -> Result<(), BackplaneError> {
        if self.inner.deliver.set(deliver).is_err() {
            return Err(BackplaneError("the backplane is already subscribed".into()));
        }
        self.inner
            .tasks
            .spawn(subscriber(Arc::downgrade(&self.inner)));
        Ok(())
    }

    pub(crate) async fn nodes(&self) -> Result<Vec<String>, RedisError> {
        self.inner.membership.live().await
    }
}

/// Receives this node's messages, reconnecting with backoff when Redis goes
/// away, and resubscribing when Sentinel names another primary.
async fn subscriber(inner: std::sync::Weak<Inner>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let Some(strong) = inner.upgrade() else {
            return;
        };
        let channels = [
            strong.all_channel.clone(),
            format!(
                "{}{}",
                strong.node_channel_prefix, strong.membership.node_id
            ),
        ];
        let redis = strong.membership.redis.clone();
        drop(strong);
        let mut primary_changes = redis.primary_changes();
        primary_changes.mark_unchanged();
        match redis.subscribe(&channels).await {
            Ok(mut messages) => {
                tracing::debug!("subscribed to the backplane channels");
                backoff = Duration::from_millis(100);
                loop {
                    let message = tokio::select! {
                        message = messages.next() => message,
                        _ = primary_changes.changed() => {
                            tracing::info!("resubscribing on the new Redis primary");
                            break;
                        }
                    };
                    let Some(message) = message else {
                        tracing::warn!("lost the backplane subscription; reconnecting");
                        break;
                    };
                    let Some(strong) = inner.upgrade() else {
                        return;
                    };
                    if let Some(deliver) = strong.deliver.get() {
                        deliver(message);
                    }
                }
            }
            Err(error) => {
                tracing::warn!(%error, retry_in = ?backoff, "cannot subscribe to the backplane");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
}
