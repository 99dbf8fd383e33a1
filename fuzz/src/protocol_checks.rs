//! Invariant checks on the protocol code (`hub-protocol`), shared by the fuzz targets
//! (`fuzz/fuzz_targets/`) and the corpus replay test `hub-protocol/tests/fuzz_corpus.rs`,
//! which includes this file with `#[path]` so that `cargo test` re-checks every
//! corpus input on stable, without cargo-fuzz.
//!
//! Every `check_*` function takes one fuzz input and panics when an invariant
//! does not hold; inputs the server would refuse are fine, as long as it
//! refuses them cleanly.

use std::collections::HashMap;

use arbitrary::Unstructured;
use bytes::Bytes;
use hub_protocol::{
    CloseMessage, CompletionOutcome, EncodedValue, Framing, HubMessage, MessageReader, Protocol,
    ProtocolError, RECORD_SEPARATOR, TransferFormat, handshake,
};
use serde::Serialize;
use serde::de::IgnoredAny;
use serde_json::Value;
use serde_json::value::RawValue;

/// The server's default `maximum_receive_message_size` (32 KiB).
pub const MAX_MESSAGE_SIZE: usize = 32 * 1024;

/// `json_messages`: arbitrary bytes as one payload of JSON records.
pub fn check_json_messages(data: &[u8]) {
    check_payload(Protocol::Json, data);
}

/// `msgpack_messages`: arbitrary bytes as one payload of MessagePack frames.
pub fn check_msgpack_messages(data: &[u8]) {
    check_payload(Protocol::MessagePack, data);
}

fn check_payload(protocol: Protocol, data: &[u8]) {
    let mut reader = MessageReader::new(protocol.framing(), MAX_MESSAGE_SIZE);
    for record in read_payload(&mut reader, data, MAX_MESSAGE_SIZE) {
        check_record(protocol, &record);
    }
}

/// Pushes one payload and reads records until none is left (or an error), as a
/// connection does; every record must be within `limit`.
pub fn read_payload(reader: &mut MessageReader, payload: &[u8], limit: usize) -> Vec<Bytes> {
    let mut records = Vec::new();
    if reader.push(Bytes::copy_from_slice(payload)).is_err() {
        return records;
    }
    while let Ok(Some(record)) = reader.next_record() {
        assert!(
            record.len() <= limit,
            "a record of {} bytes passed the {limit}-byte limit",
            record.len()
        );
        records.push(record);
    }
    records
}

/// Parses one record. A message that parses must be of the protocol's outer
/// shape, its values must decode consistently, and the server's encoders must
/// write it back to a message that parses to the same thing.
pub fn check_record(protocol: Protocol, record: &[u8]) {
    let Ok(message) = protocol.parse(record) else {
        return;
    };
    match protocol {
        Protocol::Json => assert!(
            serde_json::from_slice::<HashMap<String, IgnoredAny>>(record).is_ok(),
            "a JSON message that is not a JSON object parsed"
        ),
        Protocol::MessagePack => assert!(
            matches!(record[0], 0x91..=0x9f | 0xdc | 0xdd),
            "a MessagePack message that is not a non-empty array parsed"
        ),
    }
    for value in values(&message) {
        check_value(protocol, value);
    }
    if let Some(frame) = reencode(protocol, &message) {
        let original = Summary::of(protocol, &message);
        assert_eq!(
            reparse(protocol, &frame),
            original,
            "re-encoding changed the message"
        );
    }
}

