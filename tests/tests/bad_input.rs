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

// ---------------------------------------------------------------------------
// Negotiate
// ---------------------------------------------------------------------------

#[tokio::test]
async fn negotiate_version_1_returns_id_token_and_transports() {
    let (server, healthy) = start().await;
    let target = format!("{PATH}/negotiate?negotiateVersion=1");
    let response = http(server.addr, "POST", &target, &[]).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert!(
        response.header("content-length").is_some(),
        "explicit Content-Length"
    );
    let body = response.json();
    assert_eq!(body["negotiateVersion"], 1);
    let id = body["connectionId"].as_str().expect("connectionId");
    let token = body["connectionToken"].as_str().expect("connectionToken");
    assert_url_safe_id(id);
    assert_url_safe_id(token);
    assert_ne!(id, token, "the token is not the public id");
    assert_eq!(
        body["availableTransports"],
        json!([
            {"transport": "WebSockets", "transferFormats": ["Text", "Binary"]},
            {"transport": "ServerSentEvents", "transferFormats": ["Text"]},
            {"transport": "LongPolling", "transferFormats": ["Text", "Binary"]},
        ])
    );
    assert_eq!(body["useStatefulReconnect"], false);
    assert!(body.get("ProtocolVersion").is_none(), "no legacy marker");

    // Every negotiate creates another connection.
    let again = negotiate(&server, &[]).await;
    assert_ne!(again.connection_id, id);
    assert_ne!(again.token, token);
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn negotiate_without_version_is_version_0_without_token() {
    let (server, healthy) = start().await;
    let response = http(server.addr, "POST", &format!("{PATH}/negotiate"), &[]).await;
    assert_eq!(response.status, 200);
    let body = response.json();
    assert_eq!(body["negotiateVersion"], 0);
    assert!(
        body.get("connectionToken").is_none(),
        "no connectionToken in version 0: {body}"
    );
    let id = body["connectionId"].as_str().expect("connectionId");
    assert_url_safe_id(id);

    // A version 0 client connects with the connection id.
    let mut client = Client::open(&ws_url(&server, &format!("?id={id}"))).await;
    client.handshake().await;
    client.assert_echo("v0").await;
    client.close().await;
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn negotiate_bad_versions() {
    let (server, healthy) = start().await;

    // Not an integer: HTTP 200 with only an error.
    let response = http(
        server.addr,
        "POST",
        &format!("{PATH}/negotiate?negotiateVersion=abc"),
        &[],
    )
    .await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some("application/json"));
    let body = response.json();
    let object = body.as_object().expect("a JSON object");
    assert_eq!(object.len(), 1, "only an error: {body}");
    let error = body["error"].as_str().expect("error string");
    assert!(error.contains("non-integer"), "{error:?}");

    // Below the minimum (0): an error too.
    let response = http(
        server.addr,
        "POST",
        &format!("{PATH}/negotiate?negotiateVersion=-1"),
        &[],
    )
    .await;
    assert_eq!(response.status, 200);
    let body = response.json();
    assert!(body["error"].is_string(), "{body}");
    assert!(body.get("connectionId").is_none(), "{body}");

    // Above the maximum: clamped to 1.
    let response = http(
        server.addr,
        "POST",
        &format!("{PATH}/negotiate?negotiateVersion=7"),
        &[],
    )
    .await;
    assert_eq!(response.status, 200);
    let body = response.json();
    assert_eq!(body["negotiateVersion"], 1, "{body}");
    assert_url_safe_id(body["connectionToken"].as_str().expect("token in v1"));

    // The query parameter's name matches ignoring case, as in ASP.NET.
    let response = http(
        server.addr,
        "POST",
        &format!("{PATH}/negotiate?NegotiateVersion=1"),
        &[],
    )
    .await;
    assert_eq!(response.json()["negotiateVersion"], 1);
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn negotiate_only_accepts_post() {
    let (server, healthy) = start().await;
    for method in ["GET", "PUT", "DELETE"] {
        let target = format!("{PATH}/negotiate?negotiateVersion=1");
        let response = http(server.addr, method, &target, &[]).await;
        assert_eq!(response.status, 405, "{method} /negotiate");
        assert!(
            response
                .header("content-type")
                .is_some_and(|value| value.starts_with("text/plain")),
            "{response:?}"
        );
    }
    assert_healthy_and_stop(server, healthy).await;
}

// ---------------------------------------------------------------------------
// WebSocket connect
// ---------------------------------------------------------------------------

#[tokio::test]
async fn websocket_with_unknown_id_is_404() {
    let (server, healthy) = start().await;
    let (status, body) = ws_refused(&ws_url(&server, "?id=AAAAAAAAAAAAAAAAAAAAAA")).await;
    assert_eq!(status, 404);
    assert_eq!(body, "No Connection with that ID");
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn websocket_with_connection_id_instead_of_token_is_404() {
    let (server, healthy) = start().await;
    let negotiated = negotiate(&server, &[]).await;
    let url = ws_url(&server, &format!("?id={}", negotiated.connection_id));
    assert_eq!(ws_refused(&url).await.0, 404);
    // The token itself still works: the refusal did not consume the connection.
    let mut client = Client::open(&ws_url(&server, &format!("?id={}", negotiated.token))).await;
    client.handshake().await;
    client.assert_echo("token").await;
    client.close().await;
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn second_websocket_for_the_same_token_is_409() {
    let (server, healthy) = start().await;
    let negotiated = negotiate(&server, &[]).await;
    let url = ws_url(&server, &format!("?id={}", negotiated.token));
    let mut first = Client::open(&url).await;
    first.handshake().await;
    let (status, body) = ws_refused(&url).await;
    assert_eq!(status, 409);
    assert_eq!(body, "Connection ID is already in use.");
    // The first socket is unaffected.
    first.assert_echo("first").await;
    first.close().await;
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn websocket_without_id_skips_negotiation() {
    let (server, healthy) = start().await;
    let mut client = Client::open(&ws_url(&server, "")).await;
    client.handshake().await;
    client.assert_echo("skipNegotiation").await;
    // It is a real connection with its own id.
    client.send_text("{\"type\":1,\"invocationId\":\"id\",\"target\":\"GetConnectionId\",\"arguments\":[]}\u{1e}")
        .await;
    let completion = client.next_record().await;
    assert_eq!(completion["invocationId"], "id");
    assert_url_safe_id(completion["result"].as_str().expect("a connection id"));
    client.close().await;
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn token_of_a_closed_connection_is_404() {
    let (server, healthy) = start().await;
    let negotiated = negotiate(&server, &[]).await;
    let url = ws_url(&server, &format!("?id={}", negotiated.token));
    let mut client = Client::open(&url).await;
    client.handshake().await;
    client.assert_echo("before").await;
    client.close().await;
    // The connection's task forgets the token right after its socket closes,
    // which the client cannot observe: until then the server still answers 409
    // (the token is bound). Retry, without sleeping, until the final answer.
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let (status, body) = ws_refused(&url).await;
        match status {
            404 => {
                assert_eq!(body, "No Connection with that ID");
                break;
            }
            409 if Instant::now() < deadline => tokio::task::yield_now().await,
            _ => panic!("reusing a closed connection's token: {status} {body:?}"),
        }
    }
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn websocket_from_another_user_is_403() {
    let (server, healthy) = start().await;
    let negotiated = negotiate(&server, &[("Authorization", "Bearer alice")]).await;
    let token = &negotiated.token;
    // Browsers send the token in the query string.
    let (status, _) = ws_refused(&ws_url(&server, &format!("?id={token}&access_token=bob"))).await;
    assert_eq!(status, 403);
    // Anonymous is another user too.
    let (status, _) = ws_refused(&ws_url(&server, &format!("?id={token}"))).await;
    assert_eq!(status, 403);
    // Neither refusal used up the connection: alice still gets it.
    let mut alice =
        Client::open(&ws_url(&server, &format!("?id={token}&access_token=alice"))).await;
    alice.handshake().await;
    alice
        .send_text(
            "{\"type\":1,\"invocationId\":\"w\",\"target\":\"Whoami\",\"arguments\":[]}\u{1e}",
        )
        .await;
    alice.expect_completion("w", json!("alice")).await;
    alice.close().await;
    assert_healthy_and_stop(server, healthy).await;
}

// ---------------------------------------------------------------------------
// Handshake
// ---------------------------------------------------------------------------

#[tokio::test]
async fn handshake_response_is_exactly_empty_object() {
    let (server, healthy) = start().await;
    let mut client = Client::negotiated(&server).await;
    client.send_text(HANDSHAKE).await;
    match client.next_message().await {
        Some(Ok(Message::Text(text))) => assert_eq!(text.as_bytes(), b"{}\x1e"),
        other => panic!("expected a text frame with {{}}RS, got {other:?}"),
    }
    client.assert_echo("after handshake").await;
    client.close().await;
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn handshake_version_2_and_unknown_keys_are_accepted() {
    let (server, healthy) = start().await;
    let mut client = Client::negotiated(&server).await;
    client
        .send_text("{\"version\":2,\"extra\":[1],\"protocol\":\"JSON\"}\u{1e}")
        .await;
    client.expect_first_message("{}\u{1e}").await;
    client.assert_echo("v2").await;
    client.close().await;
    assert_healthy_and_stop(server, healthy).await;
}

/// Sends `handshake`; expects exactly the error response `error`, then the socket closing.
async fn assert_handshake_refused(server: &TestServer, handshake: &str, error: &str) {
    let mut client = Client::negotiated(server).await;
    client.send_text(handshake).await;
    let expected = format!("{}{RS}", json!({ "error": error }));
    client.expect_first_message(&expected).await;
    let closure = client.expect_closed().await;
    assert!(
        matches!(closure, Closure::CloseFrame(_)),
        "the server closes the WebSocket after a refused handshake: {closure:?}"
    );
}

#[tokio::test]
async fn handshake_with_unknown_protocol_is_refused() {
    let (server, healthy) = start().await;
    assert_handshake_refused(
        &server,
        "{\"protocol\":\"foo\",\"version\":1}\u{1e}",
        "The protocol 'foo' is not supported.",
    )
    .await;
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn handshake_with_unsupported_version_is_refused() {
    let (server, healthy) = start().await;
    assert_handshake_refused(
        &server,
        "{\"protocol\":\"json\",\"version\":3}\u{1e}",
        "The server does not support version 3 of the 'json' protocol.",
    )
    .await;
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn handshake_garbage_is_refused() {
    let (server, healthy) = start().await;
    let error = "An unexpected error occurred during connection handshake.";
    assert_handshake_refused(&server, "this is not JSON\u{1e}", error).await;
    // Valid JSON without the required fields is malformed too.
    assert_handshake_refused(&server, "{\"protocol\":\"json\"}\u{1e}", error).await;
    assert_handshake_refused(&server, "[1,2]\u{1e}", error).await;
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn handshake_as_a_json_array_is_refused() {
    let (server, healthy) = start().await;
    // The handshake is a JSON object; an array holding the right values in
    // the fields' order is not one.
    assert_handshake_refused(
        &server,
        "[\"json\",1]\u{1e}",
        "An unexpected error occurred during connection handshake.",
    )
    .await;
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn handshake_and_ping_in_one_frame_are_both_processed() {
    let (server, healthy) = start().await;
    let mut client = Client::negotiated(&server).await;
    client
        .send_text(&format!("{HANDSHAKE}{{\"type\":6}}{RS}"))
        .await;
    client.expect_first_message("{}\u{1e}").await;
    // The Ping gets no answer: the Echo's Completion is the next record.
    client.assert_echo("after ping").await;
    client.close().await;
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn handshake_and_invocation_in_one_frame_are_both_processed() {
    let (server, healthy) = start().await;
    let mut client = Client::negotiated(&server).await;
    client
        .send_text(&format!(
            "{HANDSHAKE}{{\"type\":1,\"invocationId\":\"0\",\"target\":\"Echo\",\"arguments\":[\"same frame\"]}}{RS}"
        ))
        .await;
    // The handshake response is a message of its own, before the Completion.
    client.expect_first_message("{}\u{1e}").await;
    client.expect_completion("0", json!("same frame")).await;
    client.close().await;
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn handshake_split_across_two_frames() {
    let (server, healthy) = start().await;
    let mut client = Client::negotiated(&server).await;
    client.send_text("{\"protocol\":\"json\",").await;
    client.send_text("\"version\":1}\u{1e}").await;
    client.expect_first_message("{}\u{1e}").await;
    client.assert_echo("split handshake").await;
    client.close().await;
    assert_healthy_and_stop(server, healthy).await;
}

// ---------------------------------------------------------------------------
// Hub messages after the handshake
// ---------------------------------------------------------------------------

#[tokio::test]
async fn record_split_across_two_frames_is_reassembled() {
    let (server, healthy) = start().await;
    let mut client = Client::ready(&server).await;
    client
        .send_text("{\"type\":1,\"invocationId\":\"s\",\"tar")
        .await;
    client
        .send_text("get\":\"Echo\",\"arguments\":[\"split\"]}\u{1e}")
        .await;
    client.expect_completion("s", json!("split")).await;
    // A split right before the separator, too.
    client
        .send_text("{\"type\":1,\"invocationId\":\"t\",\"target\":\"Echo\",\"arguments\":[\"rs\"]}")
        .await;
    client.send_text("\u{1e}").await;
    client.expect_completion("t", json!("rs")).await;
    client.close().await;
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn several_records_in_one_frame_are_answered_in_order() {
    let (server, healthy) = start().await;
    let mut client = Client::ready(&server).await;
    // The JS client's key order (type last), a Ping, and unknown properties among them.
    let frame = [
        "{\"target\":\"Echo\",\"arguments\":[\"a\"],\"invocationId\":\"1\",\"type\":1}",
        "{\"type\":6}",
        "{\"type\":1,\"invocationId\":\"2\",\"target\":\"Add\",\"arguments\":[40,2],\"headers\":{},\"extra\":null}",
        "{\"type\":1,\"invocationId\":\"3\",\"target\":\"Delay\",\"arguments\":[20]}",
        "{\"type\":1,\"invocationId\":\"4\",\"target\":\"Echo\",\"arguments\":[\"d\"]}",
    ]
    .map(|record| format!("{record}{RS}"))
    .concat();
    client.send_text(&frame).await;
    client.expect_completion("1", json!("a")).await;
    client.expect_completion("2", json!(42)).await;
    client.expect_completion("3", json!(20)).await;
    client.expect_completion("4", json!("d")).await;
    client.close().await;
    assert_healthy_and_stop(server, healthy).await;
}

/// Sends `message` on a ready connection; expects an error Close, then the socket closing.
/// Returns the Close's error text.
async fn assert_closed_with_error(server: &TestServer, message: Message) -> String {
    let mut client = Client::ready(server).await;
    client.send(message).await;
    client.expect_close_with_error().await
}

#[tokio::test]
async fn garbage_json_closes_with_error() {
    let (server, healthy) = start().await;
    let error = assert_closed_with_error(&server, Message::text("this is not JSON\u{1e}")).await;
    // Observed: "Connection closed with an error. invalid message: expected
    // ident at line 1 column 2" (ASP.NET adds no detail without detailed errors).
    assert!(error.len() > CLOSED_WITH_ERROR.len(), "{error:?}");
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn unknown_message_type_closes_with_error() {
    let (server, healthy) = start().await;
    let error = assert_closed_with_error(&server, Message::text("{\"type\":99}\u{1e}")).await;
    assert_eq!(
        error,
        "Connection closed with an error. Unknown message type: 99"
    );
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn invocation_without_target_closes_with_error() {
    let (server, healthy) = start().await;
    let error = assert_closed_with_error(
        &server,
        Message::text("{\"type\":1,\"invocationId\":\"1\",\"arguments\":[]}\u{1e}"),
    )
    .await;
    assert_eq!(
        error,
        "Connection closed with an error. Missing required property 'target'."
    );
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn binary_frame_on_a_json_connection_closes_with_error() {
    let (server, healthy) = start().await;
    let invocation =
        "{\"type\":1,\"invocationId\":\"1\",\"target\":\"Echo\",\"arguments\":[\"x\"]}\u{1e}";
    let error =
        assert_closed_with_error(&server, Message::binary(invocation.as_bytes().to_vec())).await;
    assert_eq!(
        error,
        "Connection closed with an error. Received a binary frame on a connection using the json protocol."
    );
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn invalid_utf8_in_a_binary_frame_closes_with_error() {
    let (server, healthy) = start().await;
    // On a JSON connection any binary frame is refused, before its bytes are looked at.
    let error =
        assert_closed_with_error(&server, Message::binary(vec![0xff, 0xfe, b'{', 0x1e])).await;
    assert!(error.contains("binary frame"), "{error:?}");
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn record_over_32_kib_closes_with_the_size_error() {
    let (server, healthy) = start().await;
    let text = "x".repeat(40 * 1024);
    let invocation =
        json!({"type": 1, "invocationId": "big", "target": "Echo", "arguments": [text]});
    let error = assert_closed_with_error(&server, Message::text(format!("{invocation}{RS}"))).await;
    assert!(error.contains(TOO_LARGE), "{error:?}");
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn record_over_32_kib_split_across_frames_closes_with_the_size_error() {
    let (server, healthy) = start().await;
    let mut client = Client::ready(&server).await;
    let chunk = "x".repeat(16 * 1024);
    client
        .send_text(&format!(
            "{{\"type\":1,\"invocationId\":\"big\",\"target\":\"Echo\",\"arguments\":[\"{chunk}"
        ))
        .await;
    client.send_text(&chunk).await;
    // The limit is enforced before the record ends.
    client.send_text(&chunk).await;
    let error = client.expect_close_with_error().await;
    assert!(error.contains(TOO_LARGE), "{error:?}");
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn one_megabyte_message_closes_with_the_size_error() {
    let (server, healthy) = start().await;
    // 1 MB (10^6 bytes) fits in the WebSocket limit (1 MiB): the hub protocol refuses it.
    let text = "x".repeat(1_000_000 - 100);
    let invocation =
        json!({"type": 1, "invocationId": "huge", "target": "Echo", "arguments": [text]});
    let message = format!("{invocation}{RS}");
    assert!(message.len() <= 1_000_000);
    let error = assert_closed_with_error(&server, Message::text(message)).await;
    assert!(error.contains(TOO_LARGE), "{error:?}");
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn non_blocking_invocation_of_an_unknown_method_gets_no_answer() {
    let (server, healthy) = start().await;
    let mut client = Client::ready(&server).await;
    client
        .send_text("{\"type\":1,\"target\":\"NoSuchMethod\",\"arguments\":[1]}\u{1e}")
        .await;
    // Nor a failing or wrongly called one.
    client
        .send_text("{\"type\":1,\"target\":\"Throw\",\"arguments\":[\"boom\"]}\u{1e}")
        .await;
    client
        .send_text("{\"type\":1,\"target\":\"Echo\",\"arguments\":[]}\u{1e}")
        .await;
    // The next message received is this Echo's Completion.
    client.assert_echo("next").await;
    // With an id, the same unknown method gets the documented error.
    client
        .send_text("{\"type\":1,\"invocationId\":\"u\",\"target\":\"NoSuchMethod\",\"arguments\":[1]}\u{1e}")
        .await;
    let completion = client.next_record().await;
    assert_eq!(
        completion,
        json!({"type": 3, "invocationId": "u", "error": "Failed to invoke 'NoSuchMethod' due to an error on the server. HubException: Method does not exist."})
    );
    client.close().await;
    assert_healthy_and_stop(server, healthy).await;
}

// ---------------------------------------------------------------------------
// HTTP verbs on the connection endpoint
// ---------------------------------------------------------------------------

#[tokio::test]
async fn other_verbs_on_the_connection_endpoint() {
    let (server, healthy) = start().await;
    let negotiated = negotiate(&server, &[]).await;

    let response = http(server.addr, "PUT", PATH, &[]).await;
    assert_eq!(response.status, 405, "PUT: {response:?}");

    for method in ["POST", "DELETE"] {
        let target = format!("{PATH}?id=AAAAAAAAAAAAAAAAAAAAAA");
        let response = http(server.addr, method, &target, &[]).await;
        assert_eq!(
            response.status, 404,
            "{method} with an unknown id: {response:?}"
        );

        let response = http(server.addr, method, PATH, &[]).await;
        assert_eq!(response.status, 400, "{method} without id: {response:?}");
        assert_eq!(response.text(), "Connection ID required");

        // The public connection id is not a token.
        let target = format!("{PATH}?id={}", negotiated.connection_id);
        let response = http(server.addr, method, &target, &[]).await;
        assert_eq!(
            response.status, 404,
            "{method} with the connection id: {response:?}"
        );
    }

    // A plain GET without id is a poll that names no connection.
    let response = http(server.addr, "GET", PATH, &[]).await;
    assert_eq!(response.status, 400, "GET without id: {response:?}");

    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn post_on_a_websocket_connection_is_405() {
    let (server, healthy) = start().await;
    let negotiated = negotiate(&server, &[]).await;
    let target = format!("{PATH}?id={}", negotiated.token);
    let mut client = Client::open(&ws_url(&server, &format!("?id={}", negotiated.token))).await;
    client.handshake().await;
    // Sends to a connection bound to a WebSocket: 405 (ASP.NET).
    let response = http(server.addr, "POST", &target, &[]).await;
    assert_eq!(
        response.status, 405,
        "POST on a WebSocket connection: {response:?}"
    );
    client.assert_echo("unaffected").await;
    client.close().await;
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn delete_on_a_websocket_connection_is_400() {
    let (server, healthy) = start().await;
    let negotiated = negotiate(&server, &[]).await;
    let target = format!("{PATH}?id={}", negotiated.token);
    let mut client = Client::open(&ws_url(&server, &format!("?id={}", negotiated.token))).await;
    client.handshake().await;
    // DELETE is for Long Polling connections only: 400 otherwise (ASP.NET;
    // protocol doc section 3 and checklist item 48).
    let response = http(server.addr, "DELETE", &target, &[]).await;
    assert_eq!(
        response.status, 400,
        "DELETE on a WebSocket connection: {response:?}"
    );
    client.assert_echo("unaffected").await;
    client.close().await;
    assert_healthy_and_stop(server, healthy).await;
}

// ---------------------------------------------------------------------------
// WebSocket close frames
// ---------------------------------------------------------------------------

/// The close code of a closure, if the server sent a Close frame with one.
fn close_code(closure: &Closure) -> Option<u16> {
    match closure {
        Closure::CloseFrame(Some(frame)) => Some(frame.code.into()),
        _ => None,
    }
}

#[tokio::test]
async fn server_close_frames_use_status_1000() {
    let (server, healthy) = start().await;
    // The official client reports an error for any close code but 1000
    // (protocol doc section 3.1: "normal server close uses status 1000").

    // After an error Close message.
    let mut client = Client::ready(&server).await;
    client.send_text("{\"type\":99}\u{1e}").await;
    let close = client.next_record().await;
    assert_eq!(close["type"], 7);
    let closure = client.expect_closed().await;
    assert_eq!(close_code(&closure), Some(1000), "{closure:?}");

    // After a refused handshake.
    let mut client = Client::negotiated(&server).await;
    client
        .send_text("{\"protocol\":\"foo\",\"version\":1}\u{1e}")
        .await;
    client.next_record().await;
    let closure = client.expect_closed().await;
    assert_eq!(close_code(&closure), Some(1000), "{closure:?}");

    // After the client's Close message.
    let mut client = Client::ready(&server).await;
    client.send_text("{\"type\":7}\u{1e}").await;
    let closure = client.expect_closed().await;
    assert_eq!(close_code(&closure), Some(1000), "{closure:?}");
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn invalid_utf8_in_a_text_frame_gets_a_close_frame() {
    let (server, healthy) = start().await;
    let mut client = Client::ready(&server).await;
    let frame = Frame::message(
        Bytes::from_static(&[b'"', 0xff, 0xfe, b'"', 0x1e]),
        OpCode::Data(Data::Text),
        true,
    );
    client.send(Message::Frame(frame)).await;
    // The WebSocket layer refuses the frame; the client still hears why, in a
    // Close message, then a close frame with RFC 6455's 1007 ("data within a
    // message that was not consistent with the type of the message").
    let close = client.next_record().await;
    assert_eq!(close["type"], 7);
    let error = close["error"].as_str().unwrap_or_default();
    assert!(
        error.starts_with("Connection closed with an error. Invalid payload: invalid UTF-8"),
        "{close}"
    );
    let closure = client.expect_closed().await;
    assert_eq!(close_code(&closure), Some(1007), "{closure:?}");
    assert_healthy_and_stop(server, healthy).await;
}

#[tokio::test]
async fn message_over_the_websocket_limit_gets_a_close_frame() {
    let (server, healthy) = start().await;
    let mut client = Client::ready(&server).await;
    let text = "x".repeat(1024 * 1024 + 1);
    let _ = timeout(TIMEOUT, client.socket.send(Message::text(text))).await;
    // A Close message naming the limit, then RFC 6455's 1009 ("a message that
    // is too big for it to process").
    let close = client.next_record().await;
    assert_eq!(close["type"], 7);
    let error = close["error"].as_str().unwrap_or_default();
    assert!(error.contains("1048577 > 1048576"), "{close}");
    let closure = client.expect_closed().await;
    assert_eq!(close_code(&closure), Some(1009), "{closure:?}");
    assert_healthy_and_stop(server, healthy).await;
}
