//! Scheduling of one connection's invocations: at most
//! `maximum_parallel_invocations_per_client` run at once, the rest wait in
//! arrival order in a bounded queue.
//!
//! An invocation is polled once as it starts: one that finishes at once (most
//! methods do) never enters the set of running futures, and its Completion
//! goes out with the others of the same read, in one flush.

use std::any::Any;
use std::borrow::Cow;
use std::collections::VecDeque;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use futures_util::future::CatchUnwind;
use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, StreamExt};

use super::streams::Registered;
use crate::error::HubError;
use crate::outcome::InvocationFuture;
use crate::reply::{Call, Ending, Rejection};

/// What a finished invocation needs to report its result and clean up.
#[derive(Debug)]
pub(super) struct InvocationMeta {
    /// `None` for non-blocking invocations, which are never answered.
    /// Shared with the filters' [`Invocation`](crate::Invocation).
    pub(super) invocation_id: Option<Arc<str>>,
    /// The method name as the client sent it (for error texts): the method's
    /// own name when the client spelled it so, without a copy.
    pub(super) target: Cow<'static, str>,
    /// Upload streams bound to the call.
    pub(super) upload_ids: Vec<Box<str>>,
    /// Whether the call holds one of the parallel-invocation slots (streaming
    /// calls and calls with upload streams do not, as in ASP.NET).
    pub(super) uses_slot: bool,
    /// Whether it is a server-to-client stream.
    pub(super) streaming: bool,
    /// What it registered under its id: a running stream, or a cancellable
    /// call (a refused duplicate, or a plain call reusing a stream's id,
    /// registered nothing and must not remove what another did).
    pub(super) registered: Option<RegisteredKind>,
    /// Its span, when tracing records invocations: ended as the meta is
    /// dropped, after the Completion was written.
    pub(super) span: tracing::Span,
}

/// What an invocation registered under its id (see [`Registered`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RegisteredKind {
    Stream,
    Call,
}

/// An invocation that ran to its end (a panic is its error), or was rejected
/// before running.
pub(super) struct Finished {
    pub(super) meta: InvocationMeta,
    pub(super) ending: Ending,
}

impl InvocationMeta {
    /// What it registered under its id, to forget as it finishes.
    pub(super) fn registered(&self) -> Option<Registered<'_>> {
        let id = self.invocation_id.as_deref()?;
        Some(match self.registered? {
            RegisteredKind::Stream => Registered::Stream(id),
            RegisteredKind::Call => Registered::Call(id),
        })
    }

    /// What its Completion answers, if the caller asked for one.
    pub(super) fn call(&self) -> Option<Call<'_>> {
        Some(Call {
            invocation_id: self.invocation_id.as_deref()?,
            target: &self.target,
            streaming: self.streaming,
        })
    }
}

/// The error a panic in a hub method reports (and logs).
fn panicked(target: &str, payload: &(dyn Any + Send)) -> HubError {
    let message = panic_message(payload);
    tracing::error!(target = %target, panic = message, "hub method panicked");
    HubError::panicked(message.to_owned())
}

fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("panic")
}

/// An invocation's work: the method's future (caught if it panics), or a
/// rejection that is ready at once.
enum Work {
    Call(CatchUnwind<AssertUnwindSafe<InvocationFuture>>),
    Rejected(Option<Rejection>),
}

/// An invocation future that reports which invocation it was.
struct Running {
    meta: Option<InvocationMeta>,
    work: Work,
}

impl Future for Running {
    type Output = Finished;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Finished> {
        let ending = match &mut self.work {
            Work::Call(future) => match std::task::ready!(future.poll_unpin(cx)) {
                Ok(returned) => Ending::Ran(returned),
                Err(panic) => {
                    let target = self.meta.as_ref().map_or("", |meta| &meta.target);
                    Ending::Ran(Err(panicked(target, &*panic)))
                }
            },
            Work::Rejected(rejection) => {
                Ending::Rejected(rejection.take().expect("a rejection is reported once"))
            }
        };
        let meta = self.meta.take().expect("Running polled after completion");
        Poll::Ready(Finished { meta, ending })
    }
}