/// The values (arguments, stream item, result) a message carries.
fn values<'m, 'a>(message: &'m HubMessage<'a>) -> Vec<&'m EncodedValue<'a>> {
    match message {
        HubMessage::Invocation(invocation) | HubMessage::StreamInvocation(invocation) => {
            invocation.arguments.iter().collect()
        }
        HubMessage::StreamItem(item) => vec![&item.item],
        HubMessage::Completion(completion) => match &completion.outcome {
            CompletionOutcome::Result(value) => vec![value],
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// Decodes a value as the types hub methods commonly take. Whatever decodes as a
/// specific type must be the same value when decoded generically, and
/// `EncodedValue::decode` must agree with `Protocol::decode` on its bytes.
fn check_value(protocol: Protocol, value: &EncodedValue<'_>) {
    let generic = value.decode::<Value>().ok();
    assert_eq!(
        protocol.decode::<Value>(value.as_bytes()).ok(),
        generic,
        "EncodedValue::decode and Protocol::decode disagree"
    );
    // A MessagePack `bin` decodes as a String (serde reads bytes as UTF-8) but not
    // as a JSON value: compare only when both decode.
    let strict = protocol == Protocol::Json;
    let same = |what: &str, specific: Value| {
        if strict || generic.is_some() {
            assert_eq!(generic.as_ref(), Some(&specific), "decoded as {what}");
        }
    };
    if let Ok(text) = value.decode::<String>() {
        same("String", Value::String(text));
    }
    if let Ok(number) = value.decode::<i64>() {
        same("i64", Value::from(number));
    }
    if let Ok(list) = value.decode::<Vec<i32>>() {
        same("Vec<i32>", Value::from(list));
    }
    if protocol == Protocol::Json {
        let text = std::str::from_utf8(value.as_bytes()).expect("a JSON value is UTF-8");
        check_json_numbers(text);
    }
}

/// Every number in a JSON value must read as the float its text denotes (std's
/// parser rounds correctly, and accepts every JSON number).
fn check_json_numbers(text: &str) {
    match text.as_bytes().first() {
        Some(b'[') => {
            if let Ok(items) = serde_json::from_str::<Vec<&RawValue>>(text) {
                items.iter().for_each(|item| check_json_numbers(item.get()));
            }
        }
        Some(b'{') => {
            if let Ok(fields) = serde_json::from_str::<HashMap<String, &RawValue>>(text) {
                fields
                    .values()
                    .for_each(|field| check_json_numbers(field.get()));
            }
        }
        _ => {
            if let (Ok(read), Ok(exact)) = (serde_json::from_str::<f64>(text), text.parse::<f64>())
            {
                assert!(
                    same_float(Protocol::Json, read, exact),
                    "{text} read as {read:e}, not {exact:e}"
                );
            }
        }
    }
}

/// A value the server writes back: JSON values verbatim, MessagePack values
/// through their decoded form (the encoders take `Serialize` values, not bytes).
enum Arg<'a> {
    Raw(&'a RawValue),
    Decoded(Value),
}

impl Serialize for Arg<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Arg::Raw(raw) => raw.serialize(serializer),
            Arg::Decoded(value) => value.serialize(serializer),
        }
    }
}

/// The value in a form the encoders take; `None` if a MessagePack value has no
/// JSON-like form (binary, extension types, non-string keys ...).
fn arg<'a>(protocol: Protocol, value: &EncodedValue<'a>) -> Option<Arg<'a>> {
    match protocol {
        Protocol::Json => {
            let text = std::str::from_utf8(value.as_bytes()).expect("a JSON value is UTF-8");
            let raw = serde_json::from_str::<&RawValue>(text).expect("a JSON value reparses");
            Some(Arg::Raw(raw))
        }
        Protocol::MessagePack => value.decode::<Value>().ok().map(Arg::Decoded),
    }
}

/// The message written back by the server's encoders, for the message kinds the
/// server sends.
fn reencode(protocol: Protocol, message: &HubMessage<'_>) -> Option<Bytes> {
    Some(match message {
        HubMessage::Invocation(invocation) => {
            let args = invocation
                .arguments
                .iter()
                .map(|value| arg(protocol, value))
                .collect::<Option<Vec<_>>>()?;
            protocol
                .encode_invocation(
                    invocation.invocation_id.as_deref(),
                    &invocation.target,
                    &args,
                )
                .expect("arguments that parsed encode")
        }
        HubMessage::StreamItem(item) => protocol
            .encode_stream_item(&item.invocation_id, &arg(protocol, &item.item)?)
            .expect("an item that parsed encodes"),
        HubMessage::Completion(completion) => {
            let id = &completion.invocation_id;
            match &completion.outcome {
                CompletionOutcome::Empty => protocol.encode_completion_empty(id),
                CompletionOutcome::Error(error) => protocol.encode_completion_error(id, error),
                CompletionOutcome::Result(value) => protocol
                    .encode_completion_result(id, &arg(protocol, value)?)
                    .expect("a result that parsed encodes"),
            }
        }
        HubMessage::Ping => protocol.encode_ping(),
        HubMessage::Close(close) => {
            protocol.encode_close(close.error.as_deref(), close.allow_reconnect)
        }
        HubMessage::Ack { sequence_id } => protocol.encode_ack(*sequence_id),
        HubMessage::Sequence { sequence_id } => protocol.encode_sequence(*sequence_id),
        // Client-to-server only: the server has no encoder for them.
        HubMessage::StreamInvocation(_) | HubMessage::CancelInvocation { .. } => return None,
    })
}

