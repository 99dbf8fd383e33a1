//! Options of a hub endpoint (ASP.NET's `HttpConnectionDispatcherOptions`).

use std::time::Duration;

/// Which transports an endpoint offers. ASP.NET's default: all of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transports {
    /// WebSockets.
    pub web_sockets: bool,
    /// Server-Sent Events (text protocols only).
    pub server_sent_events: bool,
    /// Long Polling.
    pub long_polling: bool,
}

impl Default for Transports {
    fn default() -> Self {
        Self {
            web_sockets: true,
            server_sent_events: true,
            long_polling: true,
        }
    }
}

/// Transport-level options of one hub endpoint, with ASP.NET Core's defaults.
#[derive(Clone, Debug)]
pub struct EndpointOptions {
    /// The transports offered in negotiate and accepted on connect.
    pub transports: Transports,
    /// A negotiated connection that no transport picks up within this time is
    /// dropped, and a long-polling connection without a poll for this long
    /// ends (15 s).
    pub disconnect_timeout: Duration,
    /// How long a poll waits for messages before answering empty (90 s).
    pub long_polling_poll_timeout: Duration,
    /// Bytes queued for the next poll before the connection's writes wait
    /// (1 MiB, not in ASP.NET; a poll takes everything queued at once).
    pub long_polling_max_buffered: usize,
    /// How long to wait for the client's WebSocket close frame (5 s).
    pub websocket_close_timeout: Duration,
    /// The largest WebSocket message or POST body accepted (1 MiB, not in
    /// ASP.NET). One payload may carry several hub messages, each still limited
    /// by `HubOptions::maximum_receive_message_size`; a larger POST gets 413.
    pub max_payload_size: usize,
    /// The lowest negotiate protocol version accepted (0).
    pub minimum_negotiate_version: u32,
    /// Refuse every request without an authenticated user (401), as ASP.NET's
    /// `[Authorize]` on a hub does (false).
    pub require_authenticated_user: bool,
    /// Requests waiting at once for another node of the cluster (a poll,
    /// send or DELETE for a connection that lives there, a stream taking a
    /// connection over); past it, `503` at once (10,000, not in ASP.NET,
    /// which needs sticky sessions instead).
    pub max_forwarded_requests: usize,
    /// Grant stateful reconnect to clients that ask for it
    /// (`withStatefulReconnect()`): a WebSocket connection whose socket drops
    /// waits `disconnect_timeout` for the client to come back, and no message
    /// is lost or duplicated (false, as in ASP.NET).
    pub allow_stateful_reconnects: bool,
    /// Let clients refresh a connection's credentials without reconnecting
    /// (.NET 11's `EnableAuthenticationRefresh`): negotiate reports
    /// `tokenLifetimeSeconds` when the authenticated credentials expire
    /// (`Identity::expires_at`), and `POST {hub}/refresh?id={token}`
    /// re-authenticates the connection, replacing its claims and expiry;
    /// credentials of another user are refused (403) and the connection
    /// keeps its own (false, as in ASP.NET).
    pub enable_authentication_refresh: bool,
    /// How far ahead of now a refreshed or negotiated expiry may be reported,
    /// at most; it also gives credentials without an expiry a lifetime
    /// (ASP.NET's `MaximumAuthenticationExpiration`; `None`).
    pub maximum_authentication_expiration: Option<Duration>,
}

impl Default for EndpointOptions {
    fn default() -> Self {
        Self {
            transports: Transports::default(),
            disconnect_timeout: Duration::from_secs(15),
            long_polling_poll_timeout: Duration::from_secs(90),
            long_polling_max_buffered: 1024 * 1024,
            websocket_close_timeout: Duration::from_secs(5),
            max_payload_size: 1024 * 1024,
            minimum_negotiate_version: 0,
            allow_stateful_reconnects: false,
            require_authenticated_user: false,
            max_forwarded_requests: 10_000,
            enable_authentication_refresh: false,
            maximum_authentication_expiration: None,
        }
    }
}
