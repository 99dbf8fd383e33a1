//! Hub protocols: which one a connection speaks, and how each message is
//! read from and written into bytes.

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{DecodeError, EncodeError, ProtocolError};
use crate::message::{CallKind, HubMessage};
use crate::reader::Framing;
use crate::{json, msgpack};

/// A hub protocol a connection speaks after its handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// `json`: UTF-8 JSON records ended by `0x1E`, sent as text.
    Json,
    /// `messagepack`: MessagePack arrays behind a varint length, sent as binary.
    MessagePack,
}

impl Protocol {
    /// Every protocol this server implements.
    pub const ALL: [Protocol; 2] = [Protocol::Json, Protocol::MessagePack];

    /// The protocol's name in the handshake (`json`).
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Json => "json",
            Protocol::MessagePack => "messagepack",
        }
    }

    /// Looks a protocol up by its handshake name, ignoring ASCII case.
    pub fn from_name(name: &str) -> Option<Protocol> {
        Self::ALL
            .into_iter()
            .find(|protocol| protocol.name().eq_ignore_ascii_case(name))
    }

    /// The highest protocol version this server accepts.
    pub fn max_version(self) -> u32 {
        2
    }

    /// How this protocol's messages travel: text or binary.
    pub fn transfer_format(self) -> TransferFormat {
        match self {
            Protocol::Json => TransferFormat::Text,
            Protocol::MessagePack => TransferFormat::Binary,
        }
    }

    /// How this protocol's records are delimited.
    pub fn framing(self) -> Framing {
        match self.transfer_format() {
            TransferFormat::Text => Framing::RecordSeparator,
            TransferFormat::Binary => Framing::LengthPrefixed,
        }
    }

    /// The position of the protocol in [`Protocol::ALL`], for per-protocol caches.
    pub fn index(self) -> usize {
        match self {
            Protocol::Json => 0,
            Protocol::MessagePack => 1,
        }
    }

    /// Parses one complete message (a record without its framing).
    pub fn parse(self, record: &[u8]) -> Result<HubMessage<'_>, ProtocolError> {
        match self {
            Protocol::Json => json::parse(record),
            Protocol::MessagePack => msgpack::parse(record),
        }
    }

    /// Decodes a value from its bytes in this protocol (see [`EncodedValue::as_bytes`](crate::EncodedValue::as_bytes)).
    pub fn decode<T: DeserializeOwned>(self, bytes: &[u8]) -> Result<T, DecodeError> {
        match self {
            Protocol::Json => serde_json::from_slice(bytes).map_err(|e| DecodeError(e.to_string())),
            Protocol::MessagePack => msgpack::decode(bytes).map_err(DecodeError),
        }
    }

    /// `null` (`nil`) in this protocol.
    pub fn encoded_null(self) -> Bytes {
        match self {
            Protocol::Json => Bytes::from_static(b"null"),
            Protocol::MessagePack => Bytes::from_static(&[0xc0]),
        }
    }

    /// Encodes an Invocation of a client method. `arguments` must serialize as a
    /// sequence (a tuple or an array).
    pub fn encode_invocation<A: Serialize + ?Sized>(
        self,
        invocation_id: Option<&str>,
        target: &str,
        arguments: &A,
    ) -> Result<Bytes, EncodeError> {
        match self {
            Protocol::Json => json::encode_invocation(invocation_id, target, arguments),
            Protocol::MessagePack => msgpack::encode_invocation(invocation_id, target, arguments),
        }
    }

    /// Encodes a call a client makes: an Invocation (`invocation_id` `None`
    /// for a call that wants no Completion) or a StreamInvocation, with the
    /// ids of the streams the client will upload for the method's stream
    /// parameters. `arguments` must serialize as a sequence.
    pub fn encode_call<A: Serialize + ?Sized>(
        self,
        kind: CallKind,
        invocation_id: Option<&str>,
        target: &str,
        arguments: &A,
        stream_ids: &[&str],
    ) -> Result<Bytes, EncodeError> {
        match self {
            Protocol::Json => json::encode_call(kind, invocation_id, target, arguments, stream_ids),
            Protocol::MessagePack => {
                msgpack::encode_call(kind, invocation_id, target, arguments, stream_ids)
            }
        }
    }

    /// Encodes a CancelInvocation: the client stops a stream (or, since
    /// .NET 11, an invocation) it started.
    pub fn encode_cancel_invocation(self, invocation_id: &str) -> Bytes {
        match self {
            Protocol::Json => json::encode_cancel_invocation(invocation_id),
            Protocol::MessagePack => msgpack::encode_cancel_invocation(invocation_id),
        }
    }

    /// Encodes a value on its own (no message around it), e.g. a tuple of
    /// arguments for [`Protocol::encode_invocation_raw`].
    pub fn encode_value<T: Serialize + ?Sized>(self, value: &T) -> Result<Bytes, EncodeError> {
        match self {
            Protocol::Json => json::encode_value(value),
            Protocol::MessagePack => msgpack::encode_value(value),
        }
    }

    /// Encodes an Invocation whose arguments (a sequence) are already encoded
    /// in this protocol (by [`Protocol::encode_value`]).
    pub fn encode_invocation_raw(
        self,
        invocation_id: Option<&str>,
        target: &str,
        arguments: &[u8],
    ) -> Bytes {
        match self {
            Protocol::Json => json::encode_invocation_raw(invocation_id, target, arguments),
            Protocol::MessagePack => {
                msgpack::encode_invocation_raw(invocation_id, target, arguments)
            }
        }
    }

    /// Encodes a Completion carrying a result value (`null` for void methods).
    pub fn encode_completion_result<T: Serialize + ?Sized>(
        self,
        invocation_id: &str,
        result: &T,
    ) -> Result<Bytes, EncodeError> {
        match self {
            Protocol::Json => json::encode_completion_result(invocation_id, result),
            Protocol::MessagePack => msgpack::encode_completion_result(invocation_id, result),
        }
    }

    /// Encodes a Completion carrying an error message.
    pub fn encode_completion_error(self, invocation_id: &str, error: &str) -> Bytes {
        match self {
            Protocol::Json => json::encode_completion_error(invocation_id, error),
            Protocol::MessagePack => msgpack::encode_completion_error(invocation_id, error),
        }
    }

    /// Encodes a Completion with neither result nor error (end of a stream).
    pub fn encode_completion_empty(self, invocation_id: &str) -> Bytes {
        match self {
            Protocol::Json => json::encode_completion_empty(invocation_id),
            Protocol::MessagePack => msgpack::encode_completion_empty(invocation_id),
        }
    }

    /// Encodes a StreamItem.
    pub fn encode_stream_item<T: Serialize + ?Sized>(
        self,
        invocation_id: &str,
        item: &T,
    ) -> Result<Bytes, EncodeError> {
        match self {
            Protocol::Json => json::encode_stream_item(invocation_id, item),
            Protocol::MessagePack => msgpack::encode_stream_item(invocation_id, item),
        }
    }

    /// Encodes a Ping.
    pub fn encode_ping(self) -> Bytes {
        match self {
            Protocol::Json => Bytes::from_static(b"{\"type\":6}\x1e"),
            Protocol::MessagePack => Bytes::from_static(&[0x02, 0x91, 0x06]),
        }
    }

    /// Encodes an Ack (stateful reconnect): the highest sequence id processed.
    pub fn encode_ack(self, sequence_id: u64) -> Bytes {
        match self {
            Protocol::Json => json::encode_sequence_message(8, sequence_id),
            Protocol::MessagePack => msgpack::encode_sequence_message(8, sequence_id),
        }
    }

    /// Encodes a Sequence (stateful reconnect): the id of the next message sent.
    pub fn encode_sequence(self, sequence_id: u64) -> Bytes {
        match self {
            Protocol::Json => json::encode_sequence_message(9, sequence_id),
            Protocol::MessagePack => msgpack::encode_sequence_message(9, sequence_id),
        }
    }

    /// Encodes a Close message.
    pub fn encode_close(self, error: Option<&str>, allow_reconnect: bool) -> Bytes {
        match self {
            Protocol::Json => json::encode_close(error, allow_reconnect),
            Protocol::MessagePack => msgpack::encode_close(error, allow_reconnect),
        }
    }
}

