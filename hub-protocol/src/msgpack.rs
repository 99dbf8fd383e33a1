//! The `messagepack` hub protocol: each message is a MessagePack array behind a
//! varint length prefix (ASP.NET's `MessagePackHubProtocol`).

use std::borrow::Cow;

use bytes::Bytes;
use rmp::Marker;
use serde::Serialize;

use crate::error::{EncodeError, ProtocolError};
use crate::message::{
    CallKind, CloseMessage, CompletionMessage, CompletionOutcome, EncodedValue, Headers,
    HubMessage, InvocationMessage, StreamItemMessage,
};
use crate::reader::varint;

/// Nesting accepted inside one value (arguments, items, headers).
const MAX_DEPTH: usize = 64;

fn malformed(what: impl std::fmt::Display) -> ProtocolError {
    ProtocolError::Malformed(what.to_string())
}

/// Reads MessagePack values off a borrowed buffer.
struct Cursor<'a> {
    rest: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn array_len(&mut self) -> Result<usize, ProtocolError> {
        rmp::decode::read_array_len(&mut self.rest)
            .map(|len| len as usize)
            .map_err(|e| malformed(format!("expected an array: {e}")))
    }

    fn uint(&mut self, what: &str) -> Result<u64, ProtocolError> {
        rmp::decode::read_int(&mut self.rest).map_err(|e| malformed(format!("{what}: {e}")))
    }

    fn is_nil(&self) -> bool {
        self.rest.first() == Some(&0xc0)
    }

    fn str(&mut self, what: &str) -> Result<&'a str, ProtocolError> {
        let (text, rest) = rmp::decode::read_str_from_slice(self.rest)
            .map_err(|e| malformed(format!("{what}: expected a string: {e}")))?;
        self.rest = rest;
        Ok(text)
    }

    fn nullable_str(&mut self, what: &str) -> Result<Option<&'a str>, ProtocolError> {
        if self.is_nil() {
            self.rest = &self.rest[1..];
            Ok(None)
        } else {
            self.str(what).map(Some)
        }
    }

    fn bool(&mut self, what: &str) -> Result<bool, ProtocolError> {
        rmp::decode::read_bool(&mut self.rest).map_err(|e| malformed(format!("{what}: {e}")))
    }

    /// One whole value, as the bytes that encode it.
    fn value(&mut self) -> Result<&'a [u8], ProtocolError> {
        let start = self.rest;
        rmpv::decode::read_value_ref_with_max_depth(&mut self.rest, MAX_DEPTH)
            .map_err(|e| malformed(format!("invalid value: {e}")))?;
        Ok(&start[..start.len() - self.rest.len()])
    }

    /// Reads the headers map: string keys and values, as ASP.NET requires.
    fn headers(&mut self) -> Result<Headers<'a>, ProtocolError> {
        let len = rmp::decode::read_map_len(&mut self.rest)
            .map_err(|e| malformed(format!("headers: expected a map: {e}")))?;
        // Each pair takes at least two bytes: no capacity beyond what the message holds.
        let mut headers = Vec::with_capacity((len as usize).min(self.rest.len() / 2));
        for _ in 0..len {
            let name = self.str("header name")?;
            let value = self.str("header value")?;
            headers.push((Cow::Borrowed(name), Cow::Borrowed(value)));
        }
        Ok(headers)
    }

    /// Skips the headers map of messages whose headers nobody reads.
    fn skip_headers(&mut self) -> Result<(), ProtocolError> {
        match self.rest.first().map(|&byte| Marker::from_u8(byte)) {
            Some(Marker::FixMap(_) | Marker::Map16 | Marker::Map32) => self.value().map(|_| ()),
            _ => Err(malformed("headers: expected a map")),
        }
    }
}

