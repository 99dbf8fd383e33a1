//! The bounded queue of messages waiting to be written to one connection.
//!
//! Many tasks push (broadcasts, replies); the connection's event loop pops in
//! batches. Broadcasts never wait: when the queue is full, the connection's
//! [`SlowConsumerPolicy`] decides. Replies to the connection's own calls wait
//! instead (while the queue is more than half full), so they are never lost.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::task::AtomicWaker;
use tokio::sync::Notify;

use crate::options::SlowConsumerPolicy;

/// What happened to a pushed broadcast.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Pushed {
    Queued,
    /// Queued after dropping the oldest fire-and-forget message.
    QueuedDroppingOldest,
    /// Full: the connection must close.
    Full,
    /// The connection is gone.
    Closed,
}

struct Entry {
    bytes: Bytes,
    /// Fire-and-forget (a broadcast): the drop-oldest policy may discard it.
    droppable: bool,
}

struct Queue {
    entries: VecDeque<Entry>,
    closed: bool,
}

pub(crate) struct Outbox {
    queue: Mutex<Queue>,
    /// How many entries are queued, readable without the lock (updated
    /// under it): the event loop polls an empty outbox without locking.
    queued: AtomicUsize,
    /// Wakes the event loop when the queue becomes non-empty.
    reader: AtomicWaker,
    /// Wakes replies waiting for room.
    room: Notify,
    capacity: usize,
    policy: SlowConsumerPolicy,
}

impl Outbox {
    pub(crate) fn new(capacity: usize, policy: SlowConsumerPolicy) -> Self {
        Self {
            queue: Mutex::new(Queue {
                entries: VecDeque::new(),
                closed: false,
            }),
            queued: AtomicUsize::new(0),
            reader: AtomicWaker::new(),
            room: Notify::new(),
            capacity: capacity.max(1),
            policy,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Queues a broadcast without waiting.
    pub(crate) fn push(&self, bytes: Bytes) -> Pushed {
        let mut queue = self.lock();
        if queue.closed {
            return Pushed::Closed;
        }
        let mut pushed = Pushed::Queued;
        if queue.entries.len() >= self.capacity {
            let oldest = match self.policy {
                SlowConsumerPolicy::Disconnect => None,
                SlowConsumerPolicy::DropOldest => {
                    queue.entries.iter().position(|entry| entry.droppable)
                }
            };
            match oldest {
                Some(index) => {
                    queue.entries.remove(index);
                    pushed = Pushed::QueuedDroppingOldest;
                }
                None => return Pushed::Full,
            }
        }
        let was_empty = queue.entries.is_empty();
        queue.entries.push_back(Entry {
            bytes,
            droppable: true,
        });
        self.queued.store(queue.entries.len(), Ordering::Release);
        drop(queue);
        if was_empty {
            self.reader.wake();
        }
        pushed
    }

    /// Queues a reply to the connection's own call, waiting while the queue
    /// is more than half full (the other half stays free for broadcasts).
    /// Fails once the connection is gone.
    pub(crate) async fn push_reply(&self, bytes: Bytes) -> Result<(), ()> {
        self.wait_for_room().await?;
        let mut queue = self.lock();
        if queue.closed {
            return Err(());
        }
        let was_empty = queue.entries.is_empty();
        queue.entries.push_back(Entry {
            bytes,
            droppable: false,
        });
        self.queued.store(queue.entries.len(), Ordering::Release);
        drop(queue);
        if was_empty {
            self.reader.wake();
        }
        Ok(())
    }

    /// Waits until the queue is at most half full.
    pub(crate) async fn wait_for_room(&self) -> Result<(), ()> {
        loop {
            let room = self.room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            {
                let queue = self.lock();
                if queue.closed {
                    return Err(());
                }
                if queue.entries.len() <= self.capacity / 2 {
                    return Ok(());
                }
            }
            room.await;
        }
    }

    /// Up to `max` queued messages, oldest first; waits while none is queued.
    /// Cancel-safe. One reader at a time (the connection's event loop).
    pub(crate) async fn recv_batch(&self, max: usize) -> Vec<Bytes> {
        std::future::poll_fn(|cx| self.poll_recv_batch(cx, max)).await
    }

    fn poll_recv_batch(&self, cx: &mut Context<'_>, max: usize) -> Poll<Vec<Bytes>> {
        let batch = self.try_recv_batch(max);
        if !batch.is_empty() {
            return Poll::Ready(batch);
        }
        self.reader.register(cx.waker());
        // A push between the first check and the registration woke no one.
        let batch = self.try_recv_batch(max);
        if batch.is_empty() {
            Poll::Pending
        } else {
            Poll::Ready(batch)
        }
    }

    /// Up to `max` queued messages, without waiting.
    pub(crate) fn try_recv_batch(&self, max: usize) -> Vec<Bytes> {
        if self.queued.load(Ordering::Acquire) == 0 {
            return Vec::new();
        }
        let mut queue = self.lock();
        let take = queue.entries.len().min(max);
        let batch: Vec<Bytes> = queue
            .entries
            .drain(..take)
            .map(|entry| entry.bytes)
            .collect();
        self.queued.store(queue.entries.len(), Ordering::Release);
        let room = queue.entries.len() <= self.capacity / 2;
        drop(queue);
        if !batch.is_empty() && room {
            self.room.notify_waiters();
        }
        batch
    }

    /// The connection is gone: later pushes fail, waiting replies give up.
    pub(crate) fn close(&self) {
        let mut queue = self.lock();
        queue.closed = true;
        queue.entries.clear();
        self.queued.store(0, Ordering::Release);
        drop(queue);
        self.room.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(n: u8) -> Bytes {
        Bytes::from(vec![n])
    }

    #[tokio::test]
    async fn disconnect_policy_reports_full() {
        let outbox = Outbox::new(2, SlowConsumerPolicy::Disconnect);
        assert_eq!(outbox.push(message(1)), Pushed::Queued);
        assert_eq!(outbox.push(message(2)), Pushed::Queued);
        assert_eq!(outbox.push(message(3)), Pushed::Full);
        assert_eq!(outbox.recv_batch(10).await, [message(1), message(2)]);
    }

    #[tokio::test]
    async fn drop_oldest_keeps_replies() {
        let outbox = Outbox::new(2, SlowConsumerPolicy::DropOldest);
        outbox.push_reply(message(1)).await.unwrap();
        assert_eq!(outbox.push(message(2)), Pushed::Queued);
        assert_eq!(outbox.push(message(3)), Pushed::QueuedDroppingOldest);
        assert_eq!(outbox.recv_batch(10).await, [message(1), message(3)]);
    }

    #[tokio::test]
    async fn replies_wait_for_room_and_fail_once_closed() {
        let outbox = std::sync::Arc::new(Outbox::new(4, SlowConsumerPolicy::Disconnect));
        for n in 0..3 {
            outbox.push(message(n));
        }
        let waiting = tokio::spawn({
            let outbox = outbox.clone();
            async move { outbox.push_reply(message(9)).await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "3 of 4 queued: over half full");
        assert_eq!(outbox.try_recv_batch(2).len(), 2);
        waiting.await.unwrap().unwrap();
        assert_eq!(outbox.try_recv_batch(10), [message(2), message(9)]);
        outbox.close();
        assert!(outbox.push_reply(message(1)).await.is_err());
        assert_eq!(outbox.push(message(1)), Pushed::Closed);
    }
}
