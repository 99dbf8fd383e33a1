//! The durable backplane: one Redis Stream per hub, read by every node from
//! the last entry it saw.
//!
//! * **Writing.** `publish` puts the message in a bounded local queue with
//!   this node's next sequence number and returns; one task writes the queue
//!   to the stream in order (`XADD`, pipelined in batches), and retries from
//!   the first unwritten message while Redis is away, so per-sender order
//!   survives an outage. A retried write that Redis had already applied
//!   shows up twice in the stream; readers drop the second copy.
//! * **Reading.** One task per node reads the stream (`XREAD BLOCK`) from
//!   the id of the last entry it handled, over a connection of its own, and
//!   resumes from there after any failure. Each entry carries its sender
//!   (node id and a per-process incarnation) and sequence number: a number
//!   seen before is a duplicate (dropped, counted); a number that skips some
//!   is a loss the reader can name (counted as missed, logged).
//! * **Loss of the stream itself.** An epoch key, read with every batch,
//!   names the stream's life: when Redis comes back without it (restarted
//!   without persistence, flushed), the reader says so in its log and
//!   metrics, starts a new epoch, reads the new stream from its start, and
//!   goes on.

mod engine;
mod entry;
mod queue;
mod sequence;

pub(crate) use engine::Streams;
