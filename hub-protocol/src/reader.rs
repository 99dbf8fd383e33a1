//! Splits received payloads into complete records, enforcing the size limit.

use bytes::{Buf, Bytes, BytesMut};

use crate::error::ProtocolError;

/// The record separator that ends every JSON message (and the handshake).
pub const RECORD_SEPARATOR: u8 = 0x1e;

/// How records are delimited in the byte stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// Records end with `0x1E` (the handshake, and the JSON protocol).
    RecordSeparator,
    /// Records start with a varint length (the MessagePack protocol).
    LengthPrefixed,
}

/// Accumulates received payloads and yields complete records.
///
/// Payloads are kept zero-copy while they hold whole records; only a record
/// split across payloads is copied, and never more than the size limit: a
/// record that would exceed `max_message_size` fails as soon as that is known
/// (for length-prefixed records: as soon as the prefix is read).
#[derive(Debug)]
pub struct MessageReader {
    framing: Framing,
    max_message_size: usize,
    /// Unconsumed bytes of the latest payload.
    chunk: Bytes,
    /// A record carried across payloads (at most one of `chunk`/`partial` is non-empty).
    partial: BytesMut,
    /// How many leading bytes of `partial` are known to hold no record
    /// separator: each byte is searched once however many payloads a record
    /// spans (record-separated framing).
    scanned: usize,
}

impl MessageReader {
    /// A reader for the given framing and per-record size limit in bytes.
    pub fn new(framing: Framing, max_message_size: usize) -> Self {
        Self {
            framing,
            max_message_size,
            chunk: Bytes::new(),
            partial: BytesMut::new(),
            scanned: 0,
        }
    }

    /// Switches framing (after the handshake); buffered bytes are kept.
    pub fn set_framing(&mut self, framing: Framing) {
        self.framing = framing;
        self.scanned = 0;
    }

    /// Whether bytes of an incomplete record are buffered.
    pub fn has_partial(&self) -> bool {
        !self.chunk.is_empty() || !self.partial.is_empty()
    }

    /// Adds a received payload.
    pub fn push(&mut self, data: Bytes) -> Result<(), ProtocolError> {
        if self.partial.is_empty() && self.chunk.is_empty() {
            self.chunk = data;
            return Ok(());
        }
        if !self.chunk.is_empty() {
            self.partial.extend_from_slice(&self.chunk);
            self.chunk = Bytes::new();
        }
        if self.partial.len() + data.len() > self.max_message_size + 5 {
            // Fail before copying: check whether the data completes the record.
            self.check_incomplete_record_within_limit(&data)?;
        }
        self.partial.extend_from_slice(&data);
        Ok(())
    }

    /// Fails if `data` would make the incomplete record (the bytes after the
    /// last complete record not read yet) larger than the limit.
    fn check_incomplete_record_within_limit(&self, data: &[u8]) -> Result<(), ProtocolError> {
        let too_large = ProtocolError::MessageTooLarge {
            limit: self.max_message_size,
        };
        match self.framing {
            Framing::RecordSeparator => {
                let incomplete = self.partial.len() - self.complete_records_len();
                let added = data
                    .iter()
                    .position(|&b| b == RECORD_SEPARATOR)
                    .unwrap_or(data.len());
                if incomplete + added <= self.max_message_size {
                    Ok(())
                } else {
                    Err(too_large)
                }
            }
            // The length prefix was already checked against the limit.
            Framing::LengthPrefixed => Ok(()),
        }
    }

    /// How many bytes of `partial` complete records take (up to and with the
    /// last separator); only the bytes after `scanned` are searched.
    fn complete_records_len(&self) -> usize {
        self.partial[self.scanned..]
            .iter()
            .rposition(|&b| b == RECORD_SEPARATOR)
            .map_or(0, |at| self.scanned + at + 1)
    }

    /// Returns the next complete record (without its framing), if one is buffered.
    pub fn next_record(&mut self) -> Result<Option<Bytes>, ProtocolError> {
        let limit = self.max_message_size;
        if self.partial.is_empty() {
            let Some((start, len)) = self.locate(&self.chunk)? else {
                self.check_pending_len(self.chunk.len(), limit)?;
                return Ok(None);
            };
            let mut record = self.chunk.split_to(start + len);
            record.advance(start);
            if self.framing == Framing::RecordSeparator {
                record.truncate(len - 1);
            }
            Ok(Some(record))
        } else {
            let Some((start, len)) = self.locate_in_partial()? else {
                self.check_pending_len(self.partial.len(), limit)?;
                return Ok(None);
            };
            self.scanned = 0;
            let mut record = self.partial.split_to(start + len).freeze();
            record.advance(start);
            if self.framing == Framing::RecordSeparator {
                record.truncate(len - 1);
            }
            Ok(Some(record))
        }
    }