/// Reads one encoded frame back: it must be exactly one record that parses.
fn reparse(protocol: Protocol, frame: &Bytes) -> Summary {
    if protocol == Protocol::Json {
        assert_eq!(
            frame.iter().position(|&byte| byte == RECORD_SEPARATOR),
            Some(frame.len() - 1),
            "an encoded JSON message must hold exactly one record separator, at its end"
        );
    }
    let mut reader = MessageReader::new(protocol.framing(), frame.len());
    reader.push(frame.clone()).expect("push an encoded frame");
    let record = reader
        .next_record()
        .expect("an encoded frame is well-formed")
        .expect("an encoded frame is complete");
    assert!(
        !reader.has_partial(),
        "an encoded frame holds more than one record"
    );
    let message = protocol
        .parse(&record)
        .unwrap_or_else(|error| panic!("an encoded message does not parse: {error}"));
    Summary::of(protocol, &message)
}

/// The parts of a message the encoders preserve, owned, for comparisons.
#[derive(Debug, PartialEq)]
enum Summary {
    Invocation {
        id: Option<String>,
        target: String,
        args: Vec<Val>,
    },
    StreamItem {
        id: String,
        item: Val,
    },
    Completion {
        id: String,
        outcome: Outcome,
    },
    Ping,
    Close(CloseMessage),
    Ack(u64),
    Sequence(u64),
    ClientOnly,
}

/// A value: its JSON text (kept verbatim), or a MessagePack value decoded.
#[derive(Debug, PartialEq)]
enum Val {
    Json(String),
    Decoded(Option<Value>),
}

#[derive(Debug, PartialEq)]
enum Outcome {
    Empty,
    Error(String),
    Result(Val),
}

impl Summary {
    fn of(protocol: Protocol, message: &HubMessage<'_>) -> Summary {
        let val = |value: &EncodedValue<'_>| match protocol {
            Protocol::Json => {
                Val::Json(String::from_utf8(value.as_bytes().to_vec()).expect("UTF-8"))
            }
            Protocol::MessagePack => Val::Decoded(value.decode::<Value>().ok()),
        };
        match message {
            HubMessage::Invocation(invocation) => Summary::Invocation {
                id: invocation.invocation_id.as_deref().map(str::to_owned),
                target: invocation.target.to_string(),
                args: invocation.arguments.iter().map(val).collect(),
            },
            HubMessage::StreamItem(item) => Summary::StreamItem {
                id: item.invocation_id.to_string(),
                item: val(&item.item),
            },
            HubMessage::Completion(completion) => Summary::Completion {
                id: completion.invocation_id.to_string(),
                outcome: match &completion.outcome {
                    CompletionOutcome::Empty => Outcome::Empty,
                    CompletionOutcome::Error(error) => Outcome::Error(error.to_string()),
                    CompletionOutcome::Result(value) => Outcome::Result(val(value)),
                },
            },
            HubMessage::Ping => Summary::Ping,
            HubMessage::Close(close) => Summary::Close(close.clone()),
            HubMessage::Ack { sequence_id } => Summary::Ack(*sequence_id),
            HubMessage::Sequence { sequence_id } => Summary::Sequence(*sequence_id),
            HubMessage::StreamInvocation(_) | HubMessage::CancelInvocation { .. } => {
                Summary::ClientOnly
            }
        }
    }
}

