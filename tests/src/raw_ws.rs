//! A raw WebSocket client speaking the hub protocol (JSON or MessagePack) by
//! hand, for tests that need control the official clients do not give: stop
//! reading, drop the socket without a Close, send malformed frames.
//!
//! Messages are handed to tests as JSON values in the JSON protocol's shape
//! (`{"type":3,"invocationId":"1","result":...}`) whatever the protocol, so
//! that assertions read the same for both. Every read is bounded by
//! [`TIMEOUT`].

use std::collections::VecDeque;
use std::net::SocketAddr;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{WebSocketStream, client_async};

pub use crate::raw_http::TIMEOUT;
use crate::raw_http::{HttpConn, negotiate};

pub mod msgpack;

/// The record separator ending every JSON record.
pub const RS: char = '\u{1e}';
/// The JSON handshake of the official clients.
pub const JSON_HANDSHAKE: &str = "{\"protocol\":\"json\",\"version\":1}\u{1e}";
/// The MessagePack handshake of the official clients.
pub const MSGPACK_HANDSHAKE: &str = "{\"protocol\":\"messagepack\",\"version\":1}\u{1e}";
/// How every error Close message starts (ASP.NET's text).
pub const CLOSED_WITH_ERROR: &str = "Connection closed with an error.";

/// A client WebSocket over a plain TCP stream.
pub type Socket = WebSocketStream<TcpStream>;

/// The hub protocol a [`HubSocket`] speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// JSON records ending with `0x1E`, in text frames.
    Json,
    /// Length-prefixed MessagePack arrays, in binary frames.
    MessagePack,
}

/// How a socket ended.
#[derive(Debug)]
pub enum Closure {
    /// The peer sent a Close frame.
    CloseFrame(Option<CloseFrame>),
    /// The stream ended without a Close frame.
    Ended,
    /// The stream failed (e.g. reset without a closing handshake).
    Failed(String),
}

/// What the server sent next.
#[derive(Debug)]
pub enum Event {
    /// One hub message (never a Ping), in the JSON protocol's shape.
    Message(Value),
    /// The socket is closed.
    Closed(Closure),
}

/// A WebSocket connection to a hub, driven by hand.
#[derive(Debug)]
pub struct HubSocket {
    socket: Socket,
    protocol: Protocol,
    /// Messages received but not consumed yet.
    pending: VecDeque<Value>,
    /// Messages skipped while waiting for a Completion (see [`HubSocket::completion`]).
    others: Vec<Value>,
    next_id: u64,
}

impl HubSocket {
    /// Upgrades `stream` (a fresh or idle keep-alive connection) to a WebSocket
    /// at `path_and_query` with extra `headers`; `Err((status, body))` when
    /// the server refuses the upgrade. Unless `headers` ask for a
    /// subprotocol, the server must select none.
    pub async fn upgrade(
        stream: TcpStream,
        addr: SocketAddr,
        path_and_query: &str,
        headers: &[(&str, &str)],
    ) -> Result<Self, (u16, String)> {
        let mut request = format!("ws://{addr}{path_and_query}")
            .into_client_request()
            .expect("a valid WebSocket URL");
        for (name, value) in headers {
            request.headers_mut().insert(
                http::HeaderName::from_bytes(name.as_bytes()).expect("header name"),
                http::HeaderValue::from_str(value).expect("header value"),
            );
        }
        let subprotocol_asked = request.headers().contains_key("sec-websocket-protocol");
        match timeout(TIMEOUT, client_async(request, stream))
            .await
            .expect("upgrade answered within the timeout")
        {
            Ok((socket, response)) => {
                assert_eq!(response.status(), 101);
                assert!(
                    subprotocol_asked || !response.headers().contains_key("sec-websocket-protocol"),
                    "no subprotocol is selected: {response:?}"
                );
                Ok(Self {
                    socket,
                    protocol: Protocol::Json,
                    pending: VecDeque::new(),
                    others: Vec::new(),
                    next_id: 0,
                })
            }
            Err(tungstenite::Error::Http(response)) => {
                let body = response
                    .body()
                    .as_deref()
                    .map(|body| String::from_utf8_lossy(body).into_owned())
                    .unwrap_or_default();
                Err((response.status().as_u16(), body))
            }
            Err(error) => panic!("WebSocket upgrade to {path_and_query} failed: {error}"),
        }
    }

    /// Connects and upgrades; `Err((status, body))` when the server refuses the upgrade.
    pub async fn try_connect(
        addr: SocketAddr,
        path_and_query: &str,
        headers: &[(&str, &str)],
    ) -> Result<Self, (u16, String)> {
        let stream = timeout(TIMEOUT, TcpStream::connect(addr))
            .await
            .expect("connect within the timeout")
            .expect("connect");
        let _ = stream.set_nodelay(true);
        Self::upgrade(stream, addr, path_and_query, headers).await
    }

