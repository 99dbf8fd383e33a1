//! The `json` hub protocol: one JSON object per message, each ended by `0x1E`.

use std::borrow::Cow;

use bytes::Bytes;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

use crate::error::{EncodeError, ProtocolError};
use crate::message::{
    CallKind, CloseMessage, CompletionMessage, CompletionOutcome, EncodedValue, Headers,
    HubMessage, InvocationMessage, StreamItemMessage,
};
use crate::reader::RECORD_SEPARATOR;

/// Every field any message type may carry; unknown fields are ignored.
#[derive(Deserialize)]
struct JsonMessage<'a> {
    #[serde(rename = "type")]
    kind: Option<u64>,
    #[serde(rename = "invocationId", borrow, default)]
    invocation_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    target: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "arguments")]
    arguments: Option<Vec<EncodedValue<'a>>>,
    #[serde(rename = "streamIds", borrow, default)]
    stream_ids: Option<Vec<Cow<'a, str>>>,
    #[serde(borrow, default, deserialize_with = "present")]
    item: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    result: Option<&'a RawValue>,
    #[serde(borrow, default)]
    error: Option<Cow<'a, str>>,
    #[serde(rename = "allowReconnect", default)]
    allow_reconnect: Option<bool>,
    #[serde(rename = "sequenceId", default)]
    sequence_id: Option<u64>,
    #[serde(borrow, default, deserialize_with = "headers")]
    headers: Option<Headers<'a>>,
}

/// Keeps an explicit `null` as `Some(null)`, so `"result":null` differs from no result.
fn required_id(id: Option<Cow<'_, str>>) -> Result<Cow<'_, str>, ProtocolError> {
    id.ok_or(ProtocolError::MissingProperty("invocationId"))
}

fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(deserializer).map(Some)
}

/// Reads the `headers` object: string values only, as ASP.NET requires;
/// `null` reads as no headers.
fn headers<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Headers<'de>>, D::Error> {
    struct HeaderMap;

    impl<'de> serde::de::Visitor<'de> for HeaderMap {
        type Value = Option<Headers<'de>>;

        fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            formatter.write_str("an object of string headers")
        }

        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_map<M: serde::de::MapAccess<'de>>(
            self,
            mut map: M,
        ) -> Result<Self::Value, M::Error> {
            let mut headers = Vec::with_capacity(map.size_hint().unwrap_or(0).min(8));
            while let Some(name) = map.next_key::<Cow<'de, str>>()? {
                let value = map.next_value::<HeaderValue<'de>>()?;
                headers.push((name, value.0));
            }
            Ok(Some(headers))
        }
    }

    /// A header's value, refused unless it is a string.
    struct HeaderValue<'a>(Cow<'a, str>);

    impl<'de> Deserialize<'de> for HeaderValue<'de> {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct Text;

            impl<'de> serde::de::Visitor<'de> for Text {
                type Value = Cow<'de, str>;

                fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    formatter.write_str("a header value of type String")
                }

                fn visit_borrowed_str<E: serde::de::Error>(
                    self,
                    text: &'de str,
                ) -> Result<Self::Value, E> {
                    Ok(Cow::Borrowed(text))
                }

                fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Self::Value, E> {
                    Ok(Cow::Owned(text.to_owned()))
                }
            }

            deserializer.deserialize_str(Text).map(HeaderValue)
        }
    }

    deserializer.deserialize_any(HeaderMap)
}

/// Reads the `arguments` array as encoded values, straight into their vector.
fn arguments<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<EncodedValue<'de>>>, D::Error> {
    struct Arguments;

    impl<'de> serde::de::Visitor<'de> for Arguments {
        type Value = Vec<EncodedValue<'de>>;

        fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            formatter.write_str("an array of arguments")
        }

        fn visit_seq<S: serde::de::SeqAccess<'de>>(
            self,
            mut seq: S,
        ) -> Result<Self::Value, S::Error> {
            let mut arguments = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(16));
            while let Some(raw) = seq.next_element::<&'de RawValue>()? {
                arguments.push(EncodedValue::json(raw));
            }
            Ok(arguments)
        }
    }

    /// `null` reads as no arguments (reported as missing), like an absent field.
    struct MaybeArguments;

    impl<'de> serde::de::Visitor<'de> for MaybeArguments {
        type Value = Option<Vec<EncodedValue<'de>>>;

        fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            formatter.write_str("an array of arguments")
        }

        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(
            self,
            deserializer: D,
        ) -> Result<Self::Value, D::Error> {
            deserializer.deserialize_seq(Arguments).map(Some)
        }
    }

    deserializer.deserialize_option(MaybeArguments)
}

