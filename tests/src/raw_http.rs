//! A keep-alive HTTP/1.1 client over one raw socket, for driving the
//! negotiate endpoint, Long Polling and Server-Sent Events by hand (many
//! requests per socket, streamed responses read chunk by chunk).
//!
//! Every read is bounded by [`TIMEOUT`]: a server that stops answering fails
//! the test with a message instead of hanging it.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

use crate::http::RawResponse;

/// Upper bound for any single read or connect.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// A response head: status and headers (names lower case).
#[derive(Debug)]
pub struct Head {
    /// The status code.
    pub status: u16,
    /// Header names (lower case) and values.
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    fn chunked(&self) -> bool {
        self.header("transfer-encoding")
            .is_some_and(|value| value.eq_ignore_ascii_case("chunked"))
    }
}

/// One HTTP/1.1 connection that carries request after request.
#[derive(Debug)]
pub struct HttpConn {
    stream: TcpStream,
    addr: SocketAddr,
    /// Bytes read but not consumed yet.
    buffer: Vec<u8>,
}

impl HttpConn {
    /// Connects to `addr`.
    pub async fn connect(addr: SocketAddr) -> Self {
        let stream = timeout(TIMEOUT, TcpStream::connect(addr))
            .await
            .expect("connect within the timeout")
            .expect("connect");
        let _ = stream.set_nodelay(true);
        Self {
            stream,
            addr,
            buffer: Vec::new(),
        }
    }

    /// The socket, for an upgrade on the same connection (nothing may be left unread).
    pub fn into_stream(self) -> TcpStream {
        assert!(self.buffer.is_empty(), "unread bytes before the upgrade");
        self.stream
    }

    /// Writes a request with `body` (and its `Content-Length`).
    pub async fn send_request(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) {
        let mut head = format!(
            "{method} {target} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n",
            self.addr,
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        let mut request = head.into_bytes();
        request.extend_from_slice(body);
        timeout(TIMEOUT, self.stream.write_all(&request))
            .await
            .expect("write the request within the timeout")
            .expect("write the request");
    }

    /// Sends a request and reads its whole response (the connection stays open).
    pub async fn request(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> RawResponse {
        self.send_request(method, target, headers, body).await;
        let head = self.read_head().await;
        let body = if head.status == 204 || head.status == 304 || head.status == 101 {
            Vec::new()
        } else if head.chunked() {
            let mut body = Vec::new();
            while let Some(chunk) = self.read_chunk().await {
                body.extend_from_slice(&chunk);
            }
            body
        } else if let Some(length) = head.header("content-length") {
            let length: usize = length.parse().expect("numeric Content-Length");
            self.read_exact(length).await
        } else {
            // Neither length nor chunks: the body ends with the connection.
            self.read_to_end().await
        };
        RawResponse {
            status: head.status,
            headers: head.headers,
            body,
        }
    }

    /// Fills the buffer with at least one more byte; `false` at the end of the stream.
    async fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 16 * 1024];
        let read = timeout(TIMEOUT, self.stream.read(&mut chunk))
            .await
            .unwrap_or_else(|_| panic!("nothing received within {TIMEOUT:?}"))
            .unwrap_or(0);
        self.buffer.extend_from_slice(&chunk[..read]);
        read > 0
    }

    async fn read_exact(&mut self, length: usize) -> Vec<u8> {
        while self.buffer.len() < length {
            assert!(self.fill().await, "the connection ended inside a body");
        }
        self.buffer.drain(..length).collect()
    }

    async fn read_to_end(&mut self) -> Vec<u8> {
        while self.fill().await {}
        std::mem::take(&mut self.buffer)
    }

    /// Reads until the server closes the connection; fails the test if
    /// anything else arrives first (e.g. bytes beyond a response's
    /// `Content-Length`).
    pub async fn expect_end(&mut self) {
        let rest = self.read_to_end().await;
        assert!(
            rest.is_empty(),
            "bytes after the response: {:?}",
            String::from_utf8_lossy(&rest)
        );
    }

    async fn read_line(&mut self) -> Vec<u8> {
        loop {
            if let Some(end) = self.buffer.windows(2).position(|w| w == b"\r\n") {
                let line = self.buffer[..end].to_vec();
                self.buffer.drain(..end + 2);
                return line;
            }
            assert!(self.fill().await, "the connection ended inside a line");
        }
    }

