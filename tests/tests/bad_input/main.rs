//! Bad input at the socket level, against the test hub: raw HTTP requests for
//! negotiate and the connection endpoint, and a raw WebSocket client for the
//! handshake and hub messages.
//!
//! Every test asserts the documented answer to the bad input, then that the
//! server is unharmed: a connection opened before the bad input (negotiate +
//! WebSocket + handshake) still gets correct `Echo` replies, and a new one can
//! still be opened and used.
//!
//! Every read is bounded by [`TIMEOUT`]; nothing sleeps to synchronise.
//!
//! This file holds the raw HTTP and WebSocket clients; the tests are grouped
//! by what they send, one module each.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tests::TestServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::{self, Bytes, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

mod close_frames;
mod handshake;
mod http_verbs;
mod hub_messages;
mod negotiate;
mod websocket_connect;

/// Upper bound for any single read; a server bug fails the test instead of hanging it.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The record separator ending every JSON record.
const RS: char = '\u{1e}';
/// The hub's path.
const PATH: &str = samples::testhub::PATH;
/// The JSON handshake of the official clients.
const HANDSHAKE: &str = "{\"protocol\":\"json\",\"version\":1}\u{1e}";
/// How every error Close message starts (ASP.NET's text).
const CLOSED_WITH_ERROR: &str = "Connection closed with an error.";
/// The text of the 32 KiB message size limit.
const TOO_LARGE: &str = "The maximum message size of 32768B was exceeded.";

// ---------------------------------------------------------------------------
// Raw HTTP/1.1
// ---------------------------------------------------------------------------

/// A response read off a raw socket.
#[derive(Debug)]
struct HttpResponse {
    status: u16,
    /// Header names lower-cased.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl HttpResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("UTF-8 body")
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|error| panic!("JSON body ({error}): {:?}", self.text()))
    }
}