/// An Invocation in one of the two shapes the official clients write, read
/// without serde's key matching; serde reads only the arguments array:
/// - the JS client (`JSON.stringify` of `{arguments, invocationId, target,
///   type}`): `{"arguments":[...],"invocationId":"<id>","target":"<name>","type":1}`;
/// - the .NET and Java clients: `{"type":1,"invocationId":"<id>","target":"<name>","arguments":[...]}`;
///
/// without `invocationId` for fire-and-forget calls, and without whitespace.
/// `None` for any other shape (streamIds, headers, whitespace, escapes or
/// non-ASCII in the id or target, invalid arguments...), which the general
/// parser then reads. The two agree on every record this accepts: a record
/// that splits this way around a valid array is valid JSON with exactly
/// these keys.
fn parse_client_invocation(record: &[u8]) -> Option<InvocationMessage<'_>> {
    let (invocation_id, target, array) = if let Some(rest) = record.strip_prefix(b"{\"arguments\":")
    {
        let rest = rest.strip_suffix(b",\"type\":1}")?;
        let (rest, target) = strip_plain_field(rest, b",\"target\":\"")?;
        match strip_plain_field(rest, b",\"invocationId\":\"") {
            Some((array, id)) => (Some(id), target, array),
            None => (None, target, rest),
        }
    } else {
        let rest = record.strip_prefix(b"{\"type\":1,")?;
        let (invocation_id, rest) = match take_plain_field(rest, b"\"invocationId\":\"") {
            Some((id, rest)) => (Some(id), rest.strip_prefix(b",")?),
            None => (None, rest),
        };
        let (target, rest) = take_plain_field(rest, b"\"target\":\"")?;
        let array = rest.strip_prefix(b",\"arguments\":")?.strip_suffix(b"}")?;
        (invocation_id, target, array)
    };
    if array.first() != Some(&b'[') {
        return None;
    }
    let mut deserializer = serde_json::Deserializer::from_slice(array);
    let arguments = arguments(&mut deserializer).ok()??;
    deserializer.end().ok()?;
    Some(InvocationMessage {
        invocation_id: invocation_id.map(Cow::Borrowed),
        target: Cow::Borrowed(target),
        arguments,
        stream_ids: Vec::new(),
        headers: Vec::new(),
    })
}

/// Whether `byte` may appear in a string value read without unescaping:
/// printable ASCII other than `"` and `\`.
fn is_plain(byte: u8) -> bool {
    (0x20..0x7f).contains(&byte) && byte != b'"' && byte != b'\\'
}

/// Splits `text` starting with `key` + `"value"` (the key including the
/// value's opening quote) into the value and what follows it, when the value
/// is plain (see [`is_plain`]).
fn take_plain_field<'a>(text: &'a [u8], key: &[u8]) -> Option<(&'a str, &'a [u8])> {
    let body = text.strip_prefix(key)?;
    let end = body.iter().position(|&byte| !is_plain(byte))?;
    let rest = body[end..].strip_prefix(b"\"")?;
    // Printable ASCII: valid UTF-8.
    let value = std::str::from_utf8(&body[..end]).ok()?;
    Some((value, rest))
}

/// Splits `text` ending with `key` + `"value"` (the key including the
/// value's opening quote) into what comes before and the value, when the
/// value is plain (see [`is_plain`]: then its opening quote is the last quote
/// before it).
fn strip_plain_field<'a>(text: &'a [u8], key: &[u8]) -> Option<(&'a [u8], &'a str)> {
    let body = text.strip_suffix(b"\"")?;
    let start = body
        .iter()
        .rposition(|&byte| !is_plain(byte))
        .map_or(0, |at| at + 1);
    let before = body[..start].strip_suffix(key)?;
    // Printable ASCII: valid UTF-8.
    let value = std::str::from_utf8(&body[start..]).ok()?;
    Some((before, value))
}

/// Whether the JSON text is an object (serde would also read a struct from an array).
pub(super) fn is_object(json: &[u8]) -> bool {
    json.iter().find(|byte| !byte.is_ascii_whitespace()) == Some(&b'{')
}

pub(super) fn parse(record: &[u8]) -> Result<HubMessage<'_>, ProtocolError> {
    match parse_client_invocation(record) {
        Some(invocation) => Ok(HubMessage::Invocation(invocation)),
        None => parse_any(record),
    }
}