    /// Reads a response head.
    pub async fn read_head(&mut self) -> Head {
        let end = loop {
            if let Some(end) = self.buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break end;
            }
            assert!(
                self.fill().await,
                "the connection ended before a response head: {:?}",
                String::from_utf8_lossy(&self.buffer)
            );
        };
        let head = String::from_utf8(self.buffer[..end].to_vec()).expect("ASCII head");
        self.buffer.drain(..end + 4);
        let mut lines = head.split("\r\n");
        let status_line = lines.next().expect("a status line");
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
        let headers = lines
            .map(|line| {
                let (name, value) = line
                    .split_once(':')
                    .unwrap_or_else(|| panic!("bad header line {line:?}"));
                (name.trim().to_ascii_lowercase(), value.trim().to_owned())
            })
            .collect();
        Head { status, headers }
    }

    /// The next chunk of a chunked body; `None` after the last one.
    pub async fn read_chunk(&mut self) -> Option<Vec<u8>> {
        let line = self.read_line().await;
        let size = String::from_utf8(line).expect("ASCII chunk size");
        let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)
            .unwrap_or_else(|_| panic!("bad chunk size {size:?}"));
        if size == 0 {
            // Trailers (none expected), then the empty line.
            while !self.read_line().await.is_empty() {}
            return None;
        }
        let chunk = self.read_exact(size).await;
        let end = self.read_exact(2).await;
        assert_eq!(end, b"\r\n", "chunk ends with CRLF");
        Some(chunk)
    }
}

/// `POST {path}/negotiate?negotiateVersion=1` on `conn`: `(connectionId, connectionToken)`.
pub async fn negotiate(
    conn: &mut HttpConn,
    path: &str,
    headers: &[(&str, &str)],
) -> (String, String) {
    let target = format!("{path}/negotiate?negotiateVersion=1");
    let response = conn.request("POST", &target, headers, b"").await;
    assert_eq!(response.status, 200, "negotiate: {response:?}");
    let body: serde_json::Value =
        serde_json::from_slice(&response.body).expect("negotiate answers JSON");
    let field = |name: &str| {
        body[name]
            .as_str()
            .unwrap_or_else(|| panic!("negotiate response without {name}: {body}"))
            .to_owned()
    };
    (field("connectionId"), field("connectionToken"))
}

/// The server side of a Server-Sent Events response, read event by event.
#[derive(Debug)]
pub struct SseStream {
    conn: HttpConn,
    /// Event data received but not yet split into events.
    pending: String,
}

impl SseStream {
    /// `GET {target}` with `Accept: text/event-stream`; fails unless the
    /// response is `200 text/event-stream`.
    pub async fn open(addr: SocketAddr, target: &str, headers: &[(&str, &str)]) -> Self {
        let mut conn = HttpConn::connect(addr).await;
        let mut all = vec![("Accept", "text/event-stream")];
        all.extend_from_slice(headers);
        conn.send_request("GET", target, &all, b"").await;
        let head = conn.read_head().await;
        assert_eq!(head.status, 200, "SSE response: {head:?}");
        assert_eq!(head.header("content-type"), Some("text/event-stream"));
        assert!(
            head.chunked(),
            "an SSE body is streamed in chunks: {head:?}"
        );
        Self {
            conn,
            pending: String::new(),
        }
    }

    /// The data of the next event (its `data:` lines joined with `\n`);
    /// `None` once the response ends. Comments (`:` lines) are skipped.
    pub async fn next_event(&mut self) -> Option<String> {
        loop {
            if let Some(end) = self.pending.find("\r\n\r\n") {
                let event: String = self.pending.drain(..end + 4).collect();
                let data: Vec<&str> = event
                    .split("\r\n")
                    .filter_map(|line| line.strip_prefix("data: "))
                    .collect();
                if data.is_empty() {
                    continue;
                }
                return Some(data.join("\n"));
            }
            let chunk = self.conn.read_chunk().await?;
            self.pending
                .push_str(std::str::from_utf8(&chunk).expect("UTF-8 events"));
        }
    }
}

/// The current resident set size of this process, in bytes (`VmRSS` in
/// `/proc/self/status`): the server runs in the test's process.
pub fn resident_set_size() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let line = status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .expect("a VmRSS line");
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|value| value.parse().ok())
        .expect("VmRSS in kB");
    kib * 1024
}