/// `handshake`: arbitrary bytes as a handshake record, then as the first payload
/// of a connection (handshake record, then messages in the chosen protocol).
pub fn check_handshake(data: &[u8]) {
    const BOTH: &[TransferFormat] = &[TransferFormat::Text, TransferFormat::Binary];
    const TEXT: &[TransferFormat] = &[TransferFormat::Text];
    for formats in [BOTH, TEXT] {
        check_accept(data, formats);
    }

    let mut reader = MessageReader::new(Framing::RecordSeparator, MAX_MESSAGE_SIZE);
    if reader.push(Bytes::copy_from_slice(data)).is_err() {
        return;
    }
    let Ok(Some(record)) = reader.next_record() else {
        return;
    };
    assert!(
        record.len() <= MAX_MESSAGE_SIZE,
        "a handshake over the limit was read"
    );
    assert!(
        !record.contains(&RECORD_SEPARATOR),
        "a record holds a separator"
    );
    let Ok(accepted) = handshake::accept(&record, &Protocol::ALL, BOTH) else {
        return;
    };
    // What follows the handshake in the same payload is read in the new framing.
    reader.set_framing(accepted.protocol.framing());
    while let Ok(Some(record)) = reader.next_record() {
        assert!(
            record.len() <= MAX_MESSAGE_SIZE,
            "a record over the limit was read"
        );
        check_record(accepted.protocol, &record);
    }
}

fn check_accept(record: &[u8], formats: &[TransferFormat]) {
    match handshake::accept(record, &Protocol::ALL, formats) {
        Ok(accepted) => {
            assert!(formats.contains(&accepted.protocol.transfer_format()));
            assert!(accepted.version <= accepted.protocol.max_version());
            // When the record also reads as a generic JSON object (it may not: serde
            // skips unknown fields without checking e.g. number ranges), it must say
            // what was accepted.
            if let Ok(Value::Object(request)) = serde_json::from_slice::<Value>(record) {
                let protocol = request["protocol"].as_str().expect("protocol is a string");
                assert!(protocol.eq_ignore_ascii_case(accepted.protocol.name()));
                assert_eq!(
                    request["version"].as_i64(),
                    Some(i64::from(accepted.version))
                );
            }
        }
        Err(error) => {
            if let handshake::HandshakeError::UnsupportedTransferFormat { protocol, .. } = &error {
                assert_eq!(*protocol, Protocol::MessagePack.name());
                assert!(!formats.contains(&TransferFormat::Binary));
            }
            for detailed in [false, true] {
                check_error_response(&error.client_message(detailed));
            }
        }
    }
}

/// The error response must be one JSON record `{"error": message}`.
fn check_error_response(message: &str) {
    let response = handshake::error_response(message);
    assert_eq!(
        response.iter().position(|&byte| byte == RECORD_SEPARATOR),
        Some(response.len() - 1),
        "a handshake response must hold one record separator, at its end"
    );
    let body: Value = serde_json::from_slice(&response[..response.len() - 1]).expect("valid JSON");
    assert_eq!(body, serde_json::json!({ "error": message }));
}

