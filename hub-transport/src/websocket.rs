//! The WebSockets transport: the HTTP upgrade, and [`Transport`] over the socket.

use std::time::Duration;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use futures_util::{SinkExt, StreamExt};
use http::request::Parts;
use http::{HeaderValue, Request, Response, StatusCode, header};
use hub_core::protocol::TransferFormat;
use hub_core::{Inbound, Transport, TransportError, TransportEvent};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::{CloseFrame, Frame};
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use crate::http_util::{Body, empty, text};

/// The transport's name in negotiate responses.
pub(crate) const NAME: &str = "WebSockets";

/// WebSockets carry text and binary frames.
pub(crate) const FORMATS: &[TransferFormat] = &[TransferFormat::Text, TransferFormat::Binary];

/// Whether the request asks for a WebSocket upgrade.
pub(crate) fn is_upgrade(parts: &Parts) -> bool {
    let has_token = |name: header::HeaderName, token: &str| {
        parts.headers.get_all(name).iter().any(|value| {
            value.to_str().is_ok_and(|value| {
                value
                    .split(',')
                    .any(|part| part.trim().eq_ignore_ascii_case(token))
            })
        })
    };
    has_token(header::CONNECTION, "upgrade") && has_token(header::UPGRADE, "websocket")
}

/// A WebSocket upgrade request that passed the checks: the `101` answer, and
/// the socket it becomes once hyper hands the connection over.
pub(crate) struct Upgrade {
    /// `101 Switching Protocols`, to send only if the connection may start.
    pub(crate) response: Response<Body>,
    /// The socket; `None` if the upgrade failed.
    pub(crate) socket: BoxFuture<'static, Option<Box<Socket>>>,
}

/// Why an upgrade request is refused (`400`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum UpgradeRefused {
    #[error("Unsupported WebSocket version (13 required).")]
    Version,
    #[error("Missing Sec-WebSocket-Key.")]
    MissingKey,
}

impl UpgradeRefused {
    pub(crate) fn response(self) -> Response<Body> {
        text(StatusCode::BAD_REQUEST, self.to_string())
    }
}

/// Checks an upgrade request and prepares its socket, whose messages may be
/// up to `max_payload_size`.
pub(crate) fn upgrade<B>(
    request: &mut Request<B>,
    max_payload_size: usize,
) -> Result<Upgrade, UpgradeRefused> {
    let headers = request.headers();
    if headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .map(HeaderValue::as_bytes)
        != Some(b"13")
    {
        return Err(UpgradeRefused::Version);
    }
    let Some(key) = headers.get(header::SEC_WEBSOCKET_KEY) else {
        return Err(UpgradeRefused::MissingKey);
    };
    let accept_key = derive_accept_key(key.as_bytes());

    // A 2 KiB read buffer: tungstenite allocates it per connection (idle ones
    // too) and zero-fills its free space before every read, so 4 KiB cost
    // 2 KiB more per idle connection and ~16 % more CPU per small message
    // (docs/BENCHMARKS.md); larger messages just take more reads.
    let config = WebSocketConfig::default()
        .read_buffer_size(2 * 1024)
        .write_buffer_size(8 * 1024)
        .max_message_size(Some(max_payload_size))
        .max_frame_size(Some(max_payload_size));
    let on_upgrade = hyper::upgrade::on(request);
    let socket = Box::pin(async move {
        match on_upgrade.await {
            // Boxed: the transport is moved around, and a stateful
            // connection's sockets travel through a channel.
            Ok(upgraded) => Some(Box::new(
                WebSocketStream::from_raw_socket(
                    TokioIo::new(upgraded),
                    Role::Server,
                    Some(config),
                )
                .await,
            )),
            Err(error) => {
                tracing::debug!(%error, "WebSocket upgrade failed");
                None
            }
        }
    });

    let mut response = empty(StatusCode::SWITCHING_PROTOCOLS);
    let headers = response.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(
        header::SEC_WEBSOCKET_ACCEPT,
        HeaderValue::from_str(&accept_key).expect("base64 is a valid header value"),
    );
    Ok(Upgrade { response, socket })
}

/// A connection's WebSocket.
///
/// With stateful reconnect, a lost socket does not end the transport: it waits
/// up to `grace` for the client to reconnect with the same token, takes the
/// new socket and reports [`TransportEvent::Resumed`]. Writes meanwhile are
/// dropped; the connection resends them from its replay buffer.
pub(crate) struct WebSocketTransport {
    /// `None` while detached.
    socket: Option<Box<Socket>>,
    close_timeout: Duration,
    /// The status of our close frame: 1000, or why the client's input was refused.
    close_code: CloseCode,
    /// New sockets of the same connection; `Some` while it may resume.
    resumed: Option<mpsc::Receiver<Box<Socket>>>,
    /// How long a lost socket may stay lost.
    grace: Duration,
    detached_since: Option<Instant>,
}

/// A server WebSocket over an upgraded HTTP connection.
pub(crate) type Socket = WebSocketStream<TokioIo<Upgraded>>;

fn transport_error(error: WsError) -> TransportError {
    match error {
        WsError::Capacity(error) => TransportError::TooLarge(error.to_string()),
        WsError::Utf8(error) => {
            TransportError::InvalidPayload(format!("invalid UTF-8 in a text frame: {error}"))
        }
        WsError::ConnectionClosed | WsError::AlreadyClosed => TransportError::Closed,
        other => TransportError::Io(other.to_string()),
    }
}

/// What the attached socket produced.
enum SocketEvent {
    Message(Option<Result<Message, WsError>>),
    Replaced(Option<Box<Socket>>),
}

