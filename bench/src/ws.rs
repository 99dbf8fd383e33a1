//! A minimal WebSocket client over tokio TCP, made for load generation.
//!
//! Frames are masked with the all-zero key, which the protocol allows (the
//! server unmasks exactly as with any key): masking is then the identity, so a
//! caller can pre-encode a whole frame once and patch a few bytes in place
//! before each write. Server frames are parsed in place from one read buffer.

use std::io;
use std::net::{IpAddr, SocketAddr};

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpSocket, TcpStream};

/// Continuation frame opcode.
pub const OP_CONTINUATION: u8 = 0x0;
/// Text frame opcode.
pub const OP_TEXT: u8 = 0x1;
/// Binary frame opcode.
pub const OP_BINARY: u8 = 0x2;
/// Close frame opcode.
pub const OP_CLOSE: u8 = 0x8;
/// Ping frame opcode.
pub const OP_PING: u8 = 0x9;
/// Pong frame opcode.
pub const OP_PONG: u8 = 0xA;

/// The RFC 6455 sample key and its accept value: any fixed key is valid.
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

fn invalid(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

/// Finds `needle` in `haystack`.
pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    let first = needle[0];
    let last = haystack.len() - needle.len();
    let mut start = 0;
    while start <= last {
        let offset = haystack[start..=last].iter().position(|&b| b == first)?;
        let at = start + offset;
        if &haystack[at..at + needle.len()] == needle {
            return Some(at);
        }
        start = at + 1;
    }
    None
}

/// Opens a TCP connection to `addr`, from `source` (port chosen by the kernel)
/// when given, with `TCP_NODELAY`. Without `source` the kernel picks the port
/// at connect time, which copes best with ports in TIME_WAIT.
pub async fn connect_tcp(addr: SocketAddr, source: Option<IpAddr>) -> io::Result<TcpStream> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    if let Some(source) = source {
        // Without SO_REUSEADDR, bind(port 0) searches the ephemeral range
        // around every port still in TIME_WAIT from earlier runs: slow, and
        // CPU-heavy in the load generator.
        socket.set_reuseaddr(true)?;
        socket.bind(SocketAddr::new(source, 0))?;
    }
    let stream = socket.connect(addr).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Reads an HTTP/1.1 response head from `stream` into `buf`; returns the head
/// (without the blank line) and leaves what follows in `buf`.
pub async fn read_http_head(stream: &mut TcpStream, buf: &mut BytesMut) -> io::Result<String> {
    loop {
        if let Some(end) = find(buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            buf.advance(end + 4);
            return Ok(head);
        }
        if buf.len() > 64 * 1024 {
            return Err(invalid("HTTP response head too large"));
        }
        if stream.read_buf(buf).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
    }
}

/// Performs the WebSocket upgrade for `path` (with query) on `stream`.
/// `read_capacity` is the initial size of the read buffer.
pub async fn upgrade(
    mut stream: TcpStream,
    host: &str,
    path: &str,
    read_capacity: usize,
) -> io::Result<(WsReader, WsWriter)> {
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut buf = BytesMut::with_capacity(read_capacity.max(256));
    let head = read_http_head(&mut stream, &mut buf).await?;
    let status = head.lines().next().unwrap_or_default();
    if !status.starts_with("HTTP/1.1 101") {
        return Err(invalid(format!("upgrade refused: {status}")));
    }
    if !head.contains(ACCEPT) {
        return Err(invalid("upgrade: wrong Sec-WebSocket-Accept"));
    }
    let (read, write) = stream.into_split();
    Ok((
        WsReader {
            stream: read,
            buf,
            consumed: 0,
            fragments: Vec::new(),
            fragment_opcode: 0,
        },
        WsWriter {
            stream: write,
            scratch: Vec::new(),
        },
    ))
}