/// `sse_lp_bodies`: POST bodies (Server-Sent Events, Long Polling) as the
/// transports hand them to a connection: the byte stream cut into arbitrary
/// payloads and pushed through a [`MessageReader`]. The records read, and when
/// the reader fails, must be exactly those of a straightforward reference
/// splitter over the bytes received so far.
///
/// Input: `[config, chunking, stream...]`. `config` bit 0 picks the framing
/// (record separator / length prefix), bits 1-2 the size limit (32 KiB, 0, 5,
/// 64 bytes), bit 3 a reader that is not drained after every payload (bits 4-5:
/// payloads per drain, 2-5), bit 6 an empty payload before each one. `chunking`
/// seeds the payload sizes: 1 to `chunking` bytes (0: the whole stream at once).
pub fn check_sse_lp_bodies(data: &[u8]) {
    let [config, chunking, stream @ ..] = data else {
        return;
    };
    let framing = if config & 1 == 0 {
        Framing::RecordSeparator
    } else {
        Framing::LengthPrefixed
    };
    let limit = [MAX_MESSAGE_SIZE, 0, 5, 64][usize::from(config >> 1 & 3)];
    let per_drain = if config & 8 == 0 {
        1
    } else {
        2 + usize::from(config >> 4 & 3)
    };
    let empty_payloads = config & 0x40 != 0;

    let mut reader = MessageReader::new(framing, limit);
    let mut received = Vec::new();
    let mut read: Vec<Bytes> = Vec::new();
    let mut rng = u32::from(*chunking) | 0x1234_5600;
    let mut sent = Vec::new();
    for payload in payloads(stream, *chunking, &mut rng) {
        if empty_payloads {
            sent.push(&[][..]);
        }
        sent.push(payload);
    }
    for (index, payload) in sent.into_iter().enumerate() {
        received.extend_from_slice(payload);
        let drain = (index + 1) % per_drain == 0;
        let result = reader.push(Bytes::copy_from_slice(payload)).and_then(|()| {
            if drain {
                while let Some(record) = reader.next_record()? {
                    assert!(
                        record.len() <= limit,
                        "a record of {} bytes passed the {limit}-byte limit",
                        record.len()
                    );
                    read.push(record);
                }
            }
            Ok(())
        });
        let (expected, end) = reference_split(&received, framing, limit);
        let read_so_far: Vec<&[u8]> = read.iter().map(|record| &record[..]).collect();
        match result {
            Err(error) => {
                assert!(
                    matches!(error, ProtocolError::MessageTooLarge { limit: l } if l == limit)
                        || matches!(error, ProtocolError::Malformed(_))
                            && framing == Framing::LengthPrefixed,
                    "unexpected error {error:?}"
                );
                assert!(
                    expected.starts_with(&read_so_far),
                    "records read before the error differ from the reference"
                );
                assert!(
                    end == End::TooLarge,
                    "the reader failed on a stream within the limit"
                );
                // Drained after every payload (as a connection does), every record
                // before the one over the limit is read first. Otherwise push() may
                // fail before the caller reads the complete records it holds.
                if per_drain == 1 {
                    assert_eq!(read_so_far, expected, "records were lost before the error");
                }
                return;
            }
            Ok(()) if drain => {
                assert_eq!(
                    read_so_far, expected,
                    "the records read differ from the reference"
                );
                let End::Pending(pending) = end else {
                    panic!("the reader accepted a record over the limit");
                };
                assert_eq!(reader.has_partial(), pending > 0, "has_partial() is wrong");
            }
            Ok(()) => {}
        }
    }
}

/// Cuts `stream` into payloads of 1 to `max` bytes (all of it when `max` is 0).
fn payloads<'a>(stream: &'a [u8], max: u8, rng: &mut u32) -> impl Iterator<Item = &'a [u8]> {
    let mut rest = stream;
    let mut sizes = Vec::new();
    while !rest.is_empty() {
        let size = if max == 0 {
            rest.len()
        } else {
            // xorshift32
            *rng ^= *rng << 13;
            *rng ^= *rng >> 17;
            *rng ^= *rng << 5;
            (1 + *rng as usize % usize::from(max)).min(rest.len())
        };
        sizes.push(size);
        rest = &rest[size..];
    }
    let mut rest = stream;
    sizes.into_iter().map(move |size| {
        let (payload, tail) = rest.split_at(size);
        rest = tail;
        payload
    })
}

/// How a reference split of a stream ends.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// Every record was within the limit; this many bytes of the next are buffered.
    Pending(usize),
    /// A record is over the limit (or a length prefix is invalid).
    TooLarge,
}