/// Reads any message of the protocol.
fn parse_any(record: &[u8]) -> Result<HubMessage<'_>, ProtocolError> {
    if !is_object(record) {
        return Err(ProtocolError::Malformed(
            "a message must be a JSON object".into(),
        ));
    }
    let message: JsonMessage<'_> =
        serde_json::from_slice(record).map_err(|e| ProtocolError::Malformed(e.to_string()))?;
    let kind = message.kind.ok_or(ProtocolError::MissingProperty("type"))?;
    let invocation_id = message.invocation_id;
    Ok(match kind {
        1 | 4 => {
            let invocation = InvocationMessage {
                invocation_id,
                target: message
                    .target
                    .ok_or(ProtocolError::MissingProperty("target"))?,
                arguments: message
                    .arguments
                    .ok_or(ProtocolError::MissingProperty("arguments"))?,
                stream_ids: message.stream_ids.unwrap_or_default(),
                headers: message.headers.unwrap_or_default(),
            };
            if kind == 1 {
                HubMessage::Invocation(invocation)
            } else {
                if invocation.invocation_id.is_none() {
                    return Err(ProtocolError::MissingProperty("invocationId"));
                }
                HubMessage::StreamInvocation(invocation)
            }
        }
        2 => HubMessage::StreamItem(StreamItemMessage {
            invocation_id: required_id(invocation_id)?,
            item: EncodedValue::json(message.item.ok_or(ProtocolError::MissingProperty("item"))?),
        }),
        3 => {
            let outcome = match (message.error, message.result) {
                (Some(_), Some(_)) => {
                    return Err(ProtocolError::Malformed(
                        "The 'error' and 'result' properties are mutually exclusive.".into(),
                    ));
                }
                (Some(error), None) => CompletionOutcome::Error(error),
                (None, Some(result)) => CompletionOutcome::Result(EncodedValue::json(result)),
                (None, None) => CompletionOutcome::Empty,
            };
            HubMessage::Completion(CompletionMessage {
                invocation_id: required_id(invocation_id)?,
                outcome,
            })
        }
        5 => HubMessage::CancelInvocation {
            invocation_id: required_id(invocation_id)?,
        },
        6 => HubMessage::Ping,
        7 => HubMessage::Close(CloseMessage {
            error: message.error.map(Cow::into_owned),
            allow_reconnect: message.allow_reconnect.unwrap_or(false),
        }),
        8 => HubMessage::Ack {
            sequence_id: message
                .sequence_id
                .ok_or(ProtocolError::MissingProperty("sequenceId"))?,
        },
        9 => HubMessage::Sequence {
            sequence_id: message
                .sequence_id
                .ok_or(ProtocolError::MissingProperty("sequenceId"))?,
        },
        other => return Err(ProtocolError::UnknownMessageType(other)),
    })
}

/// A message under construction: `{"type":N` ... `}` + RS.
struct Writer(Vec<u8>);

impl Writer {
    fn new(kind: u8, capacity: usize) -> Self {
        let mut buf = crate::scratch::take(capacity + 24);
        buf.extend_from_slice(b"{\"type\":");
        buf.push(b'0' + kind);
        Self(buf)
    }

    /// Appends `,"name":` followed by `value` as JSON.
    fn field<T: Serialize + ?Sized>(&mut self, name: &str, value: &T) -> Result<(), EncodeError> {
        self.0.push(b',');
        self.0.push(b'"');
        self.0.extend_from_slice(name.as_bytes());
        self.0.extend_from_slice(b"\":");
        serde_json::to_writer(&mut self.0, value).map_err(|e| EncodeError(e.to_string()))
    }

    /// A field whose value cannot fail to encode (strings, bools).
    fn plain_field<T: Serialize + ?Sized>(&mut self, name: &str, value: &T) {
        self.field(name, value)
            .expect("strings and booleans always encode as JSON");
    }

