//! `HubConnectionBuilder`: the URL and the options, as the JS client's
//! `HubConnectionBuilder` takes them.

use std::sync::Arc;
use std::time::Duration;

use hub_protocol::Protocol;

use super::handle::HubConnection;
use super::shared::Shared;
use crate::error::Error;
use crate::options::{ConnectionOptions, RetryDelays, RetryPolicy, Transports};
use crate::url::HubUrl;

/// Builds a [`HubConnection`].
#[derive(Debug, Clone)]
pub struct HubConnectionBuilder {
    url: String,
    options: ConnectionOptions,
}

impl HubConnection {
    /// A builder for a connection to the hub at `url` (`http://host:port/path`,
    /// or `https://` with the `tls` feature).
    pub fn builder(url: impl Into<String>) -> HubConnectionBuilder {
        HubConnectionBuilder::new(url)
    }
}

impl HubConnectionBuilder {
    /// A builder for the hub at `url`, with the default options.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            options: ConnectionOptions::default(),
        }
    }

    /// Replaces every option.
    pub fn options(mut self, options: ConnectionOptions) -> Self {
        self.options = options;
        self
    }

    /// The transports allowed (default all): `Transports::WEB_SOCKETS`,
    /// `TransportKind::LongPolling.into()`, or a union with `|`.
    pub fn transports(mut self, transports: impl Into<Transports>) -> Self {
        self.options.transports = transports.into();
        self
    }

    /// The hub protocol (default JSON).
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.options.protocol = protocol;
        self
    }

    /// MessagePack instead of JSON.
    pub fn with_messagepack(self) -> Self {
        self.protocol(Protocol::MessagePack)
    }

    /// Skips negotiate and connects straight over WebSockets (the
    /// transports must be WebSockets only).
    pub fn skip_negotiation(mut self, skip: bool) -> Self {
        self.options.skip_negotiation = skip;
        self
    }

    /// A fixed bearer token.
    pub fn access_token(self, token: impl Into<String>) -> Self {
        let token = token.into();
        self.access_token_factory(move || {
            let token = token.clone();
            async move { Ok(token) }
        })
    }

    /// A bearer token factory, called before every negotiate (and so on
    /// every reconnect).
    pub fn access_token_factory<F, Fut>(mut self, factory: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<String, String>> + Send + 'static,
    {
        self.options.access_token_factory = Some(Arc::new(move || Box::pin(factory())));
        self
    }

    /// A header sent with every request (ignored when not a valid header).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::try_from(name),
            http::HeaderValue::try_from(value),
        ) {
            self.options.headers.push((name, value));
        }
        self
    }

    /// How long without sending before a Ping (default 15 s).
    pub fn keep_alive_interval(mut self, interval: Duration) -> Self {
        self.options.keep_alive_interval = interval;
        self
    }

    /// How long without receiving before the connection is lost (default 30 s).
    pub fn server_timeout(mut self, timeout: Duration) -> Self {
        self.options.server_timeout = timeout;
        self
    }

    /// Automatic reconnect with the JS client's delays (0, 2, 10, 30 s).
    pub fn with_automatic_reconnect(self) -> Self {
        self.with_retry_policy(RetryDelays::default())
    }

    /// Automatic reconnect with a retry policy (`RetryDelays(vec![..])` or your own).
    pub fn with_retry_policy(mut self, policy: impl RetryPolicy) -> Self {
        self.options.retry_policy = Some(Arc::new(policy));
        self
    }

    /// Stateful reconnect (on WebSockets, when the server allows it).
    pub fn with_stateful_reconnect(mut self) -> Self {
        self.options.stateful_reconnect = true;
        self
    }

    /// The TLS configuration of `https://` and `wss://` connections: your
    /// roots (a private CA), client certificates, protocol versions. The
    /// default trusts Mozilla's roots; see [`crate::tls`].
    #[cfg(feature = "tls")]
    pub fn tls_config(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        self.options.tls_config = Some(config);
        self
    }

    /// The connection (not started). Fails on a URL this client cannot reach.
    pub fn build(self) -> Result<HubConnection, Error> {
        let url = HubUrl::parse(&self.url)?;
        Ok(HubConnection {
            shared: Arc::new(Shared::new(self.options, url)),
        })
    }
}
