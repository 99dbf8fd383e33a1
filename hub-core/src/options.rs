//! Hub options, with ASP.NET Core SignalR's defaults.

use std::time::Duration;

use hub_protocol::Protocol;

/// Options of one hub. Every field has ASP.NET Core's default unless noted.
///
/// ```
/// # use std::time::Duration;
/// let options = hub_core::HubOptions {
///     keep_alive_interval: Duration::from_secs(10),
///     enable_detailed_errors: true,
///     ..Default::default()
/// };
/// ```
#[derive(Clone, Debug)]
pub struct HubOptions {
    /// Send a Ping when nothing else was sent for this long (15 s). Not on Long Polling.
    pub keep_alive_interval: Duration,
    /// Close the connection when nothing was received for this long (30 s).
    /// Armed once the handshake completes; official clients ping every 15 s.
    pub client_timeout_interval: Duration,
    /// Close the connection when no complete handshake arrives in time (15 s).
    pub handshake_timeout: Duration,
    /// The largest message (and handshake) a client may send, in bytes (32 KiB).
    pub maximum_receive_message_size: usize,
    /// How many non-streaming invocations of one connection run at once (1).
    pub maximum_parallel_invocations_per_client: usize,
    /// Invocations of one connection queued while all parallel slots are busy (32,
    /// not in ASP.NET). When the queue is full the server stops reading from that
    /// connection until a slot frees, which pushes back on the client.
    pub maximum_queued_invocations_per_client: usize,
    /// Streams open at once on one connection, server-to-client and uploads
    /// together (32, not in ASP.NET). An invocation that would exceed it fails
    /// with an error naming the limit.
    pub maximum_streams_per_client: usize,
    /// Include exception details in errors sent to clients (false).
    pub enable_detailed_errors: bool,
    /// Messages queued for one connection before it counts as a slow consumer
    /// (1024, not in ASP.NET). What a message for a full queue does is
    /// [`slow_consumer_policy`](Self::slow_consumer_policy); it never blocks
    /// the sender nor grows memory.
    pub outbound_queue_capacity: usize,
    /// What a broadcast finding a connection's queue full does (disconnect).
    pub slow_consumer_policy: SlowConsumerPolicy,
    /// A single write to the transport taking longer than this closes the connection (10 s).
    pub send_timeout: Duration,
    /// How long invocations still running when a connection ends may take to finish
    /// before they are dropped (5 s, not in ASP.NET).
    pub invocation_drain_timeout: Duration,
    /// Items buffered per upload stream before the server stops reading from
    /// the connection until the hub method catches up (10).
    pub stream_buffer_capacity: usize,
    /// How long a client result (`caller().answer(..)`) may take; `None` waits
    /// until the client answers or disconnects, as ASP.NET does (30 s).
    pub client_result_timeout: Option<Duration>,
    /// Bytes of sent messages kept for replay until the client acknowledges
    /// them, with stateful reconnect; past it, the connection stops sending
    /// until Acks arrive (100,000).
    pub stateful_reconnect_buffer_size: usize,
    /// Hub protocols offered to clients (all implemented ones).
    pub supported_protocols: Vec<Protocol>,
}

/// What happens when a message arrives for a connection whose outbound queue
/// is full (`HubOptions::outbound_queue_capacity`). Replies to a connection's
/// own calls (completions, stream items) never count: they wait for room.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SlowConsumerPolicy {
    /// Close the connection with an error ("Slow consumer: ..."), with
    /// `allowReconnect` so the client may come back and catch up. Nothing is
    /// lost silently. The default.
    #[default]
    Disconnect,
    /// Drop the oldest queued broadcast to make room (counted and logged).
    /// For fire-and-forget traffic where the latest value matters most
    /// (positions, prices, presence).
    DropOldest,
}

impl Default for HubOptions {
    fn default() -> Self {
        Self {
            keep_alive_interval: Duration::from_secs(15),
            client_timeout_interval: Duration::from_secs(30),
            handshake_timeout: Duration::from_secs(15),
            maximum_receive_message_size: 32 * 1024,
            maximum_parallel_invocations_per_client: 1,
            maximum_queued_invocations_per_client: 32,
            maximum_streams_per_client: 32,
            enable_detailed_errors: false,
            outbound_queue_capacity: 1024,
            slow_consumer_policy: SlowConsumerPolicy::Disconnect,
            send_timeout: Duration::from_secs(10),
            invocation_drain_timeout: Duration::from_secs(5),
            stream_buffer_capacity: 10,
            client_result_timeout: Some(Duration::from_secs(30)),
            stateful_reconnect_buffer_size: 100_000,
            supported_protocols: Protocol::ALL.to_vec(),
        }
    }
}