    fn finish(mut self) -> Bytes {
        self.0.push(b'}');
        self.0.push(RECORD_SEPARATOR);
        crate::scratch::finish(self.0, 0)
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
    let mut writer = Writer::new(kind.message_type(), target.len() + 64);
    if let Some(id) = invocation_id {
        writer.plain_field("invocationId", id);
    }
    writer.plain_field("target", target);
    writer.field("arguments", arguments)?;
    if !stream_ids.is_empty() {
        writer.plain_field("streamIds", stream_ids);
    }
    Ok(writer.finish())
}

pub(super) fn encode_cancel_invocation(invocation_id: &str) -> Bytes {
    let mut writer = Writer::new(5, invocation_id.len() + 24);
    writer.plain_field("invocationId", invocation_id);
    writer.finish()
}

/// An Invocation whose `arguments` array is already encoded.
pub(super) fn encode_invocation_raw(
    invocation_id: Option<&str>,
    target: &str,
    arguments: &[u8],
) -> Bytes {
    let mut writer = Writer::new(1, target.len() + arguments.len() + 64);
    if let Some(id) = invocation_id {
        writer.plain_field("invocationId", id);
    }
    writer.plain_field("target", target);
    writer.0.extend_from_slice(b",\"arguments\":");
    writer.0.extend_from_slice(arguments);
    writer.finish()
}

pub(super) fn encode_value<T: Serialize + ?Sized>(value: &T) -> Result<Bytes, EncodeError> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(|e| EncodeError(e.to_string()))
}

pub(super) fn encode_completion_result<T: Serialize + ?Sized>(
    invocation_id: &str,
    result: &T,
) -> Result<Bytes, EncodeError> {
    let mut writer = Writer::new(3, invocation_id.len() + 32);
    writer.plain_field("invocationId", invocation_id);
    writer.field("result", result)?;
    Ok(writer.finish())
}

pub(super) fn encode_completion_error(invocation_id: &str, error: &str) -> Bytes {
    let mut writer = Writer::new(3, invocation_id.len() + error.len() + 32);
    writer.plain_field("invocationId", invocation_id);
    writer.plain_field("error", error);
    writer.finish()
}

pub(super) fn encode_completion_empty(invocation_id: &str) -> Bytes {
    let mut writer = Writer::new(3, invocation_id.len() + 24);
    writer.plain_field("invocationId", invocation_id);
    writer.finish()
}

pub(super) fn encode_stream_item<T: Serialize + ?Sized>(
    invocation_id: &str,
    item: &T,
) -> Result<Bytes, EncodeError> {
    let mut writer = Writer::new(2, invocation_id.len() + 32);
    writer.plain_field("invocationId", invocation_id);
    writer.field("item", item)?;
    Ok(writer.finish())
}

pub(super) fn encode_sequence_message(kind: u8, sequence_id: u64) -> Bytes {
    let mut writer = Writer::new(kind, 24);
    writer.plain_field("sequenceId", &sequence_id);
    writer.finish()
}

