//! The negotiate documents: what `POST {hub}/negotiate` answers.
//!
//! ```
//! use hub_protocol::negotiate::{AvailableTransport, NegotiateResponse, NegotiatedConnection};
//!
//! let response = NegotiateResponse::Connection(NegotiatedConnection {
//!     negotiate_version: 1,
//!     connection_id: "id".into(),
//!     connection_token: Some("token".into()),
//!     available_transports: vec![AvailableTransport {
//!         transport: "WebSockets".into(),
//!         transfer_formats: vec!["Text".into(), "Binary".into()],
//!     }],
//!     use_stateful_reconnect: false,
//!     token_lifetime_seconds: None,
//! });
//! let json = response.to_json();
//! assert_eq!(NegotiateResponse::from_json(&json).unwrap(), response);
//! ```

use serde::{Deserialize, Serialize};

/// The answer to a negotiate request: a connection, a redirect, or an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum NegotiateResponse {
    /// The server refuses (`{"error": "..."}`, with HTTP 200); clients report
    /// the text as it is.
    Error(NegotiateError),
    /// Negotiate again at another URL, with another access token (a service
    /// in front of the hub).
    Redirect(NegotiateRedirect),
    /// A connection was created: connect with its token over one of its transports.
    Connection(NegotiatedConnection),
}

impl NegotiateResponse {
    /// The document as JSON.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("negotiate documents always encode")
    }

    /// Reads a document; fields it does not know are ignored.
    pub fn from_json(json: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(json)
    }
}

/// A negotiated connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NegotiatedConnection {
    /// The negotiate protocol version the server answers with (0 or 1).
    #[serde(default)]
    pub negotiate_version: u32,
    /// The connection's public id.
    pub connection_id: String,
    /// The secret token the transports use as `id` (version 1; version 0
    /// uses the connection id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_token: Option<String>,
    /// The transports the server offers, in its order.
    pub available_transports: Vec<AvailableTransport>,
    /// Whether the server granted stateful reconnect.
    #[serde(default)]
    pub use_stateful_reconnect: bool,
    /// Seconds until the credentials the client negotiated with expire,
    /// when the server lets clients refresh them (`POST {hub}/refresh`,
    /// .NET 11); whole seconds, rounded down.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_lifetime_seconds: Option<i64>,
}

impl NegotiatedConnection {
    /// The `id` the transports use: the token, or the connection id for
    /// version 0.
    pub fn transport_id(&self) -> &str {
        self.connection_token
            .as_deref()
            .unwrap_or(&self.connection_id)
    }
}

/// One transport a server offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AvailableTransport {
    /// `WebSockets`, `ServerSentEvents` or `LongPolling`.
    pub transport: String,
    /// `Text`, `Binary` or both.
    pub transfer_formats: Vec<String>,
}

/// Negotiate again elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NegotiateRedirect {
    /// Where to negotiate next.
    pub url: String,
    /// The bearer token to use there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
}

/// A refused negotiation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NegotiateError {
    /// Why.
    pub error: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_fields_in_the_order_asp_net_does() {
        let response = NegotiateResponse::Connection(NegotiatedConnection {
            negotiate_version: 1,
            connection_id: "c".into(),
            connection_token: Some("t".into()),
            available_transports: vec![AvailableTransport {
                transport: "LongPolling".into(),
                transfer_formats: vec!["Text".into(), "Binary".into()],
            }],
            use_stateful_reconnect: true,
            token_lifetime_seconds: Some(1799),
        });
        assert_eq!(
            String::from_utf8(response.to_json()).unwrap(),
            r#"{"negotiateVersion":1,"connectionId":"c","connectionToken":"t","availableTransports":[{"transport":"LongPolling","transferFormats":["Text","Binary"]}],"useStatefulReconnect":true,"tokenLifetimeSeconds":1799}"#
        );
    }

    #[test]
    fn reads_every_kind_of_answer() {
        let version_0 = NegotiateResponse::from_json(
            br#"{"connectionId":"c","availableTransports":[],"extra":1}"#,
        )
        .unwrap();
        let NegotiateResponse::Connection(connection) = version_0 else {
            panic!("a connection: {version_0:?}")
        };
        assert_eq!(connection.transport_id(), "c");
        assert_eq!(
            NegotiateResponse::from_json(br#"{"url":"http://x/hub","accessToken":"a"}"#).unwrap(),
            NegotiateResponse::Redirect(NegotiateRedirect {
                url: "http://x/hub".into(),
                access_token: Some("a".into()),
            })
        );
        assert_eq!(
            NegotiateResponse::from_json(br#"{"error":"no"}"#).unwrap(),
            NegotiateResponse::Error(NegotiateError { error: "no".into() })
        );
        assert!(NegotiateResponse::from_json(br#"{"nothing":1}"#).is_err());
    }
}
