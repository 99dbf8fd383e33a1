//! The SignalR hub protocols: message model, parsing and encoding.
//!
//! Inbound messages are parsed into [`HubMessage`], which borrows from the
//! received bytes; arguments stay encoded ([`EncodedValue`]) until a hub method
//! decodes them into its own parameter types. Outbound messages are encoded
//! straight into [`Bytes`] by the functions on [`Protocol`].

pub mod handshake;
mod json;
mod msgpack;
mod reader;
mod scratch;

use std::borrow::Cow;

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use reader::{Framing, MessageReader};

use crate::error::ProtocolError;

/// The record separator that ends every JSON message (and the handshake).
pub const RECORD_SEPARATOR: u8 = 0x1e;

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

    /// Index of the protocol in [`Protocol::ALL`], for per-protocol caches.
    pub(crate) fn index(self) -> usize {
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

    /// Decodes a value from its bytes in this protocol (see [`EncodedValue::as_bytes`]).
    pub fn decode<T: DeserializeOwned>(self, bytes: &[u8]) -> Result<T, DecodeError> {
        match self {
            Protocol::Json => serde_json::from_slice(bytes).map_err(|e| DecodeError(e.to_string())),
            Protocol::MessagePack => msgpack::decode(bytes).map_err(DecodeError),
        }
    }

    /// `null` (`nil`) in this protocol.
    pub(crate) fn encoded_null(self) -> Bytes {
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

/// A value (argument, stream item or result) still in its wire encoding.
#[derive(Clone, Copy, Debug)]
pub struct EncodedValue<'a>(EncodedRepr<'a>);

#[derive(Clone, Copy, Debug)]
enum EncodedRepr<'a> {
    Json(&'a serde_json::value::RawValue),
    MsgPack(&'a [u8]),
}

impl<'a> EncodedValue<'a> {
    pub(crate) fn json(raw: &'a serde_json::value::RawValue) -> Self {
        Self(EncodedRepr::Json(raw))
    }

    pub(crate) fn msgpack(bytes: &'a [u8]) -> Self {
        Self(EncodedRepr::MsgPack(bytes))
    }

    /// Decodes the value into `T`.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, DecodeError> {
        match self.0 {
            EncodedRepr::Json(raw) => {
                serde_json::from_str(raw.get()).map_err(|e| DecodeError(e.to_string()))
            }
            EncodedRepr::MsgPack(bytes) => msgpack::decode(bytes).map_err(DecodeError),
        }
    }

    /// The value's bytes, a slice of the received message.
    pub fn as_bytes(&self) -> &'a [u8] {
        match self.0 {
            EncodedRepr::Json(raw) => raw.get().as_bytes(),
            EncodedRepr::MsgPack(bytes) => bytes,
        }
    }
}

/// A value that did not decode into the expected type.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(String);

/// A value that could not be encoded (e.g. a map with non-string keys in JSON).
#[derive(Debug, thiserror::Error)]
#[error("failed to encode a message: {0}")]
pub struct EncodeError(String);

impl EncodeError {
    pub(crate) fn missing(protocol: Protocol) -> Self {
        Self(format!("no {} encoding was received", protocol.name()))
    }
}

/// A parsed hub message; strings and values borrow from the received bytes.
#[derive(Debug)]
pub enum HubMessage<'a> {
    /// Type 1: call a method; no id means the caller wants no Completion.
    Invocation(InvocationMessage<'a>),
    /// Type 2: one item of a stream.
    StreamItem(StreamItemMessage<'a>),
    /// Type 3: the end of an invocation or stream.
    Completion(CompletionMessage<'a>),
    /// Type 4: call a streaming method.
    StreamInvocation(InvocationMessage<'a>),
    /// Type 5: cancel a stream or an invocation.
    CancelInvocation {
        /// The invocation to cancel.
        invocation_id: Cow<'a, str>,
    },
    /// Type 6: keep-alive.
    Ping,
    /// Type 7: the peer is closing the connection.
    Close(CloseMessage),
    /// Type 8: stateful reconnect acknowledgement.
    Ack {
        /// Highest sequence id the peer has processed.
        sequence_id: u64,
    },
    /// Type 9: stateful reconnect resynchronisation.
    Sequence {
        /// Sequence id of the next message the peer will send.
        sequence_id: u64,
    },
}

/// An Invocation or StreamInvocation.
#[derive(Debug)]
pub struct InvocationMessage<'a> {
    /// The caller's id for this call; `None` for fire-and-forget calls.
    pub invocation_id: Option<Cow<'a, str>>,
    /// The method name as the client wrote it.
    pub target: Cow<'a, str>,
    /// The non-stream arguments, in order.
    pub arguments: Vec<EncodedValue<'a>>,
    /// Ids of upload streams, bound to the method's stream parameters in order.
    pub stream_ids: Vec<Cow<'a, str>>,
}

/// A StreamItem.
#[derive(Debug)]
pub struct StreamItemMessage<'a> {
    /// The stream (server streams: the invocation id; uploads: the stream id).
    pub invocation_id: Cow<'a, str>,
    /// The item.
    pub item: EncodedValue<'a>,
}

/// A Completion.
#[derive(Debug)]
pub struct CompletionMessage<'a> {
    /// The invocation or stream being completed.
    pub invocation_id: Cow<'a, str>,
    /// What the completion carries.
    pub outcome: CompletionOutcome<'a>,
}

/// The payload of a Completion.
#[derive(Debug)]
pub enum CompletionOutcome<'a> {
    /// Neither a result nor an error (end of a stream).
    Empty,
    /// A result value.
    Result(EncodedValue<'a>),
    /// An error message.
    Error(Cow<'a, str>),
}

/// A Close message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CloseMessage {
    /// Why the peer closes, if it failed.
    pub error: Option<String>,
    /// Whether the client may reconnect.
    pub allow_reconnect: bool,
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
}
