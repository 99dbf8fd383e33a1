//! Connecting to the hub's host: a TCP connection, wrapped in TLS when the
//! URL is `https://` or `wss://` (SNI and certificate check: the URL's
//! host). Every HTTP request (negotiate, polls, sends, the event stream,
//! DELETE) and the WebSocket go through a [`Connector`].

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::error::Error;
use crate::options::ConnectionOptions;
use crate::url::HubUrl;

/// Opens connections for one hub connection's options (its TLS
/// configuration). Cheap to clone.
#[derive(Debug, Clone, Default)]
pub(crate) struct Connector {
    /// The user's TLS configuration; `None`: the default (web PKI roots).
    #[cfg(feature = "tls")]
    tls: Option<std::sync::Arc<rustls::ClientConfig>>,
}

impl Connector {
    /// The connector for `options`.
    pub(crate) fn new(options: &ConnectionOptions) -> Self {
        #[cfg(not(feature = "tls"))]
        let _ = options;
        Self {
            #[cfg(feature = "tls")]
            tls: options.tls_config.clone(),
        }
    }

    /// Connects to the URL's host and port, then (for `https`/`wss`) makes
    /// the TLS handshake. Not bounded in time: callers bound the whole
    /// exchange.
    pub(crate) async fn connect(&self, url: &HubUrl) -> Result<MaybeTls, Error> {
        let stream = TcpStream::connect((url.connect_host(), url.port)).await?;
        stream.set_nodelay(true)?;
        if !url.tls {
            return Ok(MaybeTls::Plain(stream));
        }
        self.handshake(url, stream).await
    }

    #[cfg(feature = "tls")]
    async fn handshake(&self, url: &HubUrl, stream: TcpStream) -> Result<MaybeTls, Error> {
        let host = url.connect_host();
        let name = rustls::pki_types::ServerName::try_from(host.to_owned()).map_err(|error| {
            Error::Tls {
                host: host.to_owned(),
                reason: format!("not a valid TLS server name: {error}"),
            }
        })?;
        let config = self.tls.clone().unwrap_or_else(crate::tls::default_config);
        let stream = tokio_rustls::TlsConnector::from(config)
            .connect(name, stream)
            .await
            .map_err(|error| crate::tls::handshake_error(host, error))?;
        Ok(MaybeTls::Tls(Box::new(stream)))
    }

    #[cfg(not(feature = "tls"))]
    async fn handshake(&self, url: &HubUrl, _: TcpStream) -> Result<MaybeTls, Error> {
        // `HubUrl::parse` refuses https:// without the feature.
        Err(Error::InvalidUrl {
            url: url.http(),
            reason: crate::url::NO_TLS.to_owned(),
        })
    }
}

/// A connection to the hub: plain TCP or TLS over TCP.
#[derive(Debug)]
pub(crate) enum MaybeTls {
    /// `http://`, `ws://`.
    Plain(TcpStream),
    /// `https://`, `wss://`.
    #[cfg(feature = "tls")]
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

/// Forwards to the stream inside (both are `Unpin`).
macro_rules! each {
    ($self:ident, $stream:ident => $body:expr) => {
        match $self.get_mut() {
            MaybeTls::Plain($stream) => {
                let $stream = Pin::new($stream);
                $body
            }
            #[cfg(feature = "tls")]
            MaybeTls::Tls($stream) => {
                let $stream = Pin::new(&mut **$stream);
                $body
            }
        }
    };
}

impl AsyncRead for MaybeTls {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        each!(self, stream => stream.poll_read(cx, buf))
    }
}

impl AsyncWrite for MaybeTls {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        each!(self, stream => stream.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        each!(self, stream => stream.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            MaybeTls::Plain(stream) => stream.is_write_vectored(),
            #[cfg(feature = "tls")]
            MaybeTls::Tls(stream) => stream.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self, stream => stream.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self, stream => stream.poll_shutdown(cx))
    }
}
