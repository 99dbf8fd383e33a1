//! Options of a hub endpoint (ASP.NET's `HttpConnectionDispatcherOptions`).

use std::time::Duration;

/// Which transports an endpoint offers. ASP.NET's default: all of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transports {
    /// WebSockets.
    pub web_sockets: bool,
}

impl Default for Transports {
    fn default() -> Self {
        Self { web_sockets: true }
    }
}

/// Transport-level options of one hub endpoint, with ASP.NET Core's defaults.
#[derive(Clone, Debug)]
pub struct EndpointOptions {
    /// The transports offered in negotiate and accepted on connect.
    pub transports: Transports,
    /// A negotiated connection that no transport picks up within this time is
    /// dropped (15 s).
    pub disconnect_timeout: Duration,
    /// How long to wait for the client's WebSocket close frame (5 s).
    pub websocket_close_timeout: Duration,
    /// The largest WebSocket message accepted (1 MiB, not in ASP.NET). One
    /// message may carry several hub messages, each still limited by
    /// `HubOptions::maximum_receive_message_size`.
    pub max_websocket_message_size: usize,
    /// The lowest negotiate protocol version accepted (0).
    pub minimum_negotiate_version: u32,
}

impl Default for EndpointOptions {
    fn default() -> Self {
        Self {
            transports: Transports::default(),
            disconnect_timeout: Duration::from_secs(15),
            websocket_close_timeout: Duration::from_secs(5),
            max_websocket_message_size: 1024 * 1024,
            minimum_negotiate_version: 0,
        }
    }
}
