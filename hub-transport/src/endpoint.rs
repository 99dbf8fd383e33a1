//! One hub mapped to a path: routes negotiate and transport requests.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use http::request::Parts;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use hub_core::protocol::TransferFormat;
use hub_core::{ClusterLink, ConnectionId, ConnectionInfo, Hub, Identity, Transport};
use tokio::sync::mpsc;

use crate::auth::Authenticator;
use crate::cors::{self, Cors, Verdict};
use crate::forward::{self, Forwarded};
use crate::http_util::{Body, empty, query_param, response, text};
use crate::long_polling::{self, LongPollChannel, LongPollingTransport};
use crate::negotiate::negotiate;
use crate::options::EndpointOptions;
use crate::server::ServerState;
use crate::sessions::{BindError, Binding, Bound, Sessions, TransportKind};
use crate::{sse, websocket};

/// Payloads POSTed to one connection and not yet read by it, at most.
const INBOUND_CAPACITY: usize = 8;

/// A hub served at a path.
#[derive(Debug)]
pub(crate) struct HubEndpoint {
    /// The path without a trailing slash (`/chatHub`).
    pub(crate) path: String,
    pub(crate) hub: Hub,
    pub(crate) options: EndpointOptions,
    pub(crate) sessions: Arc<Sessions>,
    pub(crate) authenticator: Option<Authenticator>,
    pub(crate) cors: Option<Cors>,
    /// The hub's backplane link, when it has one (set when the server binds).
    pub(crate) cluster: Option<ClusterLink>,
}

/// Who a starting connection is.
#[derive(Debug)]
pub(crate) struct ConnectionStart {
    /// The session's token (`None` with skipNegotiation).
    pub(crate) token: Option<String>,
    pub(crate) connection_id: ConnectionId,
    pub(crate) identity: Identity,
    pub(crate) remote_addr: Option<SocketAddr>,
    /// Whether negotiate granted stateful reconnect.
    pub(crate) stateful: bool,
}

/// Which part of an endpoint a request path addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// `{hub}/negotiate`
    Negotiate,
    /// `{hub}`
    Connection,
}

impl HubEndpoint {
    /// An endpoint for `hub` at `path` (`/chatHub`, or `` when mounted by a router).
    pub(crate) fn new(path: &str, hub: Hub, options: EndpointOptions) -> Self {
        let path = path.trim_matches('/');
        Self {
            path: if path.is_empty() {
                String::new()
            } else {
                format!("/{path}")
            },
            hub,
            options,
            sessions: Arc::default(),
            authenticator: None,
            cors: None,
            cluster: None,
        }
    }

    /// Puts the endpoint to work: with the server's authentication and CORS,
    /// answering other nodes' forwarded requests when the hub has a backplane.
    pub(crate) fn activate(
        mut self,
        authenticator: Option<Authenticator>,
        cors: Option<Cors>,
        state: &ServerState,
    ) -> Arc<Self> {
        self.authenticator = authenticator;
        self.cors = cors;
        self.cluster = self.hub.context().cluster();
        let endpoint = Arc::new(self);
        if let Some(link) = &endpoint.cluster {
            link.set_handler(forward::handler(endpoint.clone(), state.clone()));
        }
        endpoint
    }

    /// Matches a request path against this endpoint (a trailing slash is ignored).
    pub(crate) fn route(&self, path: &str) -> Option<Route> {
        let path = path.strip_suffix('/').unwrap_or(path);
        let rest = path.strip_prefix(self.path.as_str())?;
        match rest {
            "" => Some(Route::Connection),
            "/negotiate" => Some(Route::Negotiate),
            _ => None,
        }
    }

    /// The enabled transports and their formats, in the client's order of preference.
    pub(crate) fn transports(&self) -> Vec<(&'static str, &'static [TransferFormat])> {
        let enabled = self.options.transports;
        [
            (
                enabled.web_sockets,
                TransportKind::WebSockets,
                websocket::FORMATS,
            ),
            (
                enabled.server_sent_events,
                TransportKind::ServerSentEvents,
                sse::FORMATS,
            ),
            (
                enabled.long_polling,
                TransportKind::LongPolling,
                long_polling::FORMATS,
            ),
        ]
        .into_iter()
        .filter(|(on, ..)| *on)
        .map(|(_, kind, formats)| (kind.name(), formats))
        .collect()
    }

