//! The buffers outbound messages are encoded into: one spare per thread,
//! reused, with each message copied out at its exact size. Encoding a message
//! then costs one allocation, with no growth on the way (a Completion's result
//! is of unknown size) and no spare capacity held by the queues it waits in.

use std::cell::Cell;

use bytes::Bytes;

/// A spare buffer grown past this is not kept: a rare large message should
/// not pin its memory to a thread.
const KEEP_AT_MOST: usize = 64 * 1024;

thread_local! {
    static SPARE: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// An empty buffer with room for `capacity` bytes: this thread's spare one,
/// or a new one while the spare is in use.
pub(super) fn take(capacity: usize) -> Vec<u8> {
    let mut buf = SPARE.with(Cell::take);
    buf.clear();
    buf.reserve(capacity);
    buf
}

/// `buf[start..]` copied out at its exact size; `buf` becomes the spare again.
pub(super) fn finish(buf: Vec<u8>, start: usize) -> Bytes {
    let bytes = Bytes::copy_from_slice(&buf[start..]);
    if buf.capacity() <= KEEP_AT_MOST {
        SPARE.with(|spare| spare.set(buf));
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_out_exactly_and_reuses_the_buffer() {
        let mut buf = take(8);
        buf.extend_from_slice(b"xxhello");
        let pointer = buf.as_ptr();
        let bytes = finish(buf, 2);
        assert_eq!(bytes, "hello");
        let again = take(4);
        assert!(again.is_empty());
        assert_eq!(again.as_ptr(), pointer, "the spare buffer is reused");
    }

    #[test]
    fn nested_use_gets_its_own_buffer_and_large_ones_are_not_kept() {
        let outer = take(4);
        let mut inner = take(4);
        inner.push(1);
        assert_eq!(finish(inner, 0), [1].as_slice());
        let mut outer = outer;
        outer.resize(KEEP_AT_MOST + 1, 7);
        assert_eq!(finish(outer, KEEP_AT_MOST).len(), 1);
        assert!(
            take(0).capacity() < KEEP_AT_MOST,
            "the large buffer was dropped"
        );
    }
}
