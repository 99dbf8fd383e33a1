//! A future polled only when it asked to be: for a branch of the event loop's
//! `select!` that is rarely ready (the close request), so that the other
//! branches' wake-ups do not poll it every time.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use futures_util::task::AtomicWaker;

/// Wraps a future; polling the wrapper polls the future only the first time
/// and after the future's own waker was woken. Between those, a poll costs two
/// atomic operations instead of whatever the future's poll costs (a
/// `CancellationToken` takes a mutex).
pub(super) struct PollOnWake<F> {
    future: Pin<Box<F>>,
    signal: Arc<Signal>,
}

/// Set by the inner future's waker; forwards the wake-up to the task.
struct Signal {
    woken: AtomicBool,
    task: AtomicWaker,
}

impl Wake for Signal {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.task.wake();
    }
}

impl<F: Future> PollOnWake<F> {
    pub(super) fn new(future: F) -> Self {
        Self {
            future: Box::pin(future),
            signal: Arc::new(Signal {
                woken: AtomicBool::new(true),
                task: AtomicWaker::new(),
            }),
        }
    }
}

impl<F: Future> Future for PollOnWake<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // Register first: a wake-up between the check and the registration
        // would otherwise be lost.
        self.signal.task.register(cx.waker());
        if !self.signal.woken.swap(false, Ordering::AcqRel) {
            return Poll::Pending;
        }
        let waker = Waker::from(self.signal.clone());
        self.future.as_mut().poll(&mut Context::from_waker(&waker))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_util::sync::CancellationToken;

    #[tokio::test]
    async fn completes_when_the_inner_future_is_woken() {
        let token = CancellationToken::new();
        let mut waiting = PollOnWake::new(token.clone().cancelled_owned());
        let poll = |waiting: &mut PollOnWake<_>| {
            let mut cx = Context::from_waker(Waker::noop());
            Pin::new(waiting).poll(&mut cx).is_ready()
        };
        assert!(!poll(&mut waiting), "first poll: not cancelled yet");
        assert!(!poll(&mut waiting), "no wake-up: not polled again");
        token.cancel();
        assert!(poll(&mut waiting), "woken: polled, and ready");
    }

    #[tokio::test]
    async fn wakes_the_task_that_polled_it() {
        let token = CancellationToken::new();
        let waiting = PollOnWake::new(token.clone().cancelled_owned());
        let task = tokio::spawn(waiting);
        tokio::task::yield_now().await;
        token.cancel();
        tokio::time::timeout(std::time::Duration::from_secs(5), task)
            .await
            .expect("the task was woken")
            .expect("task");
    }
}
