//! `POST {hub}/negotiate`: creates a connection and lists the transports.

use http::StatusCode;
use hub_core::protocol::TransferFormat;
use serde::Serialize;

use crate::endpoint::HubEndpoint;
use crate::http_util::{Body, query_param, response};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NegotiateResponse<'a> {
    negotiate_version: u32,
    connection_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    connection_token: Option<&'a str>,
    available_transports: Vec<AvailableTransport>,
    use_stateful_reconnect: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AvailableTransport {
    transport: &'static str,
    transfer_formats: Vec<&'static str>,
}

#[derive(Serialize)]
struct NegotiateError<'a> {
    error: &'a str,
}

/// The highest negotiate version this server speaks.
const MAX_NEGOTIATE_VERSION: u32 = 1;

/// Errors are HTTP 200 with `{"error": ...}`, which the client reports verbatim.
fn error(message: &str) -> http::Response<Body> {
    let body = serde_json::to_vec(&NegotiateError { error: message }).expect("serializable");
    response(StatusCode::OK, "application/json", body)
}

/// Answers a negotiate request from `user_id`.
pub(crate) fn negotiate(
    endpoint: &HubEndpoint,
    query: Option<&str>,
    user_id: Option<String>,
) -> http::Response<Body> {
    let requested = match query_param(query, "negotiateVersion") {
        None => 0,
        Some(text) => match text.parse::<i64>() {
            Ok(version) => version,
            Err(_) => return error("The client requested a non-integer protocol version."),
        },
    };
    let minimum = endpoint.options.minimum_negotiate_version;
    if requested < i64::from(minimum) {
        return error(&format!(
            "The client requested version '{requested}', but the server does not support this version."
        ));
    }
    let version = u32::try_from(requested.min(i64::from(MAX_NEGOTIATE_VERSION))).unwrap_or(0);

    let stateful = endpoint.options.allow_stateful_reconnects
        && query_param(query, "useStatefulReconnect")
            .is_some_and(|value| value.eq_ignore_ascii_case("true"));
    let node = endpoint.cluster.as_ref().map(|link| link.node_id());
    let (token, connection_id) = endpoint.sessions.create(user_id, stateful, node);
    let available_transports = endpoint
        .transports()
        .into_iter()
        .map(|(transport, formats)| AvailableTransport {
            transport,
            transfer_formats: formats
                .iter()
                .map(|format| TransferFormat::name(*format))
                .collect(),
        })
        .collect();
    let body = NegotiateResponse {
        negotiate_version: version,
        connection_id: &connection_id,
        // Version 0 clients use the connection id as the token.
        connection_token: (version >= 1).then_some(token.as_str()),
        available_transports,
        use_stateful_reconnect: stateful,
    };
    if version == 0 {
        // The session must then be found by the connection id.
        endpoint.sessions.rekey(&token, connection_id.as_str());
    }
    let body = serde_json::to_vec(&body).expect("serializable");
    response(StatusCode::OK, "application/json", body)
}
