//! A JSON hub protocol client over a [`MemoryTransport`], for tests.

use std::collections::VecDeque;

use bytes::Bytes;
use hub_protocol::{Framing, MessageReader, RECORD_SEPARATOR, handshake};
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::memory::{MemoryPeer, MemoryTransportOptions, memory_pair};
use crate::hub::Hub;
use crate::id::ConnectionId;
use crate::transport::{ConnectionEnd, ConnectionInfo, Identity};

/// Who connects, and over what.
#[derive(Debug, Clone, Default)]
pub struct TestClientOptions {
    /// The connection's user.
    pub identity: Identity,
    /// The transport's shape (capacity, keep-alive, name).
    pub transport: MemoryTransportOptions,
}

/// One client connection to a hub, in memory, speaking the JSON protocol;
/// messages are `serde_json::Value`s.
///
/// ```
/// # use hub_core::{HubCtx, HubResult, hub};
/// # #[hub]
/// # trait Echo { async fn echo(&self, text: String) -> String; }
/// # struct EchoHub;
/// # impl Echo for EchoHub { async fn echo(&self, text: String) -> String { text } }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use hub_core::testing::TestClient;
///
/// let hub = EchoHub.into_hub();
/// let mut client = TestClient::connect(&hub).await;
/// let completion = client.invoke("Echo", serde_json::json!(["hi"])).await;
/// assert_eq!(completion["result"], "hi");
/// # }
/// ```
#[derive(Debug)]
pub struct TestClient {
    connection_id: ConnectionId,
    peer: MemoryPeer,
    reader: MessageReader,
    /// Messages read while waiting for another one, oldest first.
    backlog: VecDeque<Value>,
    last_invocation_id: u64,
    shutdown: CancellationToken,
    task: JoinHandle<ConnectionEnd>,
}

impl TestClient {
    /// Connects an anonymous client; panics if the handshake fails.
    pub async fn connect(hub: &Hub) -> Self {
        Self::connect_with(hub, TestClientOptions::default())
            .await
            .expect("the handshake succeeds")
    }

    /// Connects `user` (no claims); panics if the handshake fails.
    pub async fn connect_as(hub: &Hub, user: &str) -> Self {
        let options = TestClientOptions {
            identity: Identity::user(Some(user.to_owned())),
            ..Default::default()
        };
        Self::connect_with(hub, options)
            .await
            .expect("the handshake succeeds")
    }

    /// Connects and completes the JSON handshake; the server's refusal as
    /// an error.
    pub async fn connect_with(hub: &Hub, options: TestClientOptions) -> Result<Self, String> {
        let (transport, peer) = memory_pair(options.transport);
        let connection_id = ConnectionId::random();
        let shutdown = CancellationToken::new();
        let info = ConnectionInfo {
            connection_id: connection_id.clone(),
            identity: options.identity,
            remote_addr: None,
            shutdown: shutdown.clone(),
            stateful_reconnect: false,
            early_data: Vec::new(),
            request_span: tracing::Span::none(),
        };
        let task = tokio::spawn(hub.serve_connection(transport, info));
        let mut client = Self {
            connection_id,
            peer,
            reader: MessageReader::new(Framing::RecordSeparator, usize::MAX >> 1),
            backlog: VecDeque::new(),
            last_invocation_id: 0,
            shutdown,
            task,
        };
        client
            .send_bytes(handshake::request(hub_protocol::Protocol::Json, 1))
            .await;
        match client.read().await {
            Some(response) if response.as_object().is_some_and(|o| o.is_empty()) => Ok(client),
            Some(response) => Err(response["error"].as_str().unwrap_or("?").to_owned()),
            None => Err("the server closed the transport".into()),
        }
    }

    /// The connection's id (what hub code sees as the caller's).
    pub fn connection_id(&self) -> &ConnectionId {
        &self.connection_id
    }

