//! `baseline`: a bare tokio-tungstenite server doing the benchmark's socket
//! work with no SignalR logic — the ceiling for the same traffic.
//!
//! * The first message of a connection is taken as the handshake: answered
//!   with `{}` + 0x1E (binary frame if it names `messagepack`).
//! * `Echo(x)`: answered with a pre-shaped Completion carrying `x`; the id and
//!   the argument are found by byte search (JSON) or by reading the few fixed
//!   positions of the MessagePack array.
//! * `SendToAll(x)`: one `Receive(x)` Invocation frame, built once, is queued
//!   to every connection (bounded queues of 1024, like the real server's), then
//!   the caller's void Completion is queued behind its own copy.
//! * Anything else (Pings included) is ignored; no keep-alive is sent.
//!
//! ```text
//! baseline [--addr HOST:PORT]   # prints `listening on http://HOST:PORT`
//! ```

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bench::args::Args;
use bench::protocol::{read_varint, write_varint};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

/// Outbound queue per connection, as the real server's default.
const QUEUE: usize = 1024;

/// Every connection's outbound queue, for SendToAll.
#[derive(Debug, Default)]
struct Registry {
    next_id: AtomicU64,
    connections: Mutex<HashMap<u64, mpsc::Sender<Message>>>,
    /// Messages dropped on full queues (reported once per 1000).
    dropped: AtomicU64,
}

impl Registry {
    fn add(&self, sender: mpsc::Sender<Message>) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(id, sender);
        id
    }

    fn remove(&self, id: u64) {
        self.lock().remove(&id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, mpsc::Sender<Message>>> {
        self.connections
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn broadcast(&self, message: &Message) {
        for sender in self.lock().values() {
            if sender.try_send(message.clone()).is_err() {
                let dropped = self.dropped.fetch_add(1, Ordering::Relaxed);
                if dropped.is_multiple_of(1000) {
                    eprintln!("baseline: full queue, {} messages dropped", dropped + 1);
                }
            }
        }
    }
}

/// What one incoming record asks for.
enum Reply {
    /// Write this to the caller now.
    Direct(Message),
    /// Broadcast the first, then queue the second (the caller's Completion).
    Broadcast(Message, Message),
}

fn find(haystack: &str, needle: &str) -> Option<usize> {
    haystack.find(needle)
}

/// The string value after `key` (which ends with the opening quote).
fn json_string<'a>(record: &'a str, key: &str) -> Option<&'a str> {
    let start = find(record, key)? + key.len();
    let len = record[start..].find('"')?;
    Some(&record[start..start + len])
}

fn json_record(record: &str) -> Option<Reply> {
    let target = json_string(record, "\"target\":\"")?;
    let id = json_string(record, "\"invocationId\":\"");
    let arg = json_string(record, "\"arguments\":[\"")?;
    match target {
        "Echo" => {
            let id = id?;
            let mut reply = String::with_capacity(48 + id.len() + arg.len());
            reply.push_str("{\"type\":3,\"invocationId\":\"");
            reply.push_str(id);
            reply.push_str("\",\"result\":\"");
            reply.push_str(arg);
            reply.push_str("\"}\x1e");
            Some(Reply::Direct(Message::Text(reply.into())))
        }
        "SendToAll" => {
            let mut receive = String::with_capacity(48 + arg.len());
            receive.push_str("{\"type\":1,\"target\":\"Receive\",\"arguments\":[\"");
            receive.push_str(arg);
            receive.push_str("\"]}\x1e");
            let done = match id {
                Some(id) => format!("{{\"type\":3,\"invocationId\":\"{id}\",\"result\":null}}\x1e"),
                None => String::new(),
            };
            Some(Reply::Broadcast(
                Message::Text(receive.into()),
                Message::Text(done.into()),
            ))
        }
        _ => None,
    }
}

fn str_at<'a>(rest: &mut &'a [u8]) -> Option<&'a str> {
    let (value, tail) = rmp::decode::read_str_from_slice(*rest).ok()?;
    *rest = tail;
    Some(value)
}

/// A MessagePack frame: varint length + body.
fn framed(body: &[u8]) -> Bytes {
    let mut frame = Vec::with_capacity(body.len() + 5);
    write_varint(body.len(), &mut frame);
    frame.extend_from_slice(body);
    Bytes::from(frame)
}

