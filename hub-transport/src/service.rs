//! A hub as a `tower::Service`, to mount in axum (or any tower stack) beside
//! an application's other routes and layers.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response, StatusCode};
use hub_core::Hub;
use tokio::task::JoinHandle;

use crate::auth::Authenticator;
use crate::connections::reap_sessions;
use crate::cors::Cors;
use crate::endpoint::{HubEndpoint, RequestBody};
use crate::http_util::{Body, text};
use crate::options::EndpointOptions;
use crate::shutdown::ConnectionTasks;

/// One hub's endpoints (negotiate, WebSockets, Server-Sent Events, Long
/// Polling) as a [`tower_service::Service`].
///
/// Mount it where the hub lives; the service sees paths relative to the
/// mount point (`/` and `/negotiate`), as `axum::Router::nest_service` gives them:
///
/// ```no_run
/// # async fn run(hub: hub_core::Hub) -> std::io::Result<()> {
/// let hub_service = hub_transport::HubService::new(hub);
/// let app = axum::Router::new()
///     .route("/health", axum::routing::get(|| async { "ok" }))
///     .nest_service("/chatHub", hub_service.clone());
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:5000").await?;
/// axum::serve(listener, app)
///     .with_graceful_shutdown(async move { hub_service.shutdown().await })
///     .await
/// # }
/// ```
///
/// The client's address is taken from a `SocketAddr` request extension when
/// present (axum's `ConnectInfo` layer can provide it). Hub connections run on
/// tasks of their own; [`HubService::shutdown`] closes them gracefully.
#[derive(Clone)]
pub struct HubService {
    inner: Arc<Inner>,
}

struct Inner {
    endpoint: HubEndpoint,
    tasks: ConnectionTasks,
    reaper: JoinHandle<()>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.reaper.abort();
    }
}

/// Configures a [`HubService`].
#[derive(Debug)]
#[must_use]
pub struct HubServiceBuilder {
    hub: Hub,
    options: EndpointOptions,
    authenticator: Option<Authenticator>,
    cors: Option<Cors>,
}

impl HubServiceBuilder {
    /// Transport options (defaults: every transport, ASP.NET's timeouts).
    pub fn options(mut self, options: EndpointOptions) -> Self {
        self.options = options;
        self
    }

    /// Authenticates every hub request.
    pub fn authenticate(mut self, authenticator: Authenticator) -> Self {
        self.authenticator = Some(authenticator);
        self
    }

    /// CORS for browsers on other origins, and the WebSocket Origin check.
    /// (A `tower_http` CORS layer works too; this one also checks WebSocket origins.)
    pub fn cors(mut self, cors: Cors) -> Self {
        self.cors = Some(cors);
        self
    }

    /// The service. Must be called inside a tokio runtime.
    pub fn build(self) -> HubService {
        let tasks = ConnectionTasks::default();
        let endpoint = HubEndpoint::new(
            "",
            self.hub,
            self.options,
            self.authenticator,
            self.cors,
            tasks.clone(),
        );
        let reaper = tokio::spawn(reap_sessions(vec![endpoint.connections.clone()]));
        HubService {
            inner: Arc::new(Inner {
                endpoint,
                tasks,
                reaper,
            }),
        }
    }
}

impl HubService {
    /// A service for `hub` with default options. Must be called inside a tokio runtime.
    pub fn new(hub: Hub) -> Self {
        Self::builder(hub).build()
    }

    /// A builder.
    pub fn builder(hub: Hub) -> HubServiceBuilder {
        HubServiceBuilder {
            hub,
            options: EndpointOptions::default(),
            authenticator: None,
            cors: None,
        }
    }

    /// Closes every connection gracefully (clients get a Close message with
    /// `allowReconnect`) and waits, up to 10 s, for them to end.
    pub fn shutdown(&self) -> impl Future<Output = ()> + Send + 'static {
        let tasks = self.inner.tasks.clone();
        async move { tasks.shut_down().await }
    }
}

impl std::fmt::Debug for HubService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubService")
            .field("hub", &self.inner.endpoint.connections.hub)
            .finish_non_exhaustive()
    }
}

impl<B: RequestBody> tower_service::Service<Request<B>> for HubService {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let inner = self.inner.clone();
        Box::pin(async move {
            let remote_addr = request.extensions().get::<SocketAddr>().copied();
            let response = match inner.endpoint.route(request.uri().path()) {
                Some(route) => inner.endpoint.handle(route, request, remote_addr).await,
                None => text(StatusCode::NOT_FOUND, "Not Found"),
            };
            Ok(response)
        })
    }
}