/// The complete records of `stream`, written from the protocol description
/// (`signalr-protocol.md` 5.2-5.3), independently of `MessageReader`.
pub fn reference_split(stream: &[u8], framing: Framing, limit: usize) -> (Vec<&[u8]>, End) {
    let mut records = Vec::new();
    let mut rest = stream;
    loop {
        match framing {
            Framing::RecordSeparator => {
                let Some(end) = rest.iter().position(|&byte| byte == RECORD_SEPARATOR) else {
                    let end = if rest.len() > limit {
                        End::TooLarge
                    } else {
                        End::Pending(rest.len())
                    };
                    return (records, end);
                };
                if end > limit {
                    return (records, End::TooLarge);
                }
                records.push(&rest[..end]);
                rest = &rest[end + 1..];
            }
            Framing::LengthPrefixed => {
                // 7 bits a byte, least significant first, 1 to 5 bytes, at most 2^31 - 1.
                let mut length: u64 = 0;
                let mut prefix = None;
                for (index, &byte) in rest.iter().take(5).enumerate() {
                    length |= u64::from(byte & 0x7f) << (7 * index);
                    if byte & 0x80 == 0 {
                        prefix = Some(index + 1);
                        break;
                    }
                }
                let Some(prefix) = prefix else {
                    let end = if rest.len() >= 5 {
                        End::TooLarge
                    } else {
                        End::Pending(rest.len())
                    };
                    return (records, end);
                };
                if length >= 1 << 31 || length > limit as u64 {
                    return (records, End::TooLarge);
                }
                let length = length as usize;
                if rest.len() - prefix < length {
                    return (records, End::Pending(rest.len()));
                }
                records.push(&rest[prefix..prefix + length]);
                rest = &rest[prefix + length..];
            }
        }
    }
}

/// `round_trip`: messages built from the input (with `arbitrary`), encoded by the
/// server's encoders, sent as one stream cut at arbitrary points, read back with
/// [`MessageReader`] and parsed: every message must come back as it was built,
/// and only a message over the size limit may fail, with `MessageTooLarge`.
pub fn check_round_trip(data: &[u8]) {
    let _ = round_trip(&mut Unstructured::new(data));
}

/// A message the server can send, as the round trip builds it.
#[derive(Debug, Clone, PartialEq)]
enum Model {
    Invocation {
        id: Option<String>,
        target: String,
        args: Vec<Value>,
    },
    StreamItem {
        id: String,
        item: Value,
    },
    CompletionEmpty {
        id: String,
    },
    CompletionError {
        id: String,
        error: String,
    },
    CompletionResult {
        id: String,
        result: Value,
    },
    Ping,
    Close {
        error: Option<String>,
        allow_reconnect: bool,
    },
    Ack(u64),
    Sequence(u64),
}

fn round_trip(u: &mut Unstructured<'_>) -> arbitrary::Result<()> {
    let protocol = *u.choose(&Protocol::ALL)?;
    let count = u.int_in_range(1..=6)?;
    let mut models = Vec::with_capacity(count);
    for _ in 0..count {
        models.push(arbitrary_model(u)?);
    }
    let frames: Vec<Bytes> = models.iter().map(|model| encode(protocol, model)).collect();
    let stream = frames.concat();
    let mut cuts = Vec::new();
    for _ in 0..u.int_in_range(0..=8)? {
        cuts.push(u.int_in_range(0..=stream.len())?);
    }
    cuts.push(stream.len());
    cuts.sort_unstable();

    let mut reader = MessageReader::new(protocol.framing(), MAX_MESSAGE_SIZE);
    let mut next = 0;
    let mut start = 0;
    for cut in cuts {
        let payload = Bytes::copy_from_slice(&stream[start..cut]);
        start = cut;
        let result = reader.push(payload).and_then(|()| {
            while let Some(record) = reader.next_record()? {
                assert!(next < models.len(), "more records than messages sent");
                assert!(
                    record.len() <= MAX_MESSAGE_SIZE,
                    "a record over the limit was read"
                );
                let message = protocol
                    .parse(&record)
                    .unwrap_or_else(|error| panic!("{:?} does not parse: {error}", models[next]));
                assert_same_model(protocol, &model_of(&message), &models[next]);
                next += 1;
            }
            Ok(())
        });
        if let Err(error) = result {
            assert!(
                matches!(error, ProtocolError::MessageTooLarge { .. }),
                "reading {:?} failed: {error}",
                models.get(next)
            );
            let body = body_len(protocol, &frames[next]);
            assert!(
                body > MAX_MESSAGE_SIZE,
                "a {body}-byte message was refused as too large"
            );
            return Ok(());
        }
    }
    assert_eq!(next, models.len(), "messages were lost");
    assert!(!reader.has_partial(), "bytes were left over");
    Ok(())
}

