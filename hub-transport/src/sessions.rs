//! Negotiated connections: the secret connection token → the connection it opens.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use hub_core::{ConnectionId, random_id};
use tokio::time::Instant;

/// A negotiated connection.
#[derive(Debug)]
struct Session {
    connection_id: ConnectionId,
    user_id: Option<String>,
    created: Instant,
    /// The transport serving it, once one connected.
    transport: Option<&'static str>,
}

/// Why a transport request cannot take up a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum BindError {
    /// No session with that token (never negotiated, expired or ended): 404.
    #[error("No Connection with that ID")]
    NotFound,
    /// The same transport is already connected: 409.
    #[error("Connection ID is already in use.")]
    AlreadyConnected,
    /// Another transport already serves it: 400.
    #[error("Cannot change transports mid-connection")]
    OtherTransport,
    /// The request is from another user than the negotiate was: 403.
    #[error("Forbidden")]
    WrongUser,
}

/// The sessions of one hub endpoint.
#[derive(Debug, Default)]
pub(crate) struct Sessions {
    by_token: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.by_token.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Creates a session; returns its secret token and public connection id.
    pub(crate) fn create(&self, user_id: Option<String>) -> (String, ConnectionId) {
        let token = random_id();
        let connection_id = ConnectionId::random();
        self.lock().insert(
            token.clone(),
            Session {
                connection_id: connection_id.clone(),
                user_id,
                created: Instant::now(),
                transport: None,
            },
        );
        (token, connection_id)
    }

    /// Binds `transport` to the session of `token`, for the user `user_id`.
    pub(crate) fn bind(
        &self,
        token: &str,
        transport: &'static str,
        user_id: Option<&str>,
    ) -> Result<ConnectionId, BindError> {
        let mut sessions = self.lock();
        let session = sessions.get_mut(token).ok_or(BindError::NotFound)?;
        if session.user_id.as_deref() != user_id {
            return Err(BindError::WrongUser);
        }
        match session.transport {
            None => {
                session.transport = Some(transport);
                Ok(session.connection_id.clone())
            }
            Some(bound) if bound == transport => Err(BindError::AlreadyConnected),
            Some(_) => Err(BindError::OtherTransport),
        }
    }

    /// The transport serving the session of `token`, if any, for the user `user_id`.
    pub(crate) fn check(
        &self,
        token: &str,
        user_id: Option<&str>,
    ) -> Result<Option<&'static str>, BindError> {
        let sessions = self.lock();
        let session = sessions.get(token).ok_or(BindError::NotFound)?;
        if session.user_id.as_deref() != user_id {
            return Err(BindError::WrongUser);
        }
        Ok(session.transport)
    }

    /// Moves a session to another key (negotiate version 0 uses the connection id).
    pub(crate) fn rekey(&self, from: &str, to: &str) {
        let mut sessions = self.lock();
        if let Some(session) = sessions.remove(from) {
            sessions.insert(to.to_owned(), session);
        }
    }

    /// Forgets a session (its connection ended).
    pub(crate) fn remove(&self, token: &str) {
        self.lock().remove(token);
    }

    /// Drops sessions no transport picked up within `timeout`; returns how many.
    pub(crate) fn reap_unused(&self, timeout: Duration) -> usize {
        let now = Instant::now();
        let mut sessions = self.lock();
        let before = sessions.len();
        sessions
            .retain(|_, session| session.transport.is_some() || now - session.created < timeout);
        before - sessions.len()
    }

    /// How many sessions exist.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_secret_and_bind_once() {
        let sessions = Sessions::default();
        let (token, id) = sessions.create(Some("alice".into()));
        assert_ne!(token, id.as_str());
        assert_eq!(
            sessions.bind(id.as_str(), "WebSockets", Some("alice")),
            Err(BindError::NotFound)
        );
        assert_eq!(
            sessions.bind(&token, "WebSockets", Some("bob")),
            Err(BindError::WrongUser)
        );
        assert_eq!(
            sessions.bind(&token, "WebSockets", None),
            Err(BindError::WrongUser)
        );
        assert_eq!(sessions.bind(&token, "WebSockets", Some("alice")), Ok(id));
        assert_eq!(
            sessions.bind(&token, "WebSockets", Some("alice")),
            Err(BindError::AlreadyConnected)
        );
        assert_eq!(
            sessions.bind(&token, "LongPolling", Some("alice")),
            Err(BindError::OtherTransport)
        );
        sessions.remove(&token);
        assert_eq!(sessions.len(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn unused_sessions_expire() {
        let sessions = Sessions::default();
        let (used, _) = sessions.create(None);
        sessions.create(None);
        sessions.bind(&used, "WebSockets", None).unwrap();
        tokio::time::advance(Duration::from_secs(16)).await;
        assert_eq!(sessions.reap_unused(Duration::from_secs(15)), 1);
        assert_eq!(sessions.len(), 1);
    }
}