pub(super) fn encode_close(error: Option<&str>, allow_reconnect: bool) -> Bytes {
    let mut writer = Writer::new(7, error.map_or(0, str::len) + 32);
    if let Some(error) = error {
        writer.plain_field("error", error);
    }
    if allow_reconnect {
        writer.plain_field("allowReconnect", &true);
    }
    writer.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: &Bytes) -> &str {
        std::str::from_utf8(bytes).unwrap()
    }

    /// The fast path's reading of `record`, and the general parser's, as
    /// comparable text (`None` when the fast path declines).
    fn both_readings(record: &[u8]) -> Option<(String, String)> {
        let fast = parse_client_invocation(record)?;
        let HubMessage::Invocation(general) =
            parse_any(record).expect("the general parser accepts it")
        else {
            panic!("not an invocation for the general parser")
        };
        let show = |invocation: &InvocationMessage<'_>| {
            format!(
                "{:?} {:?} {:?} {:?}",
                invocation.invocation_id,
                invocation.target,
                invocation.arguments,
                invocation.stream_ids
            )
        };
        Some((show(&fast), show(&general)))
    }

    #[test]
    fn the_client_fast_path_reads_what_the_general_parser_reads() {
        let accepted: &[&[u8]] = &[
            br#"{"arguments":["hello"],"invocationId":"0","target":"Echo","type":1}"#,
            br#"{"arguments":[],"invocationId":"12","target":"GetConnectionId","type":1}"#,
            br#"{"arguments":["ann","hi"],"target":"SendMessage","type":1}"#,
            br#"{"arguments":[1,{"a":[2,"]"]},null,"x\"y"],"invocationId":"3","target":"Add","type":1}"#,
            // A string argument that looks like the keys after it.
            br#"{"arguments":["],\"invocationId\":\"9\",\"target\":\"Evil"],"target":"Echo","type":1}"#,
            br#"{"arguments":[""],"invocationId":"","target":"","type":1}"#,
            br#"{"type":1,"invocationId":"7","target":"Echo","arguments":["hello"]}"#,
            br#"{"type":1,"target":"SendMessage","arguments":["ann",{"b":["}"]}]}"#,
            br#"{"type":1,"invocationId":"8","target":"Echo","arguments":["\"target\":\"Evil\"}"]}"#,
        ];
        for record in accepted {
            let (fast, general) = both_readings(record).unwrap_or_else(|| {
                panic!("fast path declined {}", String::from_utf8_lossy(record))
            });
            assert_eq!(fast, general, "{}", String::from_utf8_lossy(record));
        }
        let declined: &[&[u8]] = &[
            br#"{"arguments":["x"],"invocationId":"1","streamIds":["2"],"target":"Sum","type":1}"#,
            br#"{"arguments":["x"],"invocationId":"1","target":"Echo","type":4}"#,
            br#"{"type":1,"invocationId":"1","target":"Echo","arguments":["x"],"streamIds":["2"]}"#,
            br#"{"type":1,"invocationId":"1","target":"Echo","arguments":["x"]} "#,
            br#"{"type":1,"invocationId":"1","target":"Ec\"ho","arguments":["x"]}"#,
            br#"{"type":1,"invocationId":"1","invocationId":"2","target":"Echo","arguments":["x"]}"#,
            br#"{"type":4,"invocationId":"1","target":"Echo","arguments":["x"]}"#,
            br#"{"type":1,"invocationId":"1","target":"Echo","arguments":["x"}"#,
            br#"{"arguments": ["x"],"invocationId":"1","target":"Echo","type":1}"#,
            br#"{"arguments":["x"],"invocationId":"1","target":"Ec\u0068o","type":1}"#,
            r#"{"arguments":["x"],"invocationId":"1","target":"Échο","type":1}"#.as_bytes(),
            br#"{"arguments":["x"],"invocationId":1,"target":"Echo","type":1}"#,
            br#"{"arguments":{"x":1},"invocationId":"1","target":"Echo","type":1}"#,
            br#"{"arguments":["x"]],"invocationId":"1","target":"Echo","type":1}"#,
            br#"{"arguments":["x"],"headers":{},"invocationId":"1","target":"Echo","type":1}"#,
            br#"{"arguments":["x"],"target":"A","target":"Echo","type":1}"#,
        ];
        for record in declined {
            assert!(
                parse_client_invocation(record).is_none(),
                "fast path accepted {}",
                String::from_utf8_lossy(record)
            );
        }
    }

    #[test]
    fn parses_invocations_in_the_js_clients_key_order() {
        let record = br#"{"target":"Add","arguments":[40,2],"invocationId":"0","type":1}"#;
        let HubMessage::Invocation(invocation) = parse(record).unwrap() else {
            panic!("not an invocation")
        };
        assert_eq!(invocation.invocation_id.as_deref(), Some("0"));
        assert_eq!(invocation.target, "Add");
        let args: Vec<i32> = invocation
            .arguments
            .iter()
            .map(|a| a.decode().unwrap())
            .collect();
        assert_eq!(args, [40, 2]);
    }

    #[test]
    fn reads_headers_and_ignores_unknown_properties() {
        let record = br#"{"type":1,"headers":{"traceparent":"00-ab-cd-01","k\u0065y":"v"},"extra":[1,{"x":2}],"target":"Echo","arguments":["x"]}"#;
        let HubMessage::Invocation(invocation) = parse(record).unwrap() else {
            panic!("not an invocation")
        };
        assert!(invocation.invocation_id.is_none());
        assert_eq!(invocation.header("traceparent"), Some("00-ab-cd-01"));
        assert_eq!(invocation.header("key"), Some("v"));
        assert_eq!(invocation.header("Traceparent"), None);
        assert_eq!(invocation.headers.len(), 2);
    }

    #[test]
    fn null_headers_are_no_headers() {
        let record = br#"{"type":1,"headers":null,"target":"Echo","arguments":[]}"#;
        let HubMessage::Invocation(invocation) = parse(record).unwrap() else {
            panic!("not an invocation")
        };
        assert!(invocation.headers.is_empty());
    }

    #[test]
    fn refuses_headers_that_are_not_strings() {
        for record in [
            &br#"{"type":1,"headers":{"a":1},"target":"Echo","arguments":[]}"#[..],
            br#"{"type":1,"headers":{"a":{"b":"c"}},"target":"Echo","arguments":[]}"#,
            br#"{"type":1,"headers":["a"],"target":"Echo","arguments":[]}"#,
            br#"{"type":1,"headers":"a","target":"Echo","arguments":[]}"#,
        ] {
            let error = parse(record).unwrap_err();
            assert!(
                matches!(error, ProtocolError::Malformed(_)),
                "{}: {error:?}",
                String::from_utf8_lossy(record)
            );
        }
    }

    #[test]
    fn unescapes_strings() {
        let record = br#"{"type":1,"target":"Ec\u0068o","arguments":[]}"#;
        let HubMessage::Invocation(invocation) = parse(record).unwrap() else {
            panic!("not an invocation")
        };
        assert_eq!(invocation.target, "Echo");
    }

    #[test]
    fn distinguishes_null_result_from_no_result() {
        let with_null = parse(br#"{"type":3,"invocationId":"s1","result":null}"#).unwrap();
        assert!(matches!(
            with_null,
            HubMessage::Completion(CompletionMessage {
                outcome: CompletionOutcome::Result(_),
                ..
            })
        ));
        let empty = parse(br#"{"type":3,"invocationId":"s1"}"#).unwrap();
        assert!(matches!(
            empty,
            HubMessage::Completion(CompletionMessage {
                outcome: CompletionOutcome::Empty,
                ..
            })
        ));
    }

    #[test]
    fn rejects_bad_messages() {
        for record in [
            &b"not json"[..],
            br#"{"type":1,"arguments":[]}"#,
            br#"{"type":1,"target":"x"}"#,
            br#"{"type":42}"#,
            br#"{"target":"x","arguments":[]}"#,
            br#"{"type":"1"}"#,
            br#"{"type":3,"invocationId":"1","result":1,"error":"e"}"#,
            br#"{"type":2,"invocationId":"1"}"#,
            br#"{"type":1,"type":1,"target":"x","arguments":[]}"#,
            br#"[1,"0","Echo",["x"]]"#,
            b"{\"type\":1,\"target\":\"\xff\",\"arguments\":[]}",
        ] {
            assert!(
                parse(record).is_err(),
                "{}",
                String::from_utf8_lossy(record)
            );
        }
    }

    #[test]
    fn parses_control_messages() {
        assert!(matches!(parse(br#"{"type":6}"#).unwrap(), HubMessage::Ping));
        assert!(matches!(
            parse(br#"{"type":7,"error":"bye","allowReconnect":true}"#).unwrap(),
            HubMessage::Close(CloseMessage { error: Some(e), allow_reconnect: true }) if e == "bye"
        ));
        assert!(matches!(
            parse(br#"{"type":8,"sequenceId":12}"#).unwrap(),
            HubMessage::Ack { sequence_id: 12 }
        ));
    }

    #[test]
    fn encodes_messages_as_asp_net_does() {
        assert_eq!(
            text(&encode_invocation(None, "Receive", &("hi",)).unwrap()),
            "{\"type\":1,\"target\":\"Receive\",\"arguments\":[\"hi\"]}\x1e"
        );
        assert_eq!(
            text(&encode_invocation(Some("s1"), "Answer", &[(); 0]).unwrap()),
            "{\"type\":1,\"invocationId\":\"s1\",\"target\":\"Answer\",\"arguments\":[]}\x1e"
        );
        assert_eq!(
            text(&encode_completion_result("0", &()).unwrap()),
            "{\"type\":3,\"invocationId\":\"0\",\"result\":null}\x1e"
        );
        assert_eq!(
            text(&encode_completion_error("0", "a \"quoted\" error")),
            "{\"type\":3,\"invocationId\":\"0\",\"error\":\"a \\\"quoted\\\" error\"}\x1e"
        );
        assert_eq!(
            text(&encode_completion_empty("7")),
            "{\"type\":3,\"invocationId\":\"7\"}\x1e"
        );
        assert_eq!(
            text(&encode_close(
                Some("Connection closed with an error."),
                true
            )),
            "{\"type\":7,\"error\":\"Connection closed with an error.\",\"allowReconnect\":true}\x1e"
        );
        assert_eq!(text(&encode_close(None, false)), "{\"type\":7}\x1e");
    }

    #[test]
    fn encoding_round_trips_through_the_parser() {
        let bytes = encode_stream_item("3", &vec![1, 2, 3]).unwrap();
        let record = &bytes[..bytes.len() - 1];
        let HubMessage::StreamItem(item) = parse(record).unwrap() else {
            panic!("not a stream item")
        };
        assert_eq!(item.invocation_id, "3");
        assert_eq!(item.item.decode::<Vec<i32>>().unwrap(), [1, 2, 3]);
    }
}
