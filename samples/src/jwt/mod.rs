//! JWT bearer authentication for hubs: an example [`Authenticator`] on the
//! `jsonwebtoken` crate (HS256; swap in your identity provider's algorithm
//! and key).
//!
//! The token comes from `Authorization: Bearer` or, for browsers' WebSockets
//! and Server-Sent Events, the `access_token` query parameter, exactly as the
//! official clients send it (`accessTokenFactory`). The `sub` claim becomes the
//! user id (ASP.NET's NameIdentifier); `role`/`roles` and `name` become claims,
//! so `#[hub(authorize = "admin")]` works. A missing token is anonymous (a hub
//! can refuse anonymous users with `EndpointOptions::require_authenticated_user`);
//! an invalid or expired token is refused with 401.
//!
//! ```
//! let secret = b"a secret of at least 32 bytes, really";
//! let token = samples::jwt::issue(secret, "alice", &["admin"], std::time::Duration::from_secs(3600));
//! let server = samples::testhub::server(samples::testhub::hub())
//!     .authenticate(samples::jwt::authenticator(secret));
//! # let _ = (token, server);
//! ```

mod hs256;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hub_core::Identity;
use hub_transport::{Authenticator, Unauthorized, bearer_token};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// The claims this example reads and writes.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    role: Vec<String>,
}

/// `"role": "admin"` or `"role": ["admin", "ops"]`.
fn one_or_many<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(role) => vec![role],
        OneOrMany::Many(roles) => roles,
    })
}

/// An authenticator accepting HS256 tokens signed with `secret`.
pub fn authenticator(secret: &[u8]) -> Authenticator {
    let secret = secret.to_vec();
    Authenticator::new(move |request| {
        let identity = match bearer_token(request) {
            None => Ok(Identity::default()),
            Some(token) => verify(&secret, &token).map_err(|reason| Unauthorized { reason }),
        };
        std::future::ready(identity)
    })
}

/// Like [`authenticator`], but a token that does not verify counts as no
/// token (anonymous), as ASP.NET's JWT bearer handler treats it on an
/// endpoint without `[Authorize]`.
pub fn optional_authenticator(secret: &[u8]) -> Authenticator {
    let secret = secret.to_vec();
    Authenticator::new(move |request| {
        let identity = bearer_token(request)
            .and_then(|token| verify(&secret, &token).ok())
            .unwrap_or_default();
        std::future::ready(Ok(identity))
    })
}

/// The identity an HS256 `token` signed with `secret` carries, or why it is
/// refused (bad signature, expired, malformed).
pub fn verify(secret: &[u8], token: &str) -> Result<Identity, String> {
    hs256::install();
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_required_spec_claims(&["exp", "sub"]);
    jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(secret), &validation)
        .map(|data| identity(data.claims))
        .map_err(|error| format!("invalid token: {error}"))
}

fn identity(claims: Claims) -> Identity {
    let mut pairs = Vec::new();
    if let Some(name) = claims.name {
        pairs.push(("name".to_owned(), name));
    }
    pairs.extend(
        claims
            .role
            .into_iter()
            .map(|role| ("role".to_owned(), role)),
    );
    Identity {
        user_id: Some(claims.sub),
        claims: pairs,
        expires_at: Some(UNIX_EPOCH + Duration::from_secs(claims.exp)),
    }
}

/// Issues a token for `user` with `roles`, valid for `ttl` (for tests and demos).
pub fn issue(secret: &[u8], user: &str, roles: &[&str], ttl: Duration) -> String {
    issue_expiring_at(secret, user, roles, SystemTime::now() + ttl)
}

/// Issues a token that expires at `expires` (in the past for an expired one).
pub fn issue_expiring_at(secret: &[u8], user: &str, roles: &[&str], expires: SystemTime) -> String {
    let claims = Claims {
        sub: user.to_owned(),
        exp: expires
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs(),
        name: None,
        role: roles.iter().map(|role| (*role).to_owned()).collect(),
    };
    hs256::install();
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret),
    )
    .expect("HS256 signing with a secret cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"a test secret that is long enough!!";

    fn request(token: &str) -> http::request::Parts {
        http::Request::builder()
            .uri(format!("/hub?access_token={token}"))
            .body(())
            .unwrap()
            .into_parts()
            .0
    }

    #[tokio::test]
    async fn accepts_valid_tokens_and_maps_claims() {
        let token = issue(SECRET, "alice", &["admin", "ops"], Duration::from_secs(60));
        let identity = authenticator(SECRET)
            .authenticate(&request(&token))
            .await
            .unwrap();
        assert_eq!(identity.user_id.as_deref(), Some("alice"));
        assert_eq!(
            identity.claims,
            [
                ("role".to_owned(), "admin".to_owned()),
                ("role".to_owned(), "ops".to_owned())
            ]
        );
    }

    #[tokio::test]
    async fn refuses_bad_signatures_and_garbage() {
        let forged = issue(
            b"another secret, also long enough!!",
            "mallory",
            &["admin"],
            Duration::from_secs(60),
        );
        assert!(
            authenticator(SECRET)
                .authenticate(&request(&forged))
                .await
                .is_err()
        );
        assert!(
            authenticator(SECRET)
                .authenticate(&request("not-a-jwt"))
                .await
                .is_err()
        );
    }

    #[test]
    fn refuses_other_algorithms_and_expired_tokens() {
        let token = issue(SECRET, "alice", &[], Duration::from_secs(60));
        let (_, rest) = token.split_once('.').unwrap();
        // The same claims and signature under a header claiming HS384, or none.
        for header in [
            r#"{"alg":"HS384","typ":"JWT"}"#,
            r#"{"alg":"none","typ":"JWT"}"#,
        ] {
            let header = data_encoding::BASE64URL_NOPAD.encode(header.as_bytes());
            assert!(
                verify(SECRET, &format!("{header}.{rest}")).is_err(),
                "{header}"
            );
        }
        let expired = issue_expiring_at(
            SECRET,
            "alice",
            &[],
            SystemTime::now() - Duration::from_secs(3600),
        );
        assert!(verify(SECRET, &expired).unwrap_err().contains("Expired"));
        assert!(verify(SECRET, &token).is_ok());
    }
}