/// Sends one request with `Connection: close` and an empty body, reads the whole response.
async fn http(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
) -> HttpResponse {
    let mut request = format!(
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: 0\r\n"
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    let mut stream = timeout(TIMEOUT, TcpStream::connect(addr))
        .await
        .expect("connect within the timeout")
        .expect("connect");
    stream
        .write_all(request.as_bytes())
        .await
        .expect("write the request");
    let mut raw = Vec::new();
    timeout(TIMEOUT, stream.read_to_end(&mut raw))
        .await
        .expect("the whole response within the timeout")
        .expect("read the response");
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> HttpResponse {
    let end = raw
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no end of head in {:?}", String::from_utf8_lossy(raw)));
    let head = std::str::from_utf8(&raw[..end]).expect("ASCII head");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("status line");
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers: Vec<(String, String)> = lines
        .map(|line| {
            let (name, value) = line.split_once(':').expect("header line");
            (name.trim().to_ascii_lowercase(), value.trim().to_owned())
        })
        .collect();
    let rest = &raw[end + 4..];
    let response = HttpResponse {
        status,
        headers,
        body: Vec::new(),
    };
    let body = if response
        .header("transfer-encoding")
        .is_some_and(|value| value.eq_ignore_ascii_case("chunked"))
    {
        dechunk(rest)
    } else if let Some(length) = response.header("content-length") {
        let length: usize = length.parse().expect("numeric Content-Length");
        assert_eq!(rest.len(), length, "body length matches Content-Length");
        rest.to_vec()
    } else {
        rest.to_vec()
    };
    HttpResponse { body, ..response }
}

fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let line_end = rest
            .windows(2)
            .position(|window| window == b"\r\n")
            .expect("chunk size line");
        let size = std::str::from_utf8(&rest[..line_end]).expect("ASCII chunk size");
        let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)
            .expect("hex chunk size");
        rest = &rest[line_end + 2..];
        if size == 0 {
            return body;
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

/// A successful version 1 negotiate.
#[derive(Debug)]
struct Negotiated {
    connection_id: String,
    token: String,
}

/// `POST {hub}/negotiate?negotiateVersion=1` with `headers`; fails unless it succeeds.
async fn negotiate(server: &TestServer, headers: &[(&str, &str)]) -> Negotiated {
    let target = format!("{PATH}/negotiate?negotiateVersion=1");
    let response = http(server.addr, "POST", &target, headers).await;
    assert_eq!(response.status, 200, "negotiate: {response:?}");
    let body = response.json();
    let field = |name: &str| {
        body[name]
            .as_str()
            .unwrap_or_else(|| panic!("negotiate response without {name}: {body}"))
            .to_owned()
    };
    Negotiated {
        connection_id: field("connectionId"),
        token: field("connectionToken"),
    }
}

/// ASP.NET's ids: 16 random bytes in base64url without padding.
fn assert_url_safe_id(id: &str) {
    assert_eq!(id.len(), 22, "22 characters: {id:?}");
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "URL-safe characters only: {id:?}"
    );
}

// ---------------------------------------------------------------------------
// WebSocket client
// ---------------------------------------------------------------------------

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// `ws://127.0.0.1:PORT/hubs/test` plus `query` (which starts with `?`, or is empty).
fn ws_url(server: &TestServer, query: &str) -> String {
    format!("ws://{}{PATH}{query}", server.addr)
}

/// Opens a WebSocket; `Err((status, body))` when the server refuses the upgrade.
async fn try_ws(url: &str) -> Result<Socket, (u16, String)> {
    match timeout(TIMEOUT, connect_async(url))
        .await
        .expect("upgrade answered within the timeout")
    {
        Ok((socket, response)) => {
            assert_eq!(response.status(), 101);
            assert!(
                response.headers().get("sec-websocket-protocol").is_none(),
                "no subprotocol is selected"
            );
            Ok(socket)
        }
        Err(tungstenite::Error::Http(response)) => {
            let body = response
                .body()
                .as_deref()
                .map(|body| String::from_utf8_lossy(body).into_owned())
                .unwrap_or_default();
            Err((response.status().as_u16(), body))
        }
        Err(error) => panic!("WebSocket connect to {url} failed: {error}"),
    }
}

/// The status of a refused upgrade; fails if the upgrade succeeds.
async fn ws_refused(url: &str) -> (u16, String) {
    match try_ws(url).await {
        Ok(_) => panic!("upgrade to {url} unexpectedly accepted"),
        Err(refusal) => refusal,
    }
}

/// How a socket ended.
#[derive(Debug)]
enum Closure {
    /// The peer sent a Close frame (then the close handshake completed or the socket ended).
    CloseFrame(Option<CloseFrame>),
    /// The stream ended without a Close frame.
    Ended,
    /// The stream failed (e.g. reset without a closing handshake); the error is
    /// only shown in failure messages.
    Failed(#[allow(dead_code)] String),
}

/// What the server sent next.
#[derive(Debug)]
enum Event {
    /// One JSON record, without its separator.
    Record(String),
    /// The socket is closed.
    Closed(Closure),
}

/// A WebSocket client speaking the JSON hub protocol.
struct Client {
    socket: Socket,
    /// Records received but not yet consumed.
    records: VecDeque<String>,
    next_invocation_id: u32,
}

impl Client {
    /// Opens a WebSocket to `url`, without any handshake.
    async fn open(url: &str) -> Self {
        let socket = try_ws(url)
            .await
            .unwrap_or_else(|(status, body)| panic!("upgrade refused: {status} {body:?}"));
        Self {
            socket,
            records: VecDeque::new(),
            next_invocation_id: 0,
        }
    }

    /// Negotiates, then opens the WebSocket with the connection token.
    async fn negotiated(server: &TestServer) -> Self {
        let negotiated = negotiate(server, &[]).await;
        Self::open(&ws_url(server, &format!("?id={}", negotiated.token))).await
    }

    /// Negotiate, WebSocket, handshake, and a first `Echo`: a working connection.
    async fn ready(server: &TestServer) -> Self {
        let mut client = Self::negotiated(server).await;
        client.handshake().await;
        client.assert_echo("ready").await;
        client
    }

    async fn send(&mut self, message: Message) {
        timeout(TIMEOUT, self.socket.send(message))
            .await
            .expect("send within the timeout")
            .expect("send");
    }

    async fn send_text(&mut self, text: &str) {
        self.send(Message::text(text)).await;
    }

    /// The next WebSocket message, whatever it is (for byte-exact checks).
    async fn next_message(&mut self) -> Option<Result<Message, tungstenite::Error>> {
        assert!(self.records.is_empty(), "records left unread");
        timeout(TIMEOUT, self.socket.next())
            .await
            .expect("a message within the timeout")
    }

    /// Sends the JSON handshake; the first server message must be exactly `{}`RS, in a text frame.
    async fn handshake(&mut self) {
        self.send_text(HANDSHAKE).await;
        self.expect_first_message("{}\u{1e}").await;
    }

    /// The first server message must be the text frame `expected`, byte for byte.
    async fn expect_first_message(&mut self, expected: &str) {
        match self.next_message().await {
            Some(Ok(Message::Text(text))) => assert_eq!(text.as_str(), expected),
            other => panic!("expected the text frame {expected:?}, got {other:?}"),
        }
    }

    /// The next record or the closure, skipping keep-alive Pings (`{"type":6}`).
    async fn next_event(&mut self) -> Event {
        loop {
            if let Some(record) = self.records.pop_front() {
                if serde_json::from_str::<Value>(&record)
                    .is_ok_and(|value| value == json!({"type": 6}))
                {
                    continue;
                }
                return Event::Record(record);
            }
            let message = match timeout(TIMEOUT, self.socket.next()).await {
                Ok(message) => message,
                Err(_) => panic!("nothing received within {TIMEOUT:?}"),
            };
            match message {
                Some(Ok(Message::Text(text))) => {
                    let text = text.as_str();
                    // The client never reassembles records across messages.
                    assert!(
                        text.ends_with(RS),
                        "server message with an incomplete record: {text:?}"
                    );
                    self.records
                        .extend(text[..text.len() - 1].split(RS).map(str::to_owned));
                }
                Some(Ok(Message::Binary(data))) => {
                    panic!("binary frame on a JSON connection: {data:?}")
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

    /// The next record, parsed; fails if the socket closes first.
    async fn next_record(&mut self) -> Value {
        match self.next_event().await {
            Event::Record(record) => serde_json::from_str(&record)
                .unwrap_or_else(|error| panic!("server sent invalid JSON ({error}): {record:?}")),
            Event::Closed(closure) => panic!("socket closed ({closure:?}) instead of a record"),
        }
    }

    /// Fails unless the socket closes before any further record.
    async fn expect_closed(&mut self) -> Closure {
        match self.next_event().await {
            Event::Closed(closure) => closure,
            Event::Record(record) => panic!("record {record:?} instead of the socket closing"),
        }
    }

    /// The next record must be an error Close (`{"type":7,"error":"Connection closed
    /// with an error. ..."}`), then the socket must close; returns the error text.
    async fn expect_close_with_error(&mut self) -> String {
        let close = self.next_record().await;
        assert_eq!(close["type"], 7, "a Close message: {close}");
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
        let closure = self.expect_closed().await;
        assert!(
            matches!(closure, Closure::CloseFrame(_)),
            "after the Close message the server closes the WebSocket: {closure:?}"
        );
        error
    }

    /// Invokes `Echo(text)` and expects its Completion as the next message.
    async fn assert_echo(&mut self, text: &str) {
        self.next_invocation_id += 1;
        let id = format!("echo-{}", self.next_invocation_id);
        let invocation =
            json!({"type": 1, "invocationId": id, "target": "Echo", "arguments": [text]});
        self.send_text(&format!("{invocation}{RS}")).await;
        self.expect_completion(&id, json!(text)).await;
    }

    /// The next record must be `Completion{invocation_id, result}`.
    async fn expect_completion(&mut self, invocation_id: &str, result: Value) {
        let completion = self.next_record().await;
        assert_eq!(
            completion,
            json!({"type": 3, "invocationId": invocation_id, "result": result})
        );
    }

    /// Closes as the official client does: `{"type":7}`, then the server closes the socket.
    async fn close(mut self) {
        self.send_text("{\"type\":7}\u{1e}").await;
        self.expect_closed().await;
    }
}

/// The server is unharmed: `healthy` (opened before the bad input) still echoes,
/// and a new connection can be negotiated, opened and used. Closes both, stops the server.
async fn assert_healthy_and_stop(server: TestServer, mut healthy: Client) {
    healthy.assert_echo("still healthy").await;
    healthy.assert_echo("twice").await;
    let mut fresh = Client::ready(&server).await;
    fresh.assert_echo("fresh").await;
    fresh.close().await;
    healthy.close().await;
    server.stop().await;
}

/// A test hub and a working connection to it.
async fn start() -> (TestServer, Client) {
    let server = TestServer::testhub().await;
    let healthy = Client::ready(&server).await;
    (server, healthy)
}
