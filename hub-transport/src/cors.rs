//! Cross-origin access: CORS for browsers calling a hub from another origin,
//! and the Origin check of WebSocket upgrades (which CORS does not cover).

use std::time::Duration;

use http::request::Parts;
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode, header};

use crate::http_util::{Body, empty, text};

/// Which other origins may use the hubs, as browsers need for negotiate.
///
/// ```
/// let cors = hub_transport::Cors::allow_origins(["https://app.example.com"])
///     .allow_credentials(true);
/// ```
///
/// Without a `Cors` (the default), cross-origin browsers cannot read hub
/// responses and WebSocket upgrades are accepted from any origin, as in
/// ASP.NET Core without a CORS policy. With one, cross-origin requests from
/// the listed origins get CORS headers (preflights included), and WebSocket
/// upgrades from any other origin are refused with 403. Same-origin requests
/// are always allowed.
#[derive(Clone, Debug)]
pub struct Cors {
    origins: Vec<String>,
    credentials: bool,
    max_age: Duration,
}

/// What the client may send (the official clients' headers).
const ALLOWED_HEADERS: &str = "X-Requested-With, X-SignalR-User-Agent, Authorization, Content-Type";

impl Cors {
    /// Allows exactly these origins (`scheme://host[:port]`, compared ignoring ASCII case).
    pub fn allow_origins<I>(origins: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        Self {
            origins: origins
                .into_iter()
                .map(|origin| origin.into().trim_end_matches('/').to_ascii_lowercase())
                .collect(),
            credentials: false,
            max_age: Duration::from_secs(600),
        }
    }

    /// Lets browsers send cookies and `Authorization` (the JS client's
    /// `withCredentials`, on by default): `Access-Control-Allow-Credentials: true`.
    pub fn allow_credentials(mut self, credentials: bool) -> Self {
        self.credentials = credentials;
        self
    }

    /// How long browsers may cache a preflight (10 minutes).
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    fn allows(&self, origin: &str) -> bool {
        let origin = origin.trim_end_matches('/').to_ascii_lowercase();
        self.origins.contains(&origin)
    }
}

/// The request's `Origin`, unless it is the server's own origin.
fn cross_origin(parts: &Parts) -> Option<&str> {
    let origin = parts.headers.get(header::ORIGIN)?.to_str().ok()?;
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok());
    let origin_host = origin.split_once("://").map(|(_, rest)| rest);
    match (origin_host, host) {
        (Some(origin_host), Some(host)) if origin_host.eq_ignore_ascii_case(host) => None,
        _ => Some(origin),
    }
}

/// What CORS decides about a hub request.
pub(crate) enum Verdict {
    /// Go on; add these headers to the response.
    Proceed(HeaderMap),
    /// Answer now (preflight, or a refused WebSocket origin).
    Respond(Response<Body>),
}

/// Applies the CORS policy (if any) to a request for a hub endpoint.
pub(crate) fn check(cors: Option<&Cors>, parts: &Parts, websocket: bool) -> Verdict {
    let preflight = parts.method == Method::OPTIONS;
    let Some(cors) = cors else {
        return if preflight {
            Verdict::Respond(text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed"))
        } else {
            Verdict::Proceed(HeaderMap::new())
        };
    };
    let origin = cross_origin(parts);
    let allowed = origin.is_none_or(|origin| cors.allows(origin));
    if websocket && !allowed {
        return Verdict::Respond(text(StatusCode::FORBIDDEN, "The origin is not allowed."));
    }
    let mut headers = HeaderMap::new();
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    if let (Some(origin), true) = (origin, allowed)
        && let Ok(value) = HeaderValue::from_str(origin)
    {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        if cors.credentials {
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
    }
    if !preflight {
        return Verdict::Proceed(headers);
    }
    if !allowed {
        return Verdict::Respond(text(StatusCode::FORBIDDEN, "The origin is not allowed."));
    }
    let mut response = empty(StatusCode::NO_CONTENT);
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, DELETE, OPTIONS"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(ALLOWED_HEADERS),
    );
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from(cors.max_age.as_secs()),
    );
    response.headers_mut().extend(headers);
    Verdict::Respond(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(method: Method, origin: Option<&str>) -> Parts {
        let mut request = http::Request::builder()
            .method(method)
            .uri("/hub/negotiate")
            .header(header::HOST, "api.example.com:8080");
        if let Some(origin) = origin {
            request = request.header(header::ORIGIN, origin);
        }
        request.body(()).unwrap().into_parts().0
    }

    fn cors() -> Cors {
        Cors::allow_origins(["https://app.example.com"]).allow_credentials(true)
    }

    #[test]
    fn preflights_from_allowed_origins_succeed() {
        let Verdict::Respond(response) = check(
            Some(&cors()),
            &parts(Method::OPTIONS, Some("https://APP.example.com")),
            false,
        ) else {
            panic!("a preflight is answered")
        };
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        let headers = response.headers();
        assert_eq!(
            headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
            "https://APP.example.com"
        );
        assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_CREDENTIALS], "true");
        assert!(
            headers[header::ACCESS_CONTROL_ALLOW_HEADERS]
                .to_str()
                .unwrap()
                .contains("X-SignalR-User-Agent")
        );
    }

    #[test]
    fn other_origins_get_no_cors_headers_and_no_websocket() {
        let evil = parts(Method::POST, Some("https://evil.example.com"));
        let Verdict::Proceed(headers) = check(Some(&cors()), &evil, false) else {
            panic!("a simple request proceeds; the browser will not let the page read it")
        };
        assert!(!headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
        assert!(
            matches!(check(Some(&cors()), &evil, true), Verdict::Respond(r) if r.status() == StatusCode::FORBIDDEN)
        );
        assert!(matches!(
            check(Some(&cors()), &parts(Method::OPTIONS, Some("https://evil.example.com")), false),
            Verdict::Respond(r) if r.status() == StatusCode::FORBIDDEN
        ));
    }

    #[test]
    fn same_origin_and_originless_requests_pass() {
        let same = parts(Method::GET, Some("http://api.example.com:8080"));
        assert!(matches!(
            check(Some(&cors()), &same, true),
            Verdict::Proceed(_)
        ));
        assert!(matches!(
            check(Some(&cors()), &parts(Method::GET, None), true),
            Verdict::Proceed(_)
        ));
        assert!(matches!(
            check(
                None,
                &parts(Method::GET, Some("https://evil.example.com")),
                true
            ),
            Verdict::Proceed(_)
        ));
    }
}