/// The running and queued invocations of one connection.
pub(super) struct Invocations {
    running: FuturesUnordered<Running>,
    queued: VecDeque<Running>,
    /// Invocations that finished as they started, not yet reported.
    ready: VecDeque<Finished>,
    /// Running invocations holding a slot.
    slots_used: usize,
    max_parallel: usize,
    max_queued: usize,
}

impl Invocations {
    pub(super) fn new(max_parallel: usize, max_queued: usize) -> Self {
        Self {
            running: FuturesUnordered::new(),
            queued: VecDeque::new(),
            ready: VecDeque::new(),
            slots_used: 0,
            max_parallel: max_parallel.max(1),
            max_queued: max_queued.max(1),
        }
    }

    /// Starts the invocation now if a slot is free, else queues it.
    pub(super) fn submit(&mut self, meta: InvocationMeta, future: InvocationFuture) {
        self.schedule(Running {
            meta: Some(meta),
            work: Work::Call(AssertUnwindSafe(future).catch_unwind()),
        });
    }

    /// Schedules the error of an invocation refused before running, so that its
    /// Completion keeps its place among the others.
    pub(super) fn reject(&mut self, meta: InvocationMeta, rejection: Rejection) {
        self.schedule(Running {
            meta: Some(meta),
            work: Work::Rejected(Some(rejection)),
        });
    }

    fn schedule(&mut self, running: Running) {
        let uses_slot = running.meta.as_ref().is_some_and(|meta| meta.uses_slot);
        if !uses_slot {
            self.run(running);
        } else if self.slots_used < self.max_parallel {
            self.slots_used += 1;
            self.run(running);
        } else {
            self.queued.push_back(running);
        }
    }

    /// Starts an invocation that has its slot: polls it once, with a waker
    /// that does nothing (the running set polls it again with the task's
    /// waker when it is not finished). One that finished waits in `ready`;
    /// its slot goes to the next queued invocation, which starts in the
    /// running set, after the connection has written what this one sent.
    fn run(&mut self, mut running: Running) {
        match Pin::new(&mut running).poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Pending => self.running.push(running),
            Poll::Ready(finished) => {
                if finished.meta.uses_slot
                    && let Some(next) = self.next_queued()
                {
                    self.running.push(next);
                }
                self.ready.push_back(finished);
            }
        }
    }

    /// The queued invocation that takes a freed slot, if any (else the slot
    /// is released).
    fn next_queued(&mut self) -> Option<Running> {
        let next = self.queued.pop_front();
        if next.is_none() {
            self.slots_used -= 1;
        }
        next
    }

    /// Whether more messages may be handled: not while the queue is full,
    /// nor while an invocation that finished as it started is unreported
    /// (what it sent its caller, then its Completion, go out before the next
    /// message is handled).
    pub(super) fn accepting(&self) -> bool {
        self.queued.len() < self.max_queued && self.ready.is_empty()
    }

    /// Whether nothing is running or waiting to be reported.
    pub(super) fn is_idle(&self) -> bool {
        self.running.is_empty() && self.ready.is_empty()
    }

    /// An invocation that finished as it started, if any.
    pub(super) fn take_ready(&mut self) -> Option<Finished> {
        self.ready.pop_front()
    }

    /// Waits for the next invocation to finish; pending forever when none runs.
    pub(super) async fn next_finished(&mut self) -> Finished {
        if let Some(finished) = self.ready.pop_front() {
            return finished;
        }
        if self.running.is_empty() {
            std::future::pending::<()>().await;
        }
        let finished = self
            .running
            .next()
            .await
            .expect("running invocations are not empty");
        if finished.meta.uses_slot
            && let Some(next) = self.next_queued()
        {
            self.running.push(next);
        }
        finished
    }

    /// Drops invocations that have not started.
    pub(super) fn drop_queued(&mut self) {
        self.queued.clear();
    }
}

#[cfg(test)]
mod tests;
