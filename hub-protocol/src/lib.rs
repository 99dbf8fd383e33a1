//! The SignalR wire protocol, for servers and clients alike: the hub message
//! model, the `json` and `messagepack` hub protocols, record framing, the
//! handshake and the negotiate documents.
//!
//! It knows nothing of hubs, connections or HTTP: bytes in, messages out,
//! and back.
//!
//! ```
//! use hub_protocol::{HubMessage, Protocol};
//!
//! let bytes = Protocol::Json
//!     .encode_invocation(Some("1"), "SendMessage", &("ann", "hi"))
//!     .unwrap();
//! let record = &bytes[..bytes.len() - 1]; // without the 0x1E separator
//! let HubMessage::Invocation(invocation) = Protocol::Json.parse(record).unwrap() else {
//!     unreachable!()
//! };
//! assert_eq!(invocation.target, "SendMessage");
//! let user: String = invocation.arguments[0].decode().unwrap();
//! assert_eq!(user, "ann");
//! ```
//!
//! * Received bytes go through a [`MessageReader`] (the protocol's
//!   [`Framing`]), which yields complete records; [`Protocol::parse`] reads
//!   a record into a [`HubMessage`] that borrows from it.
//! * Outgoing messages are encoded straight into [`Bytes`](bytes::Bytes) by
//!   the `encode_*` functions on [`Protocol`], framing included.

mod error;
pub mod handshake;
mod json;
mod message;
mod msgpack;
pub mod negotiate;
mod protocol;
mod reader;
mod scratch;

pub use error::{DecodeError, EncodeError, ProtocolError};
pub use message::{
    CallKind, CloseMessage, CompletionMessage, CompletionOutcome, EncodedValue, Headers,
    HubMessage, InvocationMessage, StreamItemMessage,
};
pub use protocol::{Protocol, TransferFormat};
pub use reader::{Framing, MessageReader, RECORD_SEPARATOR};
