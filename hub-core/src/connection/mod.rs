//! One client connection as the rest of the hub sees it: a handle with its
//! identity, items, bounded outbox, owed client results and close request.
//!
//! The handle knows nothing of the hub; the connection's own task (see
//! `serve`) drives it, the registry and the cluster hold it.

mod client_results;
mod close;
mod handle;
mod outbox;

pub(crate) use client_results::ClientAnswer;
pub(crate) use close::CloseReason;
pub(crate) use handle::{Connection, ConnectionParts};
