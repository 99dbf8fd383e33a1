//! The HTTP server: maps hubs to paths, serves sample files, shuts down gracefully.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use hub_core::Hub;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use tracing::Instrument;

use crate::accept_failures::AcceptFailures;
use crate::auth::Authenticator;
use crate::connections::reap_sessions;
use crate::cors::Cors;
use crate::endpoint::HubEndpoint;
use crate::http_util::{Body, text};
use crate::options::EndpointOptions;
use crate::request_span;
use crate::shutdown::ConnectionTasks;
use crate::static_files::{self, StaticContent, StaticMount};

#[derive(Debug)]
struct Router {
    endpoints: Vec<HubEndpoint>,
    static_contents: Vec<StaticContent>,
    static_mounts: Vec<StaticMount>,
    tasks: ConnectionTasks,
}

impl Router {
    async fn handle(&self, request: Request<Incoming>, remote_addr: SocketAddr) -> Response<Body> {
        let path = request.uri().path().to_owned();
        for endpoint in &self.endpoints {
            if let Some(route) = endpoint.route(&path) {
                return endpoint.handle(route, request, Some(remote_addr)).await;
            }
        }
        let (contents, mounts) = (&self.static_contents, &self.static_mounts);
        match static_files::serve(contents, mounts, request.method(), &path).await {
            Some(response) => response,
            None => text(StatusCode::NOT_FOUND, "Not Found"),
        }
    }
}

/// Configures a [`Server`].
///
/// ```no_run
/// # async fn run(hub: hub_core::Hub) -> std::io::Result<()> {
/// let server = hub_transport::Server::builder()
///     .hub("/chatHub", hub)
///     .static_dir("/", "wwwroot")
///     .bind("127.0.0.1:5000".parse().unwrap())
///     .await?;
/// println!("listening on http://{}", server.local_addr());
/// server.run_until_signal().await
/// # }
/// ```
#[derive(Debug, Default)]
#[must_use]
pub struct ServerBuilder {
    hubs: Vec<(String, Hub, EndpointOptions)>,
    static_contents: Vec<StaticContent>,
    static_mounts: Vec<StaticMount>,
    authenticator: Option<Authenticator>,
    cors: Option<Cors>,
}

impl ServerBuilder {
    /// Serves `hub` at `path` (e.g. `/chatHub`) with default endpoint options.
    pub fn hub(self, path: &str, hub: Hub) -> Self {
        self.hub_with_options(path, hub, EndpointOptions::default())
    }

    /// Serves `hub` at `path` with the given endpoint options.
    pub fn hub_with_options(mut self, path: &str, hub: Hub, options: EndpointOptions) -> Self {
        self.hubs.push((path.to_owned(), hub, options));
        self
    }

    /// Authenticates every hub request (negotiate and transports) with `authenticator`.
    pub fn authenticate(mut self, authenticator: Authenticator) -> Self {
        self.authenticator = Some(authenticator);
        self
    }

    /// Lets browsers on the listed origins use the hubs (CORS), and refuses
    /// WebSocket upgrades from other origins.
    pub fn cors(mut self, cors: Cors) -> Self {
        self.cors = Some(cors);
        self
    }

    /// Serves the files under `dir` at `url_path` (`/` serves `dir/index.html`).
    pub fn static_dir(mut self, url_path: &str, dir: impl Into<PathBuf>) -> Self {
        self.static_mounts.push(StaticMount {
            url_path: url_path.to_owned(),
            target: dir.into(),
            is_dir: true,
        });
        self
    }

    /// Serves `body` at `url_path` (a page or script built into the binary
    /// with `include_bytes!`), ahead of the directories and files.
    pub fn static_content(
        mut self,
        url_path: &str,
        content_type: &'static str,
        body: impl Into<Bytes>,
    ) -> Self {
        self.static_contents.push(StaticContent {
            url_path: url_path.to_owned(),
            content_type,
            body: body.into(),
        });
        self
    }

