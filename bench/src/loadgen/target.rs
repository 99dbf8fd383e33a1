//! Where a connection goes and how it opens: URL resolution, source
//! addresses, the optional `/negotiate` request, the WebSocket upgrade and
//! the SignalR handshake (or Socket.IO's open and namespace connect).

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::protocol::RS;
use crate::socketio::{self, Packet};
use crate::wire::Wire;
use crate::ws::{self, OP_BINARY, OP_TEXT, WsReader, WsWriter};

/// Where and how to connect.
#[derive(Debug)]
pub(crate) struct Target {
    pub(crate) addr: SocketAddr,
    pub(crate) host: String,
    pub(crate) path: String,
    pub(crate) wire: Wire,
    pub(crate) negotiate: bool,
    pub(crate) sources: Vec<IpAddr>,
    /// How long opening one connection may take.
    pub(crate) connect_timeout: Duration,
}

/// Resolves one `ws://HOST:PORT/PATH` URL; `connections` is how many
/// connections will open to it, to choose how many source addresses to use.
pub(crate) fn parse_target(
    url: &str,
    wire: Wire,
    negotiate: bool,
    sources: Option<u8>,
    connections: usize,
    connect_timeout: Duration,
) -> Result<Target, String> {
    let rest = url
        .strip_prefix("ws://")
        .ok_or("--url must start with ws://")?;
    let (host, path) = match rest.find('/') {
        Some(slash) => (&rest[..slash], &rest[slash..]),
        None => (rest, "/"),
    };
    let addr = host
        .to_socket_addrs()
        .map_err(|error| format!("--url: cannot resolve `{host}`: {error}"))?
        .next()
        .ok_or_else(|| format!("--url: `{host}` has no address"))?;
    // Each source address gives ~28k ephemeral ports (net.ipv4.ip_local_port_range).
    let sources = match addr {
        SocketAddr::V4(v4) if v4.ip().is_loopback() => {
            let count = sources
                .unwrap_or((1 + connections / 20_000).min(254) as u8)
                .max(1);
            (1..=count)
                .map(|last| IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)))
                .collect()
        }
        _ => Vec::new(),
    };
    Ok(Target {
        addr,
        host: host.to_owned(),
        path: path.to_owned(),
        wire,
        negotiate,
        sources,
        connect_timeout,
    })
}

fn invalid(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

impl Target {
    fn source(&self, index: usize) -> Option<IpAddr> {
        // One source: let connect() choose the port (no bind needed).
        (self.sources.len() > 1).then(|| self.sources[index % self.sources.len()])
    }

    /// `POST {path}/negotiate?negotiateVersion=1`; returns the connection token.
    async fn negotiate(&self, source: Option<IpAddr>) -> io::Result<String> {
        let (base, query) = match self.path.split_once('?') {
            Some((base, query)) => (base, format!("&{query}")),
            None => (self.path.as_str(), String::new()),
        };
        let mut stream = ws::connect_tcp(self.addr, source).await?;
        let request = format!(
            "POST {}/negotiate?negotiateVersion=1{query} HTTP/1.1\r\nHost: {}\r\n\
             Content-Length: 0\r\nConnection: close\r\n\r\n",
            base.trim_end_matches('/'),
            self.host
        );
        stream.write_all(request.as_bytes()).await?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await?;
        let head_end =
            ws::find(&response, b"\r\n\r\n").ok_or_else(|| invalid("negotiate: no head"))?;
        if !response.starts_with(b"HTTP/1.1 200") {
            let status = String::from_utf8_lossy(&response[..head_end]);
            return Err(invalid(format!(
                "negotiate: {}",
                status.lines().next().unwrap_or("")
            )));
        }
        // The body is one small JSON object (possibly chunked: take the braces).
        let body = &response[head_end + 4..];
        let open = body.iter().position(|&b| b == b'{');
        let close = body.iter().rposition(|&b| b == b'}');
        let (Some(open), Some(close)) = (open, close) else {
            return Err(invalid("negotiate: no JSON body"));
        };
        let json: serde_json::Value = serde_json::from_slice(&body[open..=close])
            .map_err(|error| invalid(format!("negotiate: {error}")))?;
        json.get("connectionToken")
            .or_else(|| json.get("connectionId"))
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| invalid(format!("negotiate: no token in {json}")))
    }

    /// Connects (optionally negotiating), upgrades and completes the SignalR
    /// handshake, within the connect timeout.
    pub(crate) async fn open(
        &self,
        index: usize,
        read_capacity: usize,
    ) -> io::Result<(WsReader, WsWriter)> {
        let limit = self.connect_timeout;
        match tokio::time::timeout(limit, self.open_now(index, read_capacity)).await {
            Ok(result) => result,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("not open after {limit:?}"),
            )),
        }
    }

    async fn open_now(
        &self,
        index: usize,
        read_capacity: usize,
    ) -> io::Result<(WsReader, WsWriter)> {
        let source = self.source(index);
        let mut path = self.path.clone();
        if self.negotiate {
            let token = self.negotiate(source).await?;
            path.push(if path.contains('?') { '&' } else { '?' });
            path.push_str("id=");
            path.push_str(&token);
        }
        let stream = ws::connect_tcp(self.addr, source).await?;
        let (mut reader, mut writer) =
            ws::upgrade(stream, &self.host, &path, read_capacity).await?;
        let protocol = match self.wire {
            Wire::SignalR(protocol) => protocol,
            Wire::SocketIo => {
                socketio_connect(&mut reader, &mut writer).await?;
                return Ok((reader, writer));
            }
        };
        writer.send(OP_TEXT, &protocol.handshake_request()).await?;
        loop {
            let Some(frame) = reader.recv().await? else {
                return Err(invalid("closed during the handshake"));
            };
            if frame.opcode != OP_TEXT && frame.opcode != OP_BINARY {
                continue;
            }
            let end = frame
                .payload
                .iter()
                .position(|&b| b == RS)
                .ok_or_else(|| invalid("handshake response without separator"))?;
            if &frame.payload[..end] != b"{}" {
                return Err(invalid(format!(
                    "handshake refused: {}",
                    String::from_utf8_lossy(&frame.payload[..end])
                )));
            }
            break;
        }
        Ok((reader, writer))
    }
}

/// Socket.IO's opening: waits for Engine.IO's open packet, connects to the
/// default namespace and waits for its confirmation, answering pings.
async fn socketio_connect(reader: &mut WsReader, writer: &mut WsWriter) -> io::Result<()> {
    let mut opened = false;
    loop {
        let Some(frame) = reader.recv().await? else {
            return Err(invalid("closed during the Socket.IO connect"));
        };
        if frame.opcode != OP_TEXT {
            continue;
        }
        match socketio::parse(frame.payload) {
            Packet::Open(_) if !opened => {
                opened = true;
                writer.send(OP_TEXT, socketio::CONNECT).await?;
            }
            Packet::Connect(_) if opened => return Ok(()),
            Packet::Ping => writer.send_raw(socketio::PONG_FRAME).await?,
            other => {
                return Err(invalid(format!(
                    "Socket.IO connect: unexpected {other:?} ({:?})",
                    String::from_utf8_lossy(frame.payload)
                )));
            }
        }
    }
}
