//! Just enough of the SignalR hub protocols (JSON and MessagePack) for load
//! generation: pre-encoded invocation frames patched in place, record
//! splitting, and allocation-free reading of the few messages a benchmark sees.

use crate::ws::{OP_BINARY, OP_TEXT, encode_frame, find};

/// The JSON record separator.
pub const RS: u8 = 0x1E;

/// A hub protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `json`: text frames, records end with 0x1E.
    Json,
    /// `messagepack`: binary frames, records carry a varint length prefix.
    MessagePack,
}

impl std::str::FromStr for Protocol {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        match name {
            "json" => Ok(Self::Json),
            "messagepack" | "msgpack" => Ok(Self::MessagePack),
            other => Err(format!("unknown protocol `{other}`")),
        }
    }
}

/// A message read from a record, borrowing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message<'a> {
    /// Type 3: the id, the result when it is a string (`None` for null or
    /// other values), and whether it carries an error.
    Completion {
        /// The invocation id.
        id: &'a [u8],
        /// A string result.
        result: Option<&'a [u8]>,
        /// Whether the completion is an error.
        error: bool,
    },
    /// Type 1: target and first argument when it is a string.
    Invocation {
        /// The method name.
        target: &'a [u8],
        /// The first argument, when a string.
        arg: Option<&'a [u8]>,
    },
    /// Type 6.
    Ping,
    /// Type 7.
    Close,
    /// Any other type.
    Other(u8),
    /// Not a message this reader understands.
    Malformed,
}

impl Protocol {
    /// The protocol's name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::MessagePack => "messagepack",
        }
    }

    /// The handshake request record, sent as a text frame.
    pub fn handshake_request(self) -> Vec<u8> {
        let mut record = format!("{{\"protocol\":\"{}\",\"version\":1}}", self.name()).into_bytes();
        record.push(RS);
        record
    }

    /// The opcode of this protocol's data frames.
    pub fn opcode(self) -> u8 {
        match self {
            Self::Json => OP_TEXT,
            Self::MessagePack => OP_BINARY,
        }
    }

    /// A Ping record.
    pub fn ping_record(self) -> &'static [u8] {
        match self {
            Self::Json => b"{\"type\":6}\x1e",
            Self::MessagePack => &[0x02, 0x91, 0x06],
        }
    }

    /// A whole Ping frame.
    pub fn ping_frame(self) -> Vec<u8> {
        let mut frame = Vec::new();
        encode_frame(self.opcode(), self.ping_record(), &mut frame);
        frame
    }

    /// Splits a frame payload into records (without separator or prefix).
    pub fn records(self, payload: &[u8]) -> Records<'_> {
        Records {
            protocol: self,
            rest: payload,
        }
    }

    /// Reads one record.
    pub fn parse(self, record: &[u8]) -> Message<'_> {
        match self {
            Self::Json => parse_json(record),
            Self::MessagePack => parse_msgpack(record).unwrap_or(Message::Malformed),
        }
    }
}

/// Iterator over the records of one payload.
#[derive(Debug)]
pub struct Records<'a> {
    protocol: Protocol,
    rest: &'a [u8],
}

impl<'a> Iterator for Records<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.rest.is_empty() {
            return None;
        }
        match self.protocol {
            Protocol::Json => {
                let end = self.rest.iter().position(|&b| b == RS)?;
                let record = &self.rest[..end];
                self.rest = &self.rest[end + 1..];
                Some(record)
            }
            Protocol::MessagePack => {
                let (len, prefix) = read_varint(self.rest)?;
                let record = self.rest.get(prefix..prefix + len)?;
                self.rest = &self.rest[prefix + len..];
                Some(record)
            }
        }
    }
}

/// Reads a MessagePack frame's length prefix: (length, prefix bytes).
pub fn read_varint(bytes: &[u8]) -> Option<(usize, usize)> {
    let mut len = 0usize;
    for (i, &byte) in bytes.iter().take(5).enumerate() {
        len |= usize::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((len, i + 1));
        }
    }
    None
}

/// Appends a varint length prefix.
pub fn write_varint(mut len: usize, out: &mut Vec<u8>) {
    loop {
        let byte = (len & 0x7F) as u8;
        len >>= 7;
        if len == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// The string value that follows `key` (which ends with the opening quote).
fn json_string<'a>(record: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let start = find(record, key)? + key.len();
    let len = record[start..].iter().position(|&b| b == b'"')?;
    Some(&record[start..start + len])
}

fn parse_json(record: &[u8]) -> Message<'_> {
    let Some(at) = find(record, b"\"type\":") else {
        return Message::Malformed;
    };
    match record.get(at + 7) {
        Some(b'3') => match json_string(record, b"\"invocationId\":\"") {
            Some(id) => Message::Completion {
                id,
                result: json_string(record, b"\"result\":\""),
                error: find(record, b"\"error\":").is_some(),
            },
            None => Message::Malformed,
        },
        Some(b'1') => match json_string(record, b"\"target\":\"") {
            Some(target) => Message::Invocation {
                target,
                arg: json_string(record, b"\"arguments\":[\""),
            },
            None => Message::Malformed,
        },
        Some(b'6') => Message::Ping,
        Some(b'7') => Message::Close,
        Some(digit) if digit.is_ascii_digit() => Message::Other(digit - b'0'),
        _ => Message::Malformed,
    }
}