/// `[1, {}, id, target, [arg, ...], ...]`: answers Echo and SendToAll.
fn msgpack_record(record: &[u8]) -> Option<Reply> {
    // Fixed shape: fixarray, 1, empty map, then id, target, args.
    let mut rest = record.get(3..)?;
    if record[1] != 0x01 || record[2] != 0x80 {
        return None;
    }
    let id = if rest.first() == Some(&0xC0) {
        rest = &rest[1..];
        None
    } else {
        Some(str_at(&mut rest)?)
    };
    let target = str_at(&mut rest)?;
    rmp::decode::read_array_len(&mut rest).ok()?;
    let arg = str_at(&mut rest)?;
    let mut body = Vec::with_capacity(16 + arg.len());
    match target {
        "Echo" => {
            // [3, {}, id, 3, arg]
            body.extend_from_slice(&[0x95, 0x03, 0x80]);
            rmp::encode::write_str(&mut body, id?).ok()?;
            body.push(0x03);
            rmp::encode::write_str(&mut body, arg).ok()?;
            Some(Reply::Direct(Message::Binary(framed(&body))))
        }
        "SendToAll" => {
            // [1, {}, nil, "Receive", [arg], []]
            body.extend_from_slice(&[0x96, 0x01, 0x80, 0xC0, 0xA7]);
            body.extend_from_slice(b"Receive");
            body.push(0x91);
            rmp::encode::write_str(&mut body, arg).ok()?;
            body.push(0x90);
            let receive = Message::Binary(framed(&body));
            // [3, {}, id, 3, nil]
            let mut done = Vec::new();
            if let Some(id) = id {
                done.extend_from_slice(&[0x95, 0x03, 0x80]);
                rmp::encode::write_str(&mut done, id).ok()?;
                done.extend_from_slice(&[0x03, 0xC0]);
            }
            Some(Reply::Broadcast(receive, Message::Binary(framed(&done))))
        }
        _ => None,
    }
}

/// Splits one payload into records and collects the replies.
fn handle(payload: &Message, replies: &mut Vec<Reply>) {
    match payload {
        Message::Text(text) => {
            for record in text.as_str().split_terminator('\x1e') {
                // Pings (`{"type":6}`) and everything without a target: ignored.
                if let Some(reply) = json_record(record) {
                    replies.push(reply);
                }
            }
        }
        Message::Binary(data) => {
            let mut rest = &data[..];
            while let Some((len, prefix)) = read_varint(rest) {
                let Some(record) = rest.get(prefix..prefix + len) else {
                    break;
                };
                if let Some(reply) = msgpack_record(record) {
                    replies.push(reply);
                }
                rest = &rest[prefix + len..];
            }
        }
        _ => {}
    }
}

async fn serve(stream: TcpStream, registry: Arc<Registry>) {
    let _ = stream.set_nodelay(true);
    let config = WebSocketConfig::default()
        .read_buffer_size(2 * 1024)
        .write_buffer_size(8 * 1024)
        .max_message_size(Some(1 << 20))
        .max_frame_size(Some(1 << 20));
    let Ok(mut socket) = tokio_tungstenite::accept_async_with_config(stream, Some(config)).await
    else {
        return;
    };
    let binary = loop {
        match socket.next().await {
            Some(Ok(Message::Text(text))) => break text.as_str().contains("messagepack"),
            Some(Ok(Message::Binary(data))) => {
                break data.windows(11).any(|window| window == b"messagepack");
            }
            Some(Ok(_)) => continue,
            _ => return,
        }
    };
    let accepted = if binary {
        Message::Binary(Bytes::from_static(b"{}\x1e"))
    } else {
        Message::Text(Utf8Bytes::from_static("{}\x1e"))
    };
    if socket.send(accepted).await.is_err() {
        return;
    }
    let (queue, mut outbound) = mpsc::channel(QUEUE);
    let id = registry.add(queue.clone());
    let mut replies = Vec::new();
    'connection: loop {
        tokio::select! {
            incoming = socket.next() => {
                let message = match incoming {
                    Some(Ok(message @ (Message::Text(_) | Message::Binary(_)))) => message,
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                    Some(Ok(_)) => continue,
                };
                handle(&message, &mut replies);
                let mut direct = false;
                for reply in replies.drain(..) {
                    match reply {
                        Reply::Direct(message) => {
                            direct = true;
                            if socket.feed(message).await.is_err() {
                                break 'connection;
                            }
                        }
                        Reply::Broadcast(receive, done) => {
                            registry.broadcast(&receive);
                            if queue.try_send(done).is_err() {
                                break 'connection;
                            }
                        }
                    }
                }
                if direct && socket.flush().await.is_err() {
                    break;
                }
            }
            Some(message) = outbound.recv() => {
                if socket.feed(message).await.is_err() {
                    break;
                }
                while let Ok(message) = outbound.try_recv() {
                    if socket.feed(message).await.is_err() {
                        break 'connection;
                    }
                }
                if socket.flush().await.is_err() {
                    break;
                }
            }
        }
    }
    registry.remove(id);
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = Args::parse(std::env::args().skip(1));
    let addr = args
        .value("addr", SocketAddr::from(([127, 0, 0, 1], 5000)))
        .and_then(|addr| args.finish().map(|()| addr));
    let addr = match addr {
        Ok(addr) => addr,
        Err(error) => {
            eprintln!("baseline: {error}\nusage: baseline [--addr HOST:PORT]");
            std::process::exit(2);
        }
    };
    let listener = TcpListener::bind(addr).await?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on http://{}", listener.local_addr()?)?;
    stdout.flush()?;
    drop(stdout);
    let registry = Arc::new(Registry::default());
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(serve(stream, registry.clone()));
            }
            Err(error) => {
                eprintln!("baseline: accept failed: {error}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
    }
}
