//! The pipe between the nodes serving one hub.

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;

/// Why the backplane could not do something.
#[derive(Debug, Clone, thiserror::Error)]
#[error("backplane: {0}")]
pub struct BackplaneError(pub String);

/// A boxed future of a backplane operation.
pub type BackplaneFuture<T> = Pin<Box<dyn Future<Output = Result<T, BackplaneError>> + Send>>;

/// What a backplane hands to the hub for each message it receives.
pub type Deliver = Box<dyn Fn(Bytes) + Send + Sync>;

/// A pipe between the nodes serving one hub (Redis pub/sub in `hub-redis`).
///
/// Implementations only move bytes: every message published to all nodes
/// must reach every node (the sender included) and messages to one node must
/// reach it, in publish order per sender. They reconnect by themselves after
/// failures; messages that cannot be delivered meanwhile are reported by
/// failing [`publish`](Backplane::publish).
pub trait Backplane: Send + Sync + 'static {
    /// This node's id: unique among the nodes, URL-safe (it appears in
    /// connection tokens).
    fn node_id(&self) -> &str;

    /// Sends `message` to every node (`to: None`) or to the node `to`.
    fn publish(&self, to: Option<&str>, message: Bytes) -> BackplaneFuture<()>;

    /// Starts delivering the messages this node receives to `deliver`, in order.
    fn subscribe(&self, deliver: Deliver) -> BackplaneFuture<()>;

    /// The ids of the nodes alive now (this one included).
    fn nodes(&self) -> BackplaneFuture<Vec<String>>;
}