/// Appends a client frame (FIN set, masked with the zero key) to `out`;
/// returns where the payload starts in `out`.
pub fn encode_frame(opcode: u8, payload: &[u8], out: &mut Vec<u8>) -> usize {
    out.push(0x80 | opcode);
    let len = payload.len();
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if len <= usize::from(u16::MAX) {
        out.push(0x80 | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(&[0, 0, 0, 0]);
    let start = out.len();
    out.extend_from_slice(payload);
    start
}

/// One received message (a whole, possibly reassembled, data or control frame).
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// The opcode ([`OP_TEXT`], [`OP_BINARY`], [`OP_PING`], ...).
    pub opcode: u8,
    /// The unmasked payload.
    pub payload: &'a [u8],
}

/// Parses a server frame header: (fin, opcode, header length, payload length).
fn parse_header(buf: &[u8]) -> io::Result<Option<(bool, u8, usize, usize)>> {
    if buf.len() < 2 {
        return Ok(None);
    }
    let fin = buf[0] & 0x80 != 0;
    let opcode = buf[0] & 0x0F;
    if buf[1] & 0x80 != 0 {
        return Err(invalid("masked frame from the server"));
    }
    let (len, header) = match buf[1] & 0x7F {
        126 => {
            if buf.len() < 4 {
                return Ok(None);
            }
            (usize::from(u16::from_be_bytes([buf[2], buf[3]])), 4)
        }
        127 => {
            if buf.len() < 10 {
                return Ok(None);
            }
            let mut bytes = [0; 8];
            bytes.copy_from_slice(&buf[2..10]);
            let len = u64::from_be_bytes(bytes);
            (
                usize::try_from(len).map_err(|_| invalid("frame too large"))?,
                10,
            )
        }
        len => (usize::from(len), 2),
    };
    Ok(Some((fin, opcode, header, len)))
}

/// The reading half of a client WebSocket.
#[derive(Debug)]
pub struct WsReader {
    stream: OwnedReadHalf,
    buf: BytesMut,
    /// Bytes of `buf` handed out by the last `recv`, dropped by the next one.
    consumed: usize,
    fragments: Vec<u8>,
    fragment_opcode: u8,
}

impl WsReader {
    /// The next message; `None` when the server closed (Close frame or EOF).
    /// The payload borrows the reader until the next call. Cancel-safe.
    pub async fn recv(&mut self) -> io::Result<Option<Frame<'_>>> {
        self.buf.advance(self.consumed);
        self.consumed = 0;
        if self.fragment_opcode == 0 {
            self.fragments.clear();
        }
        loop {
            if let Some((fin, opcode, header, len)) = parse_header(&self.buf)? {
                let total = header + len;
                if self.buf.len() >= total {
                    if opcode == OP_CLOSE {
                        return Ok(None);
                    }
                    // Whole messages (and control frames) are handed out in place.
                    if (fin && opcode != OP_CONTINUATION) || opcode > OP_CLOSE {
                        self.consumed = total;
                        return Ok(Some(Frame {
                            opcode,
                            payload: &self.buf[header..total],
                        }));
                    }
                    // A fragmented message (rare): reassemble it.
                    if opcode != OP_CONTINUATION {
                        self.fragment_opcode = opcode;
                        self.fragments.clear();
                    }
                    self.fragments.extend_from_slice(&self.buf[header..total]);
                    self.buf.advance(total);
                    if fin {
                        let opcode = std::mem::take(&mut self.fragment_opcode);
                        return Ok(Some(Frame {
                            opcode,
                            payload: &self.fragments,
                        }));
                    }
                    continue;
                }
                self.buf.reserve(total - self.buf.len());
            }
            if self.stream.read_buf(&mut self.buf).await? == 0 {
                return Ok(None);
            }
        }
    }
}

/// The writing half of a client WebSocket.
#[derive(Debug)]
pub struct WsWriter {
    stream: OwnedWriteHalf,
    scratch: Vec<u8>,
}

impl WsWriter {
    /// Writes bytes that already form whole frames (see [`encode_frame`]).
    pub async fn send_raw(&mut self, frames: &[u8]) -> io::Result<()> {
        self.stream.write_all(frames).await
    }

    /// Frames `payload` and writes it.
    pub async fn send(&mut self, opcode: u8, payload: &[u8]) -> io::Result<()> {
        self.scratch.clear();
        encode_frame(opcode, payload, &mut self.scratch);
        self.stream.write_all(&self.scratch).await
    }

    /// Sends a Close frame (1000) and shuts the write side down.
    pub async fn close(&mut self) -> io::Result<()> {
        self.send(OP_CLOSE, &1000u16.to_be_bytes()).await?;
        self.stream.shutdown().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_needles() {
        assert_eq!(find(b"abcabd", b"abd"), Some(3));
        assert_eq!(find(b"abc", b"abcd"), None);
        assert_eq!(find(b"aaa", b"a"), Some(0));
        assert_eq!(find(b"xyz", b"z"), Some(2));
    }

    #[test]
    fn frames_round_trip_through_the_header_parser() {
        for len in [0usize, 125, 126, 65_535, 65_536] {
            let payload = vec![7u8; len];
            let mut out = Vec::new();
            let start = encode_frame(OP_BINARY, &payload, &mut out);
            assert_eq!(out.len() - start, len);
            // Our frames are masked; the parser reads server (unmasked) frames.
            out[1] &= 0x7F;
            let (fin, opcode, header, parsed) = parse_header(&out).unwrap().unwrap();
            assert!(fin);
            assert_eq!(opcode, OP_BINARY);
            assert_eq!(parsed, len);
            assert_eq!(header + 4, start);
        }
    }
}
