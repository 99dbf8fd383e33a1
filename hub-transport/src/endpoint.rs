//! One hub mapped to a path: applies CORS and authentication, then sends
//! each request to negotiate, to this node's connections, or to the node
//! that has the connection.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::request::Parts;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use hub_core::{ClusterLink, Hub, Identity};
use tokio::sync::Semaphore;

use crate::auth::Authenticator;
use crate::connections::HubConnections;
use crate::cors::{self, Cors, Verdict};
use crate::forward::{self, Forwarded};
use crate::http_util::{Body, query_param, text};
use crate::negotiate::negotiate;
use crate::options::EndpointOptions;
use crate::peer_answers;
use crate::refresh::RefreshRefused;
use crate::sessions::{Adopted, BindError, Binding, Sessions};
use crate::shutdown::ConnectionTasks;
use crate::websocket;

/// A hub served at a path.
#[derive(Debug)]
pub(crate) struct HubEndpoint {
    /// The path without a trailing slash (`/chatHub`).
    pub(crate) path: String,
    pub(crate) connections: Arc<HubConnections>,
    authenticator: Option<Authenticator>,
    cors: Option<Cors>,
}

/// Which part of an endpoint a request path addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// `{hub}/negotiate`
    Negotiate,
    /// `{hub}/refresh` (with `EndpointOptions::enable_authentication_refresh`)
    Refresh,
    /// `{hub}`
    Connection,
}

/// Where a connection lives, as far as this node can tell.
#[derive(Debug)]
enum Location {
    Here,
    Elsewhere(ClusterLink, String),
    Gone,
}

/// The answer when too many requests already wait for other nodes.
fn too_many_forwards() -> Response<Body> {
    text(
        StatusCode::SERVICE_UNAVAILABLE,
        "Too many requests are waiting for other servers; try again.",
    )
}

/// What a request to the connection path asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    WebSocket,
    ServerSentEvents,
    Poll,
    Send,
    Delete,
}

impl HubEndpoint {
    /// An endpoint for `hub` at `path` (`/chatHub`, or `` when mounted by a
    /// router), with the server's authentication and CORS. With a backplane,
    /// it answers the requests other nodes forward to its connections.
    pub(crate) fn new(
        path: &str,
        hub: Hub,
        options: EndpointOptions,
        authenticator: Option<Authenticator>,
        cors: Option<Cors>,
        tasks: ConnectionTasks,
    ) -> Self {
        let path = path.trim_matches('/');
        let cluster = hub.context().cluster();
        let forwards = Arc::new(Semaphore::new(options.max_forwarded_requests));
        let connections = Arc::new(HubConnections {
            hub,
            options,
            sessions: Sessions::default(),
            cluster,
            tasks,
            forwards,
        });
        if let Some(link) = &connections.cluster {
            link.set_handler(peer_answers::handler(connections.clone()));
        }
        Self {
            path: if path.is_empty() {
                String::new()
            } else {
                format!("/{path}")
            },
            connections,
            authenticator,
            cors,
        }
    }

    /// Matches a request path against this endpoint (a trailing slash is ignored).
    pub(crate) fn route(&self, path: &str) -> Option<Route> {
        let path = path.strip_suffix('/').unwrap_or(path);
        let rest = path.strip_prefix(self.path.as_str())?;
        match rest {
            "" => Some(Route::Connection),
            "/negotiate" => Some(Route::Negotiate),
            "/refresh" if self.connections.options.enable_authentication_refresh => {
                Some(Route::Refresh)
            }
            _ => None,
        }
    }

    pub(crate) async fn handle<B: RequestBody>(
        &self,
        route: Route,
        request: Request<B>,
        remote_addr: Option<SocketAddr>,
    ) -> Response<Body> {
        let (parts, body) = request.into_parts();
        let websocket = websocket::is_upgrade(&parts);
        let cors_headers = match cors::check(self.cors.as_ref(), &parts, websocket) {
            Verdict::Respond(response) => return response,
            Verdict::Proceed(headers) => headers,
        };
        let mut response = self
            .dispatch(route, parts, body, websocket, remote_addr)
            .await;
        response.headers_mut().extend(cors_headers);
        response
    }

