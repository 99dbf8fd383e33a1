//! Stateful reconnect: numbering of trackable messages both ways, the buffer
//! of sent messages not yet acknowledged, and duplicate suppression after a
//! reconnect (the Ack/Sequence messages of the protocol).

use std::collections::VecDeque;

use bytes::Bytes;

use hub_protocol::ProtocolError;

pub(super) struct Replay {
    /// Sent messages not yet acknowledged, with their sequence ids.
    unacked: VecDeque<(u64, Bytes)>,
    unacked_bytes: usize,
    limit: usize,
    /// The id the next trackable message we send gets.
    next_sent: u64,
    /// The highest id of a received message we processed.
    processed: u64,
    /// The id the next received trackable message has.
    next_received: u64,
    /// The last Ack we sent.
    acked: u64,
}

impl Replay {
    pub(super) fn new(limit: usize) -> Self {
        Self {
            unacked: VecDeque::new(),
            unacked_bytes: 0,
            limit,
            next_sent: 1,
            processed: 0,
            next_received: 1,
            acked: 0,
        }
    }

    /// Records a trackable message as sent.
    pub(super) fn sent(&mut self, message: &Bytes) {
        self.unacked.push_back((self.next_sent, message.clone()));
        self.unacked_bytes += message.len();
        self.next_sent += 1;
    }

    /// Whether the buffer is over its limit (stop sending until Acks arrive).
    pub(super) fn is_full(&self) -> bool {
        self.unacked_bytes >= self.limit
    }

    /// The client's Ack: forgets messages up to `id`.
    pub(super) fn acknowledged(&mut self, id: u64) {
        while let Some((front, message)) = self.unacked.front() {
            if *front > id {
                break;
            }
            self.unacked_bytes -= message.len();
            self.unacked.pop_front();
        }
    }

    /// A trackable message arrived: whether to process it (false for a
    /// duplicate the client resent after a reconnect).
    pub(super) fn received(&mut self) -> bool {
        let id = self.next_received;
        self.next_received += 1;
        if id <= self.processed {
            return false;
        }
        self.processed = id;
        true
    }

    /// The client's Sequence after a reconnect: the id of its next message.
    pub(super) fn resequence(&mut self, id: u64) -> Result<(), ProtocolError> {
        if id > self.processed + 1 {
            return Err(ProtocolError::Malformed(format!(
                "Sequence ID {id} is greater than the next expected {}",
                self.processed + 1
            )));
        }
        self.next_received = id;
        Ok(())
    }

    /// The Ack to send, if anything was processed since the last one.
    pub(super) fn take_ack(&mut self) -> Option<u64> {
        (self.processed > self.acked).then(|| {
            self.acked = self.processed;
            self.processed
        })
    }

    /// After a reconnect: the Sequence id to send, then the messages to resend.
    pub(super) fn resend(&self) -> (u64, impl Iterator<Item = &Bytes>) {
        let first = self.unacked.front().map_or(self.next_sent, |(id, _)| *id);
        (first, self.unacked.iter().map(|(_, message)| message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acks_free_the_buffer_and_bound_it() {
        let mut replay = Replay::new(10);
        for text in ["aaaa", "bbbb", "cccc"] {
            replay.sent(&Bytes::from_static(text.as_bytes()));
        }
        assert!(replay.is_full());
        replay.acknowledged(2);
        assert!(!replay.is_full());
        let (first, rest) = replay.resend();
        assert_eq!(first, 3);
        assert_eq!(rest.collect::<Vec<_>>(), [&Bytes::from_static(b"cccc")]);
        replay.acknowledged(3);
        assert_eq!(replay.resend().0, 4, "nothing unacked: the next id");
    }

    #[test]
    fn drops_what_the_client_resends() {
        let mut replay = Replay::new(100);
        assert!(replay.received());
        assert!(replay.received());
        assert!(replay.received());
        assert_eq!(replay.take_ack(), Some(3));
        assert_eq!(replay.take_ack(), None);
        // The client reconnects and resends from 2.
        replay.resequence(2).unwrap();
        assert!(!replay.received(), "2 was processed");
        assert!(!replay.received(), "3 was processed");
        assert!(replay.received(), "4 is new");
        assert!(replay.resequence(9).is_err(), "a gap is fatal");
    }
}
