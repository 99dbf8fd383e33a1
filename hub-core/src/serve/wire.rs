//! The connection's side of its transport: writes under the send timeout,
//! and the bookkeeping of stateful reconnect (what was sent and not yet
//! acknowledged, what was received).

use std::time::Duration;

use bytes::Bytes;
use metrics::Counter;
use tokio::time::Instant;

use super::deadline::within;
use super::replay::Replay;
use crate::connection::CloseReason;
use crate::transport::{Transport, TransportError, TransportEvent};
use hub_protocol::Protocol;

/// A write step: fails with the reason the connection must end.
pub(super) type Step = Result<(), CloseReason>;

pub(super) struct Wire<T> {
    transport: T,
    protocol: Protocol,
    /// Stateful reconnect state, when the client negotiated it.
    replay: Option<Replay>,
    send_timeout: Duration,
    last_write: Instant,
    /// Messages written (`signalr_messages_sent_total`).
    sent: Counter,
}

impl<T: Transport> Wire<T> {
    pub(super) fn new(
        transport: T,
        protocol: Protocol,
        replay: Option<Replay>,
        send_timeout: Duration,
        sent: Counter,
    ) -> Self {
        Self {
            transport,
            protocol,
            replay,
            send_timeout,
            last_write: Instant::now(),
            sent,
        }
    }

    pub(super) fn transport(&self) -> &T {
        &self.transport
    }

    /// The next event from the client (cancel-safe).
    pub(super) async fn recv(&mut self) -> Option<Result<TransportEvent, TransportError>> {
        self.transport.recv().await
    }

    /// When something was last written (keep-alive Pings fill the silences).
    pub(super) fn last_write(&self) -> Instant {
        self.last_write
    }

    /// With stateful reconnect: whether sending must pause until the client
    /// acknowledges what it has.
    pub(super) fn is_paused(&self) -> bool {
        self.replay.as_ref().is_some_and(Replay::is_full)
    }

    pub(super) fn replay(&mut self) -> Option<&mut Replay> {
        self.replay.as_mut()
    }

    /// Feeds a message the client does not track (Ping, Close, Ack, Sequence).
    pub(super) async fn feed(&mut self, payload: Bytes) -> Step {
        self.sent.increment(1);
        let format = self.protocol.transfer_format();
        match within(self.send_timeout, self.transport.feed(payload, format)).await {
            Some(result) => result.map_err(transport_failed),
            None => Err(CloseReason::SendTimeout),
        }
    }

    /// Feeds a trackable message, kept for replay until acknowledged when
    /// stateful reconnect is on.
    pub(super) async fn feed_tracked(&mut self, payload: Bytes) -> Step {
        if let Some(replay) = &mut self.replay {
            replay.sent(&payload);
        }
        self.feed(payload).await
    }

    /// Feeds trackable messages in order.
    pub(super) async fn feed_all(&mut self, messages: Vec<Bytes>) -> Step {
        for message in messages {
            self.feed_tracked(message).await?;
        }
        Ok(())
    }

    pub(super) async fn flush(&mut self) -> Step {
        match within(self.send_timeout, self.transport.flush()).await {
            Some(result) => result.map_err(transport_failed)?,
            None => return Err(CloseReason::SendTimeout),
        }
        self.last_write = Instant::now();
        Ok(())
    }

    /// Writes one untracked message now (a Ping, an Ack).
    pub(super) async fn send_now(&mut self, payload: Bytes) -> Step {
        self.feed(payload).await?;
        self.flush().await
    }

    /// The client is back on a new socket: tell it where our numbering stands,
    /// then resend everything it has not acknowledged.
    pub(super) async fn resume(&mut self) -> Step {
        let Some(replay) = &self.replay else {
            return Ok(());
        };
        let (first, unacked) = replay.resend();
        let unacked: Vec<Bytes> = unacked.cloned().collect();
        tracing::debug!(first, resent = unacked.len(), "client reconnected");
        self.feed(self.protocol.encode_sequence(first)).await?;
        for message in unacked {
            self.feed(message).await?;
        }
        self.flush().await
    }

    /// Ends the transport cleanly, waiting at most the send timeout.
    pub(super) async fn close(&mut self) {
        let _ = tokio::time::timeout(self.send_timeout, self.transport.close()).await;
    }
}

/// Why the connection ends when its transport fails.
pub(super) fn transport_failed(error: TransportError) -> CloseReason {
    match error {
        // The client closed the transport (a Long Polling DELETE racing the
        // writes, a WebSocket after its close handshake): a clean end.
        TransportError::Closed => CloseReason::TransportClosed,
        error @ TransportError::TimedOut(_) => CloseReason::TransportTimedOut(error.to_string()),
        error => CloseReason::TransportFailed(error.to_string()),
    }
}