    async fn dispatch<B: RequestBody>(
        &self,
        route: Route,
        parts: Parts,
        body: B,
        websocket: bool,
        remote_addr: Option<SocketAddr>,
    ) -> Response<Body> {
        let connections = &self.connections;
        let options = &connections.options;
        if route == Route::Refresh {
            return self.refresh(&parts).await;
        }
        let Some(identity) = self.authenticate(&parts).await else {
            return text(StatusCode::UNAUTHORIZED, "Unauthorized");
        };
        if route == Route::Negotiate {
            return match parts.method {
                Method::POST => negotiate(connections, parts.uri.query(), identity),
                _ => text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed"),
            };
        }

        let request = match (&parts.method, websocket) {
            (&Method::GET, true) => Kind::WebSocket,
            (&Method::GET, false) if accepts_event_stream(&parts) => Kind::ServerSentEvents,
            (&Method::GET, false) => Kind::Poll,
            (&Method::POST, _) => Kind::Send,
            (&Method::DELETE, _) => Kind::Delete,
            _ => return text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed"),
        };
        let enabled = options.transports;
        let disabled = match request {
            Kind::WebSocket => (!enabled.web_sockets).then_some(websocket::NAME),
            Kind::ServerSentEvents => (!enabled.server_sent_events).then_some(crate::sse::NAME),
            Kind::Poll => (!enabled.long_polling).then_some(crate::long_polling::NAME),
            Kind::Send | Kind::Delete => None,
        };
        if let Some(transport) = disabled {
            return text(
                StatusCode::NOT_FOUND,
                format!("The {transport} transport is not enabled."),
            );
        }
        let token = query_param(parts.uri.query(), "id");
        if request == Kind::WebSocket {
            // Without an id the client skipped negotiation.
            if let Some(token) = &token
                && let Err(response) = self.adopt_if_elsewhere(token, &identity).await
            {
                return response;
            }
            let request = Request::from_parts(parts, body);
            return connections.websocket(request, token, identity, remote_addr);
        }
        let Some(token) = token else {
            return text(StatusCode::BAD_REQUEST, "Connection ID required");
        };
        let user_id = identity.user_id.clone();
        match request {
            Kind::ServerSentEvents => {
                if let Err(response) = self.adopt_if_elsewhere(&token, &identity).await {
                    return response;
                }
                connections.server_sent_events(token, identity, remote_addr)
            }
            Kind::Poll => match self.locate(&token, user_id.as_deref()).await {
                Location::Elsewhere(link, node) => {
                    let timeout = options.long_polling_poll_timeout + Duration::from_secs(5);
                    let request = Forwarded::Poll { token, user_id };
                    self.forward(&link, node, request, timeout).await
                }
                Location::Gone => BindError::NotFound.response(),
                Location::Here => connections.poll(&token, identity, remote_addr).await,
            },
            Kind::Send => {
                let payload = match read_body(body, options.max_payload_size).await {
                    Ok(payload) => payload,
                    Err(response) => return response,
                };
                match self.locate(&token, user_id.as_deref()).await {
                    Location::Elsewhere(link, node) => {
                        let request = Forwarded::Send {
                            token,
                            user_id,
                            payload,
                        };
                        self.forward(&link, node, request, Duration::from_secs(10))
                            .await
                    }
                    Location::Gone => BindError::NotFound.response(),
                    Location::Here => connections.send(&token, user_id.as_deref(), payload).await,
                }
            }
            Kind::Delete => match self.locate(&token, user_id.as_deref()).await {
                Location::Elsewhere(link, node) => {
                    let request = Forwarded::Delete { token, user_id };
                    self.forward(&link, node, request, Duration::from_secs(10))
                        .await
                }
                Location::Gone => BindError::NotFound.response(),
                Location::Here => connections.delete(&token, user_id.as_deref()),
            },
            Kind::WebSocket => unreachable!("handled above"),
        }
    }

    /// Who a request comes from; `None` when it is refused (401).
    async fn authenticate(&self, parts: &Parts) -> Option<Identity> {
        let identity = match &self.authenticator {
            None => Identity::default(),
            Some(authenticator) => match authenticator.authenticate(parts).await {
                Ok(identity) => identity,
                Err(rejection) => {
                    tracing::debug!(%rejection, "request refused");
                    return None;
                }
            },
        };
        if self.connections.options.require_authenticated_user && identity.user_id.is_none() {
            return None;
        }
        Some(identity)
    }

