//! What can go wrong reading or writing the protocol.

/// A message that could not be read. A server closes the connection with it.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    /// The bytes are not a valid message of the protocol.
    #[error("invalid message: {0}")]
    Malformed(String),
    /// A message is larger than the receiver's limit.
    #[error(
        "The maximum message size of {limit}B was exceeded. The message size can be configured in AddHubOptions."
    )]
    MessageTooLarge {
        /// The configured limit in bytes.
        limit: usize,
    },
    /// The message type is not one this implementation understands.
    #[error("Unknown message type: {0}")]
    UnknownMessageType(u64),
    /// A required property of a message is missing.
    #[error("Missing required property '{0}'.")]
    MissingProperty(&'static str),
}

/// A value that did not decode into the expected type.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(pub(crate) String);

/// A value that could not be encoded (e.g. a map with non-string keys in JSON).
#[derive(Debug, thiserror::Error)]
#[error("failed to encode a message: {0}")]
pub struct EncodeError(pub(crate) String);

impl EncodeError {
    /// An encoding failure, explained.
    pub fn new(reason: impl Into<String>) -> Self {
        Self(reason.into())
    }
}
