//! A connection's life on its task: handshake, registration, the event
//! loop, then cleanup.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::dispatch::Dispatcher;
use super::event_loop::EventLoop;
use super::handshake;
use super::replay::Replay;
use super::spans::Origin;
use super::wire::Wire;
use crate::connection::{CloseReason, Connection, ConnectionParts};
use crate::context::HubCtx;
use crate::error::HubError;
use crate::hub_state::HubState;
use crate::transport::{ConnectionEnd, ConnectionInfo, Transport};
use hub_protocol::{Framing, MessageReader};

/// Runs a connection from handshake to cleanup.
///
/// A plain function returning the future (not an `async fn`): the transport
/// and the connection info are captured once, not once per layer, which keeps
/// the task of an idle connection small.
pub(crate) fn serve<T: Transport>(
    hub: Arc<HubState>,
    dispatcher: Arc<Dispatcher>,
    mut transport: T,
    mut info: ConnectionInfo,
) -> impl Future<Output = ConnectionEnd> + Send + 'static {
    let span = tracing::debug_span!(
        "connection",
        id = %info.connection_id,
        transport = transport.name(),
        protocol = tracing::field::Empty,
        user = info.identity.user_id.as_deref().unwrap_or(""),
    );
    async move {
        // Only the request's identity is kept: the request's span ends with
        // the request, not with the connection.
        let origin = Origin::of(&std::mem::replace(
            &mut info.request_span,
            tracing::Span::none(),
        ));
        let options = hub.options();
        let mut reader = MessageReader::new(
            Framing::RecordSeparator,
            options.maximum_receive_message_size,
        );
        // Payloads the client sent before the transport started come first.
        let early = info
            .early_data
            .into_iter()
            .try_for_each(|data| reader.push(data));
        if let Err(error) = early {
            tracing::debug!(%error, "what the client sent before connecting is refused");
            transport.close().await;
            return ConnectionEnd::NormalClosure;
        }
        // Each phase's future is boxed: only one of them is alive at a time,
        // and an idle connection should hold only the event loop's.
        let Some(handshake) = Box::pin(handshake::receive(
            &mut transport,
            &mut reader,
            options,
            &info.shutdown,
        ))
        .await
        else {
            return end_before_connected(&info.shutdown);
        };
        let protocol = handshake.protocol;
        reader.set_framing(protocol.framing());
        tracing::Span::current().record("protocol", protocol.name());

        let parts = ConnectionParts {
            id: info.connection_id,
            identity: info.identity,
            protocol,
            transport: transport.name(),
            remote_addr: info.remote_addr,
            closing: info.shutdown.child_token(),
        };
        let connection = Arc::new(Connection::new(parts, options, hub.name()));
        // Registered before the client hears that it is connected: a message
        // sent to it once its `start()` has resolved (a broadcast another
        // client sends right then) always reaches it, queued in the outbox
        // until the event loop runs.
        hub.registry().register(&connection);
        if !Box::pin(handshake::accept(&mut transport, &handshake)).await {
            connection
                .metrics()
                .ended(CloseReason::TransportClosed.label());
            // As at the end of a connection: a client result asked of it
            // meanwhile ends as "disconnected" rather than at its timeout.
            connection.end_client_results();
            connection.outbox().close();
            hub.registry().unregister(&connection);
            return end_before_connected(&info.shutdown);
        }
        tracing::debug!("handshake completed");
        let ctx = HubCtx::new(hub.clone(), connection.clone());
        let stateful = info.stateful_reconnect && handshake.version >= 2;
        transport.set_resumable(stateful);
        let replay = stateful.then(|| Replay::new(options.stateful_reconnect_buffer_size));
        let wire = Wire::new(
            transport,
            protocol,
            replay,
            options.send_timeout,
            connection.metrics().sent.clone(),
        );
        let mut event_loop = EventLoop::new(
            hub.clone(),
            dispatcher.clone(),
            ctx.clone(),
            connection.clone(),
            wire,
            reader,
            origin,
        );
        let reason = Box::pin(event_loop.run()).await;
        connection.metrics().ended(reason.label());
        let error = reason.disconnect_error();
        match &error {
            Some(error) => tracing::debug!(%error, "connection closing with an error"),
            None => tracing::debug!("connection closing"),
        }
        connection.end_client_results();
        Box::pin(event_loop.finish(&reason)).await;
        drop(event_loop);
        connection.outbox().close();
        on_disconnected(&dispatcher, &ctx, error.map(HubError::unexpected)).await;
        hub.registry().unregister(&connection);
        reason.end()
    }
    .instrument(span)
}

/// How a connection that never completed its handshake ended.
fn end_before_connected(shutdown: &CancellationToken) -> ConnectionEnd {
    if shutdown.is_cancelled() {
        ConnectionEnd::AppShutdown
    } else {
        ConnectionEnd::NormalClosure
    }
}

/// Runs the hub's `on_disconnected` (through the filters); a panic in it is logged.
async fn on_disconnected(dispatcher: &Dispatcher, ctx: &HubCtx, error: Option<HubError>) {
    let hook = dispatcher.disconnected(ctx, error);
    if AssertUnwindSafe(hook).catch_unwind().await.is_err() {
        tracing::error!("on_disconnected panicked");
    }
}