pub(super) fn parse(body: &[u8]) -> Result<HubMessage<'_>, ProtocolError> {
    let mut cursor = Cursor { rest: body };
    let len = cursor.array_len()?;
    if len == 0 {
        return Err(malformed("empty message array"));
    }
    let kind = cursor.uint("message type")?;
    let need = |min: usize| {
        if len < min {
            Err(malformed(format!(
                "message type {kind} needs {min} elements, got {len}"
            )))
        } else {
            Ok(())
        }
    };
    let message = match kind {
        1 | 4 => {
            need(5)?;
            let headers = cursor.headers()?;
            let invocation_id = cursor.nullable_str("invocation id")?.map(Cow::Borrowed);
            let target = Cow::Borrowed(cursor.str("target")?);
            let count = cursor.array_len()?;
            let mut arguments = Vec::with_capacity(count.min(16));
            for _ in 0..count {
                arguments.push(EncodedValue::msgpack(cursor.value()?));
            }
            let mut stream_ids = Vec::new();
            if len >= 6 {
                let count = cursor.array_len()?;
                for _ in 0..count {
                    stream_ids.push(Cow::Borrowed(cursor.str("stream id")?));
                }
            }
            let invocation = InvocationMessage {
                invocation_id,
                target,
                arguments,
                stream_ids,
                headers,
            };
            if kind == 1 {
                HubMessage::Invocation(invocation)
            } else if invocation.invocation_id.is_none() {
                return Err(ProtocolError::MissingProperty("invocationId"));
            } else {
                HubMessage::StreamInvocation(invocation)
            }
        }
        2 => {
            need(4)?;
            cursor.skip_headers()?;
            HubMessage::StreamItem(StreamItemMessage {
                invocation_id: Cow::Borrowed(cursor.str("invocation id")?),
                item: EncodedValue::msgpack(cursor.value()?),
            })
        }
        3 => {
            need(4)?;
            cursor.skip_headers()?;
            let invocation_id = Cow::Borrowed(cursor.str("invocation id")?);
            let outcome = match cursor.uint("result kind")? {
                1 if len >= 5 => CompletionOutcome::Error(Cow::Borrowed(cursor.str("error")?)),
                2 => CompletionOutcome::Empty,
                3 if len >= 5 => CompletionOutcome::Result(EncodedValue::msgpack(cursor.value()?)),
                other => return Err(malformed(format!("invalid completion result kind {other}"))),
            };
            HubMessage::Completion(CompletionMessage {
                invocation_id,
                outcome,
            })
        }
        5 => {
            need(3)?;
            cursor.skip_headers()?;
            HubMessage::CancelInvocation {
                invocation_id: Cow::Borrowed(cursor.str("invocation id")?),
            }
        }
        6 => HubMessage::Ping,
        7 => {
            need(2)?;
            let error = cursor.nullable_str("error")?.map(str::to_owned);
            let allow_reconnect = if len >= 3 {
                cursor.bool("allow reconnect")?
            } else {
                false
            };
            HubMessage::Close(CloseMessage {
                error,
                allow_reconnect,
            })
        }
        8 => {
            need(2)?;
            HubMessage::Ack {
                sequence_id: cursor.uint("sequence id")?,
            }
        }
        9 => {
            need(2)?;
            HubMessage::Sequence {
                sequence_id: cursor.uint("sequence id")?,
            }
        }
        other => return Err(ProtocolError::UnknownMessageType(other)),
    };
    Ok(message)
}

/// A message under construction: 5 bytes reserved for the length prefix, then
/// the array. The prefix is written right-aligned, so no bytes move.
struct Writer(Vec<u8>);

const PREFIX_ROOM: usize = 5;

impl Writer {
    fn new(elements: u32, kind: u8, capacity: usize) -> Self {
        let mut buf = crate::scratch::take(PREFIX_ROOM + capacity + 16);
        buf.resize(PREFIX_ROOM, 0);
        let mut writer = Self(buf);
        writer.array(elements);
        writer.uint(u64::from(kind));
        writer
    }

    fn array(&mut self, len: u32) {
        rmp::encode::write_array_len(&mut self.0, len).expect("writing to a Vec cannot fail");
    }