    pub(crate) async fn handle<B: RequestBody>(
        &self,
        route: Route,
        request: Request<B>,
        remote_addr: Option<SocketAddr>,
        state: &ServerState,
    ) -> Response<Body> {
        let (parts, body) = request.into_parts();
        let websocket = websocket::is_upgrade(&parts);
        let cors_headers = match cors::check(self.cors.as_ref(), &parts, websocket) {
            Verdict::Respond(response) => return response,
            Verdict::Proceed(headers) => headers,
        };
        let mut response = self
            .dispatch(route, parts, body, websocket, remote_addr, state)
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
        state: &ServerState,
    ) -> Response<Body> {
        let identity = match &self.authenticator {
            None => Identity::default(),
            Some(authenticator) => match authenticator.authenticate(&parts).await {
                Ok(identity) => identity,
                Err(rejection) => {
                    tracing::debug!(%rejection, "request refused");
                    return text(StatusCode::UNAUTHORIZED, "Unauthorized");
                }
            },
        };
        if self.options.require_authenticated_user && identity.user_id.is_none() {
            return text(StatusCode::UNAUTHORIZED, "Unauthorized");
        }
        if route == Route::Negotiate {
            return match parts.method {
                Method::POST => negotiate(self, parts.uri.query(), identity.user_id),
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
        let enabled = self.options.transports;
        let disabled = match request {
            Kind::WebSocket => (!enabled.web_sockets).then_some("WebSockets"),
            Kind::ServerSentEvents => (!enabled.server_sent_events).then_some("ServerSentEvents"),
            Kind::Poll => (!enabled.long_polling).then_some("LongPolling"),
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
            return websocket::accept(
                self,
                Request::from_parts(parts, body),
                identity,
                remote_addr,
                state,
            );
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
                self.server_sent_events(token, identity, remote_addr, state)
            }
            Kind::Poll => match self.elsewhere(&token, user_id.as_deref()) {
                Some((link, node)) => {
                    let timeout = self.options.long_polling_poll_timeout + Duration::from_secs(5);
                    forward::forward(&link, node, Forwarded::Poll { token, user_id }, timeout).await
                }
                None => self.poll(&token, identity, remote_addr, state).await,
            },
            Kind::Send => {
                let payload = match read_body(body, self.options.max_payload_size).await {
                    Ok(payload) => payload,
                    Err(response) => return response,
                };
                match self.elsewhere(&token, user_id.as_deref()) {
                    Some((link, node)) => {
                        let request = Forwarded::Send {
                            token,
                            user_id,
                            payload,
                        };
                        forward::forward(&link, node, request, Duration::from_secs(10)).await
                    }
                    None => self.send_payload(&token, user_id.as_deref(), payload).await,
                }
            }
            Kind::Delete => match self.elsewhere(&token, user_id.as_deref()) {
                Some((link, node)) => {
                    forward::forward(
                        &link,
                        node,
                        Forwarded::Delete { token, user_id },
                        Duration::from_secs(10),
                    )
                    .await
                }
                None => self.delete_token(&token, user_id.as_deref()),
            },
            Kind::WebSocket => unreachable!("handled above"),
        }
    }

    /// Where a token's connection is, when it is on another node and a
    /// backplane can reach it.
    fn elsewhere(&self, token: &str, user_id: Option<&str>) -> Option<(ClusterLink, String)> {
        let link = self.cluster.as_ref()?;
        let node = match self.sessions.binding(token, user_id) {
            Ok(Some(Binding::Moved { node })) | Err(BindError::Moved(node)) => node,
            Err(BindError::NotFound) => forward::token_node(token)
                .filter(|node| *node != link.node_id())?
                .to_owned(),
            _ => return None,
        };
        Some((link.clone(), node))
    }

    /// Takes over a connection negotiated on another node, whose stream
    /// (WebSocket, Server-Sent Events) connected here.
    async fn adopt_if_elsewhere(
        &self,
        token: &str,
        identity: &Identity,
    ) -> Result<(), Response<Body>> {
        let user_id = identity.user_id.as_deref();
        let Some((link, node)) = self.elsewhere(token, user_id) else {
            return Ok(());
        };
        let (connection_id, stateful) =
            forward::take_over(&link, node.clone(), token, identity).await?;
        self.sessions.adopt(
            token,
            identity.user_id.clone(),
            connection_id,
            stateful,
            node,
        );
        Ok(())
    }

    /// Binds a transport that cannot resume (SSE, Long Polling) to a session.
    fn bind_new(
        &self,
        token: &str,
        user_id: Option<&str>,
        binding: Binding,
    ) -> Result<ConnectionId, BindError> {
        match self.sessions.bind(token, user_id, binding)? {
            Bound::New { connection_id, .. } => Ok(connection_id),
            Bound::Resume(_) => Err(BindError::AlreadyConnected),
        }
    }

    /// Starts the hub connection over `transport` (tracked for shutdown).
    pub(crate) fn start_connection<T: Transport>(
        &self,
        transport: T,
        start: ConnectionStart,
        state: &ServerState,
    ) {
        let run = run_connection(
            self.hub.clone(),
            self.sessions.clone(),
            transport,
            start,
            state,
        );
        state.tracker.spawn(run);
    }

    fn server_sent_events(
        &self,
        token: String,
        identity: Identity,
        remote_addr: Option<SocketAddr>,
        state: &ServerState,
    ) -> Response<Body> {
        let (inbound_sender, inbound) = mpsc::channel(INBOUND_CAPACITY);
        let binding = Binding::ServerSentEvents {
            inbound: inbound_sender,
        };
        let connection_id = match self.bind_new(&token, identity.user_id.as_deref(), binding) {
            Ok(connection_id) => connection_id,
            Err(error) => return bind_error_response(error),
        };
        let (response, transport) = sse::open(inbound);
        let start = ConnectionStart {
            token: Some(token),
            connection_id,
            identity,
            remote_addr,
            stateful: false,
        };
        self.start_connection(transport, start, state);
        response
    }

    /// A poll of the connection of `token` (here): the first one starts the
    /// connection and answers at once.
    pub(crate) async fn poll(
        &self,
        token: &str,
        identity: Identity,
        remote_addr: Option<SocketAddr>,
        state: &ServerState,
    ) -> Response<Body> {
        let user_id = identity.user_id.as_deref();
        match self.sessions.binding(token, user_id) {
            Err(error) => bind_error_response(error),
            Ok(Some(Binding::LongPolling { channel, .. })) => {
                let result =
                    long_polling::poll(channel.clone(), self.options.long_polling_poll_timeout)
                        .await;
                if result.status() == StatusCode::NO_CONTENT && channel.is_over() {
                    // The connection is over: later requests get 404.
                    self.sessions.remove(token);
                }
                result
            }
            Ok(Some(_)) => bind_error_response(BindError::OtherTransport),
            Ok(None) => {
                let (inbound_sender, inbound) = mpsc::channel(INBOUND_CAPACITY);
                let channel =
                    Arc::new(LongPollChannel::new(self.options.long_polling_max_buffered));
                let binding = Binding::LongPolling {
                    inbound: inbound_sender,
                    channel: channel.clone(),
                };
                let connection_id = match self.bind_new(token, user_id, binding) {
                    Ok(connection_id) => connection_id,
                    Err(error) => return bind_error_response(error),
                };
                let transport = LongPollingTransport {
                    inbound,
                    channel,
                    disconnect_timeout: self.options.disconnect_timeout,
                };
                let start = ConnectionStart {
                    token: Some(token.to_owned()),
                    connection_id,
                    identity,
                    remote_addr,
                    stateful: false,
                };
                self.start_connection(transport, start, state);
                response(
                    StatusCode::OK,
                    "application/octet-stream",
                    bytes::Bytes::new(),
                )
            }
        }
    }

    /// Messages POSTed to the connection of `token` (here; Server-Sent Events
    /// and Long Polling).
    pub(crate) async fn send_payload(
        &self,
        token: &str,
        user_id: Option<&str>,
        payload: Bytes,
    ) -> Response<Body> {
        let inbound = match self.sessions.inbound(token, user_id) {
            Ok(inbound) => inbound,
            Err(error) => return bind_error_response(error),
        };
        if payload.is_empty() {
            return empty(StatusCode::OK);
        }
        match inbound.send(payload).await {
            Ok(()) => empty(StatusCode::OK),
            Err(_) => bind_error_response(BindError::NotFound),
        }
    }

    /// DELETE ends a long-polling connection (202); other transports get 400.
    pub(crate) fn delete_token(&self, token: &str, user_id: Option<&str>) -> Response<Body> {
        match self.sessions.binding(token, user_id) {
            Err(error) => bind_error_response(error),
            Ok(Some(Binding::LongPolling { channel, .. })) => {
                channel.delete();
                empty(StatusCode::ACCEPTED)
            }
            Ok(_) => text(
                StatusCode::BAD_REQUEST,
                "Cannot terminate this connection using the DELETE endpoint.",
            ),
        }
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

/// What a request to the connection path asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    WebSocket,
    ServerSentEvents,
    Poll,
    Send,
    Delete,
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

/// Serves a connection until it ends; its session ends with it.
pub(crate) fn run_connection<T: Transport>(
    hub: Hub,
    sessions: Arc<Sessions>,
    transport: T,
    start: ConnectionStart,
    state: &ServerState,
) -> impl Future<Output = ()> + Send + 'static {
    let info = ConnectionInfo {
        connection_id: start.connection_id,
        identity: start.identity,
        remote_addr: start.remote_addr,
        shutdown: state.shutdown.clone(),
        stateful_reconnect: start.stateful,
    };
    let token = start.token;
    let cluster = hub.context().cluster();
    let serve = hub.serve_connection(transport, info);
    async move {
        serve.await;
        if let Some(token) = token
            && let Some(origin) = sessions.end(&token)
            && let Some(link) = cluster
        {
            forward::report_end(link, origin, token);
        }
    }
}

fn accepts_event_stream(parts: &Parts) -> bool {
    parts.headers.get_all(header::ACCEPT).iter().any(|value| {
        value
            .to_str()
            .is_ok_and(|value| value.contains("text/event-stream"))
    })
}

/// The response to a failed bind, as ASP.NET answers it.
pub(crate) fn bind_error_response(error: BindError) -> Response<Body> {
    let status = match error {
        BindError::NotFound => StatusCode::NOT_FOUND,
        BindError::AlreadyConnected => StatusCode::CONFLICT,
        BindError::OtherTransport | BindError::NotStarted => StatusCode::BAD_REQUEST,
        BindError::WrongUser => StatusCode::FORBIDDEN,
        BindError::WebSocketSend => StatusCode::METHOD_NOT_ALLOWED,
        // Only when no backplane could forward the request.
        BindError::Moved(_) => StatusCode::NOT_FOUND,
    };
    text(status, error.to_string())
}