    /// `POST {hub}/refresh?id={token}`: re-authenticates a connection
    /// (see `refresh` for the answers).
    async fn refresh(&self, parts: &Parts) -> Response<Body> {
        if parts.method != Method::POST {
            return text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
        }
        let Some(token) = query_param(parts.uri.query(), "id") else {
            return RefreshRefused::MissingToken.response();
        };
        let Some(identity) = self.authenticate(parts).await else {
            return RefreshRefused::InvalidToken.response();
        };
        match self.locate(&token, identity.user_id.as_deref()).await {
            Location::Here => self.connections.refresh(&token, identity),
            Location::Gone => RefreshRefused::NotFound.response(),
            Location::Elsewhere(link, node) => {
                let request = Forwarded::refresh(token, identity);
                self.forward(&link, node, request, Duration::from_secs(10))
                    .await
            }
        }
    }

    /// Where a token's connection is: here (or nowhere this node could
    /// tell), on another node a backplane can reach, or gone (its node is
    /// not alive: a token naming a node nobody runs is answered at once).
    async fn locate(&self, token: &str, user_id: Option<&str>) -> Location {
        let Some(link) = self.connections.cluster.as_ref() else {
            return Location::Here;
        };
        let sessions = &self.connections.sessions;
        let node = match sessions.binding(token, user_id) {
            Ok(Some(Binding::Moved { node })) | Err(BindError::Moved(node)) => node,
            Err(BindError::NotFound) => match forward::token_node(token) {
                Some(node) if node != link.node_id() => node.to_owned(),
                _ => return Location::Here,
            },
            _ => return Location::Here,
        };
        if link.is_live(&node).await {
            Location::Elsewhere(link.clone(), node)
        } else {
            // A connection that moved to a node that died is gone with it.
            sessions.forget_moved(token);
            Location::Gone
        }
    }

    /// Forwards a request to `node`, if fewer than
    /// `EndpointOptions::max_forwarded_requests` already wait (else `503`).
    async fn forward(
        &self,
        link: &ClusterLink,
        node: String,
        request: Forwarded,
        timeout: Duration,
    ) -> Response<Body> {
        let Ok(_permit) = self.connections.forwards.try_acquire() else {
            return too_many_forwards();
        };
        forward::forward(link, node, request, timeout).await
    }

    /// Takes over a connection negotiated on another node, whose stream
    /// (WebSocket, Server-Sent Events) connected here.
    async fn adopt_if_elsewhere(
        &self,
        token: &str,
        identity: &Identity,
    ) -> Result<(), Response<Body>> {
        let user_id = identity.user_id.as_deref();
        let (link, node) = match self.locate(token, user_id).await {
            Location::Here => return Ok(()),
            Location::Gone => return Err(BindError::NotFound.response()),
            Location::Elsewhere(link, node) => (link, node),
        };
        let Ok(_permit) = self.connections.forwards.try_acquire() else {
            return Err(too_many_forwards());
        };
        let (connection_id, stateful, early) =
            forward::take_over(&link, node.clone(), token, identity).await?;
        let adopted = Adopted {
            user_id: identity.user_id.clone(),
            connection_id,
            stateful,
            origin: node,
            early,
        };
        self.connections.sessions.adopt(token, adopted);
        Ok(())
    }
}

/// A request body the hub endpoints accept: hyper's, axum's, any
/// `http_body::Body` of `Bytes`.
pub trait RequestBody:
    http_body::Body<Data = Bytes, Error: Into<Box<dyn std::error::Error + Send + Sync>>>
    + Send
    + 'static
{
}

impl<B> RequestBody for B where
    B: http_body::Body<Data = Bytes, Error: Into<Box<dyn std::error::Error + Send + Sync>>>
        + Send
        + 'static
{
}

/// A POST body, up to `limit` bytes (413 beyond).
async fn read_body<B: RequestBody>(body: B, limit: usize) -> Result<Bytes, Response<Body>> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => Err(text(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("The request body exceeds the limit of {limit} bytes."),
        )),
        Err(error) => Err(text(
            StatusCode::BAD_REQUEST,
            format!("Failed to read the request body: {error}"),
        )),
    }
}

fn accepts_event_stream(parts: &Parts) -> bool {
    parts.headers.get_all(header::ACCEPT).iter().any(|value| {
        value
            .to_str()
            .is_ok_and(|value| value.contains("text/event-stream"))
    })
}