    /// [`Self::locate`] for `partial`, searching a record separator only in
    /// the bytes not searched before.
    fn locate_in_partial(&mut self) -> Result<Option<(usize, usize)>, ProtocolError> {
        if self.framing == Framing::LengthPrefixed {
            return self.locate(&self.partial);
        }
        let limit = self.max_message_size;
        let from = self.scanned;
        match self.partial[from..]
            .iter()
            .position(|&b| b == RECORD_SEPARATOR)
        {
            Some(at) if from + at > limit => Err(ProtocolError::MessageTooLarge { limit }),
            Some(at) => Ok(Some((0, from + at + 1))),
            None => {
                self.scanned = self.partial.len();
                Ok(None)
            }
        }
    }

    fn check_pending_len(&self, pending: usize, limit: usize) -> Result<(), ProtocolError> {
        // Only a record-separated record can be incomplete past the limit here;
        // length prefixes are checked in `locate`.
        if self.framing == Framing::RecordSeparator && pending > limit {
            Err(ProtocolError::MessageTooLarge { limit })
        } else {
            Ok(())
        }
    }

    /// Finds the first complete record: its start (after any prefix) and its length
    /// (including the separator for record-separated framing).
    fn locate(&self, buf: &[u8]) -> Result<Option<(usize, usize)>, ProtocolError> {
        let limit = self.max_message_size;
        match self.framing {
            Framing::RecordSeparator => match buf.iter().position(|&b| b == RECORD_SEPARATOR) {
                Some(end) if end > limit => Err(ProtocolError::MessageTooLarge { limit }),
                Some(end) => Ok(Some((0, end + 1))),
                None => Ok(None),
            },
            Framing::LengthPrefixed => {
                let Some((len, prefix)) = read_varint(buf)? else {
                    return Ok(None);
                };
                if len > limit {
                    return Err(ProtocolError::MessageTooLarge { limit });
                }
                if buf.len() - prefix < len {
                    return Ok(None);
                }
                Ok(Some((prefix, len)))
            }
        }
    }
}

/// Reads a MessagePack frame length: 7 bits a byte, least significant first, at most
/// 5 bytes and 2^31 - 1. Returns the length and the prefix size, or `None` if incomplete.
pub(crate) fn read_varint(buf: &[u8]) -> Result<Option<(usize, usize)>, ProtocolError> {
    let mut length: u64 = 0;
    for (index, &byte) in buf.iter().take(5).enumerate() {
        length |= u64::from(byte & 0x7f) << (7 * index);
        if byte & 0x80 == 0 {
            if index == 4 && byte > 0x07 {
                break;
            }
            // Fits: at most 31 bits.
            return Ok(Some((length as usize, index + 1)));
        }
    }
    if buf.len() >= 5 {
        Err(ProtocolError::Malformed(
            "Messages over 2GB in size are not supported.".into(),
        ))
    } else {
        Ok(None)
    }
}

/// The MessagePack frame length prefix of `length`, written into `out`: at
/// most 5 bytes, as the protocol allows (lengths below 2^35, far beyond any
/// message this server encodes).
pub(crate) fn varint(mut length: usize, out: &mut [u8; 5]) -> &[u8] {
    let mut index = 0;
    loop {
        let low = (length & 0x7f) as u8;
        length >>= 7;
        if length == 0 || index == out.len() - 1 {
            out[index] = low;
            return &out[..=index];
        }
        out[index] = low | 0x80;
        index += 1;
    }
}

