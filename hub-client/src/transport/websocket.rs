//! WebSockets: one socket both ways, the bearer token in the
//! `Authorization` header (as the JS client sends it outside browsers).

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::HeaderValue;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use super::common::{CLOSE_TIMEOUT, Endpoint, Frame, Received};
use crate::connector::{Connector, MaybeTls};
use crate::error::Error;
use crate::http::common_headers;
use crate::options::ConnectionOptions;

/// The socket's read buffer, allocated when it opens.
const READ_BUFFER: usize = 4 * 1024;

/// Frames fed are written once this many bytes wait (or at the next flush).
const WRITE_BUFFER: usize = 16 * 1024;

/// An open WebSocket.
#[derive(Debug)]
pub(crate) struct WebSocket {
    socket: WebSocketStream<MaybeTls>,
}

impl WebSocket {
    /// Connects (TLS for `wss://`) and upgrades, within the HTTP timeout.
    pub(crate) async fn open(
        endpoint: &Endpoint,
        options: &ConnectionOptions,
    ) -> Result<Self, Error> {
        let url = &endpoint.url;
        let mut request = url
            .ws()
            .into_client_request()
            .map_err(|error| Error::Io(format!("WebSocket request: {error}")))?;
        for (name, value) in common_headers(&options.headers, endpoint.token.as_deref()) {
            if name != http::header::USER_AGENT || !request.headers().contains_key(&name) {
                request.headers_mut().insert(name, value);
            }
        }
        request
            .headers_mut()
            .entry(http::header::HOST)
            .or_insert_with(|| HeaderValue::from_str(&url.authority()).expect("a valid host"));
        // Small buffers: a client holds many idle connections more often
        // than it streams megabytes (tungstenite allocates its read buffer
        // up front, 128 KiB by default).
        let config = WebSocketConfig::default()
            .read_buffer_size(READ_BUFFER)
            .write_buffer_size(WRITE_BUFFER)
            .max_message_size(Some(options.max_message_size))
            .max_frame_size(Some(options.max_message_size));
        let connect = async {
            let stream = Connector::new(options).connect(url).await?;
            tokio_tungstenite::client_async_with_config(request, stream, Some(config))
                .await
                .map_err(|error| match error {
                    tokio_tungstenite::tungstenite::Error::Http(response) => Error::Http {
                        what: "WebSocket upgrade",
                        status: response.status().as_u16(),
                        hint: "",
                    },
                    error => Error::Io(format!("WebSocket failed to connect: {error}")),
                })
        };
        let (socket, _) = tokio::time::timeout(options.http_timeout, connect)
            .await
            .map_err(|_| Error::Timeout {
                what: "WebSocket upgrade",
                after: options.http_timeout,
            })??;
        Ok(Self { socket })
    }

    /// The next payload. Cancel-safe (`StreamExt::next`).
    pub(crate) async fn recv(&mut self) -> Received {
        loop {
            return match self.socket.next().await {
                Some(Ok(Message::Text(text))) => Received::Data(Bytes::from(text)),
                Some(Ok(Message::Binary(bytes))) => Received::Data(bytes),
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                Some(Ok(Message::Close(frame))) => match frame {
                    Some(frame) if frame.code != CloseCode::Normal => {
                        Received::Closed(Some(Error::ConnectionLost(format!(
                            "WebSocket closed with status code: {} ({})",
                            u16::from(frame.code),
                            frame.reason
                        ))))
                    }
                    _ => Received::Closed(None),
                },
                Some(Err(error)) => Received::Closed(Some(Error::ConnectionLost(format!(
                    "WebSocket failed: {error}"
                )))),
                None => Received::Closed(Some(Error::ConnectionLost("the WebSocket ended".into()))),
            };
        }
    }

    /// Sends one payload as one frame.
    pub(crate) async fn send(&mut self, payload: Bytes, frame: Frame) -> Result<(), Error> {
        self.feed(payload, frame).await?;
        self.flush().await
    }

    /// Writes everything fed so far to the socket.
    pub(crate) async fn flush(&mut self) -> Result<(), Error> {
        self.socket
            .flush()
            .await
            .map_err(|error| Error::ConnectionLost(format!("WebSocket send failed: {error}")))
    }

    /// Queues one payload as one frame, written at the next flush (or when
    /// the socket's buffer fills).
    pub(crate) async fn feed(&mut self, payload: Bytes, frame: Frame) -> Result<(), Error> {
        let message = match frame {
            Frame::Text => Message::Text(
                Utf8Bytes::try_from(payload)
                    .map_err(|_| Error::Encode("a text frame must be UTF-8".into()))?,
            ),
            Frame::Binary => Message::Binary(payload),
        };
        self.socket
            .feed(message)
            .await
            .map_err(|error| Error::ConnectionLost(format!("WebSocket send failed: {error}")))
    }

    /// Sends a normal close and waits (bounded) for the server's.
    pub(crate) async fn close(mut self) {
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
            let _ = self.socket.close(None).await;
            while let Some(Ok(_)) = self.socket.next().await {}
        })
        .await;
    }
}
