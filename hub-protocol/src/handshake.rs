//! The handshake: the client names its protocol, the server accepts or refuses.
//!
//! Request: `{"protocol":"json","version":1}` + `0x1E` (always JSON, whatever the
//! protocol). Response: `{}` + `0x1E`, or `{"error":"..."}` + `0x1E` before closing.
//!
//! The server side is [`accept`], [`success_response`] and [`error_response`];
//! the client side is [`request`] and [`read_response`].

use bytes::Bytes;
use serde::Deserialize;

use crate::protocol::{Protocol, TransferFormat};
use crate::reader::RECORD_SEPARATOR;

#[derive(Deserialize)]
struct HandshakeRequest {
    protocol: String,
    version: i64,
}

/// Why a handshake was refused; [`Display`](std::fmt::Display) gives ASP.NET's texts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    /// The request is not valid handshake JSON.
    #[error("An unexpected error occurred during connection handshake.")]
    Malformed(String),
    /// The protocol is not one this server speaks.
    #[error("The protocol '{0}' is not supported.")]
    UnsupportedProtocol(String),
    /// The protocol version is too high (or negative).
    #[error("The server does not support version {version} of the '{protocol}' protocol.")]
    UnsupportedVersion {
        /// Requested version.
        version: i64,
        /// Requested protocol name.
        protocol: &'static str,
    },
    /// The transport cannot carry the protocol's format (MessagePack over SSE).
    #[error(
        "Cannot use the '{protocol}' protocol on the current transport. The transport does not support '{format}' transfer format."
    )]
    UnsupportedTransferFormat {
        /// Requested protocol name.
        protocol: &'static str,
        /// The format the transport lacks.
        format: &'static str,
    },
    /// No complete handshake in time, or a handshake over the size limit.
    #[error("Handshake was canceled.")]
    Canceled,
}

impl HandshakeError {
    /// The error text sent to the client; with `detailed`, malformed requests say why.
    pub fn client_message(&self, detailed: bool) -> String {
        match self {
            HandshakeError::Malformed(why) if detailed => {
                format!("{self} InvalidDataException: {why}")
            }
            _ => self.to_string(),
        }
    }
}

/// The outcome of a successful handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handshake {
    /// The protocol the connection now speaks.
    pub protocol: Protocol,
    /// The protocol version the client asked for (2 means stateful reconnect capable).
    pub version: u32,
}

/// Parses a handshake record (without its `0x1E`) and checks it against the
/// protocols this server offers and the formats the transport carries.
pub fn accept(
    record: &[u8],
    offered: &[Protocol],
    transport_formats: &[TransferFormat],
) -> Result<Handshake, HandshakeError> {
    if !crate::json::is_object(record) {
        return Err(HandshakeError::Malformed(
            "the handshake must be a JSON object".into(),
        ));
    }
    let request: HandshakeRequest =
        serde_json::from_slice(record).map_err(|e| HandshakeError::Malformed(e.to_string()))?;
    let protocol = Protocol::from_name(&request.protocol)
        .filter(|protocol| offered.contains(protocol))
        .ok_or(HandshakeError::UnsupportedProtocol(request.protocol))?;
    let version = u32::try_from(request.version)
        .ok()
        .filter(|&version| version <= protocol.max_version())
        .ok_or(HandshakeError::UnsupportedVersion {
            version: request.version,
            protocol: protocol.name(),
        })?;
    let format = protocol.transfer_format();
    if !transport_formats.contains(&format) {
        return Err(HandshakeError::UnsupportedTransferFormat {
            protocol: protocol.name(),
            format: format.name(),
        });
    }
    Ok(Handshake { protocol, version })
}

/// The success response: `{}` + `0x1E`.
pub fn success_response() -> Bytes {
    Bytes::from_static(b"{}\x1e")
}

/// An error response: `{"error":"..."}` + `0x1E`.
pub fn error_response(message: &str) -> Bytes {
    let mut buf = b"{\"error\":".to_vec();
    serde_json::to_writer(&mut buf, message).expect("a string always encodes as JSON");
    buf.push(b'}');
    buf.push(RECORD_SEPARATOR);
    Bytes::from(buf)
}

