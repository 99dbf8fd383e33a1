//! Authentication: from an HTTP request to the identity of a connection.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use http::request::Parts;
use hub_core::Identity;

use crate::http_util::query_param;

/// A request the authenticator refused; answered with `401 Unauthorized`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unauthorized: {reason}")]
pub struct Unauthorized {
    /// Why (logged, not sent).
    pub reason: String,
}

type AuthFuture = Pin<Box<dyn Future<Output = Result<Identity, Unauthorized>> + Send>>;

/// Decides who a request comes from. Runs on negotiate and on every transport
/// request; a connection's later requests must come from the user who negotiated it.
#[derive(Clone)]
pub struct Authenticator(Arc<dyn Fn(&Parts) -> AuthFuture + Send + Sync>);

impl Authenticator {
    /// An authenticator from an async function of the request head.
    ///
    /// ```
    /// use hub_core::Identity;
    /// use hub_transport::{Authenticator, bearer_token};
    ///
    /// // Test-only: the bearer token is the user id.
    /// let auth = Authenticator::new(|request| {
    ///     let user_id = bearer_token(request);
    ///     async move { Ok(Identity::user(user_id)) }
    /// });
    /// ```
    pub fn new<F, Fut>(authenticate: F) -> Self
    where
        F: Fn(&Parts) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Identity, Unauthorized>> + Send + 'static,
    {
        Self(Arc::new(move |parts| Box::pin(authenticate(parts))))
    }

    /// Authenticates a request head.
    pub fn authenticate(
        &self,
        parts: &Parts,
    ) -> impl Future<Output = Result<Identity, Unauthorized>> + Send + use<> {
        (self.0)(parts)
    }
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator").finish_non_exhaustive()
    }
}

/// The bearer token of a request, as the official clients send it: the
/// `Authorization: Bearer` header, or the `access_token` query parameter
/// (browsers' WebSockets and Server-Sent Events cannot set headers).
pub fn bearer_token(parts: &Parts) -> Option<String> {
    let from_header = parts
        .headers
        .get(http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            let (scheme, token) = value.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim().to_owned())
        });
    from_header
        .or_else(|| query_param(parts.uri.query(), "access_token"))
        .filter(|token| !token.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(uri: &str, authorization: Option<&str>) -> Parts {
        let mut request = http::Request::builder().uri(uri);
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        request.body(()).unwrap().into_parts().0
    }

    #[test]
    fn reads_the_header_then_the_query() {
        assert_eq!(
            bearer_token(&parts("/hub", Some("Bearer alice"))).as_deref(),
            Some("alice")
        );
        assert_eq!(
            bearer_token(&parts("/hub?access_token=bob%21", None)).as_deref(),
            Some("bob!")
        );
        assert_eq!(bearer_token(&parts("/hub", Some("Basic xyz"))), None);
        assert_eq!(bearer_token(&parts("/hub?access_token=", None)), None);
    }
}
