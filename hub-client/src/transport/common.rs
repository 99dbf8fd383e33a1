//! What every transport shares: what it delivers, how payloads travel,
//! where it connects.

use bytes::Bytes;

use crate::error::Error;
use crate::url::HubUrl;

/// What a transport delivers.
#[derive(Debug)]
pub(crate) enum Received {
    /// A payload from the server (one or more records, or part of one).
    Data(Bytes),
    /// The transport ended: cleanly (`None`) or with an error.
    Closed(Option<Error>),
}

/// How a payload travels on WebSockets: the handshake is always a text
/// frame; after it, JSON goes in text frames and MessagePack in binary ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Frame {
    /// A text frame (or `text/plain` body).
    Text,
    /// A binary frame (or `application/octet-stream` body).
    Binary,
}

/// Where and as whom a transport connects.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    /// The hub URL with `id=<token>` (none when negotiation was skipped).
    pub(crate) url: HubUrl,
    /// The bearer token.
    pub(crate) token: Option<String>,
}

/// A task aborted when its owner is dropped (a transport's reader or poller).
#[derive(Debug)]
pub(crate) struct AbortOnDrop(pub(crate) tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// How long closing may take (the close handshake, the last POST, DELETE).
pub(crate) const CLOSE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
