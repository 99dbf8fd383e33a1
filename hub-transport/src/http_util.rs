//! Small HTTP helpers: response builders and query parameters.

use std::convert::Infallible;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};

/// The body type of every response.
pub type Body = BoxBody<Bytes, Infallible>;

/// A response with a body and content type.
pub(crate) fn response(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<Body> {
    let body: Bytes = body.into();
    let mut response = Response::new(Full::new(body).boxed());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// A plain-text response (errors, as ASP.NET sends them).
pub(crate) fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    response(status, "text/plain; charset=utf-8", body)
}

/// An empty response.
pub(crate) fn empty(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::new()).boxed());
    *response.status_mut() = status;
    response
}

/// The first value of query parameter `name` (matched ignoring ASCII case, as ASP.NET does).
pub(crate) fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_query_parameters_ignoring_case_and_decoding() {
        let query = Some("id=abc-_1&NegotiateVersion=1&access_token=a%20b%2Bc&_=123");
        assert_eq!(query_param(query, "id").as_deref(), Some("abc-_1"));
        assert_eq!(query_param(query, "negotiateVersion").as_deref(), Some("1"));
        assert_eq!(query_param(query, "access_token").as_deref(), Some("a b+c"));
        assert_eq!(query_param(query, "missing"), None);
        assert_eq!(query_param(None, "id"), None);
    }
}