    fn uint(&mut self, value: u64) {
        rmp::encode::write_uint(&mut self.0, value).expect("writing to a Vec cannot fail");
    }

    fn empty_headers(&mut self) {
        rmp::encode::write_map_len(&mut self.0, 0).expect("writing to a Vec cannot fail");
    }

    fn str(&mut self, text: &str) {
        rmp::encode::write_str(&mut self.0, text).expect("writing to a Vec cannot fail");
    }

    fn nil(&mut self) {
        rmp::encode::write_nil(&mut self.0).expect("writing to a Vec cannot fail");
    }

    fn bool(&mut self, value: bool) {
        rmp::encode::write_bool(&mut self.0, value).expect("writing to a Vec cannot fail");
    }

    /// A serde value; structs become maps with their field names, as JS clients expect.
    fn value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        let mut serializer = rmp_serde::Serializer::new(&mut self.0).with_struct_map();
        value
            .serialize(&mut serializer)
            .map_err(|e| EncodeError(e.to_string()))
    }

    fn finish(self) -> Bytes {
        let mut buf = self.0;
        let mut prefix = [0u8; PREFIX_ROOM];
        let prefix = varint(buf.len() - PREFIX_ROOM, &mut prefix);
        let start = PREFIX_ROOM - prefix.len();
        buf[start..PREFIX_ROOM].copy_from_slice(prefix);
        crate::scratch::finish(buf, start)
    }
}

pub(super) fn encode_invocation<A: Serialize + ?Sized>(
    invocation_id: Option<&str>,
    target: &str,
    arguments: &A,
) -> Result<Bytes, EncodeError> {
    encode_call(CallKind::Invocation, invocation_id, target, arguments, &[])
}

pub(super) fn encode_call<A: Serialize + ?Sized>(
    kind: CallKind,
    invocation_id: Option<&str>,
    target: &str,
    arguments: &A,
    stream_ids: &[&str],
) -> Result<Bytes, EncodeError> {
    let mut writer = Writer::new(6, kind.message_type(), target.len() + 32);
    writer.empty_headers();
    match invocation_id {
        Some(id) => writer.str(id),
        None => writer.nil(),
    }
    writer.str(target);
    writer.value(arguments)?;
    writer.array(u32::try_from(stream_ids.len()).unwrap_or(u32::MAX));
    for id in stream_ids {
        writer.str(id);
    }
    Ok(writer.finish())
}

pub(super) fn encode_cancel_invocation(invocation_id: &str) -> Bytes {
    let mut writer = Writer::new(3, 5, invocation_id.len() + 8);
    writer.empty_headers();
    writer.str(invocation_id);
    writer.finish()
}

/// An Invocation whose arguments array is already encoded.
pub(super) fn encode_invocation_raw(
    invocation_id: Option<&str>,
    target: &str,
    arguments: &[u8],
) -> Bytes {
    let mut writer = Writer::new(6, 1, target.len() + arguments.len() + 32);
    writer.empty_headers();
    match invocation_id {
        Some(id) => writer.str(id),
        None => writer.nil(),
    }
    writer.str(target);
    writer.0.extend_from_slice(arguments);
    writer.array(0);
    writer.finish()
}

pub(super) fn encode_value<T: Serialize + ?Sized>(value: &T) -> Result<Bytes, EncodeError> {
    let mut writer = Vec::with_capacity(64);
    let mut serializer = rmp_serde::Serializer::new(&mut writer).with_struct_map();
    value
        .serialize(&mut serializer)
        .map_err(|e| EncodeError(e.to_string()))?;
    Ok(Bytes::from(writer))
}

pub(super) fn encode_completion_result<T: Serialize + ?Sized>(
    invocation_id: &str,
    result: &T,
) -> Result<Bytes, EncodeError> {
    let mut writer = Writer::new(5, 3, invocation_id.len() + 16);
    writer.empty_headers();
    writer.str(invocation_id);
    writer.uint(3);
    writer.value(result)?;
    Ok(writer.finish())
}

