//! Connecting the Rust client in each transport × protocol, and collecting
//! what the hub sends it.

use std::time::Duration;

use hub_client::{HubConnection, HubConnectionBuilder, Protocol, TransportKind};
use samples::testhub::{TestClientHandler, TestProxy};
use tokio::sync::mpsc;

/// Every pair the client can use.
pub(crate) const COMBOS: [(TransportKind, Protocol); 5] = [
    (TransportKind::WebSockets, Protocol::Json),
    (TransportKind::WebSockets, Protocol::MessagePack),
    (TransportKind::ServerSentEvents, Protocol::Json),
    (TransportKind::LongPolling, Protocol::Json),
    (TransportKind::LongPolling, Protocol::MessagePack),
];

/// How long any one expected event may take.
pub(crate) const WAIT: Duration = Duration::from_secs(10);

/// A builder for `url` over `combo`.
pub(crate) fn builder(
    url: &str,
    (transport, protocol): (TransportKind, Protocol),
) -> HubConnectionBuilder {
    HubConnection::builder(url)
        .transports(transport)
        .protocol(protocol)
}

/// The test client's callbacks: `Receive` goes to the inbox, `Answer`
/// answers with a prefix.
pub(crate) struct Client {
    received: mpsc::UnboundedSender<String>,
}

impl TestClientHandler for Client {
    async fn receive(&self, message: String) {
        let _ = self.received.send(message);
    }

    async fn answer(&self, question: String) -> String {
        format!("answer to {question}")
    }
}

/// A started connection, its typed proxy and its inbox.
pub(crate) struct Connected {
    pub(crate) connection: HubConnection,
    pub(crate) hub: TestProxy<HubConnection>,
    pub(crate) inbox: Inbox,
}

/// Connects to `url` over `combo` with the test callbacks.
pub(crate) async fn connect(url: &str, combo: (TransportKind, Protocol)) -> Connected {
    connect_with(builder(url, combo)).await
}

/// Starts a connection from `builder` with the test callbacks.
pub(crate) async fn connect_with(builder: HubConnectionBuilder) -> Connected {
    let connection = builder.build().expect("a valid URL");
    let (sender, receiver) = mpsc::unbounded_channel();
    Client { received: sender }.register(&connection);
    tokio::time::timeout(WAIT, connection.start())
        .await
        .expect("start within the wait")
        .expect("start");
    Connected {
        hub: TestProxy(connection.clone()),
        connection,
        inbox: Inbox(receiver),
    }
}

/// `Receive(message)`s, in order.
pub(crate) struct Inbox(pub(crate) mpsc::UnboundedReceiver<String>);

impl Inbox {
    /// The next message, within [`WAIT`].
    pub(crate) async fn next(&mut self) -> String {
        tokio::time::timeout(WAIT, self.0.recv())
            .await
            .expect("a message within the wait")
            .expect("the inbox is open")
    }

    /// The next `count` messages.
    pub(crate) async fn take(&mut self, count: usize) -> Vec<String> {
        let mut messages = Vec::with_capacity(count);
        for _ in 0..count {
            messages.push(self.next().await);
        }
        messages
    }

    /// Messages up to and with `marker` (which the caller sent after
    /// everything else: what did not arrive before it never will).
    pub(crate) async fn until(&mut self, marker: &str) -> Vec<String> {
        let mut messages = Vec::new();
        loop {
            let message = self.next().await;
            if message == marker {
                return messages;
            }
            messages.push(message);
        }
    }
}
