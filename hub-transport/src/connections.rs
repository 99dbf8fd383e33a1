//! The connections of one hub on this node: starting them over any of the
//! three transports, and the requests that reach a connection this node has
//! (polls, sends, DELETE), whether they came to this node or were forwarded
//! by another.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use hub_core::{
    ClusterLink, ConnectionId, ConnectionInfo, Hub, Identity, IdentityRefused, Transport,
};
use tokio::sync::{Semaphore, mpsc};

use crate::connection_metrics::ActiveConnection;
use crate::forward;
use crate::http_util::{Body, empty, response, text};
use crate::long_polling::{self, LongPollChannel, LongPollingTransport};
use crate::options::EndpointOptions;
use crate::refresh::{self, RefreshRefused};
use crate::sessions::{BindError, Binding, Bound, Delivery, Sessions};
use crate::shutdown::ConnectionTasks;
use crate::sse;
use crate::websocket::{self, WebSocketTransport};

/// Payloads POSTed to one connection and not yet read by it, at most.
const INBOUND_CAPACITY: usize = 8;

/// What serving one hub's connections takes; shared by the endpoint (requests
/// to this node) and the answers to other nodes (requests forwarded here).
#[derive(Debug)]
pub(crate) struct HubConnections {
    pub(crate) hub: Hub,
    pub(crate) options: EndpointOptions,
    pub(crate) sessions: Sessions,
    /// The hub's backplane link, when it has one.
    pub(crate) cluster: Option<ClusterLink>,
    pub(crate) tasks: ConnectionTasks,
    /// Permits for requests waiting on another node
    /// (`EndpointOptions::max_forwarded_requests`).
    pub(crate) forwards: Arc<Semaphore>,
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
    /// What the client POSTed before the transport started.
    pub(crate) early: Vec<Bytes>,
    /// The span of the request that starts the connection.
    pub(crate) request_span: tracing::Span,
}

impl HubConnections {
    /// Starts the hub connection over `transport`, on a task of its own
    /// (tracked for shutdown); its session ends with it. Every transport's
    /// connections start here.
    pub(crate) fn start<T: Transport>(self: &Arc<Self>, transport: T, start: ConnectionStart) {
        let info = ConnectionInfo {
            connection_id: start.connection_id,
            identity: start.identity,
            remote_addr: start.remote_addr,
            shutdown: self.tasks.shutdown.clone(),
            stateful_reconnect: start.stateful,
            early_data: start.early,
            request_span: start.request_span,
        };
        let token = start.token;
        let active = ActiveConnection::start(transport.name());
        let serve = self.hub.serve_connection(transport, info);
        let connections = self.clone();
        self.tasks.tracker.spawn(async move {
            active.ended(serve.await);
            if let Some(token) = token
                && let Some(origin) = connections.sessions.end(&token)
                && let Some(link) = connections.cluster.clone()
            {
                forward::report_end(link, origin, token);
            }
        });
    }

    /// A WebSocket upgrade request: binds the socket to its session (or, for
    /// a stateful session, hands it to the live connection) and answers 101.
    pub(crate) fn websocket<B>(
        self: &Arc<Self>,
        mut request: Request<B>,
        token: Option<String>,
        identity: Identity,
        remote_addr: Option<SocketAddr>,
    ) -> Response<Body> {
        let upgrade = match websocket::upgrade(&mut request, self.options.max_payload_size) {
            Ok(upgrade) => upgrade,
            Err(refused) => return refused.response(),
        };
        // With a token the connection was negotiated; without, the client
        // skipped negotiation.
        let bound = match &token {
            Some(token) => self.sessions.bind(
                token,
                identity.user_id.as_deref(),
                Binding::WebSocket { resume: None },
            ),
            None => Ok(Bound::New {
                connection_id: ConnectionId::random(),
                stateful: false,
                resumed: None,
                early: Vec::new(),
            }),
        };
        let socket = upgrade.socket;
        match bound {
            Err(error) => return error.response(),
            // Stateful reconnect: the live connection takes the new socket.
            Ok(Bound::Resume(resume)) => {
                self.tasks.tracker.spawn(async move {
                    if let Some(socket) = socket.await {
                        let _ = resume.send(socket).await;
                    }
                });
            }
            Ok(Bound::New {
                connection_id,
                stateful,
                resumed,
                early,
            }) => {
                let start = ConnectionStart {
                    token,
                    connection_id,
                    identity,
                    remote_addr,
                    stateful,
                    early,
                    request_span: tracing::Span::current(),
                };
                let connections = self.clone();
                self.tasks.tracker.spawn(async move {
                    let Some(socket) = socket.await else {
                        if let Some(token) = &start.token {
                            connections.sessions.end(token);
                        }
                        return;
                    };
                    let options = &connections.options;
                    let transport = WebSocketTransport::new(
                        socket,
                        options.websocket_close_timeout,
                        resumed,
                        options.disconnect_timeout,
                    );
                    // A task of its own: this one's state (the upgrade) is
                    // done with, and a connection task lives as long as its client.
                    connections.start(transport, start);
                });
            }
        }
        upgrade.response
    }