    /// Connects and upgrades; fails the test if the upgrade is refused.
    pub async fn connect(addr: SocketAddr, path_and_query: &str, headers: &[(&str, &str)]) -> Self {
        Self::try_connect(addr, path_and_query, headers)
            .await
            .unwrap_or_else(|(status, body)| panic!("upgrade refused: {status} {body:?}"))
    }

    /// Connects and tries an upgrade the server must refuse: returns the
    /// refusal's `(status, body)`; fails the test if the upgrade is accepted.
    pub async fn connect_refused(
        addr: SocketAddr,
        path_and_query: &str,
        headers: &[(&str, &str)],
    ) -> (u16, String) {
        match Self::try_connect(addr, path_and_query, headers).await {
            Ok(_) => panic!("upgrade to {path_and_query} unexpectedly accepted"),
            Err(refusal) => refusal,
        }
    }

    /// Like [`HubSocket::connect`] on a socket whose receive buffer is about
    /// `receive_buffer` bytes, so that a client that stops reading makes the
    /// server's writes block soon.
    pub async fn connect_with_receive_buffer(
        addr: SocketAddr,
        path_and_query: &str,
        receive_buffer: u32,
    ) -> Self {
        let socket = TcpSocket::new_v4().expect("a TCP socket");
        socket
            .set_recv_buffer_size(receive_buffer)
            .expect("set SO_RCVBUF");
        let stream = timeout(TIMEOUT, socket.connect(addr))
            .await
            .expect("connect within the timeout")
            .expect("connect");
        Self::upgrade(stream, addr, path_and_query, &[])
            .await
            .unwrap_or_else(|(status, body)| panic!("upgrade refused: {status} {body:?}"))
    }

    /// Negotiates on a keep-alive connection, upgrades that same connection
    /// with the token, and completes the handshake: a working connection.
    pub async fn negotiated(
        addr: SocketAddr,
        path: &str,
        protocol: Protocol,
        headers: &[(&str, &str)],
    ) -> Self {
        let mut socket = Self::negotiated_without_handshake(addr, path, headers).await;
        socket.handshake(protocol).await;
        socket
    }

