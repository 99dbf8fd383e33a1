//! Authentication refresh (.NET 11): negotiate tells the client how long its
//! credentials last (`tokenLifetimeSeconds`), and `POST {hub}/refresh?id={token}`
//! re-authenticates a running connection with new ones, replacing its
//! claims and expiry without reconnecting.
//!
//! On with [`EndpointOptions::enable_authentication_refresh`](crate::EndpointOptions::enable_authentication_refresh);
//! off, `{hub}/refresh` is not a route (404). Answers, as ASP.NET's:
//!
//! | case | status | body |
//! | --- | --- | --- |
//! | refreshed | 200 | `{"tokenLifetimeSeconds":n}`, or `{}` when the new credentials do not expire |
//! | not a POST | 405 | |
//! | no `id` | 400 | `{"error":"missing_connection_token"}` |
//! | a negotiate version 0 connection (no token) | 400 | `{"error":"unsupported_negotiate_version"}` |
//! | the credentials are refused | 401 | `{"error":"invalid_token"}` |
//! | they belong to another user than the connection's | 403 | `{"error":"permission_change_rejected"}` |
//! | no such connection | 404 | `{"error":"connection_not_found"}` |

use std::time::{Duration, SystemTime};

use http::{Response, StatusCode};
use hub_core::Identity;

use crate::http_util::{Body, response};

/// Why a refresh is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RefreshRefused {
    MissingToken,
    UnsupportedVersion,
    InvalidToken,
    UserChanged,
    NotFound,
}

impl RefreshRefused {
    /// The answer, as ASP.NET gives it.
    pub(crate) fn response(self) -> Response<Body> {
        let (status, code) = match self {
            RefreshRefused::MissingToken => (StatusCode::BAD_REQUEST, "missing_connection_token"),
            RefreshRefused::UnsupportedVersion => {
                (StatusCode::BAD_REQUEST, "unsupported_negotiate_version")
            }
            RefreshRefused::InvalidToken => (StatusCode::UNAUTHORIZED, "invalid_token"),
            RefreshRefused::UserChanged => (StatusCode::FORBIDDEN, "permission_change_rejected"),
            RefreshRefused::NotFound => (StatusCode::NOT_FOUND, "connection_not_found"),
        };
        let body = serde_json::json!({ "error": code }).to_string();
        response(status, "application/json", body)
    }
}

/// The answer to a refresh that took effect.
pub(crate) fn refreshed(identity: &Identity, maximum: Option<Duration>) -> Response<Body> {
    let body = match lifetime_seconds(identity, maximum, SystemTime::now()) {
        Some(seconds) => serde_json::json!({ "tokenLifetimeSeconds": seconds }),
        None => serde_json::json!({}),
    };
    response(StatusCode::OK, "application/json", body.to_string())
}

/// Whole seconds from `now` until `identity`'s credentials expire, capped
/// at `maximum` from now (which also gives credentials without expiry a
/// lifetime), and at `i32::MAX`, as ASP.NET reports them; `None` when they
/// do not expire or have expired.
pub(crate) fn lifetime_seconds(
    identity: &Identity,
    maximum: Option<Duration>,
    now: SystemTime,
) -> Option<i64> {
    let left = identity
        .expires_at
        .map(|expires| expires.duration_since(now).unwrap_or_default());
    let lifetime = match (left, maximum) {
        (Some(left), Some(maximum)) => left.min(maximum),
        (Some(left), None) => left,
        (None, Some(maximum)) => maximum,
        (None, None) => return None,
    };
    let seconds = lifetime.as_secs();
    (seconds > 0).then(|| seconds.min(i32::MAX as u64) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expiring_in(seconds: f64, now: SystemTime) -> Identity {
        Identity {
            expires_at: Some(now + Duration::from_secs_f64(seconds)),
            ..Identity::user(Some("ann".into()))
        }
    }

    #[test]
    fn lifetimes_are_whole_seconds_left_capped_by_the_maximum() {
        let now = SystemTime::now();
        let thirty_minutes = expiring_in(1800.9, now);
        assert_eq!(lifetime_seconds(&thirty_minutes, None, now), Some(1800));
        let five_minutes = Some(Duration::from_secs(300));
        assert_eq!(
            lifetime_seconds(&thirty_minutes, five_minutes, now),
            Some(300)
        );
        // No expiry: none, unless a maximum gives it one.
        let forever = Identity::user(Some("ann".into()));
        assert_eq!(lifetime_seconds(&forever, None, now), None);
        assert_eq!(lifetime_seconds(&forever, five_minutes, now), Some(300));
        // Expired, or less than a second left: none.
        assert_eq!(lifetime_seconds(&expiring_in(0.5, now), None, now), None);
        let expired = Identity {
            expires_at: Some(now - Duration::from_secs(5)),
            ..forever
        };
        assert_eq!(lifetime_seconds(&expired, None, now), None);
        // A century: capped as ASP.NET caps it.
        let century = expiring_in(100.0 * 365.0 * 86400.0, now);
        assert_eq!(
            lifetime_seconds(&century, None, now),
            Some(i64::from(i32::MAX))
        );
    }
}