pub(super) fn encode_completion_error(invocation_id: &str, error: &str) -> Bytes {
    let mut writer = Writer::new(5, 3, invocation_id.len() + error.len() + 16);
    writer.empty_headers();
    writer.str(invocation_id);
    writer.uint(1);
    writer.str(error);
    writer.finish()
}

pub(super) fn encode_completion_empty(invocation_id: &str) -> Bytes {
    let mut writer = Writer::new(4, 3, invocation_id.len() + 8);
    writer.empty_headers();
    writer.str(invocation_id);
    writer.uint(2);
    writer.finish()
}

pub(super) fn encode_stream_item<T: Serialize + ?Sized>(
    invocation_id: &str,
    item: &T,
) -> Result<Bytes, EncodeError> {
    let mut writer = Writer::new(4, 2, invocation_id.len() + 16);
    writer.empty_headers();
    writer.str(invocation_id);
    writer.value(item)?;
    Ok(writer.finish())
}

pub(super) fn encode_close(error: Option<&str>, allow_reconnect: bool) -> Bytes {
    let mut writer = Writer::new(3, 7, error.map_or(0, str::len) + 8);
    match error {
        Some(error) => writer.str(error),
        None => writer.nil(),
    }
    writer.bool(allow_reconnect);
    writer.finish()
}

pub(super) fn encode_sequence_message(kind: u8, sequence_id: u64) -> Bytes {
    let mut writer = Writer::new(2, kind, 9);
    writer.uint(sequence_id);
    writer.finish()
}