    /// Negotiates on a keep-alive connection and upgrades that same
    /// connection with the token, but sends no handshake (for tests of the
    /// handshake itself).
    pub async fn negotiated_without_handshake(
        addr: SocketAddr,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Self {
        let mut conn = HttpConn::connect(addr).await;
        let (_, token) = negotiate(&mut conn, path, headers).await;
        Self::upgrade(
            conn.into_stream(),
            addr,
            &format!("{path}?id={token}"),
            headers,
        )
        .await
        .unwrap_or_else(|(status, body)| panic!("upgrade refused: {status} {body:?}"))
    }

    /// The protocol in use (JSON until a MessagePack handshake).
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// The underlying WebSocket, for frames the helpers do not build.
    pub fn socket(&mut self) -> &mut Socket {
        &mut self.socket
    }

    /// Sends the handshake of `protocol`; the first server message must be
    /// exactly `{}`RS, in a text frame for JSON and a binary one for MessagePack.
    pub async fn handshake(&mut self, protocol: Protocol) {
        let handshake = match protocol {
            Protocol::Json => JSON_HANDSHAKE,
            Protocol::MessagePack => MSGPACK_HANDSHAKE,
        };
        self.send(Message::text(handshake)).await;
        match (protocol, self.next_ws_message().await) {
            (Protocol::Json, Some(Ok(Message::Text(text)))) => {
                assert_eq!(text.as_str(), "{}\u{1e}");
            }
            (Protocol::MessagePack, Some(Ok(Message::Binary(data)))) => {
                assert_eq!(&data[..], b"{}\x1e");
            }
            (_, other) => panic!("expected the handshake response, got {other:?}"),
        }
        self.protocol = protocol;
    }

    /// The next WebSocket message exactly as received (for byte-exact
    /// checks; Pings are not skipped); `None` once the stream ended. Fails
    /// if hub messages already received are still unread.
    pub async fn next_ws_message(&mut self) -> Option<Result<Message, tungstenite::Error>> {
        assert!(
            self.pending.is_empty(),
            "messages left unread: {:?}",
            self.pending
        );
        timeout(TIMEOUT, self.socket.next())
            .await
            .unwrap_or_else(|_| panic!("nothing received within {TIMEOUT:?}"))
    }

    /// The next WebSocket message must be the text frame `expected`, byte for byte.
    pub async fn expect_text_frame(&mut self, expected: &str) {
        match self.next_ws_message().await {
            Some(Ok(Message::Text(text))) => assert_eq!(text.as_str(), expected),
            other => panic!("expected the text frame {expected:?}, got {other:?}"),
        }
    }

    /// Sends one WebSocket message.
    pub async fn send(&mut self, message: Message) {
        timeout(TIMEOUT, self.socket.send(message))
            .await
            .expect("send within the timeout")
            .expect("send");
    }

    /// Sends a text frame.
    pub async fn send_text(&mut self, text: &str) {
        self.send(Message::text(text)).await;
    }

    /// Sends a binary frame.
    pub async fn send_binary(&mut self, data: Vec<u8>) {
        self.send(Message::binary(data)).await;
    }

    /// Encodes a message given in the JSON protocol's shape in this
    /// connection's protocol (with its framing).
    pub fn encode(&self, message: &Value) -> Vec<u8> {
        match self.protocol {
            Protocol::Json => format!("{message}{RS}").into_bytes(),
            Protocol::MessagePack => msgpack::frame(&msgpack::encode(message)),
        }
    }

    /// Sends one hub message given in the JSON protocol's shape.
    pub async fn send_message(&mut self, message: &Value) {
        let bytes = self.encode(message);
        match self.protocol {
            Protocol::Json => {
                self.send_text(std::str::from_utf8(&bytes).expect("JSON is UTF-8"))
                    .await;
            }
            Protocol::MessagePack => self.send_binary(bytes).await,
        }
    }

    /// A fresh invocation id.
    pub fn next_id(&mut self) -> String {
        self.next_id += 1;
        self.next_id.to_string()
    }

    /// Sends a blocking invocation of `target`; returns its id.
    pub async fn invoke(&mut self, target: &str, arguments: Value) -> String {
        let id = self.next_id();
        let message =
            json!({"type": 1, "invocationId": id, "target": target, "arguments": arguments});
        self.send_message(&message).await;
        id
    }

    /// Sends a non-blocking invocation (no id: the server never answers).
    pub async fn send_invocation(&mut self, target: &str, arguments: Value) {
        let message = json!({"type": 1, "target": target, "arguments": arguments});
        self.send_message(&message).await;
    }

    /// Starts a server-to-client stream; returns its id.
    pub async fn stream(&mut self, target: &str, arguments: Value) -> String {
        let id = self.next_id();
        let message =
            json!({"type": 4, "invocationId": id, "target": target, "arguments": arguments});
        self.send_message(&message).await;
        id
    }

    /// Invokes `target` and returns its Completion's `result`; fails on an error
    /// Completion. Other messages received meanwhile are kept (see [`HubSocket::take_others`]).
    pub async fn call(&mut self, target: &str, arguments: Value) -> Value {
        let id = self.invoke(target, arguments).await;
        let completion = self.completion(&id).await;
        assert!(
            completion.get("error").is_none(),
            "{target} failed: {completion}"
        );
        completion.get("result").cloned().unwrap_or(Value::Null)
    }

    /// Reads until the Completion of `id` and returns it; every other message
    /// read meanwhile is kept, in order, for [`HubSocket::take_others`].
    pub async fn completion(&mut self, id: &str) -> Value {
        loop {
            let message = self.next_message().await;
            if message["type"] == 3 && message["invocationId"] == id {
                return message;
            }
            self.others.push(message);
        }
    }

    /// The messages [`HubSocket::completion`] skipped, oldest first.
    pub fn take_others(&mut self) -> Vec<Value> {
        std::mem::take(&mut self.others)
    }

    /// The next message or the closure, skipping Pings.
    pub async fn next_event(&mut self) -> Event {
        loop {
            if let Some(message) = self.pending.pop_front() {
                if message["type"] == 6 {
                    continue;
                }
                return Event::Message(message);
            }
            let received = match timeout(TIMEOUT, self.socket.next()).await {
                Ok(received) => received,
                Err(_) => panic!("nothing received within {TIMEOUT:?}"),
            };
            match received {
                Some(Ok(Message::Text(text))) => {
                    assert_eq!(
                        self.protocol,
                        Protocol::Json,
                        "text frame on a MessagePack connection: {text:?}"
                    );
                    let text = text.as_str();
                    // Clients never reassemble records across messages.
                    assert!(
                        text.ends_with(RS),
                        "server message with an incomplete record: {text:?}"
                    );
                    for record in text[..text.len() - 1].split(RS) {
                        let message = serde_json::from_str(record).unwrap_or_else(|error| {
                            panic!("server sent invalid JSON ({error}): {record:?}")
                        });
                        self.pending.push_back(message);
                    }
                }
                Some(Ok(Message::Binary(data))) => {
                    assert_eq!(
                        self.protocol,
                        Protocol::MessagePack,
                        "binary frame on a JSON connection: {data:?}"
                    );
                    self.pending.extend(msgpack::decode_frames(&data));
                }
                Some(Ok(Message::Close(frame))) => {
                    // Let tokio-tungstenite answer the Close and see the socket end.
                    let _ = timeout(TIMEOUT, async {
                        while let Some(Ok(_)) = self.socket.next().await {}
                    })
                    .await;
                    return Event::Closed(Closure::CloseFrame(frame));
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                Some(Err(error)) => return Event::Closed(Closure::Failed(error.to_string())),
                None => return Event::Closed(Closure::Ended),
            }
        }
    }

    /// The next message (never a Ping); fails if the socket closes first.
    pub async fn next_message(&mut self) -> Value {
        match self.next_event().await {
            Event::Message(message) => message,
            Event::Closed(closure) => panic!("socket closed ({closure:?}) instead of a message"),
        }
    }

    /// Fails unless the socket closes before any further message.
    pub async fn expect_closed(&mut self) -> Closure {
        match self.next_event().await {
            Event::Closed(closure) => closure,
            Event::Message(message) => panic!("{message} instead of the socket closing"),
        }
    }

    /// The next message must be a Close message, then the socket must close
    /// with a Close frame; returns the Close message.
    pub async fn expect_close_message(&mut self) -> Value {
        let close = self.next_message().await;
        assert_eq!(close["type"], 7, "a Close message: {close}");
        let closure = self.expect_closed().await;
        assert!(
            matches!(closure, Closure::CloseFrame(_)),
            "after the Close message the server closes the WebSocket: {closure:?}"
        );
        close
    }

    /// The next message must be an error Close (`Connection closed with an
    /// error. ...`, not reconnectable), then the socket must close; returns the error.
    pub async fn expect_close_with_error(&mut self) -> String {
        let close = self.expect_close_message().await;
        let error = close["error"]
            .as_str()
            .unwrap_or_else(|| panic!("Close without error: {close}"))
            .to_owned();
        assert!(
            error.starts_with(CLOSED_WITH_ERROR),
            "Close error starts with {CLOSED_WITH_ERROR:?}: {error:?}"
        );
        assert_ne!(
            close.get("allowReconnect"),
            Some(&json!(true)),
            "a protocol error is not reconnectable: {close}"
        );
        error
    }

    /// Reads everything up to the end of the socket: the messages, and how it ended.
    pub async fn drain_to_end(&mut self) -> (Vec<Value>, Closure) {
        let mut messages = Vec::new();
        loop {
            match self.next_event().await {
                Event::Message(message) => messages.push(message),
                Event::Closed(closure) => return (messages, closure),
            }
        }
    }

    /// Invokes `Echo(text)` and expects its result.
    pub async fn assert_echo(&mut self, text: &str) {
        assert_eq!(self.call("Echo", json!([text])).await, json!(text));
    }

    /// Invokes `Echo(text)` (with an id of its own, `echo-N`) and expects its
    /// Completion as the very next message: unlike [`HubSocket::assert_echo`],
    /// nothing else (but Pings) may arrive first.
    pub async fn assert_next_echo(&mut self, text: &str) {
        let id = format!("echo-{}", self.next_id());
        let invocation =
            json!({"type": 1, "invocationId": id, "target": "Echo", "arguments": [text]});
        self.send_message(&invocation).await;
        self.expect_completion(&id, json!(text)).await;
    }

    /// The next message must be exactly `Completion{invocation_id, result}`.
    pub async fn expect_completion(&mut self, invocation_id: &str, result: Value) {
        let completion = self.next_message().await;
        assert_eq!(
            completion,
            json!({"type": 3, "invocationId": invocation_id, "result": result})
        );
    }

    /// Closes as the official client does: a Close message, then the server
    /// closes the socket. Only stream items (of streams still running) and
    /// Pings may arrive meanwhile.
    pub async fn close(self) {
        self.close_allowing(|_| false).await;
    }

    /// [`HubSocket::close`], where messages for which `expected` holds
    /// (e.g. a group's messages sent by other members before the server read
    /// the Close) may arrive too.
    pub async fn close_allowing(mut self, expected: impl Fn(&Value) -> bool) {
        let close = json!({"type": 7});
        self.send_message(&close).await;
        let closure = loop {
            match self.next_event().await {
                Event::Closed(closure) => break closure,
                Event::Message(message) => assert!(
                    message["type"] == 2 || expected(&message),
                    "only stream items after the client's Close: {message}"
                ),
            }
        };
        assert!(
            matches!(closure, Closure::CloseFrame(_)),
            "the server closes the WebSocket after the client's Close: {closure:?}"
        );
    }
}