/// How many ULPs a JSON float read back may differ from the value its text
/// denotes: none, since the workspace builds serde_json with `float_roundtrip`
/// (without it, the fuzzers found floats read 1 and 2 ULPs off; see
/// fuzz/README.md, "JSON floats").
pub const JSON_FLOAT_ULP_TOLERANCE: u64 = 0;

/// Whether `read` is the float `exact` (within [`JSON_FLOAT_ULP_TOLERANCE`] for JSON).
fn same_float(protocol: Protocol, read: f64, exact: f64) -> bool {
    let tolerance = if protocol == Protocol::Json {
        JSON_FLOAT_ULP_TOLERANCE
    } else {
        0
    };
    read == exact
        || read.is_sign_negative() == exact.is_sign_negative()
            && read.to_bits().abs_diff(exact.to_bits()) <= tolerance
}

/// Value equality, with floats compared by [`same_float`].
fn same_value(protocol: Protocol, read: &Value, sent: &Value) -> bool {
    match (read, sent) {
        (Value::Number(a), Value::Number(b)) if a.is_f64() && b.is_f64() => same_float(
            protocol,
            a.as_f64().unwrap_or(f64::NAN),
            b.as_f64().unwrap_or(f64::NAN),
        ),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same_value(protocol, a, b))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|((ka, a), (kb, b))| ka == kb && same_value(protocol, a, b))
        }
        _ => read == sent,
    }
}

/// The message read back must be the one sent (floats as [`same_float`] allows).
fn assert_same_model(protocol: Protocol, read: &Model, sent: &Model) {
    let (read_shape, read_values) = split_values(read);
    let (sent_shape, sent_values) = split_values(sent);
    let same = read_shape == sent_shape
        && read_values.len() == sent_values.len()
        && read_values
            .iter()
            .zip(&sent_values)
            .all(|(read, sent)| same_value(protocol, read, sent));
    assert!(same, "the message changed:\n sent {sent:?}\n read {read:?}");
}

/// The model with its values replaced by `null`, and the values.
fn split_values(model: &Model) -> (Model, Vec<Value>) {
    let mut shape = model.clone();
    let values = match &mut shape {
        Model::Invocation { args, .. } => args.iter_mut().map(std::mem::take).collect(),
        Model::StreamItem { item: value, .. } | Model::CompletionResult { result: value, .. } => {
            vec![std::mem::take(value)]
        }
        _ => Vec::new(),
    };
    (shape, values)
}

/// The size of a frame's message without its framing.
fn body_len(protocol: Protocol, frame: &[u8]) -> usize {
    match protocol {
        Protocol::Json => frame.len() - 1,
        Protocol::MessagePack => {
            let prefix = frame
                .iter()
                .position(|&byte| byte & 0x80 == 0)
                .expect("a prefix")
                + 1;
            frame.len() - prefix
        }
    }
}

fn arbitrary_model(u: &mut Unstructured<'_>) -> arbitrary::Result<Model> {
    Ok(match u.int_in_range(0..=8)? {
        0 => Model::Invocation {
            id: u.arbitrary()?,
            target: u.arbitrary()?,
            args: {
                let mut args = Vec::new();
                for _ in 0..u.int_in_range(0..=4)? {
                    args.push(arbitrary_value(u, 3)?);
                }
                args
            },
        },
        1 => Model::StreamItem {
            id: u.arbitrary()?,
            item: arbitrary_value(u, 3)?,
        },
        2 => Model::CompletionEmpty { id: u.arbitrary()? },
        3 => Model::CompletionError {
            id: u.arbitrary()?,
            error: u.arbitrary()?,
        },
        4 => Model::CompletionResult {
            id: u.arbitrary()?,
            result: arbitrary_value(u, 3)?,
        },
        5 => Model::Ping,
        6 => Model::Close {
            error: u.arbitrary()?,
            allow_reconnect: u.arbitrary()?,
        },
        7 => Model::Ack(u.arbitrary()?),
        _ => Model::Sequence(u.arbitrary()?),
    })
}

