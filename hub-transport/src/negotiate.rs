//! `POST {hub}/negotiate`: creates a connection and lists the transports.

use std::time::SystemTime;

use http::StatusCode;
use hub_core::Identity;
use hub_core::protocol::TransferFormat;
use hub_core::protocol::negotiate::{
    AvailableTransport, NegotiateError, NegotiateResponse, NegotiatedConnection,
};

use crate::connections::HubConnections;
use crate::http_util::{Body, query_param, response};
use crate::options::Transports;
use crate::refresh;
use crate::{long_polling, sse, websocket};

/// The highest negotiate version this server speaks.
const MAX_NEGOTIATE_VERSION: u32 = 1;

/// Answers `document` (errors too are HTTP 200: the client reports
/// `{"error": ...}` verbatim).
fn answer(document: &NegotiateResponse) -> http::Response<Body> {
    response(StatusCode::OK, "application/json", document.to_json())
}

fn error(message: String) -> http::Response<Body> {
    answer(&NegotiateResponse::Error(NegotiateError { error: message }))
}

/// The enabled transports and their formats, in the client's order of preference.
fn offered(enabled: Transports) -> Vec<AvailableTransport> {
    [
        (enabled.web_sockets, websocket::NAME, websocket::FORMATS),
        (enabled.server_sent_events, sse::NAME, sse::FORMATS),
        (
            enabled.long_polling,
            long_polling::NAME,
            long_polling::FORMATS,
        ),
    ]
    .into_iter()
    .filter(|(on, ..)| *on)
    .map(|(_, transport, formats)| AvailableTransport {
        transport: transport.to_owned(),
        transfer_formats: formats
            .iter()
            .map(|format| TransferFormat::name(*format).to_owned())
            .collect(),
    })
    .collect()
}

/// Answers a negotiate request from `identity`.
pub(crate) fn negotiate(
    connections: &HubConnections,
    query: Option<&str>,
    identity: Identity,
) -> http::Response<Body> {
    let options = &connections.options;
    let requested = match query_param(query, "negotiateVersion") {
        None => 0,
        Some(text) => match text.parse::<i64>() {
            Ok(version) => version,
            Err(_) => return error("The client requested a non-integer protocol version.".into()),
        },
    };
    let minimum = options.minimum_negotiate_version;
    if requested < i64::from(minimum) {
        return error(format!(
            "The client requested version '{requested}', but the server does not support this version."
        ));
    }
    let version = u32::try_from(requested.min(i64::from(MAX_NEGOTIATE_VERSION))).unwrap_or(0);

    let stateful = options.allow_stateful_reconnects
        && query_param(query, "useStatefulReconnect")
            .is_some_and(|value| value.eq_ignore_ascii_case("true"));
    let node = connections.cluster.as_ref().map(|link| link.node_id());
    let token_lifetime_seconds = (options.enable_authentication_refresh && version >= 1)
        .then(|| {
            refresh::lifetime_seconds(
                &identity,
                options.maximum_authentication_expiration,
                SystemTime::now(),
            )
        })
        .flatten();
    let (token, connection_id) = connections
        .sessions
        .create(identity.user_id, stateful, node);
    if version == 0 {
        // Version 0 clients use the connection id as the token: the session
        // must then be found by it.
        connections.sessions.rekey(&token, connection_id.as_str());
    }
    answer(&NegotiateResponse::Connection(NegotiatedConnection {
        negotiate_version: version,
        connection_id: connection_id.to_string(),
        connection_token: (version >= 1).then_some(token),
        available_transports: offered(options.transports),
        use_stateful_reconnect: stateful,
        token_lifetime_seconds,
    }))
}
