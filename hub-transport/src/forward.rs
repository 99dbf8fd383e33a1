//! Connections that live on another node: requests for them are forwarded
//! over the hub's backplane, so no sticky sessions are needed.
//!
//! A connection token names the node that negotiated it (`<random>.<node>`).
//! A WebSocket or Server-Sent Events stream that connects to another node
//! takes the connection over: it then runs there, and the negotiating node
//! remembers where it went. Long polls, sends (POST) and DELETE requests that
//! reach a node without the connection are forwarded to the node that has it
//! (following a takeover), and its answer is returned as is.
//!
//! This module is the asking side; `peer_answers` answers.

use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use hub_core::{ClusterLink, ConnectionId, Identity};
use serde::{Deserialize, Serialize};

use crate::http_util::{Body, response, text};

/// Timeout of forwarded requests other than polls.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Hops followed when a connection moved (negotiated on one node, taken over by another).
const MAX_HOPS: usize = 3;

/// A request for a connection another node has.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Forwarded {
    /// A stream connected to `node`: hand the negotiated connection over.
    TakeOver {
        token: String,
        user_id: Option<String>,
        node: String,
    },
    Poll {
        token: String,
        user_id: Option<String>,
    },
    Send {
        token: String,
        user_id: Option<String>,
        payload: Bytes,
    },
    Delete {
        token: String,
        user_id: Option<String>,
    },
    /// A connection taken over from this node ended.
    Ended { token: String },
    /// New credentials for the connection (`POST {hub}/refresh`).
    Refresh {
        token: String,
        user_id: Option<String>,
        claims: Vec<(String, String)>,
        /// Milliseconds since the Unix epoch.
        expires_at: Option<u64>,
    },
}

impl Forwarded {
    /// A refresh of the connection of `token` with `identity`.
    pub(crate) fn refresh(token: String, identity: Identity) -> Self {
        Forwarded::Refresh {
            token,
            user_id: identity.user_id,
            claims: identity.claims,
            expires_at: identity.expires_at.map(|at| {
                at.duration_since(UNIX_EPOCH)
                    .map_or(0, |since| since.as_millis() as u64)
            }),
        }
    }
}

/// The answer of the node that has the connection.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Answer {
    TakenOver {
        connection_id: String,
        stateful: bool,
        /// What the client POSTed before its transport started.
        early: Vec<Bytes>,
    },
    /// The connection is on this other node now.
    Moved { node: String },
    /// The HTTP response to give.
    Response {
        status: u16,
        content_type: Option<String>,
        body: Bytes,
    },
}

/// The node named by a connection token, if the token names one.
pub(crate) fn token_node(token: &str) -> Option<&str> {
    token
        .rsplit_once('.')
        .map(|(_, node)| node)
        .filter(|node| !node.is_empty())
}

/// A forwarded request or its answer, as it crosses the backplane.
pub(crate) fn encode<T: Serialize>(value: &T) -> Bytes {
    Bytes::from(rmp_serde::to_vec(value).expect("forwarded messages always encode"))
}

fn unreachable(error: impl std::fmt::Display) -> Response<Body> {
    text(
        StatusCode::SERVICE_UNAVAILABLE,
        format!("The server that has this connection cannot be reached: {error}"),
    )
}

async fn ask(
    link: &ClusterLink,
    node: &str,
    request: &Forwarded,
    timeout: Duration,
) -> Result<Answer, Response<Body>> {
    let reply = link
        .request(node, encode(request), timeout)
        .await
        .map_err(unreachable)?;
    rmp_serde::from_slice(&reply).map_err(unreachable)
}

/// Forwards a poll, send or delete to `node` (following moves) and returns
/// its response.
pub(crate) async fn forward(
    link: &ClusterLink,
    mut node: String,
    request: Forwarded,
    timeout: Duration,
) -> Response<Body> {
    for _ in 0..MAX_HOPS {
        match ask(link, &node, &request, timeout).await {
            Err(response) => return response,
            Ok(Answer::Response {
                status,
                content_type,
                body,
            }) => {
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
                let mut answer = response(status, "application/octet-stream", body);
                match content_type.and_then(|value| HeaderValue::from_str(&value).ok()) {
                    Some(value) => answer.headers_mut().insert(header::CONTENT_TYPE, value),
                    None => answer.headers_mut().remove(header::CONTENT_TYPE),
                };
                return answer;
            }
            Ok(Answer::Moved { node: next }) => node = next,
            Ok(Answer::TakenOver { .. }) => break,
        }
    }
    text(
        StatusCode::BAD_GATEWAY,
        "The connection could not be located.",
    )
}

/// A connection another node handed over: its id, whether it is stateful,
/// and what the client POSTed before its transport started.
pub(crate) type TakenOver = (ConnectionId, bool, Vec<Bytes>);

/// Asks `node` (following moves) to hand a negotiated connection over to this node.
pub(crate) async fn take_over(
    link: &ClusterLink,
    mut node: String,
    token: &str,
    identity: &Identity,
) -> Result<TakenOver, Response<Body>> {
    let request = Forwarded::TakeOver {
        token: token.to_owned(),
        user_id: identity.user_id.clone(),
        node: link.node_id().to_owned(),
    };
    for _ in 0..MAX_HOPS {
        match ask(link, &node, &request, REQUEST_TIMEOUT).await? {
            Answer::TakenOver {
                connection_id,
                stateful,
                early,
            } => return Ok((ConnectionId::from(connection_id), stateful, early)),
            Answer::Moved { node: next } => node = next,
            Answer::Response { status, body, .. } => {
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
                return Err(response(status, "text/plain; charset=utf-8", body));
            }
        }
    }
    Err(text(
        StatusCode::BAD_GATEWAY,
        "The connection could not be located.",
    ))
}

/// Tells the node that negotiated a connection this node took over that it ended.
pub(crate) fn report_end(link: ClusterLink, node: String, token: String) {
    tokio::spawn(async move {
        let _ = link
            .request(&node, encode(&Forwarded::Ended { token }), REQUEST_TIMEOUT)
            .await;
    });
}

#[cfg(test)]
mod tests {
    use super::token_node;

    #[test]
    fn tokens_name_their_node() {
        assert_eq!(token_node("abc.node1"), Some("node1"));
        assert_eq!(token_node("abc"), None);
        assert_eq!(token_node("abc."), None);
    }
}
