//! Client results a connection owes: the server invoked a client method and
//! waits for its return value.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::sync::oneshot;

/// A client's answer to a server invocation.
#[derive(Debug)]
pub(crate) enum ClientAnswer {
    /// A value, still encoded in the connection's protocol.
    Value(Bytes),
    /// A Completion without result (a void handler).
    Empty,
    /// The client reported an error (e.g. "Client didn't provide a result.").
    Error(String),
}

type Waiting = HashMap<Box<str>, oneshot::Sender<ClientAnswer>>;

/// The ids of the server's own invocations: `s1`, `s2`, ... as ASP.NET names
/// them; unique in the process, so unique on every connection.
static LAST_INVOCATION_ID: AtomicU64 = AtomicU64::new(0);

/// The client results a connection's clients are waiting for. Closed (and every
/// waiter told) when the connection ends.
#[derive(Debug, Default)]
pub(crate) struct PendingResults {
    /// `None` once the connection has ended.
    waiting: Mutex<Option<Waiting>>,
}

impl PendingResults {
    pub(crate) fn open() -> Self {
        Self {
            waiting: Mutex::new(Some(HashMap::new())),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Waiting>> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a wait under a fresh invocation id; `None` if the connection
    /// already ended. The wait is forgotten when the returned future is dropped.
    pub(crate) fn register(&self) -> Option<(String, PendingAnswer<'_>)> {
        let id = format!(
            "s{}",
            LAST_INVOCATION_ID.fetch_add(1, Ordering::Relaxed) + 1
        );
        let (sender, receiver) = oneshot::channel();
        self.lock().as_mut()?.insert(id.as_str().into(), sender);
        let answer = PendingAnswer {
            pending: self,
            id: id.as_str().into(),
            receiver,
        };
        Some((id, answer))
    }

    /// Resolves the wait for `id`; false if nobody waits for it.
    pub(crate) fn complete(&self, id: &str, answer: ClientAnswer) -> bool {
        let sender = self.lock().as_mut().and_then(|waiting| waiting.remove(id));
        match sender {
            Some(sender) => {
                let _ = sender.send(answer);
                true
            }
            None => false,
        }
    }

    /// Ends every wait with "disconnected" and refuses new ones.
    pub(crate) fn close(&self) {
        self.lock().take();
    }
}

/// The answer to one server invocation; an error once the connection ended.
/// Dropping it (a timeout, a caller that stops waiting) forgets the wait.
#[derive(Debug)]
pub(crate) struct PendingAnswer<'a> {
    pending: &'a PendingResults,
    id: Box<str>,
    receiver: oneshot::Receiver<ClientAnswer>,
}

impl Future for PendingAnswer<'_> {
    type Output = Result<ClientAnswer, oneshot::error::RecvError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.receiver).poll(cx)
    }
}

impl Drop for PendingAnswer<'_> {
    fn drop(&mut self) {
        if let Some(waiting) = self.pending.lock().as_mut() {
            waiting.remove(&self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn answers_reach_their_waiter_and_the_end_fails_the_rest() {
        let pending = PendingResults::open();
        let (first, answer) = pending.register().unwrap();
        assert!(pending.complete(&first, ClientAnswer::Empty));
        assert!(matches!(answer.await, Ok(ClientAnswer::Empty)));
        assert!(
            !pending.complete(&first, ClientAnswer::Empty),
            "answered once"
        );

        let (second, answer) = pending.register().unwrap();
        assert_ne!(first, second);
        drop(answer);
        assert!(!pending.complete(&second, ClientAnswer::Empty), "forgotten");

        let (_, answer) = pending.register().unwrap();
        pending.close();
        assert!(answer.await.is_err(), "disconnected");
        assert!(pending.register().is_none());
    }
}
