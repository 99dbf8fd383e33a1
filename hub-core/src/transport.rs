//! The seam between the hub runtime and a transport (WebSockets, SSE, Long Polling).
//!
//! A transport moves opaque payloads; everything SignalR-specific (handshake,
//! framing, keep-alive, Close messages) happens in the connection task that
//! drives it. `hub-transport` implements this trait over HTTP.

use std::future::Future;
use std::net::SocketAddr;
use std::time::SystemTime;

use bytes::Bytes;
use tokio_util::sync::CancellationToken;

use crate::id::ConnectionId;
use hub_protocol::TransferFormat;

/// A payload received from the client.
#[derive(Debug, Clone)]
pub struct Inbound {
    /// The bytes, possibly holding several (or part of a) hub message.
    pub data: Bytes,
    /// The WebSocket frame kind it arrived in; `None` where the transport has
    /// no such notion (HTTP POST bodies).
    pub format: Option<TransferFormat>,
}

/// What a transport's [`recv`](Transport::recv) yields.
#[derive(Debug, Clone)]
pub enum TransportEvent {
    /// A payload from the client.
    Data(Inbound),
    /// The client came back on a new socket (stateful reconnect): the
    /// connection resends what the client has not acknowledged.
    Resumed,
}

/// Why a transport failed.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// An I/O or protocol error of the underlying socket.
    #[error("transport error: {0}")]
    Io(String),
    /// The peer sent more than the transport accepts in one payload.
    #[error("The message is too large for the transport: {0}")]
    TooLarge(String),
    /// The peer sent a payload the transport cannot accept (invalid UTF-8 in a
    /// WebSocket text frame, ...).
    #[error("Invalid payload: {0}")]
    InvalidPayload(String),
    /// The client stayed away longer than the transport waits for it (a
    /// Long Polling client that stopped polling, a stateful WebSocket client
    /// that did not reconnect): the connection ends with status `timeout`.
    #[error("timed out: {0}")]
    TimedOut(String),
    /// The transport is already closed.
    #[error("transport closed")]
    Closed,
}

/// How a connection ended, as the OpenTelemetry SignalR conventions classify
/// it (`signalr.connection.status`); what
/// [`Hub::serve_connection`](crate::Hub::serve_connection) resolves to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectionEnd {
    /// Any end but the two below (the client closed, the transport broke,
    /// the server aborted it, ...).
    NormalClosure,
    /// The transport timed out waiting for the client
    /// ([`TransportError::TimedOut`]).
    Timeout,
    /// The server shut down.
    AppShutdown,
}

impl ConnectionEnd {
    /// The attribute value: `normal_closure`, `timeout` or `app_shutdown`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionEnd::NormalClosure => "normal_closure",
            ConnectionEnd::Timeout => "timeout",
            ConnectionEnd::AppShutdown => "app_shutdown",
        }
    }
}

/// One bidirectional transport of one connection.
///
/// Implementations must make [`recv`](Transport::recv) cancel-safe: the
/// connection task polls it inside `select!` and may drop the future.
pub trait Transport: Send + 'static {
    /// The transport's name as in negotiate responses (`WebSockets`, ...).
    fn name(&self) -> &'static str;

    /// The formats this transport can carry.
    fn transfer_formats(&self) -> &'static [TransferFormat];

    /// Whether the transport keeps itself alive (Long Polling): no Pings are
    /// sent and the client timeout does not apply.
    fn has_inherent_keep_alive(&self) -> bool {
        false
    }

    /// Tells the transport whether the connection uses stateful reconnect (known
    /// after the handshake): only then may it outlive a lost socket, waiting
    /// for the client to come back.
    fn set_resumable(&mut self, resumable: bool) {
        let _ = resumable;
    }

    /// The next payload from the client (or a resumption); `None` once the
    /// client is gone.
    fn recv(
        &mut self,
    ) -> impl Future<Output = Option<Result<TransportEvent, TransportError>>> + Send;

    /// Queues one payload of complete messages; it may be buffered until [`flush`](Transport::flush).
    fn feed(
        &mut self,
        payload: Bytes,
        format: TransferFormat,
    ) -> impl Future<Output = Result<(), TransportError>> + Send;

    /// Writes out everything fed so far.
    fn flush(&mut self) -> impl Future<Output = Result<(), TransportError>> + Send;

    /// Ends the transport cleanly (WebSocket close handshake, end of an SSE body, ...).
    fn close(&mut self) -> impl Future<Output = ()> + Send;
}

/// Who a connection belongs to, as established by the transport layer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// The user id (`Clients.User(..)` target), or `None` for anonymous connections.
    pub user_id: Option<String>,
    /// Claims of the authenticated user (name/value pairs).
    pub claims: Vec<(String, String)>,
    /// When the credentials it was established from expire (a token's
    /// `exp`), if they do: negotiate then tells the client how long they
    /// last, and the client may refresh them (`POST {hub}/refresh`).
    pub expires_at: Option<SystemTime>,
}

impl Identity {
    /// An identity of `user_id` (anonymous for `None`) without claims or expiry.
    pub fn user(user_id: Option<String>) -> Self {
        Self {
            user_id,
            ..Self::default()
        }
    }
}

/// Why [`Hub::refresh_identity`](crate::Hub::refresh_identity) kept a
/// connection's identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdentityRefused {
    /// The new identity names another user: a connection's user never changes.
    #[error("the refreshed identity belongs to another user")]
    UserChanged,
    /// No connection with that id runs on this server.
    #[error("no such connection on this server")]
    NotConnected,
}

/// What the transport layer knows about a connection it hands to a hub.
#[derive(Debug, Clone)]
pub struct ConnectionInfo {
    /// The connection's public id (from negotiate, or fresh with skipNegotiation).
    pub connection_id: ConnectionId,
    /// The authenticated identity.
    pub identity: Identity,
    /// The client's address, when known.
    pub remote_addr: Option<SocketAddr>,
    /// Cancelled when the server shuts down: the connection sends a Close
    /// message (with `allowReconnect`) and ends.
    pub shutdown: CancellationToken,
    /// Whether negotiate granted stateful reconnect; it takes effect if the
    /// handshake asks for protocol version 2 and the transport can resume.
    pub stateful_reconnect: bool,
    /// What the client sent before its transport started (a Long Polling
    /// client may POST its handshake before its first poll): read first, in
    /// order, as if the transport had received it.
    pub early_data: Vec<Bytes>,
    /// The span of the HTTP request that started the connection
    /// (`Span::none()` when there is none): with the `opentelemetry`
    /// feature, invocations without a remote parent are linked to it, as
    /// ASP.NET links them to the connection's original request.
    pub request_span: tracing::Span,
}
