//! How a connection connects: transports, protocol, timeouts, reconnect
//! policy and buffer limits, each with its default (those of the official
//! JS client where it has one).

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use hub_protocol::Protocol;

/// One transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportKind {
    /// WebSockets (text frames for JSON, binary for MessagePack).
    WebSockets,
    /// Server-Sent Events down, HTTP POSTs up (JSON only).
    ServerSentEvents,
    /// Long Polling: HTTP GETs down, POSTs up.
    LongPolling,
}

impl TransportKind {
    /// The name in negotiate documents.
    pub fn name(self) -> &'static str {
        match self {
            TransportKind::WebSockets => "WebSockets",
            TransportKind::ServerSentEvents => "ServerSentEvents",
            TransportKind::LongPolling => "LongPolling",
        }
    }

    /// Looks a transport up by its negotiate name.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::WebSockets, Self::ServerSentEvents, Self::LongPolling]
            .into_iter()
            .find(|kind| kind.name() == name)
    }

    /// Whether the transport keeps the connection alive by itself (Long
    /// Polling: no Pings, no server timeout, as in the JS client).
    pub(crate) fn inherent_keep_alive(self) -> bool {
        self == TransportKind::LongPolling
    }
}

/// A set of transports the client may use (the JS client's `transport`
/// option: `HttpTransportType` flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transports(u8);

impl Transports {
    /// Every transport: the server's order decides (the default).
    pub const ALL: Transports = Transports(0b111);
    /// WebSockets only.
    pub const WEB_SOCKETS: Transports = Transports(0b001);
    /// Server-Sent Events only.
    pub const SERVER_SENT_EVENTS: Transports = Transports(0b010);
    /// Long Polling only.
    pub const LONG_POLLING: Transports = Transports(0b100);

    fn bit(kind: TransportKind) -> u8 {
        match kind {
            TransportKind::WebSockets => 0b001,
            TransportKind::ServerSentEvents => 0b010,
            TransportKind::LongPolling => 0b100,
        }
    }

    /// Whether `kind` is in the set.
    pub fn contains(self, kind: TransportKind) -> bool {
        self.0 & Self::bit(kind) != 0
    }

    /// Whether the set is exactly WebSockets (what skip-negotiation requires).
    pub fn is_web_sockets_only(self) -> bool {
        self == Self::WEB_SOCKETS
    }
}

impl From<TransportKind> for Transports {
    fn from(kind: TransportKind) -> Self {
        Transports(Self::bit(kind))
    }
}

impl std::ops::BitOr for Transports {
    type Output = Transports;
    fn bitor(self, other: Transports) -> Transports {
        Transports(self.0 | other.0)
    }
}

/// Why and for how long the connection has been reconnecting, for a
/// [`RetryPolicy`].
#[derive(Debug, Clone)]
pub struct RetryContext {
    /// How many attempts failed so far (0 before the first).
    pub previous_retry_count: u32,
    /// Time since the connection was lost.
    pub elapsed: Duration,
    /// What ended the connection.
    pub retry_reason: crate::error::Error,
}

/// When to try reconnecting again (the JS client's `IRetryPolicy`).
pub trait RetryPolicy: Send + Sync + 'static {
    /// The delay before the next attempt, or `None` to give up.
    fn next_retry_delay(&self, context: &RetryContext) -> Option<Duration>;
}

/// A fixed list of delays, then giving up. The default is the JS client's:
/// 0, 2, 10 and 30 seconds.
#[derive(Debug, Clone)]
pub struct RetryDelays(pub Vec<Duration>);

impl Default for RetryDelays {
    fn default() -> Self {
        RetryDelays(
            [0, 2_000, 10_000, 30_000]
                .into_iter()
                .map(Duration::from_millis)
                .collect(),
        )
    }
}

impl RetryPolicy for RetryDelays {
    fn next_retry_delay(&self, context: &RetryContext) -> Option<Duration> {
        self.0.get(context.previous_retry_count as usize).copied()
    }
}

/// Produces the bearer token for every request (called again for every
/// negotiate and reconnect, as the JS client calls its factory).
pub type AccessTokenFactory =
    Arc<dyn Fn() -> BoxFuture<'static, Result<String, String>> + Send + Sync>;

