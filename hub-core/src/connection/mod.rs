//! One client connection: its shared state and the task that drives it.
//!
//! [`serve`] runs the whole life of a connection on one task: handshake, then an
//! event loop over the transport, the connection's outbox, its running
//! invocations and its keep-alive timer, then cleanup. Other tasks reach a
//! connection only through [`Connection`]: they push encoded messages into its
//! bounded outbox, or ask it to close.

mod close;
mod deadline;
mod event_loop;
mod handshake;
mod invocations;
mod outbox;
mod poll_on_wake;
mod replay;
mod streams;

use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::FutureExt;

use bytes::Bytes;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

pub(crate) use close::CloseReason;

use crate::context::{HubCtx, Items};
use crate::error::HubError;
use crate::filter::Filters;
use crate::hub::HubShared;
use crate::id::ConnectionId;
use crate::message::SerializedMessage;
use crate::metrics::ConnectionMetrics;
use crate::options::HubOptions;
use crate::protocol::{EncodeError, Protocol};
use crate::protocol::{Framing, MessageReader};
use crate::results::PendingResults;
use crate::transport::{ConnectionInfo, Identity, Transport};
use outbox::{Outbox, Pushed};

/// The state of a connection that other tasks may touch.
pub(crate) struct Connection {
    id: ConnectionId,
    identity: Identity,
    protocol: Protocol,
    transport: &'static str,
    remote_addr: Option<SocketAddr>,
    hub: Arc<HubShared>,
    options: Arc<HubOptions>,
    filters: Filters,
    outbox: Arc<Outbox>,
    items: Items,
    pending_results: PendingResults,
    metrics: ConnectionMetrics,
    closing: CancellationToken,
    close_reason: Mutex<Option<CloseReason>>,
}

impl Connection {
    pub(crate) fn id(&self) -> &ConnectionId {
        &self.id
    }

    pub(crate) fn user_id(&self) -> Option<&str> {
        self.identity.user_id.as_deref()
    }

    pub(crate) fn identity(&self) -> &Identity {
        &self.identity
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

    pub(crate) fn hub(&self) -> &Arc<HubShared> {
        &self.hub
    }

    pub(crate) fn options(&self) -> &HubOptions {
        &self.options
    }

    pub(crate) fn items(&self) -> &Items {
        &self.items
    }

    pub(crate) fn filters(&self) -> &Filters {
        &self.filters
    }

    pub(crate) fn pending_results(&self) -> &PendingResults {
        &self.pending_results
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

    fn take_close_reason(&self) -> CloseReason {
        self.close_reason
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .unwrap_or(CloseReason::ServerShutdown)
    }
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("id", &self.id)
            .field("user_id", &self.identity.user_id)
            .field("protocol", &self.protocol)
            .field("transport", &self.transport)
            .finish_non_exhaustive()
    }
}

/// Runs a connection from handshake to cleanup.
///
/// A plain function returning the future (not an `async fn`): the transport
/// and the connection info are captured once, not once per layer, which keeps
/// the task of an idle connection small.
pub(crate) fn serve<T: Transport>(
    hub: Arc<HubShared>,
    mut transport: T,
    info: ConnectionInfo,
) -> impl Future<Output = ()> + Send + 'static {
    let span = tracing::debug_span!(
        "connection",
        id = %info.connection_id,
        transport = transport.name(),
        protocol = tracing::field::Empty,
        user = info.identity.user_id.as_deref().unwrap_or(""),
    );
    async move {
        let options = hub.options();
        let mut reader = MessageReader::new(
            Framing::RecordSeparator,
            options.maximum_receive_message_size,
        );
        // Each phase's future is boxed: only one of them is alive at a time,
        // and an idle connection should hold only the event loop's.
        let Some(handshake) = Box::pin(handshake::receive(
            &mut transport,
            &mut reader,
            &options,
            &info.shutdown,
        ))
        .await
        else {
            return;
        };
        reader.set_framing(handshake.protocol.framing());
        tracing::Span::current().record("protocol", handshake.protocol.name());

        let outbox = Arc::new(Outbox::new(
            options.outbound_queue_capacity,
            options.slow_consumer_policy,
        ));
        let filters = hub.filters();
        let connection = Arc::new(Connection {
            id: info.connection_id,
            identity: info.identity,
            protocol: handshake.protocol,
            transport: transport.name(),
            remote_addr: info.remote_addr,
            hub: hub.clone(),
            options,
            filters,
            outbox: outbox.clone(),
            items: Items::default(),
            pending_results: PendingResults::open(),
            metrics: ConnectionMetrics::start(
                hub.dispatch().name(),
                transport.name(),
                handshake.protocol.name(),
            ),
            closing: info.shutdown.child_token(),
            close_reason: Mutex::new(None),
        });
        // Registered before the client hears that it is connected: a message
        // sent to it once its `start()` has resolved (a broadcast another
        // client sends right then) always reaches it, queued in the outbox
        // until the event loop runs.
        hub.registry().register(&connection);
        if !Box::pin(handshake::accept(&mut transport, &handshake)).await {
            connection
                .metrics
                .ended(CloseReason::TransportClosed.label());
            // As at the end of a connection: a client result asked of it
            // meanwhile ends as "disconnected" rather than at its timeout.
            connection.pending_results.close();
            outbox.close();
            hub.registry().unregister(&connection);
            return;
        }
        tracing::debug!("handshake completed");
        let ctx = HubCtx::new(connection.clone());
        let connected = connection
            .filters
            .wrap_connected(&ctx, hub.dispatch().on_connected(ctx.clone()));
        let stateful = info.stateful_reconnect && handshake.version >= 2;
        transport.set_resumable(stateful);
        let mut event_loop = event_loop::EventLoop::new(
            ctx.clone(),
            transport,
            reader,
            outbox.clone(),
            connected,
            stateful,
        );
        let reason = Box::pin(event_loop.run()).await;
        connection.metrics.ended(reason.label());
        let error = reason.disconnect_error();
        match &error {
            Some(error) => tracing::debug!(%error, "connection closing with an error"),
            None => tracing::debug!("connection closing"),
        }
        connection.pending_results.close();
        Box::pin(event_loop.finish(&reason)).await;
        drop(event_loop);
        outbox.close();
        on_disconnected(&ctx, error.map(HubError::unexpected)).await;
        hub.registry().unregister(&connection);
    }
    .instrument(span)
}

/// Runs the hub's `on_disconnected` (through the filters); a panic in it is logged.
async fn on_disconnected(ctx: &HubCtx, error: Option<HubError>) {
    let connection = ctx.connection();
    let hook = connection
        .hub
        .dispatch()
        .on_disconnected(ctx.clone(), error.clone());
    let hook = connection.filters.wrap_disconnected(ctx, error, hook);
    if AssertUnwindSafe(hook).catch_unwind().await.is_err() {
        tracing::error!("on_disconnected panicked");
    }
}
