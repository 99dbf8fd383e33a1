//! Stateful reconnect: the messages sent but not acknowledged yet (kept to
//! be sent again on a new socket), and the count of messages received (to
//! acknowledge them, and to drop the server's replays of what was
//! processed already).

use std::collections::VecDeque;

use bytes::Bytes;

/// Both directions' sequence numbers of one connection.
#[derive(Debug)]
pub(crate) struct Stateful {
    /// Sent trackable messages not acknowledged yet, with their ids.
    unacked: VecDeque<(u64, Bytes)>,
    unacked_bytes: usize,
    limit: usize,
    /// The id the next trackable message sent gets.
    next_sent: u64,
    /// The id of the last trackable message received (and processed).
    received: u64,
    /// The highest id acknowledged to the server.
    acked: u64,
    /// After a reconnect: messages up to this id were processed before and
    /// are dropped when the server replays them.
    duplicates_until: u64,
    /// After a reconnect, nothing counts until the server's Sequence.
    awaiting_sequence: bool,
}

impl Stateful {
    /// An empty buffer holding at most `limit` bytes before sends wait.
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            unacked: VecDeque::new(),
            unacked_bytes: 0,
            limit,
            next_sent: 1,
            received: 0,
            acked: 0,
            duplicates_until: 0,
            awaiting_sequence: false,
        }
    }

    /// Whether sending must wait for acknowledgements.
    pub(crate) fn is_full(&self) -> bool {
        self.unacked_bytes >= self.limit
    }

    /// Keeps a trackable message sent.
    pub(crate) fn sent(&mut self, message: Bytes) {
        self.unacked_bytes += message.len();
        self.unacked.push_back((self.next_sent, message));
        self.next_sent += 1;
    }

    /// The server processed every message up to `sequence_id`.
    pub(crate) fn ack(&mut self, sequence_id: u64) {
        while let Some((id, message)) = self.unacked.front() {
            if *id > sequence_id {
                break;
            }
            self.unacked_bytes -= message.len();
            self.unacked.pop_front();
        }
    }

    /// A trackable message arrived: whether to process it (false for a
    /// replay of one processed already, or before the server's Sequence).
    pub(crate) fn received(&mut self) -> bool {
        if self.awaiting_sequence {
            return false;
        }
        self.received += 1;
        self.received > self.duplicates_until
    }

    /// The Ack to send, if something arrived since the last one.
    pub(crate) fn ack_due(&mut self) -> Option<u64> {
        (self.received > self.acked).then(|| {
            self.acked = self.received;
            self.received
        })
    }

    /// A new socket: the Sequence to send first and the messages to send
    /// again after it.
    pub(crate) fn reconnected(&mut self) -> (u64, Vec<Bytes>) {
        self.awaiting_sequence = true;
        let first = self.unacked.front().map_or(self.next_sent, |(id, _)| *id);
        (
            first,
            self.unacked
                .iter()
                .map(|(_, message)| message.clone())
                .collect(),
        )
    }

    /// The server's Sequence: the id of the next message it sends. An error
    /// if it would skip messages.
    pub(crate) fn sequence(&mut self, sequence_id: u64) -> Result<(), String> {
        if sequence_id > self.received + 1 {
            return Err(format!(
                "Sequence ID greater than amount of messages we've received ({sequence_id} > {}).",
                self.received + 1
            ));
        }
        self.awaiting_sequence = false;
        self.duplicates_until = self.received;
        self.received = sequence_id - 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_until_acked_and_replays_from_the_first_unacked() {
        let mut state = Stateful::new(10);
        for message in ["aaaa", "bbbb", "cccc"] {
            state.sent(Bytes::from(message));
        }
        assert!(state.is_full());
        state.ack(1);
        assert!(!state.is_full());
        let (first, replay) = state.reconnected();
        assert_eq!(first, 2);
        assert_eq!(replay, [Bytes::from("bbbb"), Bytes::from("cccc")]);
    }

    #[test]
    fn drops_what_the_server_replays_and_refuses_gaps() {
        let mut state = Stateful::new(100);
        assert!(state.received() && state.received() && state.received());
        assert_eq!(state.ack_due(), Some(3));
        assert_eq!(state.ack_due(), None);
        state.reconnected();
        assert!(!state.received(), "ignored until the Sequence");
        state.sequence(2).unwrap();
        assert!(!state.received(), "2 was processed");
        assert!(!state.received(), "3 was processed");
        assert!(state.received(), "4 is new");
        state.reconnected();
        assert!(state.sequence(9).is_err());
    }
}
