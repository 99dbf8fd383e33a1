//! The local queue of messages waiting for Redis: bounded in messages and
//! bytes, in order, each with its sequence number.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use bytes::Bytes;
use tokio::sync::Notify;

/// A message waiting to be written.
#[derive(Debug, Clone)]
pub(super) struct Pending {
    /// This node's sequence number of the message (from 1, no gaps except
    /// for refused messages).
    pub(super) seq: u64,
    /// The node it is for; `None`: every node.
    pub(super) to: Option<String>,
    pub(super) bytes: Bytes,
}

/// A message the queue had no room for (its sequence number is spent, so
/// that readers see the gap).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Full {
    pub(super) seq: u64,
}

#[derive(Debug, Default)]
struct State {
    entries: VecDeque<Pending>,
    bytes: usize,
    last_seq: u64,
}

/// The bounded queue; the writer takes from its front.
#[derive(Debug)]
pub(super) struct Queue {
    state: Mutex<State>,
    ready: Notify,
    capacity: usize,
    max_bytes: usize,
}

impl Queue {
    pub(super) fn new(capacity: usize, max_bytes: usize) -> Self {
        Self {
            state: Mutex::default(),
            ready: Notify::new(),
            capacity: capacity.max(1),
            max_bytes,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a message; the queue's length after it, or [`Full`].
    pub(super) fn push(&self, to: Option<String>, bytes: Bytes) -> Result<usize, Full> {
        let mut state = self.lock();
        state.last_seq += 1;
        let seq = state.last_seq;
        if state.entries.len() >= self.capacity
            || (!state.entries.is_empty() && state.bytes + bytes.len() > self.max_bytes)
        {
            return Err(Full { seq });
        }
        state.bytes += bytes.len();
        state.entries.push_back(Pending { seq, to, bytes });
        let len = state.entries.len();
        drop(state);
        self.ready.notify_one();
        Ok(len)
    }

    /// Up to `max` messages from the front, left in the queue.
    pub(super) fn front(&self, max: usize) -> Vec<Pending> {
        self.lock().entries.iter().take(max).cloned().collect()
    }

    /// Removes `n` messages from the front (written); the length left.
    pub(super) fn pop(&self, n: usize) -> usize {
        let mut state = self.lock();
        for _ in 0..n.min(state.entries.len()) {
            if let Some(pending) = state.entries.pop_front() {
                state.bytes -= pending.bytes.len();
            }
        }
        state.entries.len()
    }

    /// Waits until a message may be there (returns at once after a push
    /// that nobody waited for).
    pub(super) async fn ready(&self) {
        self.ready.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_in_messages_and_bytes_in_order() {
        let queue = Queue::new(3, 10);
        assert_eq!(queue.push(None, Bytes::from_static(b"aaaa")), Ok(1));
        assert_eq!(
            queue.push(Some("n".into()), Bytes::from_static(b"bbbb")),
            Ok(2)
        );
        // 4 + 4 + 4 > 10 bytes: refused, its number spent.
        assert_eq!(
            queue.push(None, Bytes::from_static(b"cccc")),
            Err(Full { seq: 3 })
        );
        assert_eq!(queue.push(None, Bytes::from_static(b"dd")), Ok(3));
        assert_eq!(
            queue.push(None, Bytes::from_static(b"")),
            Err(Full { seq: 5 })
        );
        let front: Vec<u64> = queue.front(10).iter().map(|p| p.seq).collect();
        assert_eq!(front, [1, 2, 4]);
        assert_eq!(queue.front(2).len(), 2);
        assert_eq!(queue.pop(2), 1);
        assert_eq!(queue.push(None, Bytes::from_static(b"eeeeeeee")), Ok(2));
        let front: Vec<u64> = queue.front(10).iter().map(|p| p.seq).collect();
        assert_eq!(front, [4, 6]);
    }

    #[test]
    fn one_message_larger_than_the_byte_bound_still_goes_alone() {
        let queue = Queue::new(3, 2);
        assert_eq!(queue.push(None, Bytes::from_static(b"large")), Ok(1));
        assert!(queue.push(None, Bytes::from_static(b"x")).is_err());
    }
}
