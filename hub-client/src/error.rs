//! What can go wrong, as one typed error.

use std::time::Duration;

/// The result type of the client.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything a connection or a call can fail with. Every variant is
/// `Clone`: one failure (a lost connection) is reported to every call
/// waiting on it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The hub method failed: the text of the server's Completion error,
    /// verbatim (ASP.NET's `HubException`, the JS client's `Error`).
    #[error("{0}")]
    Hub(String),
    /// The URL is not an `http[s]://` (or `ws[s]://`) URL this client can
    /// reach (`https` needs the `tls` feature).
    #[error("invalid URL '{url}': {reason}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An HTTP request answered with an unexpected status.
    #[error("{what} answered HTTP {status}{hint}")]
    Http {
        /// Which request (`negotiate`, `poll`, `send`, `WebSocket upgrade`).
        what: &'static str,
        /// The status code.
        status: u16,
        /// An explanation, for 404 on negotiate.
        hint: &'static str,
    },
    /// The server's certificate was refused (`https://`, `wss://`): not
    /// signed by a trusted root, expired, or not for this host. Trust a
    /// private CA with
    /// [`HubConnectionBuilder::tls_config`](crate::HubConnectionBuilder::tls_config).
    #[error("the certificate of '{host}' was refused: {reason}")]
    Certificate {
        /// The host connected to (and checked against the certificate).
        host: String,
        /// rustls's verdict.
        reason: String,
    },
    /// The TLS handshake failed for another reason than the certificate
    /// (no common protocol version or cipher suite, an alert from the server).
    #[error("TLS with '{host}' failed: {reason}")]
    Tls {
        /// The host connected to.
        host: String,
        /// What failed.
        reason: String,
    },
    /// The network failed (connect, read, write).
    #[error("{0}")]
    Io(String),
    /// A request or a step of the start took longer than allowed.
    #[error("{what} timed out after {after:?}")]
    Timeout {
        /// What took too long.
        what: &'static str,
        /// The limit.
        after: Duration,
    },
    /// The server refused to negotiate (`{"error": ...}`), or its answer was
    /// not a negotiate document.
    #[error("negotiate failed: {0}")]
    Negotiate(String),
    /// None of the server's transports could be used or started.
    #[error("{0}")]
    NoTransport(String),
    /// The server refused the handshake, or answered something else.
    #[error("handshake failed: {0}")]
    Handshake(String),
    /// The server sent bytes that are not a valid message of the protocol
    /// (the connection is closed).
    #[error("the server sent an invalid message: {0}")]
    Protocol(String),
    /// A value did not decode into the expected type.
    #[error("could not decode the server's value: {0}")]
    Decode(String),
    /// A value could not be encoded.
    #[error("{0}")]
    Encode(String),
    /// Nothing arrived from the server within the server timeout.
    #[error("Server timeout elapsed without receiving a message from the server.")]
    ServerTimeout,
    /// The server closed the connection with an error (its Close message).
    #[error("Server returned an error on close: {0}")]
    ServerClosed(String),
    /// The connection ended while the call was waiting (the reason inside).
    #[error("the connection was closed: {0}")]
    ConnectionLost(String),
    /// The connection is not connected (not started, reconnecting, or stopped).
    #[error("the connection is not in the Connected state")]
    NotConnected,
    /// The connection was stopped by `stop()`.
    #[error("the connection was stopped")]
    Stopped,
    /// A bounded buffer was full (see the option named).
    #[error("{0} is full")]
    BufferFull(&'static str),
}

impl From<hub_protocol::EncodeError> for Error {
    fn from(error: hub_protocol::EncodeError) -> Self {
        Error::Encode(error.to_string())
    }
}

impl From<hub_protocol::DecodeError> for Error {
    fn from(error: hub_protocol::DecodeError) -> Self {
        Error::Decode(error.to_string())
    }
}

impl From<hub_protocol::ProtocolError> for Error {
    fn from(error: hub_protocol::ProtocolError) -> Self {
        Error::Protocol(error.to_string())
    }
}

impl From<std::io::Error> for Error {
    fn from(error: std::io::Error) -> Self {
        Error::Io(error.to_string())
    }
}

impl Error {
    /// Whether this error came from the hub method itself (a Completion
    /// error), as opposed to the connection.
    pub fn is_hub_error(&self) -> bool {
        matches!(self, Error::Hub(_))
    }
}
