//! A connection's streams in flight: server-to-client streams (cancellable by
//! the client) and upload streams (fed by the client's StreamItems).

use std::collections::HashMap;

use bytes::Bytes;
use tokio::sync::mpsc::{self, error::TrySendError};
use tokio_util::sync::CancellationToken;

use crate::upload::UploadEvent;

/// What a running invocation registered under its id.
#[derive(Debug, Clone, Copy)]
pub(super) enum Registered<'a> {
    /// A server-to-client stream.
    Stream(&'a str),
    /// A cancellable call.
    Call(&'a str),
}

#[derive(Default)]
pub(super) struct Streams {
    /// Server-to-client streams, by invocation id.
    outgoing: HashMap<Box<str>, CancellationToken>,
    /// Running calls of methods that take a `CancellationToken`, by
    /// invocation id.
    cancellable: HashMap<Box<str>, CancellationToken>,
    /// The parent of every cancellable call's token: cancelled as the
    /// connection ends.
    ending: CancellationToken,
    /// Upload streams, by stream id.
    uploads: HashMap<Box<str>, mpsc::Sender<UploadEvent>>,
    /// An upload event waiting for room in its stream. While set, the
    /// connection reads nothing more, which pushes back on the client.
    stalled: Option<(mpsc::Sender<UploadEvent>, UploadEvent)>,
}

impl Streams {
    /// Streams open now, both directions.
    pub(super) fn open(&self) -> usize {
        self.outgoing.len() + self.uploads.len()
    }

    pub(super) fn is_stalled(&self) -> bool {
        self.stalled.is_some()
    }

    /// Whether `invocation_id` names a server-to-client stream in flight.
    pub(super) fn is_streaming(&self, invocation_id: &str) -> bool {
        self.outgoing.contains_key(invocation_id)
    }

    /// Registers a server-to-client stream; returns its cancellation token.
    pub(super) fn start_outgoing(&mut self, invocation_id: &str, token: CancellationToken) {
        self.outgoing.insert(invocation_id.into(), token);
    }

    /// A token for a call of a method that takes a `CancellationToken`:
    /// cancelled as the connection ends, or by [`cancel`](Self::cancel)
    /// once [`watch_call`](Self::watch_call) registered it.
    pub(super) fn call_cancellation(&self) -> CancellationToken {
        self.ending.child_token()
    }

    /// Lets a CancelInvocation for `invocation_id` cancel a running call.
    /// False (and nothing registered) while another call with the same id
    /// runs: the first keeps it.
    pub(super) fn watch_call(&mut self, invocation_id: &str, token: CancellationToken) -> bool {
        if self.cancellable.contains_key(invocation_id) {
            return false;
        }
        self.cancellable.insert(invocation_id.into(), token);
        true
    }

    /// Registers upload streams created by a method shim.
    pub(super) fn add_uploads(&mut self, uploads: Vec<(Box<str>, mpsc::Sender<UploadEvent>)>) {
        self.uploads.extend(uploads);
    }

    /// Routes a StreamItem; false if no upload stream has that id.
    pub(super) fn item(&mut self, stream_id: &str, item: Bytes) -> bool {
        let Some(sender) = self.uploads.get(stream_id) else {
            return false;
        };
        let sender = sender.clone();
        self.deliver(stream_id, sender, UploadEvent::Item(item));
        true
    }

    /// Ends an upload stream (a Completion for its id, with the client's error
    /// if any); false if no upload stream has that id.
    pub(super) fn complete_upload(&mut self, stream_id: &str, error: Option<String>) -> bool {
        let Some(sender) = self.uploads.remove(stream_id) else {
            return false;
        };
        if let Some(error) = error {
            self.deliver(stream_id, sender, UploadEvent::Failed(error));
        }
        // Dropping the last sender ends the stream.
        true
    }

    fn deliver(&mut self, stream_id: &str, sender: mpsc::Sender<UploadEvent>, event: UploadEvent) {
        match sender.try_send(event) {
            Ok(()) => {}
            Err(TrySendError::Full(event)) => self.stalled = Some((sender, event)),
            // The method dropped its stream: later items are ignored.
            Err(TrySendError::Closed(_)) => {
                self.uploads.remove(stream_id);
            }
        }
    }

    /// Waits until the stalled event fits into its stream, and delivers it.
    /// Pending forever when nothing is stalled. Cancel-safe.
    pub(super) async fn unstall(&mut self) {
        let Some((sender, _)) = &self.stalled else {
            return std::future::pending().await;
        };
        let permit = sender.clone().reserve_owned().await;
        let (_, event) = self.stalled.take().expect("checked above");
        if let Ok(permit) = permit {
            permit.send(event);
        }
    }

    /// Stops a server-to-client stream or a cancellable call
    /// (CancelInvocation); false for an unknown id.
    pub(super) fn cancel(&mut self, invocation_id: &str) -> bool {
        match self
            .outgoing
            .get(invocation_id)
            .or_else(|| self.cancellable.get(invocation_id))
        {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }

    /// The connection is ending: server-to-client streams stop (their methods
    /// then complete), cancellable calls are cancelled, and upload streams
    /// end with an error, as in ASP.NET, so that no invocation waits for a
    /// client that is gone.
    pub(super) fn end_all(&mut self) {
        for token in self.outgoing.values() {
            token.cancel();
        }
        self.ending.cancel();
        self.stalled = None;
        for (_, sender) in self.uploads.drain() {
            let _ = sender.try_send(UploadEvent::Failed(
                "The underlying connection was closed.".into(),
            ));
        }
    }

    /// Forgets what a finished invocation registered: its stream or its
    /// cancellable call (by id), and its upload streams, which end.
    pub(super) fn finished(&mut self, registered: Option<Registered<'_>>, upload_ids: &[Box<str>]) {
        match registered {
            Some(Registered::Stream(id)) => {
                self.outgoing.remove(id);
            }
            Some(Registered::Call(id)) => {
                self.cancellable.remove(id);
            }
            None => {}
        }
        for id in upload_ids {
            self.uploads.remove(id);
        }
    }
}

#[cfg(test)]
mod tests;