/// Appends a MessagePack frame length prefix.
#[cfg(test)]
pub(crate) fn write_varint(buf: &mut Vec<u8>, length: usize) {
    buf.extend_from_slice(varint(length, &mut [0; 5]));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(reader: &mut MessageReader) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while let Some(record) = reader.next_record().unwrap() {
            out.push(record.to_vec());
        }
        out
    }

    #[test]
    fn splits_several_records_in_one_payload() {
        let mut reader = MessageReader::new(Framing::RecordSeparator, 100);
        reader.push(Bytes::from_static(b"a\x1ebc\x1e\x1e")).unwrap();
        assert_eq!(records(&mut reader), [&b"a"[..], b"bc", b""]);
        assert!(!reader.has_partial());
    }

    #[test]
    fn reassembles_a_record_split_across_payloads() {
        let mut reader = MessageReader::new(Framing::RecordSeparator, 100);
        reader.push(Bytes::from_static(b"one\x1etw")).unwrap();
        assert_eq!(records(&mut reader), [b"one"]);
        assert!(reader.has_partial());
        reader.push(Bytes::from_static(b"o")).unwrap();
        assert!(records(&mut reader).is_empty());
        reader.push(Bytes::from_static(b"\x1ethree\x1e")).unwrap();
        assert_eq!(records(&mut reader), [&b"two"[..], b"three"]);
    }

    #[test]
    fn rejects_records_over_the_limit_even_when_incomplete() {
        let mut reader = MessageReader::new(Framing::RecordSeparator, 4);
        reader.push(Bytes::from_static(b"abcd\x1e")).unwrap();
        assert_eq!(records(&mut reader), [b"abcd"]);
        reader.push(Bytes::from_static(b"abcde")).unwrap();
        assert!(matches!(
            reader.next_record(),
            Err(ProtocolError::MessageTooLarge { limit: 4 })
        ));

        let mut reader = MessageReader::new(Framing::RecordSeparator, 4);
        reader.push(Bytes::from_static(b"abc")).unwrap();
        assert!(reader.next_record().unwrap().is_none());
        assert!(reader.push(Bytes::from(vec![b'x'; 100])).is_err());
    }

    #[test]
    fn limits_only_the_incomplete_record_when_not_drained() {
        // Complete records still buffered do not count towards the limit of
        // the incomplete one after them.
        let mut reader = MessageReader::new(Framing::RecordSeparator, 5);
        reader.push(Bytes::from_static(b"x")).unwrap();
        reader.push(Bytes::from_static(b"a\x1eb\x1ec\x1e")).unwrap();
        reader.push(Bytes::from_static(b"ddddd")).unwrap();
        assert_eq!(records(&mut reader), [&b"xa"[..], b"b", b"c"]);
        reader.push(Bytes::from_static(b"e")).unwrap();
        assert!(matches!(
            reader.next_record(),
            Err(ProtocolError::MessageTooLarge { limit: 5 })
        ));
    }

    #[test]
    fn searches_each_byte_of_a_split_record_once() {
        // A 32 KiB record sent a byte at a time: the partial record is searched
        // from where the last search stopped (a rescan from its start would make
        // this quadratic; here it is checked through `scanned`).
        let limit = 32 * 1024;
        let mut reader = MessageReader::new(Framing::RecordSeparator, limit);
        reader.push(Bytes::from_static(b"{")).unwrap();
        reader.push(Bytes::from_static(b"\"")).unwrap();
        for _ in 0..limit - 3 {
            assert!(reader.next_record().unwrap().is_none());
            assert_eq!(reader.scanned, reader.partial.len());
            reader.push(Bytes::from_static(b"a")).unwrap();
        }
        reader.push(Bytes::from_static(b"}\x1e{}\x1e")).unwrap();
        let record = reader.next_record().unwrap().unwrap();
        assert_eq!(record.len(), limit);
        assert_eq!(reader.scanned, 0, "a new record is searched from its start");
        assert_eq!(records(&mut reader), [b"{}"]);
    }

    #[test]
    fn varints_round_trip() {
        for length in [0usize, 1, 127, 128, 300, 16_383, 16_384, (1 << 31) - 1] {
            let mut buf = Vec::new();
            write_varint(&mut buf, length);
            assert_eq!(read_varint(&buf).unwrap(), Some((length, buf.len())));
            assert_eq!(read_varint(&buf[..buf.len() - 1]).unwrap(), None);
        }
        assert!(read_varint(&[0xff, 0xff, 0xff, 0xff, 0x08]).is_err());
        assert!(read_varint(&[0xff, 0xff, 0xff, 0xff, 0xff]).is_err());
    }

    #[test]
    fn varints_are_written_as_the_spec_shows() {
        let cases: [(usize, &[u8]); 5] = [
            (0, &[0x00]),
            (127, &[0x7f]),
            (128, &[0x80, 0x01]),
            (150, &[0x96, 0x01]),
            (16_384, &[0x80, 0x80, 0x01]),
        ];
        for (length, expected) in cases {
            assert_eq!(varint(length, &mut [0; 5]), expected, "{length}");
        }
        assert_eq!(
            varint((1 << 35) - 1, &mut [0; 5]),
            [0xff, 0xff, 0xff, 0xff, 0x7f]
        );
    }

    #[test]
    fn splits_length_prefixed_records_and_checks_the_prefix_first() {
        let mut reader = MessageReader::new(Framing::LengthPrefixed, 200);
        let mut payload = Vec::new();
        write_varint(&mut payload, 2);
        payload.extend_from_slice(b"hi");
        write_varint(&mut payload, 150);
        payload.extend_from_slice(&[7; 150]);
        reader.push(Bytes::from(payload[..50].to_vec())).unwrap();
        assert_eq!(records(&mut reader), [b"hi"]);
        reader.push(Bytes::from(payload[50..].to_vec())).unwrap();
        assert_eq!(records(&mut reader), [vec![7u8; 150]]);

        let mut reader = MessageReader::new(Framing::LengthPrefixed, 200);
        let mut prefix = Vec::new();
        write_varint(&mut prefix, 1_000_000);
        reader.push(Bytes::from(prefix)).unwrap();
        assert!(matches!(
            reader.next_record(),
            Err(ProtocolError::MessageTooLarge { limit: 200 })
        ));
    }

    #[test]
    fn keeps_leftovers_when_switching_framing() {
        let mut reader = MessageReader::new(Framing::RecordSeparator, 100);
        reader
            .push(Bytes::from_static(b"{}\x1e\x02\x91\x06"))
            .unwrap();
        assert_eq!(reader.next_record().unwrap().unwrap(), &b"{}"[..]);
        reader.set_framing(Framing::LengthPrefixed);
        assert_eq!(records(&mut reader), [&[0x91, 0x06]]);
    }
}