/// Reads a str (Some) or nil (None) and advances `rest`; other values fail.
fn read_str_or_nil<'a>(rest: &mut &'a [u8]) -> Option<Option<&'a [u8]>> {
    if rest.first() == Some(&0xC0) {
        *rest = &rest[1..];
        return Some(None);
    }
    let (value, tail) = rmp::decode::read_str_from_slice(*rest).ok()?;
    *rest = tail;
    Some(Some(value.as_bytes()))
}

fn parse_msgpack(record: &[u8]) -> Option<Message<'_>> {
    let mut rest = record;
    let _len = rmp::decode::read_array_len(&mut rest).ok()?;
    let kind: u8 = rmp::decode::read_int(&mut rest).ok()?;
    if !matches!(kind, 1 | 3) {
        return Some(match kind {
            6 => Message::Ping,
            7 => Message::Close,
            other => Message::Other(other),
        });
    }
    let headers = rmp::decode::read_map_len(&mut rest).ok()?;
    for _ in 0..headers * 2 {
        read_str_or_nil(&mut rest)?;
    }
    let id = read_str_or_nil(&mut rest)?;
    if kind == 3 {
        let result_kind: u8 = rmp::decode::read_int(&mut rest).ok()?;
        let result = if result_kind == 1 {
            None
        } else {
            read_str_or_nil(&mut rest).flatten()
        };
        return Some(Message::Completion {
            id: id?,
            result,
            error: result_kind == 1,
        });
    }
    let target = read_str_or_nil(&mut rest)??;
    let args = rmp::decode::read_array_len(&mut rest).ok()?;
    let arg = if args > 0 {
        read_str_or_nil(&mut rest).flatten()
    } else {
        None
    };
    Some(Message::Invocation { target, arg })
}

/// Width of the decimal invocation ids of templates.
pub const ID_WIDTH: usize = 10;

/// A whole client frame holding one blocking Invocation with one string
/// argument, pre-encoded once; the id and argument bytes are patched in place.
/// (Socket.IO's ack ids are the same, built by
/// [`crate::socketio::event_template`].)
#[derive(Debug, Clone)]
pub struct CallTemplate {
    frame: Vec<u8>,
    id_at: usize,
    arg_at: usize,
    arg_len: usize,
    /// Added to every id written: Socket.IO's ack ids are numbers, which a
    /// server reads and writes back without leading zeros.
    id_base: u64,
}