    /// Opens the Server-Sent Events stream of the session `token`.
    pub(crate) fn server_sent_events(
        self: &Arc<Self>,
        token: String,
        identity: Identity,
        remote_addr: Option<SocketAddr>,
    ) -> Response<Body> {
        let (inbound_sender, inbound) = mpsc::channel(INBOUND_CAPACITY);
        let binding = Binding::ServerSentEvents {
            inbound: inbound_sender,
        };
        let (connection_id, early) =
            match self.bind_new(&token, identity.user_id.as_deref(), binding) {
                Ok(bound) => bound,
                Err(error) => return error.response(),
            };
        let (response, transport) = sse::open(inbound);
        let start = ConnectionStart {
            token: Some(token),
            connection_id,
            identity,
            remote_addr,
            stateful: false,
            early,
            request_span: tracing::Span::current(),
        };
        self.start(transport, start);
        response
    }

    /// A poll of the connection of `token`: the first one starts the
    /// connection and answers at once.
    pub(crate) async fn poll(
        self: &Arc<Self>,
        token: &str,
        identity: Identity,
        remote_addr: Option<SocketAddr>,
    ) -> Response<Body> {
        let user_id = identity.user_id.as_deref();
        match self.sessions.binding(token, user_id) {
            Err(error) => error.response(),
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
            Ok(Some(_)) => BindError::OtherTransport.response(),
            Ok(None) => {
                let (inbound_sender, inbound) = mpsc::channel(INBOUND_CAPACITY);
                let channel =
                    Arc::new(LongPollChannel::new(self.options.long_polling_max_buffered));
                let binding = Binding::LongPolling {
                    inbound: inbound_sender,
                    channel: channel.clone(),
                };
                let (connection_id, early) = match self.bind_new(token, user_id, binding) {
                    Ok(bound) => bound,
                    Err(error) => return error.response(),
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
                    early,
                    request_span: tracing::Span::current(),
                };
                self.start(transport, start);
                response(StatusCode::OK, "application/octet-stream", Bytes::new())
            }
        }
    }

    /// Messages POSTed to the connection of `token` (Server-Sent Events and
    /// Long Polling).
    pub(crate) async fn send(
        &self,
        token: &str,
        user_id: Option<&str>,
        payload: Bytes,
    ) -> Response<Body> {
        let limit = self.options.max_payload_size;
        match self.sessions.deliver(token, user_id, &payload, limit) {
            Ok(Delivery::Kept) => empty(StatusCode::OK),
            Ok(Delivery::Send(_)) if payload.is_empty() => empty(StatusCode::OK),
            Ok(Delivery::Send(inbound)) => match inbound.send(payload).await {
                Ok(()) => empty(StatusCode::OK),
                Err(_) => BindError::NotFound.response(),
            },
            Err(error) => error.response(),
        }
    }

    /// Replaces the credentials of the connection of `token` (`POST {hub}/refresh`).
    pub(crate) fn refresh(&self, token: &str, identity: Identity) -> Response<Body> {
        let connection_id = match self
            .sessions
            .refreshable(token, identity.user_id.as_deref())
        {
            Ok(Some(connection_id)) => connection_id,
            Ok(None) => return RefreshRefused::UnsupportedVersion.response(),
            Err(BindError::WrongUser) => return RefreshRefused::UserChanged.response(),
            Err(_) => return RefreshRefused::NotFound.response(),
        };
        let maximum = self.options.maximum_authentication_expiration;
        let answer = refresh::refreshed(&identity, maximum);
        match self.hub.refresh_identity(connection_id.as_str(), identity) {
            // Not connected yet: its transport's request authenticates it.
            Ok(()) | Err(IdentityRefused::NotConnected) => answer,
            Err(IdentityRefused::UserChanged) => RefreshRefused::UserChanged.response(),
        }
    }

    /// DELETE ends a long-polling connection (202); other transports get 400.
    pub(crate) fn delete(&self, token: &str, user_id: Option<&str>) -> Response<Body> {
        match self.sessions.binding(token, user_id) {
            Err(error) => error.response(),
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

    /// Binds a transport that cannot resume (SSE, Long Polling) to a session.
    /// Returns the connection's id and what the client POSTed before.
    fn bind_new(
        &self,
        token: &str,
        user_id: Option<&str>,
        binding: Binding,
    ) -> Result<(ConnectionId, Vec<Bytes>), BindError> {
        match self.sessions.bind(token, user_id, binding)? {
            Bound::New {
                connection_id,
                early,
                ..
            } => Ok((connection_id, early)),
            Bound::Resume(_) => Err(BindError::AlreadyConnected),
        }
    }
}

/// Drops negotiated connections no transport picked up in time, and ended
/// ones, every second.
pub(crate) async fn reap_sessions(hubs: Vec<Arc<HubConnections>>) {
    let mut interval = tokio::time::interval(Duration::from_secs(1));
    loop {
        interval.tick().await;
        for connections in &hubs {
            let reaped = connections
                .sessions
                .reap(connections.options.disconnect_timeout);
            if reaped > 0 {
                tracing::debug!(
                    reaped,
                    hub = connections.hub.name(),
                    "unused negotiated connections dropped"
                );
            }
        }
    }
}