/// The client's request for `protocol` at `version` (2 asks for stateful
/// reconnect, 1 does not).
pub fn request(protocol: Protocol, version: u32) -> Bytes {
    let mut buf = b"{\"protocol\":".to_vec();
    serde_json::to_writer(&mut buf, protocol.name()).expect("a string always encodes as JSON");
    buf.extend_from_slice(format!(",\"version\":{version}}}").as_bytes());
    buf.push(RECORD_SEPARATOR);
    Bytes::from(buf)
}

#[derive(Deserialize)]
struct HandshakeResponse {
    error: Option<String>,
}

/// Why a server's handshake response means the connection cannot proceed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeResponseError {
    /// The server refused the handshake, saying why.
    #[error("the server refused the handshake: {0}")]
    Refused(String),
    /// The response is not a handshake response.
    #[error("invalid handshake response: {0}")]
    Malformed(String),
}

/// Reads the server's handshake response (a record without its `0x1E`):
/// `Ok` for `{}`, the server's error otherwise. Unknown fields are ignored,
/// as the official clients ignore them.
pub fn read_response(record: &[u8]) -> Result<(), HandshakeResponseError> {
    if !crate::json::is_object(record) {
        return Err(HandshakeResponseError::Malformed(
            "the handshake response must be a JSON object".into(),
        ));
    }
    let response: HandshakeResponse = serde_json::from_slice(record)
        .map_err(|error| HandshakeResponseError::Malformed(error.to_string()))?;
    match response.error {
        Some(error) => Err(HandshakeResponseError::Refused(error)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &[TransferFormat] = &[TransferFormat::Text, TransferFormat::Binary];

    #[test]
    fn accepts_json_in_any_key_order_and_case() {
        let ok = accept(
            br#"{"version":1,"protocol":"JSON","extra":true}"#,
            &Protocol::ALL,
            TEXT,
        );
        assert_eq!(
            ok,
            Ok(Handshake {
                protocol: Protocol::Json,
                version: 1
            })
        );
        assert!(accept(br#"{"protocol":"json","version":2}"#, &Protocol::ALL, TEXT).is_ok());
    }

    #[test]
    fn refuses_with_asp_net_texts() {
        let refuse = |record: &[u8]| {
            accept(record, &Protocol::ALL, TEXT)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            refuse(br#"{"protocol":"foo","version":1}"#),
            "The protocol 'foo' is not supported."
        );
        assert_eq!(
            refuse(br#"{"protocol":"json","version":3}"#),
            "The server does not support version 3 of the 'json' protocol."
        );
        assert_eq!(
            refuse(b"garbage"),
            "An unexpected error occurred during connection handshake."
        );
        assert_eq!(
            refuse(br#"["json",1]"#),
            "An unexpected error occurred during connection handshake."
        );
        assert_eq!(
            refuse(br#"{"protocol":"json"}"#),
            "An unexpected error occurred during connection handshake."
        );
    }

    #[test]
    fn error_responses_are_escaped_json() {
        assert_eq!(
            &error_response("The protocol 'a\"b' is not supported.")[..],
            b"{\"error\":\"The protocol 'a\\\"b' is not supported.\"}\x1e"
        );
    }

    #[test]
    fn a_client_request_is_accepted_and_responses_are_read() {
        for protocol in Protocol::ALL {
            let request = request(protocol, 2);
            let record = request.strip_suffix(&[RECORD_SEPARATOR]).unwrap();
            assert_eq!(
                accept(record, &Protocol::ALL, TEXT),
                Ok(Handshake {
                    protocol,
                    version: 2
                })
            );
        }
        let success = success_response();
        assert_eq!(read_response(&success[..success.len() - 1]), Ok(()));
        let refused = error_response("The protocol 'x' is not supported.");
        assert_eq!(
            read_response(&refused[..refused.len() - 1]),
            Err(HandshakeResponseError::Refused(
                "The protocol 'x' is not supported.".into()
            ))
        );
        assert!(matches!(
            read_response(b"[]"),
            Err(HandshakeResponseError::Malformed(_))
        ));
    }
}
