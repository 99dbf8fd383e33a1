//! The handle of one connection: what other tasks may touch.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use bytes::Bytes;
use tokio_util::sync::CancellationToken;

use super::client_results::{ClientAnswer, PendingResults};
use super::close::CloseReason;
use super::outbox::{Outbox, Pushed};
use crate::error::{HubError, HubResult};
use crate::id::ConnectionId;
use crate::items::Items;
use crate::message::SerializedMessage;
use crate::metrics::ConnectionMetrics;
use crate::options::HubOptions;
use crate::transport::{Identity, IdentityRefused};
use hub_protocol::{EncodeError, Protocol};

/// One client connection: its identity, its items, its bounded outbox, the
/// client results it owes, and how to close it. It knows nothing of the hub
/// it belongs to; the registry and the cluster hold it, the connection's own
/// task drives it.
pub(crate) struct Connection {
    id: ConnectionId,
    /// The user, for the connection's life (a refresh never changes it).
    user_id: Option<String>,
    /// The user's claims and their expiry, as last authenticated (a token
    /// refresh replaces them).
    identity: RwLock<Arc<Identity>>,
    protocol: Protocol,
    transport: &'static str,
    remote_addr: Option<SocketAddr>,
    items: Items,
    outbox: Outbox,
    pending_results: PendingResults,
    client_result_timeout: Option<Duration>,
    metrics: ConnectionMetrics,
    closing: CancellationToken,
    close_reason: Mutex<Option<CloseReason>>,
}

/// Who a new connection is, and how it talks.
#[derive(Debug)]
pub(crate) struct ConnectionParts {
    pub(crate) id: ConnectionId,
    pub(crate) identity: Identity,
    pub(crate) protocol: Protocol,
    pub(crate) transport: &'static str,
    pub(crate) remote_addr: Option<SocketAddr>,
    /// Closes the connection when cancelled (a child of the server's shutdown).
    pub(crate) closing: CancellationToken,
}

impl Connection {
    /// A connection with the limits of `options`, counted in the metrics of `hub`.
    pub(crate) fn new(parts: ConnectionParts, options: &HubOptions, hub: &'static str) -> Self {
        let metrics = ConnectionMetrics::start(hub, parts.transport, parts.protocol.name());
        Self {
            id: parts.id,
            user_id: parts.identity.user_id.clone(),
            identity: RwLock::new(Arc::new(parts.identity)),
            protocol: parts.protocol,
            transport: parts.transport,
            remote_addr: parts.remote_addr,
            items: Items::default(),
            outbox: Outbox::new(
                options.outbound_queue_capacity,
                options.slow_consumer_policy,
            ),
            pending_results: PendingResults::open(),
            client_result_timeout: options.client_result_timeout,
            metrics,
            closing: parts.closing,
            close_reason: Mutex::new(None),
        }
    }

    pub(crate) fn id(&self) -> &ConnectionId {
        &self.id
    }

    pub(crate) fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    /// The identity as last authenticated.
    pub(crate) fn identity(&self) -> Arc<Identity> {
        self.identity
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the identity with a re-authenticated one of the same user
    /// (a token refresh); refused if it names another user.
    pub(crate) fn refresh_identity(&self, identity: Identity) -> Result<(), IdentityRefused> {
        if identity.user_id != self.user_id {
            return Err(IdentityRefused::UserChanged);
        }
        *self
            .identity
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(identity);
        Ok(())
    }

    pub(crate) fn protocol(&self) -> Protocol {
        self.protocol
    }

    pub(crate) fn transport(&self) -> &'static str {
        self.transport
    }

    pub(crate) fn remote_addr(&self) -> Option<SocketAddr> {
        self.remote_addr
    }

    pub(crate) fn items(&self) -> &Items {
        &self.items
    }

    pub(crate) fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    pub(crate) fn metrics(&self) -> &ConnectionMetrics {
        &self.metrics
    }

    /// Queues a broadcast message without waiting (see [`Connection::push`]).
    pub(crate) fn deliver(&self, message: &SerializedMessage<'_>) -> Result<(), EncodeError> {
        self.push(message.get(self.protocol)?);
        Ok(())
    }

    /// Queues an encoded message without waiting. When the outbox is full,
    /// the slow-consumer policy decides: close the connection, or drop the
    /// oldest broadcast. It never grows the queue nor makes the sender wait.
    pub(crate) fn push(&self, bytes: Bytes) {
        match self.outbox.push(bytes) {
            Pushed::Queued | Pushed::Closed => {}
            Pushed::QueuedDroppingOldest => {
                tracing::debug!("outbound queue full: the oldest broadcast was dropped");
            }
            Pushed::Full => self.close(CloseReason::SlowConsumer {
                capacity: self.outbox.capacity(),
            }),
        }
    }

    /// Queues a reply to this connection's own call (a stream item), waiting
    /// while the outbox is more than half full so that the rest stays free for
    /// broadcasts. Fails once the connection is gone.
    pub(crate) async fn send_reply(&self, bytes: Bytes) -> Result<(), ()> {
        self.outbox.push_reply(bytes).await
    }

    /// Waits until this connection's outbox is at most half full, so that a hub
    /// method sending many messages to its own caller is paced by the socket
    /// instead of overflowing the queue.
    pub(crate) async fn wait_for_outbox_room(&self) {
        let _ = self.outbox.wait_for_room().await;
    }

    /// Asks the connection to close; the first reason given wins.
    pub(crate) fn close(&self, reason: CloseReason) {
        let mut slot = self
            .close_reason
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if slot.is_none() {
            *slot = Some(reason);
        }
        drop(slot);
        self.closing.cancel();
    }

    /// Cancelled once the connection must close.
    pub(crate) fn closing(&self) -> &CancellationToken {
        &self.closing
    }

    /// Why the connection was asked to close (a server shutdown if nobody said).
    pub(crate) fn take_close_reason(&self) -> CloseReason {
        self.close_reason
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .unwrap_or(CloseReason::ServerShutdown)
    }

    /// Invokes `method` on the client with arguments already encoded in its
    /// protocol (by `Protocol::encode_value`) and waits for its answer, at
    /// most `HubOptions::client_result_timeout`.
    pub(crate) async fn invoke_client(
        &self,
        method: &str,
        arguments: &[u8],
    ) -> HubResult<ClientAnswer> {
        let connection_id = &self.id;
        let disconnected = || HubError::new(format!("Connection '{connection_id}' disconnected."));
        let (id, receiver) = self.pending_results.register().ok_or_else(disconnected)?;
        let bytes = self
            .protocol
            .encode_invocation_raw(Some(id.as_str()), method, arguments);
        self.push(bytes);
        let answer = match self.client_result_timeout {
            Some(limit) => tokio::time::timeout(limit, receiver).await.map_err(|_| {
                HubError::new(format!(
                    "Timed out after {limit:?} waiting for the result of '{method}' from connection '{connection_id}'."
                ))
            })?,
            None => receiver.await,
        };
        answer.map_err(|_| disconnected())
    }

    /// The client answered the server's invocation `id`; false if nobody waits for it.
    pub(crate) fn answer_client_result(&self, id: &str, answer: ClientAnswer) -> bool {
        self.pending_results.complete(id, answer)
    }

    /// The connection ended: every client result still awaited fails with
    /// "disconnected", and none can start.
    pub(crate) fn end_client_results(&self) {
        self.pending_results.close();
    }
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("protocol", &self.protocol)
            .field("transport", &self.transport)
            .finish_non_exhaustive()
    }
}
