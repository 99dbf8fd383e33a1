//! `POST {hub}/negotiate`, following redirects, and the access token that
//! every later request carries.

use bytes::Bytes;
use http::Method;
use hub_protocol::negotiate::{NegotiateResponse, NegotiatedConnection};

use crate::error::Error;
use crate::http::{Lane, common_headers, read_body};
use crate::options::{AccessTokenFactory, ConnectionOptions};
use crate::url::HubUrl;

/// How many redirects are followed before giving up (as the JS client).
const MAX_REDIRECTS: usize = 100;

/// The largest negotiate document read.
const MAX_DOCUMENT: usize = 64 * 1024;

/// Where the bearer token comes from: the user's factory, or the token a
/// redirect handed over (which replaces the factory for good).
#[derive(Clone, Default)]
pub(crate) enum TokenSource {
    /// No token.
    #[default]
    None,
    /// The user's factory, asked before every negotiate.
    Factory(AccessTokenFactory),
    /// A redirect's `accessToken`.
    Fixed(String),
}

impl TokenSource {
    /// The current token.
    pub(crate) async fn token(&self) -> Result<Option<String>, Error> {
        match self {
            TokenSource::None => Ok(None),
            TokenSource::Fixed(token) => Ok(Some(token.clone())),
            TokenSource::Factory(factory) => factory().await.map(Some).map_err(|error| {
                Error::Negotiate(format!("the access token factory failed: {error}"))
            }),
        }
    }
}

/// What negotiate decided.
#[derive(Debug)]
pub(crate) struct Negotiated {
    /// The URL the connection lives at (after redirects).
    pub(crate) url: HubUrl,
    /// The server's answer.
    pub(crate) connection: NegotiatedConnection,
    /// The token to send from now on.
    pub(crate) token: Option<String>,
}

/// Negotiates at `url`, following redirects. A redirect's token replaces
/// `tokens` for every later request.
pub(crate) async fn negotiate(
    url: &HubUrl,
    options: &ConnectionOptions,
    tokens: &mut TokenSource,
) -> Result<Negotiated, Error> {
    let mut url = url.clone();
    for _ in 0..MAX_REDIRECTS {
        let token = tokens.token().await?;
        let headers = common_headers(&options.headers, token.as_deref());
        let negotiate_url = url.negotiate(options.stateful_reconnect);
        let response = Lane::new(options)
            .request(
                Method::POST,
                &negotiate_url,
                &headers,
                Bytes::new(),
                options.http_timeout,
                "negotiate",
            )
            .await?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(Error::Http {
                what: "negotiate",
                status,
                hint: if status == 404 {
                    " (is this a SignalR endpoint, or a proxy in front of one?)"
                } else {
                    ""
                },
            });
        }
        let body = read_body(response, MAX_DOCUMENT, options.http_timeout, "negotiate").await?;
        let document = NegotiateResponse::from_json(&body)
            .map_err(|error| Error::Negotiate(format!("not a negotiate document: {error}")))?;
        match document {
            NegotiateResponse::Error(error) => return Err(Error::Negotiate(error.error)),
            NegotiateResponse::Redirect(redirect) => {
                url = HubUrl::parse(&redirect.url)?;
                if let Some(token) = redirect.access_token {
                    *tokens = TokenSource::Fixed(token);
                }
            }
            NegotiateResponse::Connection(connection) => {
                if connection.use_stateful_reconnect && !options.stateful_reconnect {
                    return Err(Error::Negotiate(
                        "the server granted stateful reconnect, which the client did not ask for"
                            .into(),
                    ));
                }
                if is_legacy(&body) {
                    return Err(Error::Negotiate(
                        "this is an ASP.NET SignalR (not Core) server".into(),
                    ));
                }
                return Ok(Negotiated {
                    url,
                    connection,
                    token,
                });
            }
        }
    }
    Err(Error::Negotiate(
        "Negotiate redirection limit exceeded.".into(),
    ))
}

/// Whether the document has a `ProtocolVersion` (legacy ASP.NET SignalR).
fn is_legacy(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .is_some_and(|value| value.get("ProtocolVersion").is_some())
}