pub(super) fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    rmp_serde::from_slice(bytes).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::read_varint;

    /// The body of a frame (checks the prefix).
    fn body(frame: &[u8]) -> &[u8] {
        let (len, prefix) = read_varint(frame).unwrap().unwrap();
        assert_eq!(frame.len(), prefix + len);
        &frame[prefix..]
    }

    #[test]
    fn parses_the_js_clients_five_element_invocation() {
        // From the protocol reference: non-blocking invoke of method(42).
        let frame = [
            0x0D, 0x95, 0x01, 0x80, 0xC0, 0xA6, b'm', b'e', b't', b'h', b'o', b'd', 0x91, 0x2A,
        ];
        let HubMessage::Invocation(invocation) = parse(body(&frame)).unwrap() else {
            panic!("not an invocation")
        };
        assert_eq!(invocation.invocation_id, None);
        assert_eq!(invocation.target, "method");
        assert_eq!(invocation.arguments.len(), 1);
        assert_eq!(invocation.arguments[0].decode::<i32>().unwrap(), 42);
        assert!(invocation.stream_ids.is_empty());
    }

    #[test]
    fn parses_six_element_invocations_with_stream_ids_and_headers() {
        let mut body = Vec::new();
        rmp::encode::write_array_len(&mut body, 6).unwrap();
        rmp::encode::write_uint(&mut body, 1).unwrap();
        rmp::encode::write_map_len(&mut body, 1).unwrap();
        rmp::encode::write_str(&mut body, "key").unwrap();
        rmp::encode::write_str(&mut body, "value").unwrap();
        rmp::encode::write_str(&mut body, "7").unwrap();
        rmp::encode::write_str(&mut body, "Sum").unwrap();
        rmp::encode::write_array_len(&mut body, 0).unwrap();
        rmp::encode::write_array_len(&mut body, 1).unwrap();
        rmp::encode::write_str(&mut body, "8").unwrap();
        let HubMessage::Invocation(invocation) = parse(&body).unwrap() else {
            panic!("not an invocation")
        };
        assert_eq!(invocation.invocation_id.as_deref(), Some("7"));
        assert_eq!(invocation.stream_ids, ["8"]);
        assert_eq!(invocation.header("key"), Some("value"));
    }

    #[test]
    fn refuses_headers_that_are_not_strings() {
        let mut body = Vec::new();
        rmp::encode::write_array_len(&mut body, 5).unwrap();
        rmp::encode::write_uint(&mut body, 1).unwrap();
        rmp::encode::write_map_len(&mut body, 1).unwrap();
        rmp::encode::write_str(&mut body, "key").unwrap();
        rmp::encode::write_uint(&mut body, 1).unwrap();
        rmp::encode::write_nil(&mut body).unwrap();
        rmp::encode::write_str(&mut body, "Sum").unwrap();
        rmp::encode::write_array_len(&mut body, 0).unwrap();
        let error = parse(&body).unwrap_err();
        assert!(error.to_string().contains("header value"), "{error}");
        // A map claiming more pairs than the message holds.
        let truncated = [0x95, 0x01, 0xDF, 0xFF, 0xFF, 0xFF, 0xFF];
        assert!(matches!(
            parse(&truncated),
            Err(ProtocolError::Malformed(_))
        ));
    }

    #[test]
    fn encodes_the_ping_as_asp_net_does() {
        assert_eq!(
            &crate::protocol::Protocol::MessagePack.encode_ping()[..],
            [0x02, 0x91, 0x06]
        );
    }

    #[test]
    fn completions_round_trip_with_their_kinds() {
        let void = encode_completion_result("1", &()).unwrap();
        let HubMessage::Completion(completion) = parse(body(&void)).unwrap() else {
            panic!()
        };
        assert!(matches!(completion.outcome, CompletionOutcome::Result(_)));
        let empty = encode_completion_empty("1");
        let HubMessage::Completion(completion) = parse(body(&empty)).unwrap() else {
            panic!()
        };
        assert!(matches!(completion.outcome, CompletionOutcome::Empty));
        let error = encode_completion_error("1", "bad");
        let HubMessage::Completion(completion) = parse(body(&error)).unwrap() else {
            panic!()
        };
        assert!(matches!(completion.outcome, CompletionOutcome::Error(e) if e == "bad"));
    }

    #[test]
    fn writes_multi_byte_prefixes_for_large_messages() {
        let text = "x".repeat(300);
        let frame = encode_stream_item("1", &text).unwrap();
        assert_eq!(frame[0] & 0x80, 0x80, "a two-byte prefix");
        let HubMessage::StreamItem(item) = parse(body(&frame)).unwrap() else {
            panic!()
        };
        assert_eq!(item.item.decode::<String>().unwrap(), text);
    }

    #[test]
    fn structs_encode_as_maps() {
        #[derive(Serialize)]
        struct Point {
            x: i32,
        }
        let frame = encode_stream_item("1", &Point { x: 3 }).unwrap();
        let body = body(&frame);
        // [2, {}, "1", {"x": 3}]
        assert_eq!(&body[body.len() - 4..], [0x81, 0xA1, b'x', 0x03]);
    }

    #[test]
    fn closes_and_sequences() {
        let close = encode_close(Some("bye"), true);
        let HubMessage::Close(close) = parse(body(&close)).unwrap() else {
            panic!()
        };
        assert_eq!(close.error.as_deref(), Some("bye"));
        assert!(close.allow_reconnect);
        let ack = encode_sequence_message(8, 300);
        assert!(matches!(
            parse(body(&ack)).unwrap(),
            HubMessage::Ack { sequence_id: 300 }
        ));
    }

    #[test]
    fn rejects_bad_messages() {
        for body in [
            &[][..],
            &[0x90],
            &[0x91, 0x63],
            &[0x92, 0x01, 0x80],
            &[0x95, 0x01, 0x01, 0xC0, 0xA1, b'x', 0x90],
            &[0x95, 0x01, 0x80, 0xC0, 0x01, 0x90],
            &[0x94, 0x03, 0x80, 0xA1, b'1', 0x07],
            // Deeply nested argument.
            &[
                [0x95, 0x01, 0x80, 0xC0, 0xA1, b'x', 0x91].as_slice(),
                &[0x91; 200],
            ]
            .concat(),
        ] {
            assert!(parse(body).is_err(), "{body:x?}");
        }
    }
}
