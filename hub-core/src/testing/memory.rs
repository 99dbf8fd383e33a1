//! A transport made of two channels: a hub connection without sockets.

use bytes::Bytes;
use hub_protocol::TransferFormat;
use tokio::sync::mpsc;

use crate::transport::{Inbound, Transport, TransportError, TransportEvent};

/// How a [`MemoryTransport`] presents itself to the connection.
#[derive(Debug, Clone, Copy)]
pub struct MemoryTransportOptions {
    /// The name hub code sees (`HubCtx::transport`).
    pub name: &'static str,
    /// The formats it carries (MessagePack needs `Binary`).
    pub transfer_formats: &'static [TransferFormat],
    /// Payloads written to the client and not yet read, at most; past it
    /// the connection's writes wait (and time out after
    /// `HubOptions::send_timeout`), as a socket whose peer stops reading.
    pub capacity: usize,
    /// Whether the transport keeps itself alive, as Long Polling does (no
    /// Pings, no client timeout).
    pub inherent_keep_alive: bool,
}

impl Default for MemoryTransportOptions {
    fn default() -> Self {
        Self {
            name: "Memory",
            transfer_formats: &[TransferFormat::Text, TransferFormat::Binary],
            capacity: 1024,
            inherent_keep_alive: false,
        }
    }
}

/// The server end: give it to [`Hub::serve_connection`](crate::Hub::serve_connection).
#[derive(Debug)]
pub struct MemoryTransport {
    options: MemoryTransportOptions,
    inbound: mpsc::Receiver<Inbound>,
    /// `None` once the server closed the transport.
    outbound: Option<mpsc::Sender<Bytes>>,
    /// Payloads fed since the last flush.
    pending: Vec<Bytes>,
}

/// The client end: what the client sends, and each payload the server flushed.
#[derive(Debug)]
pub struct MemoryPeer {
    /// `None` once the client closed its side.
    inbound: Option<mpsc::Sender<Inbound>>,
    outbound: mpsc::Receiver<Bytes>,
}

/// A connected pair of ends.
pub fn memory_pair(options: MemoryTransportOptions) -> (MemoryTransport, MemoryPeer) {
    let (inbound_sender, inbound) = mpsc::channel(64);
    let (outbound_sender, outbound) = mpsc::channel(options.capacity.max(1));
    let transport = MemoryTransport {
        options,
        inbound,
        outbound: Some(outbound_sender),
        pending: Vec::new(),
    };
    let peer = MemoryPeer {
        inbound: Some(inbound_sender),
        outbound,
    };
    (transport, peer)
}

impl MemoryPeer {
    /// Sends a payload as an HTTP body would (no frame kind). False once
    /// the server is gone.
    pub async fn send(&self, data: Bytes) -> bool {
        self.send_inbound(Inbound { data, format: None }).await
    }

    /// Sends a payload as a WebSocket frame of `format`.
    pub async fn send_frame(&self, data: Bytes, format: TransferFormat) -> bool {
        self.send_inbound(Inbound {
            data,
            format: Some(format),
        })
        .await
    }

    async fn send_inbound(&self, inbound: Inbound) -> bool {
        match &self.inbound {
            Some(sender) => sender.send(inbound).await.is_ok(),
            None => false,
        }
    }

    /// The next payload the server flushed; `None` once it closed the
    /// transport and everything was read.
    pub async fn recv(&mut self) -> Option<Bytes> {
        self.outbound.recv().await
    }

    /// Closes the client's side, as a client whose socket closes: the
    /// server's next read ends.
    pub fn close(&mut self) {
        self.inbound = None;
    }
}

impl Transport for MemoryTransport {
    fn name(&self) -> &'static str {
        self.options.name
    }

    fn transfer_formats(&self) -> &'static [TransferFormat] {
        self.options.transfer_formats
    }

    fn has_inherent_keep_alive(&self) -> bool {
        self.options.inherent_keep_alive
    }

    async fn recv(&mut self) -> Option<Result<TransportEvent, TransportError>> {
        self.inbound
            .recv()
            .await
            .map(|inbound| Ok(TransportEvent::Data(inbound)))
    }

    async fn feed(
        &mut self,
        payload: Bytes,
        _format: TransferFormat,
    ) -> Result<(), TransportError> {
        if self.outbound.is_none() {
            return Err(TransportError::Closed);
        }
        self.pending.push(payload);
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), TransportError> {
        let outbound = self.outbound.as_ref().ok_or(TransportError::Closed)?;
        for payload in self.pending.drain(..) {
            outbound
                .send(payload)
                .await
                .map_err(|_| TransportError::Closed)?;
        }
        Ok(())
    }

    async fn close(&mut self) {
        self.outbound = None;
    }
}
