//! HTTP/1.1 requests on hyper's client connections: negotiate, sends, polls,
//! the SSE stream and DELETE. A [`Lane`] keeps one connection open for the
//! requests one task makes in turn (the polls; the sends), over plain TCP or
//! TLS (its [`Connector`]).

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Request, Response, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;

use crate::connector::Connector;
use crate::error::Error;
use crate::options::ConnectionOptions;
use crate::url::HubUrl;

/// The `User-Agent` this client sends (the JS client sends one of the same shape).
pub(crate) const USER_AGENT: &str = concat!(
    "Microsoft SignalR/1.0 (",
    env!("CARGO_PKG_VERSION"),
    "; Unknown OS; Rust hub-client; Unknown Runtime Version)"
);

/// Headers every request carries: the user's, `User-Agent`,
/// `X-Requested-With` and the bearer token.
pub(crate) fn common_headers(
    user: &[(HeaderName, HeaderValue)],
    token: Option<&str>,
) -> Vec<(HeaderName, HeaderValue)> {
    let mut headers = vec![
        (header::USER_AGENT, HeaderValue::from_static(USER_AGENT)),
        (
            HeaderName::from_static("x-requested-with"),
            HeaderValue::from_static("XMLHttpRequest"),
        ),
    ];
    if let Some(token) = token
        && let Ok(value) = HeaderValue::from_str(&format!("Bearer {token}"))
    {
        headers.push((header::AUTHORIZATION, value));
    }
    headers.extend(user.iter().cloned());
    headers
}

/// One kept-alive HTTP/1.1 connection to the hub's host, opened on demand
/// and again after the server closed it.
#[derive(Debug)]
pub(crate) struct Lane {
    sender: Option<SendRequest<Full<Bytes>>>,
    connector: Connector,
}

impl Lane {
    /// A lane connecting as `options` say (TLS configuration), not yet open.
    pub(crate) fn new(options: &ConnectionOptions) -> Self {
        Self {
            sender: None,
            connector: Connector::new(options),
        }
    }

    /// Sends `method url` with `headers` and `body`; the response head must
    /// arrive within `timeout`.
    pub(crate) async fn request(
        &mut self,
        method: Method,
        url: &HubUrl,
        headers: &[(HeaderName, HeaderValue)],
        body: Bytes,
        timeout: Duration,
        what: &'static str,
    ) -> Result<Response<Incoming>, Error> {
        let mut request = Request::builder()
            .method(method)
            .uri(url.path_and_query())
            .header(header::HOST, url.authority());
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let request = request
            .body(Full::new(body))
            .map_err(|error| Error::Io(format!("{what}: {error}")))?;
        let exchange = async {
            let mut sender = match self.sender.take() {
                Some(mut sender) => match sender.ready().await {
                    Ok(()) => sender,
                    Err(_) => open(&self.connector, url).await?,
                },
                None => open(&self.connector, url).await?,
            };
            let response = sender
                .send_request(request)
                .await
                .map_err(|error| Error::Io(format!("{what}: {error}")))?;
            self.sender = Some(sender);
            Ok(response)
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| Error::Timeout {
                what,
                after: timeout,
            })?
    }
}

/// Opens a connection to the URL's host.
async fn open(connector: &Connector, url: &HubUrl) -> Result<SendRequest<Full<Bytes>>, Error> {
    let stream = connector.connect(url).await?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|error| Error::Io(error.to_string()))?;
    tokio::spawn(async move {
        // Ends when the sender is dropped or the server closes.
        let _ = connection.await;
    });
    Ok(sender)
}

/// Reads a whole response body of at most `limit` bytes within `timeout`.
pub(crate) async fn read_body(
    response: Response<Incoming>,
    limit: usize,
    timeout: Duration,
    what: &'static str,
) -> Result<Bytes, Error> {
    let read = Limited::new(response.into_body(), limit).collect();
    match tokio::time::timeout(timeout, read).await {
        Ok(Ok(body)) => Ok(body.to_bytes()),
        Ok(Err(error)) => Err(Error::Io(format!("{what}: {error}"))),
        Err(_) => Err(Error::Timeout {
            what,
            after: timeout,
        }),
    }
}
