//! Answering the requests other nodes forward to this node's connections
//! (see `forward`, the asking side).

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use http::{Response, StatusCode, header};
use http_body_util::BodyExt;
use hub_core::Identity;
use hub_core::cluster::TransportHandler;

use crate::connections::HubConnections;
use crate::forward::{Answer, Forwarded, encode};
use crate::http_util::{Body, empty};
use crate::sessions::{BindError, Binding};

/// The handler answering other nodes' forwarded requests for `connections`.
pub(crate) fn handler(connections: Arc<HubConnections>) -> TransportHandler {
    Arc::new(move |request: Bytes| {
        let connections = connections.clone();
        Box::pin(async move {
            let answer = match rmp_serde::from_slice::<Forwarded>(&request) {
                Ok(request) => answer(&connections, request).await,
                Err(error) => Answer::Response {
                    status: StatusCode::BAD_REQUEST.as_u16(),
                    content_type: None,
                    body: Bytes::from(error.to_string()),
                },
            };
            encode(&answer)
        })
    })
}

async fn answer(connections: &Arc<HubConnections>, request: Forwarded) -> Answer {
    let sessions = &connections.sessions;
    let response = match request {
        Forwarded::TakeOver {
            token,
            user_id,
            node,
        } => {
            return match sessions.take_over(&token, user_id.as_deref(), &node) {
                Ok((connection_id, stateful, early)) => Answer::TakenOver {
                    connection_id: connection_id.to_string(),
                    stateful,
                    early,
                },
                Err(BindError::Moved(node)) => Answer::Moved { node },
                Err(error) => into_answer(error.response()).await,
            };
        }
        Forwarded::Ended { token } => {
            sessions.forget_moved(&token);
            return into_answer(empty(StatusCode::OK)).await;
        }
        Forwarded::Poll { token, user_id } => {
            if let Some(node) = moved(connections, &token, user_id.as_deref()) {
                return Answer::Moved { node };
            }
            connections
                .poll(&token, Identity::user(user_id), None)
                .await
        }
        Forwarded::Send {
            token,
            user_id,
            payload,
        } => {
            if let Some(node) = moved(connections, &token, user_id.as_deref()) {
                return Answer::Moved { node };
            }
            connections.send(&token, user_id.as_deref(), payload).await
        }
        Forwarded::Refresh {
            token,
            user_id,
            claims,
            expires_at,
        } => {
            if let Some(node) = moved(connections, &token, user_id.as_deref()) {
                return Answer::Moved { node };
            }
            let identity = Identity {
                user_id,
                claims,
                expires_at: expires_at.map(|millis| UNIX_EPOCH + Duration::from_millis(millis)),
            };
            connections.refresh(&token, identity)
        }
        Forwarded::Delete { token, user_id } => {
            if let Some(node) = moved(connections, &token, user_id.as_deref()) {
                return Answer::Moved { node };
            }
            connections.delete(&token, user_id.as_deref())
        }
    };
    into_answer(response).await
}

/// The node a session moved to, if it moved.
fn moved(connections: &HubConnections, token: &str, user_id: Option<&str>) -> Option<String> {
    match connections.sessions.binding(token, user_id) {
        Ok(Some(Binding::Moved { node })) | Err(BindError::Moved(node)) => Some(node),
        _ => None,
    }
}

async fn into_answer(response: Response<Body>) -> Answer {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let body = match response.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(never) => match never {},
    };
    Answer::Response {
        status,
        content_type,
        body,
    }
}