/// A JSON-like value (what both protocols carry), nested at most `depth` deep.
fn arbitrary_value(u: &mut Unstructured<'_>, depth: u32) -> arbitrary::Result<Value> {
    let kinds = if depth == 0 { 6 } else { 8 };
    Ok(match u.int_in_range(0..=kinds - 1)? {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => Value::from(u.arbitrary::<i64>()?),
        3 => Value::from(u.arbitrary::<u64>()?),
        4 => serde_json::Number::from_f64(u.arbitrary()?).map_or(Value::Null, Value::Number),
        5 => Value::String(u.arbitrary()?),
        6 => {
            let mut items = Vec::new();
            for _ in 0..u.int_in_range(0..=4)? {
                items.push(arbitrary_value(u, depth - 1)?);
            }
            Value::Array(items)
        }
        _ => {
            let mut map = serde_json::Map::new();
            for _ in 0..u.int_in_range(0..=4)? {
                map.insert(u.arbitrary()?, arbitrary_value(u, depth - 1)?);
            }
            Value::Object(map)
        }
    })
}

fn encode(protocol: Protocol, model: &Model) -> Bytes {
    let encoded = match model {
        Model::Invocation { id, target, args } => {
            protocol.encode_invocation(id.as_deref(), target, args)
        }
        Model::StreamItem { id, item } => protocol.encode_stream_item(id, item),
        Model::CompletionEmpty { id } => Ok(protocol.encode_completion_empty(id)),
        Model::CompletionError { id, error } => Ok(protocol.encode_completion_error(id, error)),
        Model::CompletionResult { id, result } => protocol.encode_completion_result(id, result),
        Model::Ping => Ok(protocol.encode_ping()),
        Model::Close {
            error,
            allow_reconnect,
        } => Ok(protocol.encode_close(error.as_deref(), *allow_reconnect)),
        Model::Ack(sequence_id) => Ok(protocol.encode_ack(*sequence_id)),
        Model::Sequence(sequence_id) => Ok(protocol.encode_sequence(*sequence_id)),
    };
    encoded.unwrap_or_else(|error| panic!("{model:?} does not encode: {error}"))
}

/// The model a parsed message corresponds to (values decoded as JSON values).
fn model_of(message: &HubMessage<'_>) -> Model {
    let value = |value: &EncodedValue<'_>| {
        value
            .decode::<Value>()
            .unwrap_or_else(|error| panic!("a value sent does not decode: {error}"))
    };
    match message {
        HubMessage::Invocation(invocation) => {
            assert!(invocation.stream_ids.is_empty(), "stream ids appeared");
            Model::Invocation {
                id: invocation.invocation_id.as_deref().map(str::to_owned),
                target: invocation.target.to_string(),
                args: invocation.arguments.iter().map(value).collect(),
            }
        }
        HubMessage::StreamItem(item) => Model::StreamItem {
            id: item.invocation_id.to_string(),
            item: value(&item.item),
        },
        HubMessage::Completion(completion) => {
            let id = completion.invocation_id.to_string();
            match &completion.outcome {
                CompletionOutcome::Empty => Model::CompletionEmpty { id },
                CompletionOutcome::Error(error) => Model::CompletionError {
                    id,
                    error: error.to_string(),
                },
                CompletionOutcome::Result(result) => Model::CompletionResult {
                    id,
                    result: value(result),
                },
            }
        }
        HubMessage::Ping => Model::Ping,
        HubMessage::Close(close) => Model::Close {
            error: close.error.clone(),
            allow_reconnect: close.allow_reconnect,
        },
        HubMessage::Ack { sequence_id } => Model::Ack(*sequence_id),
        HubMessage::Sequence { sequence_id } => Model::Sequence(*sequence_id),
        other => panic!("the server never sends {other:?}"),
    }
}
