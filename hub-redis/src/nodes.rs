//! Which nodes are alive: a sorted set of node ids scored by their last
//! heartbeat, shared by both backplanes.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::RedisError;

use crate::connection::Redis;

/// How often a node announces it is alive.
pub(crate) const HEARTBEAT: Duration = Duration::from_secs(2);
/// A node silent for this long is no longer counted.
const NODE_EXPIRY: Duration = Duration::from_secs(6);

/// This node's entry in the set of live nodes.
#[derive(Clone)]
pub(crate) struct Membership {
    pub(crate) redis: Redis,
    pub(crate) node_id: String,
    pub(crate) nodes_key: String,
}

fn now_millis() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as f64
}

impl Membership {
    /// Lists this node among the live ones (now), and drops those silent
    /// for longer than [`NODE_EXPIRY`].
    pub(crate) async fn announce(&self) -> Result<(), RedisError> {
        let now = now_millis();
        let mut pipeline = redis::pipe();
        pipeline
            .zadd(&self.nodes_key, &self.node_id, now)
            .ignore()
            .zrembyscore(
                &self.nodes_key,
                f64::NEG_INFINITY,
                now - NODE_EXPIRY.as_millis() as f64,
            )
            .ignore();
        self.redis.query(&pipeline).await
    }

    /// The live nodes, this one always included.
    pub(crate) async fn live(&self) -> Result<Vec<String>, RedisError> {
        let since = now_millis() - NODE_EXPIRY.as_millis() as f64;
        let mut nodes: Vec<String> = self
            .redis
            .command(
                redis::cmd("ZRANGEBYSCORE")
                    .arg(&self.nodes_key)
                    .arg(since)
                    .arg("+inf"),
            )
            .await?;
        if !nodes.contains(&self.node_id) {
            nodes.push(self.node_id.clone());
        }
        Ok(nodes)
    }
}

/// Announces the node every [`HEARTBEAT`] (and, with Sentinel, follows the
/// primary) until `alive` says the backplane is gone.
pub(crate) async fn heartbeat(membership: Membership, alive: impl Fn() -> bool) {
    let mut interval = tokio::time::interval(HEARTBEAT);
    let mut was_down = false;
    loop {
        interval.tick().await;
        if !alive() {
            return;
        }
        membership.redis.follow_primary().await;
        match membership.announce().await {
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