    /// Serves one file at `url_path`.
    pub fn static_file(mut self, url_path: &str, file: impl Into<PathBuf>) -> Self {
        self.static_mounts.push(StaticMount {
            url_path: url_path.to_owned(),
            target: file.into(),
            is_dir: false,
        });
        self
    }

    /// Binds the listening socket (port 0 picks a free port).
    pub async fn bind(self, addr: SocketAddr) -> io::Result<Server> {
        let listener = TcpListener::bind(addr).await?;
        let local_addr = listener.local_addr()?;
        let tasks = ConnectionTasks::default();
        let endpoints = self
            .hubs
            .into_iter()
            .map(|(path, hub, options)| {
                HubEndpoint::new(
                    &path,
                    hub,
                    options,
                    self.authenticator.clone(),
                    self.cors.clone(),
                    tasks.clone(),
                )
            })
            .collect();
        Ok(Server {
            listener,
            local_addr,
            router: Arc::new(Router {
                endpoints,
                static_contents: self.static_contents,
                static_mounts: self.static_mounts,
                tasks,
            }),
        })
    }
}

/// A bound SignalR server.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    local_addr: SocketAddr,
    router: Arc<Router>,
}

/// Stops a running [`Server`] from elsewhere.
#[derive(Debug, Clone)]
pub struct ShutdownHandle(CancellationToken);

impl ShutdownHandle {
    /// Starts a graceful shutdown: clients get a Close message (with
    /// `allowReconnect`), then the server stops.
    pub fn shutdown(&self) {
        self.0.cancel();
    }
}

impl Server {
    /// A new builder.
    pub fn builder() -> ServerBuilder {
        ServerBuilder::default()
    }

    /// The bound address (with the real port).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// A handle that shuts the server down.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle(self.router.tasks.shutdown.clone())
    }

    /// Serves until Ctrl-C or SIGTERM, then shuts down gracefully.
    pub async fn run_until_signal(self) -> io::Result<()> {
        self.run_until(crate::shutdown::shutdown_signal()).await
    }

    /// Serves until `stop` resolves or a [`ShutdownHandle`] fires, then shuts
    /// down gracefully: stops accepting, sends every client a Close message,
    /// and waits (up to 10 s) for connections to end.
    pub async fn run_until(self, stop: impl Future<Output = ()>) -> io::Result<()> {
        let tasks = self.router.tasks.clone();
        let hubs = self.router.endpoints.iter();
        let reaper = tokio::spawn(reap_sessions(
            hubs.map(|endpoint| endpoint.connections.clone()).collect(),
        ));
        tokio::pin!(stop);
        let mut failures = AcceptFailures::default();
        loop {
            tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, remote_addr)) => {
                        failures.recovered();
                        self.spawn_http_connection(stream, remote_addr);
                    }
                    Err(error) => {
                        // Out of file descriptors and the like: back off, keep serving.
                        let pause = failures.failed(&error);
                        tokio::time::sleep(pause).await;
                    }
                },
                () = &mut stop => break,
                () = tasks.shutdown.cancelled() => break,
            }
        }
        tracing::info!("shutting down");
        drop(self.listener);
        reaper.abort();
        tasks.shut_down().await;
        Ok(())
    }

    fn spawn_http_connection(&self, stream: TcpStream, remote_addr: SocketAddr) {
        let _ = stream.set_nodelay(true);
        let router = self.router.clone();
        let shutdown = router.tasks.shutdown.clone();
        self.router.tasks.tracker.spawn(async move {
            let service = service_fn(move |request| {
                let router = router.clone();
                let span = request_span::start(&request);
                async move {
                    let response = router
                        .handle(request, remote_addr)
                        .instrument(span.clone())
                        .await;
                    request_span::finish(&span, &response);
                    Ok::<_, Infallible>(response)
                }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            tokio::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                () = shutdown.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(error) = result {
                tracing::debug!(%error, "HTTP connection ended with an error");
            }
        });
    }
}
