//! Scale-out: one hub served by several processes (nodes), joined by a
//! [`Backplane`] such as Redis.
//!
//! The backplane is a plain pipe (bytes to every node, or to one node); the
//! hub protocol over it lives here:
//!
//! * A message to clients is delivered to local connections at once and
//!   crosses the backplane once per send, encoded once per hub protocol; each
//!   other node fans it out to its own connections. A message for one known
//!   local connection never leaves the node.
//! * Group changes, client results and membership queries for connections on
//!   other nodes are requests answered by the node that has the connection.
//! * Transports forward requests for connections that live elsewhere (no
//!   sticky sessions needed) through the same request/reply path.
//!
//! Without a backplane none of this runs: the hub is local only.

mod backplane;
mod envelope;
mod node;

pub use backplane::{Backplane, BackplaneError, BackplaneFuture, Deliver};
pub(crate) use envelope::{GroupOp, Query};
pub(crate) use node::Cluster;
pub use node::{ClusterStats, TransportHandler};

#[cfg(test)]
mod tests;
