//! The WebSockets transport: the HTTP upgrade, and [`Transport`] over the socket.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::request::Parts;
use http::{HeaderValue, Request, Response, StatusCode, header};
use hub_core::protocol::TransferFormat;
use hub_core::{ConnectionId, ConnectionInfo, Identity, Inbound, Transport, TransportError};
use hyper::body::Incoming;
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};

use crate::endpoint::{HubEndpoint, bind_error_response};
use crate::http_util::{Body, empty, query_param, text};
use crate::server::ServerState;
use crate::sessions::{Binding, TransportKind};

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

/// Answers an upgrade request with 101 and starts the connection on the upgraded socket.
pub(crate) fn accept(
    endpoint: &HubEndpoint,
    mut request: Request<Incoming>,
    identity: Identity,
    remote_addr: SocketAddr,
    state: &ServerState,
) -> Response<Body> {
    let headers = request.headers();
    if headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .map(HeaderValue::as_bytes)
        != Some(b"13")
    {
        return text(
            StatusCode::BAD_REQUEST,
            "Unsupported WebSocket version (13 required).",
        );
    }
    let Some(key) = headers.get(header::SEC_WEBSOCKET_KEY) else {
        return text(StatusCode::BAD_REQUEST, "Missing Sec-WebSocket-Key.");
    };
    let accept_key = derive_accept_key(key.as_bytes());

    // With an id the connection was negotiated; without, the client skipped negotiation.
    let token = query_param(request.uri().query(), "id");
    let connection_id = match &token {
        Some(token) => {
            match endpoint
                .sessions
                .bind(token, identity.user_id.as_deref(), Binding::WebSocket)
            {
                Ok(connection_id) => connection_id,
                Err(error) => return bind_error_response(error),
            }
        }
        None => ConnectionId::random(),
    };

    let on_upgrade = hyper::upgrade::on(&mut request);
    let hub = endpoint.hub.clone();
    let sessions = endpoint.sessions.clone();
    let config = WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(8 * 1024)
        .max_message_size(Some(endpoint.options.max_payload_size))
        .max_frame_size(Some(endpoint.options.max_payload_size));
    let close_timeout = endpoint.options.websocket_close_timeout;
    let info = ConnectionInfo {
        connection_id,
        identity,
        remote_addr: Some(remote_addr),
        shutdown: state.shutdown.clone(),
    };
    state.tracker.spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                let socket = WebSocketStream::from_raw_socket(
                    TokioIo::new(upgraded),
                    Role::Server,
                    Some(config),
                )
                .await;
                let transport = WebSocketTransport {
                    socket,
                    close_timeout,
                    close_code: CloseCode::Normal,
                };
                hub.serve_connection(transport, info).await;
            }
            Err(error) => tracing::debug!(%error, "WebSocket upgrade failed"),
        }
        if let Some(token) = token {
            sessions.end(&token);
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
    response
}

/// A connection's WebSocket.
struct WebSocketTransport {
    socket: WebSocketStream<TokioIo<Upgraded>>,
    close_timeout: Duration,
    /// The status of our close frame: 1000, or why the client's input was refused.
    close_code: CloseCode,
}

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

impl Transport for WebSocketTransport {
    fn name(&self) -> &'static str {
        TransportKind::WebSockets.name()
    }

    fn transfer_formats(&self) -> &'static [TransferFormat] {
        FORMATS
    }

    async fn recv(&mut self) -> Option<Result<Inbound, TransportError>> {
        loop {
            let message = match self.socket.next().await? {
                Ok(message) => message,
                Err(error) => {
                    let error = transport_error(error);
                    self.close_code = match error {
                        TransportError::TooLarge(_) => CloseCode::Size,
                        TransportError::InvalidPayload(_) => CloseCode::Invalid,
                        _ => CloseCode::Error,
                    };
                    return Some(Err(error));
                }
            };
            return Some(Ok(match message {
                Message::Text(text) => Inbound {
                    data: Bytes::from(text),
                    format: Some(TransferFormat::Text),
                },
                Message::Binary(data) => Inbound {
                    data,
                    format: Some(TransferFormat::Binary),
                },
                Message::Close(_) => return None,
                // tungstenite answers pings itself.
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
            }));
        }
    }

    async fn feed(&mut self, payload: Bytes, format: TransferFormat) -> Result<(), TransportError> {
        let message = match format {
            TransferFormat::Text => Message::Text(
                Utf8Bytes::try_from(payload)
                    .map_err(|error| TransportError::Io(error.to_string()))?,
            ),
            TransferFormat::Binary => Message::Binary(payload),
        };
        self.socket.feed(message).await.map_err(transport_error)
    }

    async fn flush(&mut self) -> Result<(), TransportError> {
        self.socket.flush().await.map_err(transport_error)
    }

    async fn close(&mut self) {
        let frame = CloseFrame {
            code: self.close_code,
            reason: Default::default(),
        };
        if self.socket.close(Some(frame)).await.is_err() {
            return;
        }
        // Wait (bounded) for the client's close frame, as ASP.NET does.
        let _ = tokio::time::timeout(self.close_timeout, async {
            while let Some(Ok(_)) = self.socket.next().await {}
        })
        .await;
    }
}