    /// Sends one message (a record separator is appended).
    pub async fn send(&mut self, message: Value) {
        let mut bytes = serde_json::to_vec(&message).expect("a JSON value encodes");
        bytes.push(RECORD_SEPARATOR);
        self.send_bytes(Bytes::from(bytes)).await;
    }

    /// Sends bytes as a WebSocket frame of `format` would carry them.
    pub async fn send_frame(&mut self, bytes: Bytes, format: hub_protocol::TransferFormat) {
        let _ = self.peer.send_frame(bytes, format).await;
    }

    /// Sends bytes as they are (several records, half a record, garbage).
    pub async fn send_bytes(&mut self, bytes: Bytes) {
        // A server that is gone shows when the client next reads.
        let _ = self.peer.send(bytes).await;
    }

    /// Invokes `target` with `arguments` (a JSON array) and returns its
    /// Completion; other messages that arrive first stay for [`recv`](Self::recv).
    pub async fn invoke(&mut self, target: &str, arguments: Value) -> Value {
        let id = self.start(target, arguments).await;
        self.completion(&id).await
    }

    /// Sends an Invocation and returns its id, without waiting.
    pub async fn start(&mut self, target: &str, arguments: Value) -> String {
        let id = self.next_id();
        self.send(json!({"type": 1, "invocationId": id, "target": target, "arguments": arguments}))
            .await;
        id
    }

    /// Sends a StreamInvocation and returns its id.
    pub async fn start_stream(&mut self, target: &str, arguments: Value) -> String {
        let id = self.next_id();
        self.send(json!({"type": 4, "invocationId": id, "target": target, "arguments": arguments}))
            .await;
        id
    }

    fn next_id(&mut self) -> String {
        self.last_invocation_id += 1;
        self.last_invocation_id.to_string()
    }

    /// Reads until the Completion of `invocation_id`; what comes first stays
    /// for [`recv`](Self::recv). Panics if the connection ends first.
    pub async fn completion(&mut self, invocation_id: &str) -> Value {
        self.find(|message| message["type"] == 3 && message["invocationId"] == invocation_id)
            .await
            .unwrap_or_else(|| panic!("the connection ended before Completion {invocation_id}"))
    }

    /// Reads until a message `wanted` accepts (kept messages first); the
    /// others stay, in order. `None` if the connection ends first.
    pub async fn find(&mut self, wanted: impl Fn(&Value) -> bool) -> Option<Value> {
        if let Some(index) = self.backlog.iter().position(&wanted) {
            return self.backlog.remove(index);
        }
        loop {
            let message = self.read().await?;
            if wanted(&message) {
                return Some(message);
            }
            self.backlog.push_back(message);
        }
    }

    /// The next message but Pings (kept ones first); `None` once the
    /// server closed the transport.
    pub async fn recv(&mut self) -> Option<Value> {
        self.find(|message| message["type"] != 6).await
    }

    /// The next message, Pings included (kept ones first).
    pub async fn recv_any(&mut self) -> Option<Value> {
        match self.backlog.pop_front() {
            Some(message) => Some(message),
            None => self.read().await,
        }
    }

    /// The next record from the transport.
    async fn read(&mut self) -> Option<Value> {
        loop {
            if let Some(record) = self.reader.next_record().expect("records within the limit") {
                return Some(serde_json::from_slice(&record).expect("the server writes JSON"));
            }
            let payload = self.peer.recv().await?;
            self.reader.push(payload).expect("records within the limit");
        }
    }

    /// Closes the client's side of the transport without a Close message.
    pub fn drop_transport(&mut self) {
        self.peer.close();
    }

    /// Shuts the connection down as a server shutdown does (a Close
    /// message with `allowReconnect`).
    pub fn shut_down(&self) {
        self.shutdown.cancel();
    }

    /// Waits until the server is done with the connection (its
    /// `on_disconnected` has run), after a Close, a transport closed, an
    /// abort...; returns how it ended. Panics if the connection's task panicked.
    pub async fn ended(self) -> ConnectionEnd {
        self.task.await.expect("the connection task does not panic")
    }
}
