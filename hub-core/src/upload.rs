//! Client-to-server streams: a hub method parameter fed by the client's
//! `StreamItem` messages.

use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

use crate::error::HubError;
use hub_protocol::Protocol;

/// What the connection forwards to an upload stream.
#[derive(Debug)]
pub(crate) enum UploadEvent {
    /// One item, still encoded in the connection's protocol.
    Item(Bytes),
    /// The client ended the stream with an error.
    Failed(String),
}

/// A stream the client uploads (a JS `Subject` passed as an argument).
///
/// Declare it as a hub method parameter: `numbers: UploadStream<i64>`. It
/// yields `Ok(item)` for every item in order, then ends when the client
/// completes the stream. If the client ends it with an error, or an item does
/// not decode into `T`, it yields one `Err` and ends. At most
/// `HubOptions::stream_buffer_capacity` items wait in it; past that the server
/// stops reading from the connection until the method catches up.
pub struct UploadStream<T> {
    receiver: mpsc::Receiver<UploadEvent>,
    protocol: Protocol,
    finished: bool,
    item: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> UploadStream<T> {
    pub(crate) fn new(receiver: mpsc::Receiver<UploadEvent>, protocol: Protocol) -> Self {
        Self {
            receiver,
            protocol,
            finished: false,
            item: PhantomData,
        }
    }

    /// The next item; `None` once the stream has ended.
    pub async fn next(&mut self) -> Option<Result<T, HubError>> {
        std::future::poll_fn(|cx| self.poll_item(cx)).await
    }

    fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, HubError>>> {
        if self.finished {
            return Poll::Ready(None);
        }
        let event = std::task::ready!(self.receiver.poll_recv(cx));
        Poll::Ready(match event {
            None => {
                self.finished = true;
                None
            }
            Some(UploadEvent::Item(bytes)) => match self.protocol.decode(&bytes) {
                Ok(item) => Some(Ok(item)),
                Err(error) => {
                    self.finished = true;
                    Some(Err(HubError::unexpected(format!(
                        "Error binding stream item: {error}"
                    ))))
                }
            },
            Some(UploadEvent::Failed(error)) => {
                self.finished = true;
                Some(Err(HubError::new(error)))
            }
        })
    }
}

impl<T: DeserializeOwned> Stream for UploadStream<T> {
    type Item = Result<T, HubError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_item(cx)
    }
}

impl<T> std::fmt::Debug for UploadStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadStream")
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}