/// The options of a connection; [`HubConnectionBuilder`](crate::HubConnectionBuilder) sets them.
#[derive(Clone)]
pub struct ConnectionOptions {
    /// Which transports may be used (default: all, in the server's order).
    pub transports: Transports,
    /// The hub protocol (default JSON).
    pub protocol: Protocol,
    /// Connect straight over WebSockets without negotiating (requires
    /// `transports` to be WebSockets only). Default false.
    pub skip_negotiation: bool,
    /// The bearer token factory (default none).
    pub access_token_factory: Option<AccessTokenFactory>,
    /// Headers sent with every HTTP request and the WebSocket upgrade.
    pub headers: Vec<(http::HeaderName, http::HeaderValue)>,
    /// A Ping is sent when nothing was sent for this long (default 15 s;
    /// not on Long Polling).
    pub keep_alive_interval: Duration,
    /// The connection closes when nothing arrived for this long (default
    /// 30 s; not on Long Polling). Also bounds the handshake.
    pub server_timeout: Duration,
    /// Limit of every HTTP request but the polls (default 100 s).
    pub http_timeout: Duration,
    /// Limit of one Long Polling poll (default 100 s; the server answers
    /// within its poll timeout, 90 s in ASP.NET).
    pub poll_timeout: Duration,
    /// Automatic reconnect (default off; `with_automatic_reconnect` sets
    /// [`RetryDelays::default`]).
    pub retry_policy: Option<Arc<dyn RetryPolicy>>,
    /// Stateful reconnect (default off): on WebSockets, a dropped socket is
    /// reopened and unacknowledged messages are sent again.
    pub stateful_reconnect: bool,
    /// Bytes of sent messages kept until the server acknowledges them
    /// (stateful reconnect; default 100,000). When full, sending waits for
    /// acknowledgements.
    pub stateful_reconnect_buffer_size: usize,
    /// The largest message accepted from the server (default 1 MiB): a
    /// larger one closes the connection with [`Error::Protocol`](crate::error::Error::Protocol).
    pub max_message_size: usize,
    /// Items of one server-to-client stream buffered before its consumer
    /// reads them (default 1,000). When full, the stream ends with
    /// [`Error::BufferFull`](crate::error::Error::BufferFull) and is cancelled on the server.
    pub stream_buffer_capacity: usize,
    /// Server invocations queued for the callbacks (default 1,024). When
    /// full, reading from the server waits up to `server_timeout` for room,
    /// then the connection closes with [`Error::BufferFull`](crate::error::Error::BufferFull).
    pub callback_queue_capacity: usize,
    /// Messages queued for the connection's writer (default 1,024); callers
    /// wait for room.
    pub outgoing_queue_capacity: usize,
    /// The TLS configuration of `https://` and `wss://` connections
    /// (default `None`: [`tls::client_config`](crate::tls::client_config)
    /// of [`tls::web_pki_roots`](crate::tls::web_pki_roots)). Its ALPN must
    /// be empty or offer `http/1.1`.
    #[cfg(feature = "tls")]
    pub tls_config: Option<Arc<rustls::ClientConfig>>,
}

impl Default for ConnectionOptions {
    fn default() -> Self {
        Self {
            transports: Transports::ALL,
            protocol: Protocol::Json,
            skip_negotiation: false,
            access_token_factory: None,
            headers: Vec::new(),
            keep_alive_interval: Duration::from_secs(15),
            server_timeout: Duration::from_secs(30),
            http_timeout: Duration::from_secs(100),
            poll_timeout: Duration::from_secs(100),
            retry_policy: None,
            stateful_reconnect: false,
            stateful_reconnect_buffer_size: 100_000,
            max_message_size: 1024 * 1024,
            stream_buffer_capacity: 1000,
            callback_queue_capacity: 1024,
            outgoing_queue_capacity: 1024,
            #[cfg(feature = "tls")]
            tls_config: None,
        }
    }
}

impl std::fmt::Debug for ConnectionOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut f = f.debug_struct("ConnectionOptions");
        f.field("transports", &self.transports)
            .field("protocol", &self.protocol)
            .field("skip_negotiation", &self.skip_negotiation)
            .field("access_token_factory", &self.access_token_factory.is_some())
            .field("keep_alive_interval", &self.keep_alive_interval)
            .field("server_timeout", &self.server_timeout)
            .field("automatic_reconnect", &self.retry_policy.is_some())
            .field("stateful_reconnect", &self.stateful_reconnect);
        #[cfg(feature = "tls")]
        f.field("tls_config", &self.tls_config.is_some());
        f.finish_non_exhaustive()
    }
}
