//! The three transports behind one interface: open, receive payloads, send
//! payloads, close.

use bytes::Bytes;

use super::common::{Endpoint, Frame, Received};
use super::long_polling::LongPolling;
use super::sse::ServerSentEvents;
use super::websocket::WebSocket;
use crate::error::Error;
use crate::options::{ConnectionOptions, TransportKind};

/// An open transport.
#[derive(Debug)]
pub(crate) enum Transport {
    /// WebSockets.
    WebSockets(WebSocket),
    /// Server-Sent Events + POSTs.
    ServerSentEvents(ServerSentEvents),
    /// Long Polling + POSTs.
    LongPolling(LongPolling),
    /// No transport (taken out to be closed).
    Gone,
}

impl Transport {
    /// Opens `kind`: returns once the transport is usable (the WebSocket
    /// upgraded, the event stream's head received, the first poll answered).
    pub(crate) async fn open(
        kind: TransportKind,
        endpoint: &Endpoint,
        options: &ConnectionOptions,
    ) -> Result<Self, Error> {
        Ok(match kind {
            TransportKind::WebSockets => {
                Transport::WebSockets(WebSocket::open(endpoint, options).await?)
            }
            TransportKind::ServerSentEvents => {
                Transport::ServerSentEvents(ServerSentEvents::open(endpoint, options).await?)
            }
            TransportKind::LongPolling => {
                Transport::LongPolling(LongPolling::open(endpoint, options).await?)
            }
        })
    }

    /// Which transport this is.
    pub(crate) fn kind(&self) -> TransportKind {
        match self {
            Transport::WebSockets(_) => TransportKind::WebSockets,
            Transport::ServerSentEvents(_) => TransportKind::ServerSentEvents,
            Transport::LongPolling(_) | Transport::Gone => TransportKind::LongPolling,
        }
    }

    /// The next payload, or the end. Cancel-safe.
    pub(crate) async fn recv(&mut self) -> Received {
        match self {
            Transport::WebSockets(transport) => transport.recv().await,
            Transport::ServerSentEvents(transport) => transport.recv().await,
            Transport::LongPolling(transport) => transport.recv().await,
            Transport::Gone => Received::Closed(Some(Error::NotConnected)),
        }
    }

    /// Sends one payload (waits while the transport's queue is full).
    pub(crate) async fn send(&mut self, payload: Bytes, frame: Frame) -> Result<(), Error> {
        match self {
            Transport::WebSockets(transport) => transport.send(payload, frame).await,
            Transport::ServerSentEvents(transport) => transport.send(payload).await,
            Transport::LongPolling(transport) => transport.send(payload).await,
            Transport::Gone => Err(Error::NotConnected),
        }
    }

    /// Queues one payload; [`flush`](Self::flush) writes what was queued
    /// (WebSockets: one write for a batch of frames; the POST transports
    /// queue for their sender task either way).
    pub(crate) async fn feed(&mut self, payload: Bytes, frame: Frame) -> Result<(), Error> {
        match self {
            Transport::WebSockets(transport) => transport.feed(payload, frame).await,
            Transport::ServerSentEvents(transport) => transport.send(payload).await,
            Transport::LongPolling(transport) => transport.send(payload).await,
            Transport::Gone => Err(Error::NotConnected),
        }
    }

    /// Writes what [`feed`](Self::feed) queued.
    pub(crate) async fn flush(&mut self) -> Result<(), Error> {
        match self {
            Transport::WebSockets(transport) => transport.flush().await,
            _ => Ok(()),
        }
    }

    /// Closes the transport, after what was queued is sent (bounded in time).
    pub(crate) async fn close(self) {
        match self {
            Transport::WebSockets(transport) => transport.close().await,
            Transport::ServerSentEvents(transport) => transport.close().await,
            Transport::LongPolling(transport) => transport.close().await,
            Transport::Gone => {}
        }
    }
}
