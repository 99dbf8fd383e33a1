//! Why a connection ends, and what the client is told.

use crate::error::HubError;
use crate::transport::ConnectionEnd;
use hub_protocol::Protocol;
use hub_protocol::ProtocolError;

/// ASP.NET's generic close error text.
const CLOSED_WITH_ERROR: &str = "Connection closed with an error.";

/// Why a connection ends.
#[derive(Debug)]
pub(crate) enum CloseReason {
    /// The client sent a Close message.
    ClientClosed { error: Option<String> },
    /// The transport ended cleanly without a Close message (a WebSocket close
    /// frame, a Long Polling DELETE, an EventSource closed): a clean end, as
    /// in ASP.NET. A transport that breaks reports `TransportFailed`.
    TransportClosed,
    /// The transport failed.
    TransportFailed(String),
    /// The transport gave up waiting for the client.
    TransportTimedOut(String),
    /// The client sent something that is not valid protocol.
    Protocol(ProtocolError),
    /// The transport refused what the client sent (too large, not UTF-8, ...).
    TransportRefused(String),
    /// A WebSocket frame's kind does not match the negotiated protocol.
    WrongFrameKind {
        /// `text` or `binary`.
        received: &'static str,
        /// The negotiated protocol's name.
        protocol: &'static str,
    },
    /// Nothing received for `client_timeout_interval`.
    ClientTimeout,
    /// The outbox was full when a message arrived for it.
    SlowConsumer { capacity: usize },
    /// A write took longer than `send_timeout`.
    SendTimeout,
    /// The server is shutting down.
    ServerShutdown,
    /// Server code closed the connection.
    Aborted {
        error: Option<String>,
        allow_reconnect: bool,
    },
}

impl CloseReason {
    /// The hub's `on_connected` failed: the client is told why when it may
    /// see the error (`detailed`: `HubOptions::enable_detailed_errors`).
    pub(crate) fn connected_hook_failed(error: &HubError, detailed: bool) -> Self {
        let text = error.appended_to(CLOSED_WITH_ERROR, detailed);
        CloseReason::Aborted {
            error: Some(text),
            allow_reconnect: false,
        }
    }

    /// A short name of the reason, for metrics.
    pub(crate) fn label(&self) -> &'static str {
        match self {
            CloseReason::ClientClosed { .. } => "client_closed",
            CloseReason::TransportClosed => "transport_closed",
            CloseReason::TransportFailed(_) => "transport_failed",
            CloseReason::TransportTimedOut(_) => "transport_timeout",
            CloseReason::Protocol(_)
            | CloseReason::TransportRefused(_)
            | CloseReason::WrongFrameKind { .. } => "protocol_error",
            CloseReason::ClientTimeout => "client_timeout",
            CloseReason::SlowConsumer { .. } => "slow_consumer",
            CloseReason::SendTimeout => "send_timeout",
            CloseReason::ServerShutdown => "server_shutdown",
            CloseReason::Aborted { .. } => "aborted",
        }
    }

    /// Whether the transport can still carry a Close message.
    pub(crate) fn transport_usable(&self) -> bool {
        !matches!(
            self,
            CloseReason::TransportClosed
                | CloseReason::TransportFailed(_)
                | CloseReason::TransportTimedOut(_)
                | CloseReason::SendTimeout
        )
    }

    /// The connection's end as the OpenTelemetry conventions classify it.
    pub(crate) fn end(&self) -> ConnectionEnd {
        match self {
            CloseReason::TransportTimedOut(_) => ConnectionEnd::Timeout,
            CloseReason::ServerShutdown => ConnectionEnd::AppShutdown,
            _ => ConnectionEnd::NormalClosure,
        }
    }

    /// The error the connection ended with, as `on_disconnected` reports it;
    /// `None` for a clean end (client Close without error, server shutdown).
    pub(crate) fn disconnect_error(&self) -> Option<String> {
        match self {
            CloseReason::ClientClosed { error } => error.clone(),
            CloseReason::TransportClosed => None,
            CloseReason::TransportFailed(error) => Some(format!("Transport failed: {error}")),
            CloseReason::TransportTimedOut(error) => Some(format!("Transport {error}")),
            CloseReason::Protocol(error) => Some(error.to_string()),
            CloseReason::TransportRefused(error) => Some(error.clone()),
            CloseReason::WrongFrameKind { received, protocol } => Some(format!(
                "Received a {received} frame on a connection using the {protocol} protocol."
            )),
            CloseReason::ClientTimeout => Some("Client timeout.".into()),
            CloseReason::SlowConsumer { capacity } => Some(format!(
                "Slow consumer: the outbound queue of {capacity} messages was full."
            )),
            CloseReason::SendTimeout => Some("A write to the transport timed out.".into()),
            CloseReason::ServerShutdown => None,
            CloseReason::Aborted { error, .. } => error.clone(),
        }
    }

    /// The Close message to send, if any.
    pub(crate) fn close_message(&self, protocol: Protocol) -> Option<bytes::Bytes> {
        let (error, allow_reconnect) = match self {
            CloseReason::ClientClosed { .. }
            | CloseReason::TransportClosed
            | CloseReason::TransportFailed(_)
            | CloseReason::TransportTimedOut(_)
            | CloseReason::SendTimeout => return None,
            CloseReason::Protocol(_)
            | CloseReason::TransportRefused(_)
            | CloseReason::WrongFrameKind { .. } => (
                self.disconnect_error()
                    .map(|error| format!("{CLOSED_WITH_ERROR} {error}")),
                false,
            ),
            CloseReason::ClientTimeout => (
                Some(format!(
                    "{CLOSED_WITH_ERROR} Client timeout: nothing received within the client timeout interval."
                )),
                true,
            ),
            CloseReason::SlowConsumer { capacity } => (
                Some(format!(
                    "{CLOSED_WITH_ERROR} Slow consumer: the outbound queue of {capacity} messages is full."
                )),
                true,
            ),
            CloseReason::ServerShutdown => (None, true),
            CloseReason::Aborted {
                error,
                allow_reconnect,
            } => (error.clone(), *allow_reconnect),
        };
        Some(protocol.encode_close(error.as_deref(), allow_reconnect))
    }
}
