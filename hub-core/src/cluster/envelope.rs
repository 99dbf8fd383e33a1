//! What nodes send each other, MessagePack-encoded.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::message::Frames;
use crate::registry::Target;

/// One message between nodes.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Envelope {
    /// The sending node.
    pub(super) from: String,
    pub(super) body: Body,
}

/// Group membership change, sent to the node that has the connection.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) enum GroupOp {
    Add,
    Remove,
}

/// What a node is asked about its own connections.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum Query {
    GroupMembers(String),
    GroupsOf(String),
    UserConnections(String),
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) enum Body {
    /// Deliver a message to the local connections `target` names.
    Send {
        target: Target,
        frames: Frames,
    },
    /// A request; every addressed node answers with a `Reply` of the same id.
    Request {
        id: u64,
        request: Request,
    },
    Reply {
        id: u64,
        reply: Reply,
    },
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) enum Request {
    /// Add a connection to a group, or remove it.
    Group {
        op: GroupOp,
        connection_id: String,
        group: String,
    },
    /// Invoke a client method on a connection and return its result. The
    /// arguments are encoded in every protocol, in `Protocol::ALL` order.
    InvokeClient {
        connection_id: String,
        method: String,
        arguments: Vec<Bytes>,
    },
    /// Close a connection.
    Abort {
        connection_id: String,
        error: Option<String>,
        allow_reconnect: bool,
    },
    /// What this node knows.
    Query(Query),
    /// A transport's own request (forwarded HTTP requests, ...).
    Transport(Bytes),
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) enum Reply {
    /// The connection is not on this node.
    NotHere,
    /// Done.
    Done,
    /// A client's answer: `Ok(Some((protocol index, value)))`, `Ok(None)` for
    /// no value, or the error text.
    ClientResult(Result<Option<(usize, Bytes)>, String>),
    /// Ids or names, for a query.
    Names(Vec<String>),
    Transport(Bytes),
}

pub(super) fn encode(envelope: &Envelope) -> Bytes {
    Bytes::from(rmp_serde::to_vec(envelope).expect("envelopes always encode"))
}

pub(super) fn decode(bytes: &[u8]) -> Result<Envelope, String> {
    rmp_serde::from_slice(bytes).map_err(|error| error.to_string())
}
