//! Per-sender sequence numbers: duplicates and gaps.

use std::collections::HashMap;

/// Senders remembered at most; the one silent longest is forgotten first
/// (a node gone for good, or restarted under a new incarnation).
const SENDERS: usize = 4096;

/// What one entry is, given the sender's numbers seen before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Seen {
    /// Not seen before; `missed` numbers between it and the last one seen
    /// never arrived.
    New { missed: u64 },
    /// Seen before (or older than the last one seen): drop it.
    Duplicate,
}

/// The last sequence number seen from each sender.
#[derive(Debug, Default)]
pub(super) struct Senders {
    last: HashMap<String, (u64, u64)>,
    tick: u64,
}

impl Senders {
    /// Records `seq` from `sender`.
    pub(super) fn see(&mut self, sender: &str, seq: u64) -> Seen {
        self.tick += 1;
        let tick = self.tick;
        if let Some((last, used)) = self.last.get_mut(sender) {
            *used = tick;
            if seq <= *last {
                return Seen::Duplicate;
            }
            let missed = seq - *last - 1;
            *last = seq;
            return Seen::New { missed };
        }
        if self.last.len() >= SENDERS {
            let oldest = self
                .last
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(sender, _)| sender.clone());
            if let Some(oldest) = oldest {
                self.last.remove(&oldest);
            }
        }
        self.last.insert(sender.to_owned(), (seq, tick));
        Seen::New { missed: 0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_and_gaps_per_sender() {
        let mut senders = Senders::default();
        assert_eq!(senders.see("a", 1), Seen::New { missed: 0 });
        assert_eq!(senders.see("a", 2), Seen::New { missed: 0 });
        assert_eq!(senders.see("b", 7), Seen::New { missed: 0 });
        assert_eq!(senders.see("a", 2), Seen::Duplicate);
        assert_eq!(senders.see("a", 1), Seen::Duplicate);
        assert_eq!(senders.see("a", 5), Seen::New { missed: 2 });
        assert_eq!(senders.see("b", 8), Seen::New { missed: 0 });
        // A retried batch after a partly applied one: 5 6 | 5 6 7.
        assert_eq!(senders.see("a", 6), Seen::New { missed: 0 });
        assert_eq!(senders.see("a", 5), Seen::Duplicate);
        assert_eq!(senders.see("a", 6), Seen::Duplicate);
        assert_eq!(senders.see("a", 7), Seen::New { missed: 0 });
    }

    #[test]
    fn the_sender_silent_longest_is_forgotten_first() {
        let mut senders = Senders::default();
        for n in 0..SENDERS {
            senders.see(&format!("s{n}"), 1);
        }
        senders.see("s0", 2); // s0 used last now; s1 is the oldest.
        senders.see("new", 1);
        assert_eq!(senders.last.len(), SENDERS);
        assert!(senders.last.contains_key("s0"));
        assert!(!senders.last.contains_key("s1"));
    }
}