/// Writes `value` as zero-padded decimal filling `out`.
pub fn write_digits(out: &mut [u8], mut value: u64) {
    for byte in out.iter_mut().rev() {
        *byte = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// Reads the decimal number in `digits` (`None` if any byte is not a digit).
pub fn read_digits(digits: &[u8]) -> Option<u64> {
    digits.iter().try_fold(0u64, |value, &byte| {
        byte.is_ascii_digit()
            .then(|| value.wrapping_mul(10) + u64::from(byte - b'0'))
    })
}

impl CallTemplate {
    /// A frame invoking `target(arg)` with a [`ID_WIDTH`]-digit id. `arg` must
    /// be plain ASCII with no quote or backslash.
    pub fn new(protocol: Protocol, target: &str, arg: &str) -> Self {
        let id = "0".repeat(ID_WIDTH);
        let mut record = Vec::new();
        let (id_at, arg_at);
        match protocol {
            Protocol::Json => {
                record.extend_from_slice(b"{\"type\":1,\"invocationId\":\"");
                id_at = record.len();
                record.extend_from_slice(id.as_bytes());
                record.extend_from_slice(b"\",\"target\":\"");
                record.extend_from_slice(target.as_bytes());
                record.extend_from_slice(b"\",\"arguments\":[\"");
                arg_at = record.len();
                record.extend_from_slice(arg.as_bytes());
                record.extend_from_slice(b"\"]}");
                record.push(RS);
            }
            Protocol::MessagePack => {
                let mut body = Vec::new();
                let _ = rmp::encode::write_array_len(&mut body, 5);
                let _ = rmp::encode::write_pfix(&mut body, 1);
                let _ = rmp::encode::write_map_len(&mut body, 0);
                let _ = rmp::encode::write_str_len(&mut body, ID_WIDTH as u32);
                let body_id_at = body.len();
                body.extend_from_slice(id.as_bytes());
                let _ = rmp::encode::write_str(&mut body, target);
                let _ = rmp::encode::write_array_len(&mut body, 1);
                let _ = rmp::encode::write_str_len(&mut body, arg.len() as u32);
                let body_arg_at = body.len();
                body.extend_from_slice(arg.as_bytes());
                write_varint(body.len(), &mut record);
                id_at = record.len() + body_id_at;
                arg_at = record.len() + body_arg_at;
                record.extend_from_slice(&body);
            }
        }
        Self::from_record(protocol.opcode(), &record, id_at, (arg_at, arg.len()), 0)
    }

    /// A frame of opcode `opcode` holding `record`, whose [`ID_WIDTH`]-digit
    /// id starts at `id_at` and whose argument is the `(start, length)` range
    /// `arg`; `id_base` is added to every id [`CallTemplate::set_id`] writes.
    pub fn from_record(
        opcode: u8,
        record: &[u8],
        id_at: usize,
        arg: (usize, usize),
        id_base: u64,
    ) -> Self {
        let mut frame = Vec::new();
        let start = encode_frame(opcode, record, &mut frame);
        Self {
            frame,
            id_at: start + id_at,
            arg_at: start + arg.0,
            arg_len: arg.1,
            id_base,
        }
    }

    /// Sets the invocation id to `id` (decimal, zero-padded; plus the
    /// template's base, if any).
    pub fn set_id(&mut self, id: u64) {
        write_digits(
            &mut self.frame[self.id_at..self.id_at + ID_WIDTH],
            self.id_base + id,
        );
    }

    /// The current invocation id.
    pub fn id(&self) -> &[u8] {
        &self.frame[self.id_at..self.id_at + ID_WIDTH]
    }

    /// The argument bytes (same length as given to `new`).
    pub fn arg(&self) -> &[u8] {
        &self.frame[self.arg_at..self.arg_at + self.arg_len]
    }

    /// The argument bytes, to patch (keep them ASCII, no quote or backslash).
    pub fn arg_mut(&mut self) -> &mut [u8] {
        &mut self.frame[self.arg_at..self.arg_at + self.arg_len]
    }

    /// The whole frame, ready to write.
    pub fn frame(&self) -> &[u8] {
        &self.frame
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record_of(template: &CallTemplate) -> &[u8] {
        // Zero-key masked client frame with a short payload: 6 header bytes.
        &template.frame()[6..]
    }

    #[test]
    fn json_template_is_patched_in_place() {
        let mut template = CallTemplate::new(Protocol::Json, "Echo", "abcd");
        template.set_id(42);
        template.arg_mut().copy_from_slice(b"wxyz");
        assert_eq!(
            record_of(&template),
            b"{\"type\":1,\"invocationId\":\"0000000042\",\"target\":\"Echo\",\"arguments\":[\"wxyz\"]}\x1e"
        );
        let records: Vec<_> = Protocol::Json.records(record_of(&template)).collect();
        assert_eq!(
            Protocol::Json.parse(records[0]),
            Message::Invocation {
                target: b"Echo",
                arg: Some(b"wxyz")
            }
        );
    }

    #[test]
    fn msgpack_template_is_patched_in_place() {
        let mut template = CallTemplate::new(Protocol::MessagePack, "Echo", &"a".repeat(32));
        template.set_id(7);
        assert_eq!(template.id(), b"0000000007");
        let records: Vec<_> = Protocol::MessagePack
            .records(record_of(&template))
            .collect();
        assert_eq!(records.len(), 1);
        assert_eq!(
            Protocol::MessagePack.parse(records[0]),
            Message::Invocation {
                target: b"Echo",
                arg: Some("a".repeat(32).as_bytes())
            }
        );
    }

    #[test]
    fn reads_completions_and_pings() {
        let json = b"{\"type\":3,\"invocationId\":\"12\",\"result\":\"hi\"}\x1e{\"type\":6}\x1e{\"type\":3,\"invocationId\":\"13\",\"error\":\"no\"}\x1e";
        let messages: Vec<_> = Protocol::Json
            .records(json)
            .map(|record| Protocol::Json.parse(record))
            .collect();
        assert_eq!(
            messages,
            [
                Message::Completion {
                    id: b"12",
                    result: Some(b"hi"),
                    error: false
                },
                Message::Ping,
                Message::Completion {
                    id: b"13",
                    result: None,
                    error: true
                },
            ]
        );
        // [3, {}, "12", 3, "hi"], [6], [3, {}, "13", 3, nil]
        let msgpack = [
            10, 0x95, 3, 0x80, 0xA2, b'1', b'2', 3, 0xA2, b'h', b'i', 2, 0x91, 6, 8, 0x95, 3, 0x80,
            0xA2, b'1', b'3', 3, 0xC0,
        ];
        let messages: Vec<_> = Protocol::MessagePack
            .records(&msgpack)
            .map(|record| Protocol::MessagePack.parse(record))
            .collect();
        assert_eq!(
            messages,
            [
                Message::Completion {
                    id: b"12",
                    result: Some(b"hi"),
                    error: false
                },
                Message::Ping,
                Message::Completion {
                    id: b"13",
                    result: None,
                    error: false
                },
            ]
        );
    }

    #[test]
    fn digits_round_trip() {
        let mut out = [0u8; 10];
        write_digits(&mut out, 1_234_567);
        assert_eq!(&out, b"0001234567");
        assert_eq!(read_digits(&out), Some(1_234_567));
        assert_eq!(read_digits(b"12a"), None);
    }
}
