//! One client of the chaos tests: a WebSocket (JSON protocol) that records
//! every `Receive` it gets and, if asked, sends a steady stream of tagged
//! messages, one at a time (the next once the previous one's Completion
//! arrived: a message counts as sent only once the server acknowledged it).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

/// What a message was sent to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum To {
    /// `SendToAll`.
    All,
    /// `SendToUser(user)`.
    User(String),
    /// `SendToGroup(group)`.
    Group(String),
}

/// A message the server acknowledged.
#[derive(Debug, Clone)]
pub struct Sent {
    /// The sender's sequence number (from 0, one per message).
    pub seq: u64,
    /// Its recipients.
    pub to: To,
}

/// What [`Peer`] shares with its tasks.
#[derive(Debug, Default)]
struct State {
    /// Every `Receive` argument, in arrival order.
    received: Vec<String>,
    /// Messages acknowledged by the server.
    sent: Vec<Sent>,
    /// Completions awaited, by invocation id.
    waiting: HashMap<String, oneshot::Sender<Value>>,
}

/// A connected client.
#[derive(Debug)]
pub struct Peer {
    /// Its name, unique in the test (the sender in every tag).
    pub name: String,
    /// Its user id (bearer token).
    pub user: String,
    /// The group it joined.
    pub group: String,
    /// The node it is connected to (index in the test).
    pub node: usize,
    state: Arc<Mutex<State>>,
    outgoing: mpsc::UnboundedSender<Message>,
    closed: Arc<AtomicBool>,
    sending: Arc<AtomicBool>,
    next_id: Mutex<u64>,
}

/// The tag of a message: `sender|seq`.
pub fn tag(sender: &str, seq: u64) -> String {
    format!("{sender}|{seq}")
}

impl Peer {
    /// Connects to the test hub at `addr` as `user` (skipping negotiate),
    /// completes the handshake and joins `group`.
    pub async fn connect(
        name: &str,
        user: &str,
        group: &str,
        node: usize,
        addr: SocketAddr,
    ) -> Self {
        let url = format!("ws://{addr}{}?access_token={user}", samples::testhub::PATH);
        let (socket, _) = tokio::time::timeout(
            Duration::from_secs(10),
            tokio_tungstenite::connect_async(url),
        )
        .await
        .expect("WebSocket connects within 10 s")
        .expect("WebSocket connects");
        let (mut write, mut read) = socket.split();
        write
            .send(Message::text("{\"protocol\":\"json\",\"version\":1}\u{1e}"))
            .await
            .expect("handshake sent");
        let (outgoing, mut to_send) = mpsc::unbounded_channel::<Message>();
        tokio::spawn(async move {
            while let Some(message) = to_send.recv().await {
                if write.send(message).await.is_err() {
                    return;
                }
            }
        });
        let state = Arc::new(Mutex::new(State::default()));
        let closed = Arc::new(AtomicBool::new(false));
        let (handshake, handshaken) = oneshot::channel();
        let (reader_state, reader_closed) = (state.clone(), closed.clone());
        tokio::spawn(async move {
            let mut handshake = Some(handshake);
            while let Some(Ok(message)) = read.next().await {
                let Message::Text(text) = message else {
                    continue;
                };
                for record in text.as_str().split('\u{1e}').filter(|r| !r.is_empty()) {
                    if let Some(handshake) = handshake.take() {
                        let _ = handshake.send(record.to_owned());
                        continue;
                    }
                    let Ok(value) = serde_json::from_str::<Value>(record) else {
                        continue;
                    };
                    let mut state = reader_state.lock().unwrap_or_else(PoisonError::into_inner);
                    match value["type"].as_u64() {
                        Some(1) if value["target"] == "Receive" => {
                            if let Some(text) = value["arguments"][0].as_str() {
                                state.received.push(text.to_owned());
                            }
                        }
                        Some(3) => {
                            if let Some(waiter) = value["invocationId"]
                                .as_str()
                                .and_then(|id| state.waiting.remove(id))
                            {
                                let _ = waiter.send(value);
                            }
                        }
                        Some(7) => reader_closed.store(true, Ordering::Release),
                        _ => {}
                    }
                }
            }
            reader_closed.store(true, Ordering::Release);
            // Whoever waits for a Completion learns the connection is gone.
            reader_state
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .waiting
                .clear();
        });
        let answer = tokio::time::timeout(Duration::from_secs(10), handshaken)
            .await
            .expect("handshake answered within 10 s")
            .expect("handshake answered");
        assert_eq!(answer, "{}", "handshake");
        let peer = Self {
            name: name.to_owned(),
            user: user.to_owned(),
            group: group.to_owned(),
            node,
            state,
            outgoing,
            closed,
            sending: Arc::new(AtomicBool::new(false)),
            next_id: Mutex::new(0),
        };
        peer.call("JoinGroup", json!([group]))
            .await
            .expect("joined its group");
        peer
    }

    /// Invokes `target`; its Completion, or `None` if the connection is
    /// gone or nothing came within 10 s.
    pub async fn call(&self, target: &str, arguments: Value) -> Option<Value> {
        let id = {
            let mut next = self.next_id.lock().unwrap_or_else(PoisonError::into_inner);
            *next += 1;
            next.to_string()
        };
        let (answer, answered) = oneshot::channel();
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .waiting
            .insert(id.clone(), answer);
        let invocation =
            json!({"type": 1, "invocationId": id, "target": target, "arguments": arguments});
        self.outgoing
            .send(Message::text(format!("{invocation}\u{1e}")))
            .ok()?;
        let completion = tokio::time::timeout(Duration::from_secs(10), answered)
            .await
            .ok()?
            .ok()?;
        completion.get("error").is_none().then_some(completion)
    }

    /// Sends one message to `to`, tagged with `seq`; true once acknowledged.
    async fn send(&self, seq: u64, to: &To) -> bool {
        let text = tag(&self.name, seq);
        let acknowledged = match to {
            To::All => self.call("SendToAll", json!([text])).await,
            To::User(user) => self.call("SendToUser", json!([user, text])).await,
            To::Group(group) => self.call("SendToGroup", json!([group, text])).await,
        };
        if acknowledged.is_some() {
            self.state
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .sent
                .push(Sent {
                    seq,
                    to: to.clone(),
                });
        }
        acknowledged.is_some()
    }

    /// Sends to each of `targets` in turn, one message every `every`, until
    /// [`Peer::stop_sending`] or the connection is gone.
    pub fn start_sending(
        self: &Arc<Self>,
        targets: Vec<To>,
        every: Duration,
    ) -> tokio::task::JoinHandle<()> {
        self.sending.store(true, Ordering::Release);
        let peer = self.clone();
        tokio::spawn(async move {
            let mut seq = 0u64;
            let mut tick = tokio::time::interval(every);
            while peer.sending.load(Ordering::Acquire) && !peer.is_closed() {
                tick.tick().await;
                let to = &targets[seq as usize % targets.len()];
                peer.send(seq, to).await;
                seq += 1;
            }
        })
    }

    /// Stops the steady stream (the message in flight finishes).
    pub fn stop_sending(&self) {
        self.sending.store(false, Ordering::Release);
    }

    /// Whether the connection is gone.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Every `Receive` so far, in order.
    pub fn received(&self) -> Vec<String> {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .received
            .clone()
    }

    /// How many `Receive`s so far.
    pub fn received_count(&self) -> usize {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .received
            .len()
    }

    /// The messages the server acknowledged.
    pub fn sent(&self) -> Vec<Sent> {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .sent
            .clone()
    }
}