impl WebSocketTransport {
    /// The transport of a connection over `socket`. With `resumed` (stateful
    /// reconnect), a lost socket waits up to `grace` for the client to come
    /// back on another; `close_timeout` bounds the wait for the client's
    /// close frame.
    pub(crate) fn new(
        socket: Box<Socket>,
        close_timeout: Duration,
        resumed: Option<mpsc::Receiver<Box<Socket>>>,
        grace: Duration,
    ) -> Self {
        Self {
            socket: Some(socket),
            close_timeout,
            close_code: CloseCode::Normal,
            resumed,
            grace,
            detached_since: None,
        }
    }

    /// The socket is gone: wait for the client to come back, or end.
    fn detach(&mut self) -> bool {
        if self.resumed.is_none() {
            return false;
        }
        self.socket = None;
        self.detached_since.get_or_insert_with(Instant::now);
        tracing::debug!("socket lost; waiting for the client to reconnect");
        true
    }

    /// A failed write on a resumable connection detaches instead of failing.
    fn written(&mut self, result: Result<(), WsError>) -> Result<(), TransportError> {
        match result {
            Ok(()) => Ok(()),
            Err(_) if self.detach() => Ok(()),
            Err(error) => Err(transport_error(error)),
        }
    }

    fn attach(&mut self, socket: Box<Socket>) -> TransportEvent {
        self.socket = Some(socket);
        self.detached_since = None;
        TransportEvent::Resumed
    }
}

impl Transport for WebSocketTransport {
    fn name(&self) -> &'static str {
        NAME
    }

    fn transfer_formats(&self) -> &'static [TransferFormat] {
        FORMATS
    }

    fn set_resumable(&mut self, resumable: bool) {
        if !resumable {
            self.resumed = None;
        }
    }

    async fn recv(&mut self) -> Option<Result<TransportEvent, TransportError>> {
        loop {
            let Some(socket) = &mut self.socket else {
                // Detached: the grace period runs from when the socket was lost.
                let since = self.detached_since.unwrap_or_else(Instant::now);
                let resumed = self.resumed.as_mut()?;
                tokio::select! {
                    socket = resumed.recv() => return socket.map(|socket| Ok(self.attach(socket))),
                    () = sleep_until(since + self.grace) => {
                        return Some(Err(TransportError::TimedOut(
                            "the client did not reconnect within the disconnect timeout".into(),
                        )));
                    }
                }
            };
            let event = match &mut self.resumed {
                Some(resumed) => tokio::select! {
                    message = socket.next() => SocketEvent::Message(message),
                    socket = resumed.recv() => SocketEvent::Replaced(socket),
                },
                None => SocketEvent::Message(socket.next().await),
            };
            let message = match event {
                SocketEvent::Replaced(Some(new)) => return Some(Ok(self.attach(new))),
                SocketEvent::Replaced(None) => {
                    self.resumed = None;
                    continue;
                }
                SocketEvent::Message(message) => message,
            };
            let message = match message {
                Some(Ok(message)) => message,
                Some(Err(error)) => {
                    let error = transport_error(error);
                    if matches!(error, TransportError::Io(_) | TransportError::Closed)
                        && self.detach()
                    {
                        continue;
                    }
                    self.close_code = match error {
                        TransportError::TooLarge(_) => CloseCode::Size,
                        TransportError::InvalidPayload(_) => CloseCode::Invalid,
                        _ => CloseCode::Error,
                    };
                    return Some(Err(error));
                }
                None => {
                    if self.detach() {
                        continue;
                    }
                    return None;
                }
            };
            return Some(Ok(TransportEvent::Data(match message {
                Message::Text(text) => Inbound {
                    data: Bytes::from(text),
                    format: Some(TransferFormat::Text),
                },
                Message::Binary(data) => Inbound {
                    data,
                    format: Some(TransferFormat::Binary),
                },
                Message::Close(_) => {
                    if self.detach() {
                        continue;
                    }
                    return None;
                }
                // tungstenite answers pings itself.
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
            })));
        }
    }

    async fn feed(&mut self, payload: Bytes, format: TransferFormat) -> Result<(), TransportError> {
        let Some(socket) = &mut self.socket else {
            // Detached: the replay buffer keeps what matters.
            return Ok(());
        };
        let message = match format {
            // The hub protocols write text payloads as UTF-8 (serde_json output,
            // or JSON text that was validated when it was received): sent as a
            // text frame as they are, not validated a second time as
            // `Message::Text` would.
            TransferFormat::Text => {
                debug_assert!(std::str::from_utf8(&payload).is_ok(), "text is UTF-8");
                Message::Frame(Frame::message(payload, OpCode::Data(Data::Text), true))
            }
            TransferFormat::Binary => Message::Binary(payload),
        };
        let result = socket.feed(message).await;
        self.written(result)
    }

    async fn flush(&mut self) -> Result<(), TransportError> {
        let Some(socket) = &mut self.socket else {
            return Ok(());
        };
        let result = socket.flush().await;
        self.written(result)
    }

    async fn close(&mut self) {
        let Some(socket) = &mut self.socket else {
            return;
        };
        let frame = CloseFrame {
            code: self.close_code,
            reason: Default::default(),
        };
        if WebSocketStream::close(socket, Some(frame)).await.is_err() {
            return;
        }
        // Wait (bounded) for the client's close frame, as ASP.NET does.
        let _ = tokio::time::timeout(self.close_timeout, async {
            while let Some(Ok(_)) = socket.next().await {}
        })
        .await;
    }
}
