//! One hub mapped to a path: routes negotiate and transport requests.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use http::request::Parts;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use hub_core::protocol::TransferFormat;
use hub_core::{ConnectionId, ConnectionInfo, Hub, Identity, Transport};
use hyper::body::Incoming;
use tokio::sync::mpsc;

use crate::auth::Authenticator;
use crate::cors::{self, Cors, Verdict};
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
}

/// Who a starting connection is.
#[derive(Debug)]
pub(crate) struct ConnectionStart {
    /// The session's token (`None` with skipNegotiation).
    pub(crate) token: Option<String>,
    pub(crate) connection_id: ConnectionId,
    pub(crate) identity: Identity,
    pub(crate) remote_addr: SocketAddr,
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

    pub(crate) async fn handle(
        &self,
        route: Route,
        request: Request<Incoming>,
        remote_addr: SocketAddr,
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

    async fn dispatch(
        &self,
        route: Route,
        parts: Parts,
        body: Incoming,
        websocket: bool,
        remote_addr: SocketAddr,
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
        let transports = self.options.transports;
        match (route, &parts.method) {
            (Route::Negotiate, &Method::POST) => {
                negotiate(self, parts.uri.query(), identity.user_id)
            }
            (Route::Negotiate, _) => text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed"),
            (Route::Connection, &Method::GET) if websocket => {
                if !transports.web_sockets {
                    return text(
                        StatusCode::NOT_FOUND,
                        "The WebSockets transport is not enabled.",
                    );
                }
                websocket::accept(
                    self,
                    Request::from_parts(parts, body),
                    identity,
                    remote_addr,
                    state,
                )
            }
            (Route::Connection, &Method::GET) if accepts_event_stream(&parts) => {
                if !transports.server_sent_events {
                    return text(
                        StatusCode::NOT_FOUND,
                        "The ServerSentEvents transport is not enabled.",
                    );
                }
                self.server_sent_events(&parts, identity, remote_addr, state)
            }
            (Route::Connection, &Method::GET) => {
                if !transports.long_polling {
                    return text(
                        StatusCode::NOT_FOUND,
                        "The LongPolling transport is not enabled.",
                    );
                }
                self.long_poll(&parts, identity, remote_addr, state).await
            }
            (Route::Connection, &Method::POST) => self.send(&parts, body, identity).await,
            (Route::Connection, &Method::DELETE) => self.delete(&parts, identity),
            (Route::Connection, _) => text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed"),
        }
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
        parts: &Parts,
        identity: Identity,
        remote_addr: SocketAddr,
        state: &ServerState,
    ) -> Response<Body> {
        let Some(token) = query_param(parts.uri.query(), "id") else {
            return text(StatusCode::BAD_REQUEST, "Connection ID required");
        };
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

    /// A poll: the first one starts the connection and answers at once.
    async fn long_poll(
        &self,
        parts: &Parts,
        identity: Identity,
        remote_addr: SocketAddr,
        state: &ServerState,
    ) -> Response<Body> {
        let Some(token) = query_param(parts.uri.query(), "id") else {
            return text(StatusCode::BAD_REQUEST, "Connection ID required");
        };
        let user_id = identity.user_id.as_deref();
        match self.sessions.binding(&token, user_id) {
            Err(error) => bind_error_response(error),
            Ok(Some(Binding::LongPolling { channel, .. })) => {
                let result =
                    long_polling::poll(channel.clone(), self.options.long_polling_poll_timeout)
                        .await;
                if result.status() == StatusCode::NO_CONTENT && channel.is_over() {
                    // The connection is over: later requests get 404.
                    self.sessions.remove(&token);
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
                let connection_id = match self.bind_new(&token, user_id, binding) {
                    Ok(connection_id) => connection_id,
                    Err(error) => return bind_error_response(error),
                };
                let transport = LongPollingTransport {
                    inbound,
                    channel,
                    disconnect_timeout: self.options.disconnect_timeout,
                };
                let start = ConnectionStart {
                    token: Some(token),
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

    /// A POST of messages (Server-Sent Events and Long Polling).
    async fn send(&self, parts: &Parts, body: Incoming, identity: Identity) -> Response<Body> {
        let Some(token) = query_param(parts.uri.query(), "id") else {
            return text(StatusCode::BAD_REQUEST, "Connection ID required");
        };
        let inbound = match self.sessions.inbound(&token, identity.user_id.as_deref()) {
            Ok(inbound) => inbound,
            Err(error) => return bind_error_response(error),
        };
        let limit = self.options.max_payload_size;
        let payload = match Limited::new(body, limit).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(error) if error.is::<http_body_util::LengthLimitError>() => {
                return text(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("The request body exceeds the limit of {limit} bytes."),
                );
            }
            Err(error) => {
                return text(
                    StatusCode::BAD_REQUEST,
                    format!("Failed to read the request body: {error}"),
                );
            }
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
    fn delete(&self, parts: &Parts, identity: Identity) -> Response<Body> {
        let Some(token) = query_param(parts.uri.query(), "id") else {
            return text(StatusCode::BAD_REQUEST, "Connection ID required");
        };
        match self.sessions.binding(&token, identity.user_id.as_deref()) {
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
        remote_addr: Some(start.remote_addr),
        shutdown: state.shutdown.clone(),
        stateful_reconnect: start.stateful,
    };
    let token = start.token;
    async move {
        hub.serve_connection(transport, info).await;
        if let Some(token) = token {
            sessions.end(&token);
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
    };
    text(status, error.to_string())
}
