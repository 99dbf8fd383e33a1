//! One hub mapped to a path: routes negotiate and transport requests.

use std::net::SocketAddr;
use std::sync::Arc;

use http::{Method, Request, Response, StatusCode};
use hub_core::protocol::TransferFormat;
use hub_core::{Hub, Identity};
use hyper::body::Incoming;

use crate::auth::Authenticator;
use crate::http_util::{Body, text};
use crate::negotiate::negotiate;
use crate::options::EndpointOptions;
use crate::server::ServerState;
use crate::sessions::{BindError, Sessions};
use crate::websocket;

/// A hub served at a path.
#[derive(Debug)]
pub(crate) struct HubEndpoint {
    /// The path without a trailing slash (`/chatHub`).
    pub(crate) path: String,
    pub(crate) hub: Hub,
    pub(crate) options: EndpointOptions,
    pub(crate) sessions: Arc<Sessions>,
    pub(crate) authenticator: Option<Authenticator>,
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
        let mut transports = Vec::new();
        if self.options.transports.web_sockets {
            transports.push((websocket::NAME, websocket::FORMATS));
        }
        transports
    }

    pub(crate) async fn handle(
        &self,
        route: Route,
        request: Request<Incoming>,
        remote_addr: SocketAddr,
        state: &ServerState,
    ) -> Response<Body> {
        let (parts, body) = request.into_parts();
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
        match (route, &parts.method) {
            (Route::Negotiate, &Method::POST) => {
                negotiate(self, parts.uri.query(), identity.user_id)
            }
            (Route::Negotiate, _) => text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed"),
            (Route::Connection, &Method::GET) if websocket::is_upgrade(&parts) => {
                if !self.options.transports.web_sockets {
                    return text(
                        StatusCode::NOT_FOUND,
                        "WebSockets transport is not enabled.",
                    );
                }
                let request = Request::from_parts(parts, body);
                websocket::accept(self, request, identity, remote_addr, state)
            }
            (Route::Connection, &Method::GET) => text(
                StatusCode::NOT_FOUND,
                "Only the WebSockets transport is enabled on this endpoint.",
            ),
            (Route::Connection, &Method::POST | &Method::DELETE) => {
                match crate::http_util::query_param(parts.uri.query(), "id") {
                    None => text(StatusCode::BAD_REQUEST, "Connection ID required"),
                    Some(token) => match self.sessions.check(&token, identity.user_id.as_deref()) {
                        Err(error) => bind_error_response(error),
                        // As ASP.NET answers for a connection that is not long polling.
                        Ok(_) if parts.method == Method::DELETE => text(
                            StatusCode::BAD_REQUEST,
                            "Cannot terminate this connection using the DELETE endpoint.",
                        ),
                        Ok(_) => text(
                            StatusCode::METHOD_NOT_ALLOWED,
                            "POST requests are not allowed for WebSocket connections.",
                        ),
                    },
                }
            }
            (Route::Connection, _) => text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed"),
        }
    }
}

/// The response to a failed bind, as ASP.NET answers it.
pub(crate) fn bind_error_response(error: BindError) -> Response<Body> {
    let status = match error {
        BindError::NotFound => StatusCode::NOT_FOUND,
        BindError::AlreadyConnected => StatusCode::CONFLICT,
        BindError::OtherTransport => StatusCode::BAD_REQUEST,
        BindError::WrongUser => StatusCode::FORBIDDEN,
    };
    text(status, error.to_string())
}