/// Whether a transport carries text or binary payloads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TransferFormat {
    /// UTF-8 text (WebSocket text frames, SSE events).
    Text,
    /// Arbitrary bytes (WebSocket binary frames).
    Binary,
}

impl TransferFormat {
    /// The name used in negotiate responses (`Text`, `Binary`).
    pub fn name(self) -> &'static str {
        match self {
            TransferFormat::Text => "Text",
            TransferFormat::Binary => "Binary",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_invocations_match_encoded_ones() {
        for protocol in Protocol::ALL {
            let arguments = ("question", 42);
            let direct = protocol
                .encode_invocation(Some("s1"), "Answer", &arguments)
                .unwrap();
            let raw = protocol.encode_value(&arguments).unwrap();
            assert_eq!(
                protocol.encode_invocation_raw(Some("s1"), "Answer", &raw),
                direct,
                "{protocol:?}"
            );
        }
    }

    /// What a client writes, read back as a server reads it.
    #[test]
    fn client_calls_read_back_as_written() {
        for protocol in Protocol::ALL {
            let strip = |bytes: &Bytes| -> Vec<u8> {
                let mut reader = crate::reader::MessageReader::new(protocol.framing(), 1 << 16);
                reader.push(bytes.clone()).unwrap();
                reader.next_record().unwrap().unwrap().to_vec()
            };
            let call = protocol
                .encode_call(
                    CallKind::StreamInvocation,
                    Some("7"),
                    "Counter",
                    &(3, "x"),
                    &["s1", "s2"],
                )
                .unwrap();
            let record = strip(&call);
            let HubMessage::StreamInvocation(invocation) = protocol.parse(&record).unwrap() else {
                panic!("{protocol:?}: not a StreamInvocation")
            };
            assert_eq!(invocation.invocation_id.as_deref(), Some("7"));
            assert_eq!(invocation.target, "Counter");
            assert_eq!(invocation.arguments.len(), 2);
            assert_eq!(invocation.arguments[0].decode::<i32>().unwrap(), 3);
            assert_eq!(invocation.stream_ids, ["s1", "s2"]);

            let call = protocol
                .encode_call(CallKind::Invocation, None, "Send", &["hi"], &[])
                .unwrap();
            let record = strip(&call);
            let HubMessage::Invocation(invocation) = protocol.parse(&record).unwrap() else {
                panic!("{protocol:?}: not an Invocation")
            };
            assert_eq!(invocation.invocation_id, None);
            assert!(invocation.stream_ids.is_empty());

            let cancel = protocol.encode_cancel_invocation("7");
            let record = strip(&cancel);
            let HubMessage::CancelInvocation { invocation_id } = protocol.parse(&record).unwrap()
            else {
                panic!("{protocol:?}: not a CancelInvocation")
            };
            assert_eq!(invocation_id, "7");
        }
    }
}
