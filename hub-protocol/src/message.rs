//! The message model: what a hub message says, independent of its encoding.
//!
//! Received messages are parsed into [`HubMessage`], which borrows from the
//! received bytes; values (arguments, items, results) stay encoded
//! ([`EncodedValue`]) until their receiver decodes them into its own types.

use std::borrow::Cow;

use serde::de::DeserializeOwned;

use crate::error::DecodeError;

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
            EncodedRepr::MsgPack(bytes) => {
                rmp_serde::from_slice(bytes).map_err(|e| DecodeError(e.to_string()))
            }
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
    /// The message's `headers` (W3C `traceparent`, `tracestate`, ...), as
    /// the client sent them; empty when it sent none.
    pub headers: Headers<'a>,
}

impl InvocationMessage<'_> {
    /// The value of the header `name` (matched exactly), if the message has it.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| &**value)
    }
}

/// The `headers` of a message: name and value pairs, in the order received.
pub type Headers<'a> = Vec<(Cow<'a, str>, Cow<'a, str>)>;

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

/// The two kinds of calls a client makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallKind {
    /// An Invocation (type 1): the method's result comes in a Completion.
    Invocation,
    /// A StreamInvocation (type 4): the method's items come in StreamItems,
    /// then a Completion.
    StreamInvocation,
}

impl CallKind {
    /// The message type number.
    pub(crate) fn message_type(self) -> u8 {
        match self {
            CallKind::Invocation => 1,
            CallKind::StreamInvocation => 4,
        }
    }
}
