//! The span of one HTTP request to the standalone [`Server`](crate::Server),
//! by the OpenTelemetry HTTP server conventions: what a hub connection's
//! invocation spans link to (the request that started the connection).
//!
//! In axum or another tower stack, the application's own request span (from
//! `tower_http::trace::TraceLayer`, say) plays this part: the hub's handlers
//! run inside whatever span the stack polls them in.

use http::{Request, Response};
use tracing::Span;

/// A span for `request`, at INFO level (disabled when no subscriber wants it).
pub(crate) fn start<B>(request: &Request<B>) -> Span {
    let method = request.method().as_str();
    tracing::info_span!(
        "http_request",
        otel.name = method,
        otel.kind = "server",
        http.request.method = method,
        url.path = request.uri().path(),
        http.response.status_code = tracing::field::Empty,
    )
}

/// Records the response's status on the request's span.
pub(crate) fn finish<B>(span: &Span, response: &Response<B>) {
    if !span.is_disabled() {
        span.record("http.response.status_code", response.status().as_u16());
    }
}
