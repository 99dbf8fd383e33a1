//! Negotiated connections: the secret connection token → the connection it
//! opens, and what its transport needs from later requests (POSTed messages,
//! long polls).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http::{Response, StatusCode};
use hub_core::{ConnectionId, random_id};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::http_util::{Body, text};
use crate::long_polling::LongPollChannel;
use crate::websocket::Socket;

/// How long a session handed over to another node is remembered at most (the
/// other node normally reports the end of the connection sooner).
const MOVED_EXPIRY: Duration = Duration::from_secs(24 * 3600);

/// The transports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TransportKind {
    WebSockets,
    ServerSentEvents,
    LongPolling,
}

/// What a bound session's transport needs from later requests.
#[derive(Debug, Clone)]
pub(crate) enum Binding {
    /// `resume` hands a new socket to the connection; only stateful
    /// sessions have one (a channel costs memory for the connection's life).
    WebSocket {
        resume: Option<mpsc::Sender<Box<Socket>>>,
    },
    ServerSentEvents {
        inbound: mpsc::Sender<Bytes>,
    },
    LongPolling {
        inbound: mpsc::Sender<Bytes>,
        channel: Arc<LongPollChannel>,
    },
    /// Another node took the connection over (its transport connected there).
    Moved {
        node: String,
    },
}

impl Binding {
    fn kind(&self) -> TransportKind {
        match self {
            Binding::WebSocket { .. } => TransportKind::WebSockets,
            Binding::ServerSentEvents { .. } => TransportKind::ServerSentEvents,
            Binding::LongPolling { .. } | Binding::Moved { .. } => TransportKind::LongPolling,
        }
    }
}

/// What binding a transport to a session started.
#[derive(Debug)]
pub(crate) enum Bound {
    /// A new connection.
    New {
        connection_id: ConnectionId,
        /// Whether negotiate granted stateful reconnect.
        stateful: bool,
        /// A stateful WebSocket's later sockets (stateful reconnect).
        resumed: Option<mpsc::Receiver<Box<Socket>>>,
        /// What the client POSTed before this transport started.
        early: Vec<Bytes>,
    },
    /// A client reconnecting (stateful reconnect): the new socket goes here.
    Resume(mpsc::Sender<Box<Socket>>),
}

/// A negotiated connection.
#[derive(Debug)]
struct Session {
    connection_id: ConnectionId,
    user_id: Option<String>,
    created: Instant,
    /// Whether negotiate granted stateful reconnect.
    stateful: bool,
    binding: Option<Binding>,
    /// The node that negotiated the connection, when this one took it over.
    origin: Option<String>,
    /// When its connection ended (a long-polling session lingers to answer 204).
    ended: Option<Instant>,
    /// Payloads POSTed before a transport started, for it to read first.
    early: Early,
}

/// Payloads POSTed to a session before its transport started, bounded.
#[derive(Debug, Default)]
pub(crate) struct Early {
    payloads: Vec<Bytes>,
    bytes: usize,
}

impl Early {
    /// What a transport starting now reads first.
    pub(crate) fn take(&mut self) -> Vec<Bytes> {
        self.bytes = 0;
        std::mem::take(&mut self.payloads)
    }
}

/// Where a POSTed payload goes.
#[derive(Debug)]
pub(crate) enum Delivery {
    /// Kept in the session until its transport starts.
    Kept,
    /// To the running connection, through this channel.
    Send(mpsc::Sender<Bytes>),
}

/// A connection taken over from the node that negotiated it.
#[derive(Debug)]
pub(crate) struct Adopted {
    pub(crate) user_id: Option<String>,
    pub(crate) connection_id: ConnectionId,
    pub(crate) stateful: bool,
    /// The node that negotiated it.
    pub(crate) origin: String,
    /// What the client POSTed there before its transport started.
    pub(crate) early: Vec<Bytes>,
}

/// Why a request cannot use a session.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
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
    /// POSTs before the transport started exceed what may wait for it: 413.
    #[error(
        "The connection has not started yet; at most {0} bytes sent before it starts are kept."
    )]
    TooMuchEarly(usize),
    /// POST on a WebSocket connection: 405.
    #[error("POST requests are not allowed for WebSocket connections.")]
    WebSocketSend,
    /// The connection lives on another node now.
    #[error("The connection moved to node {0}.")]
    Moved(String),
}

impl BindError {
    /// The answer to the request, as ASP.NET answers it.
    pub(crate) fn response(self) -> Response<Body> {
        let status = match self {
            BindError::NotFound => StatusCode::NOT_FOUND,
            BindError::AlreadyConnected => StatusCode::CONFLICT,
            BindError::OtherTransport => StatusCode::BAD_REQUEST,
            BindError::TooMuchEarly(_) => StatusCode::PAYLOAD_TOO_LARGE,
            BindError::WrongUser => StatusCode::FORBIDDEN,
            BindError::WebSocketSend => StatusCode::METHOD_NOT_ALLOWED,
            // Only when no backplane could forward the request.
            BindError::Moved(_) => StatusCode::NOT_FOUND,
        };
        text(status, self.to_string())
    }
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
    /// Tokens end with `.{node}` when `node` is given (a node of a cluster),
    /// so that any node can tell where the connection was negotiated.
    pub(crate) fn create(
        &self,
        user_id: Option<String>,
        stateful: bool,
        node: Option<&str>,
    ) -> (String, ConnectionId) {
        let token = match node {
            Some(node) => format!("{}.{node}", random_id()),
            None => random_id(),
        };
        let connection_id = ConnectionId::random();
        self.lock().insert(
            token.clone(),
            Session {
                connection_id: connection_id.clone(),
                user_id,
                created: Instant::now(),
                stateful,
                binding: None,
                origin: None,
                ended: None,
                early: Early::default(),
            },
        );
        (token, connection_id)
    }

    /// Looks up a live session for `user_id` and runs `f` on it.
    fn with_session<T>(
        &self,
        token: &str,
        user_id: Option<&str>,
        f: impl FnOnce(&mut Session) -> Result<T, BindError>,
    ) -> Result<T, BindError> {
        let mut sessions = self.lock();
        let session = sessions.get_mut(token).ok_or(BindError::NotFound)?;
        if session.user_id.as_deref() != user_id {
            return Err(BindError::WrongUser);
        }
        f(session)
    }

    /// Binds a transport to the session of `token`.
    pub(crate) fn bind(
        &self,
        token: &str,
        user_id: Option<&str>,
        mut binding: Binding,
    ) -> Result<Bound, BindError> {
        self.with_session(token, user_id, |session| match &session.binding {
            _ if session.ended.is_some() => Err(BindError::NotFound),
            Some(Binding::Moved { node }) => Err(BindError::Moved(node.clone())),
            None => {
                let mut resumed = None;
                if let (true, Binding::WebSocket { resume }) = (session.stateful, &mut binding) {
                    let (sender, receiver) = mpsc::channel(1);
                    *resume = Some(sender);
                    resumed = Some(receiver);
                }
                session.binding = Some(binding);
                Ok(Bound::New {
                    connection_id: session.connection_id.clone(),
                    stateful: session.stateful,
                    resumed,
                    early: session.early.take(),
                })
            }
            Some(Binding::WebSocket {
                resume: Some(resume),
            }) if !resume.is_closed() => Ok(Bound::Resume(resume.clone())),
            Some(bound) if bound.kind() == binding.kind() => Err(BindError::AlreadyConnected),
            Some(_) => Err(BindError::OtherTransport),
        })
    }

    /// The connection of the session `token` of `user_id`, for a refresh of
    /// its credentials; `None` for a session of negotiate version 0 (its
    /// token is its connection id), which cannot refresh.
    pub(crate) fn refreshable(
        &self,
        token: &str,
        user_id: Option<&str>,
    ) -> Result<Option<ConnectionId>, BindError> {
        self.with_session(token, user_id, |session| match &session.binding {
            _ if session.ended.is_some() => Err(BindError::NotFound),
            Some(Binding::Moved { node }) => Err(BindError::Moved(node.clone())),
            _ if session.connection_id.as_str() == token => Ok(None),
            _ => Ok(Some(session.connection_id.clone())),
        })
    }

    /// The binding of a session (for POSTs, polls and DELETEs).
    pub(crate) fn binding(
        &self,
        token: &str,
        user_id: Option<&str>,
    ) -> Result<Option<Binding>, BindError> {
        self.with_session(token, user_id, |session| Ok(session.binding.clone()))
    }

    /// Where a payload POSTed to a session goes: to its connection, or, when
    /// no transport has started yet, into the session (at most `limit` bytes
    /// in all), for the transport to read first when it starts: a client may
    /// POST before its first poll, as ASP.NET lets it.
    pub(crate) fn deliver(
        &self,
        token: &str,
        user_id: Option<&str>,
        payload: &Bytes,
        limit: usize,
    ) -> Result<Delivery, BindError> {
        self.with_session(token, user_id, |session| match &session.binding {
            None if session.ended.is_some() => Err(BindError::NotFound),
            None => {
                let early = &mut session.early;
                if early.bytes + payload.len() > limit {
                    return Err(BindError::TooMuchEarly(limit));
                }
                if !payload.is_empty() {
                    early.bytes += payload.len();
                    early.payloads.push(payload.clone());
                }
                Ok(Delivery::Kept)
            }
            Some(Binding::WebSocket { .. }) => Err(BindError::WebSocketSend),
            Some(Binding::Moved { node }) => Err(BindError::Moved(node.clone())),
            Some(Binding::ServerSentEvents { inbound } | Binding::LongPolling { inbound, .. }) => {
                Ok(Delivery::Send(inbound.clone()))
            }
        })
    }

    /// Hands a negotiated connection over to `node`, whose transport just
    /// connected: returns its connection id, whether it is stateful, and what
    /// the client POSTed before.
    pub(crate) fn take_over(
        &self,
        token: &str,
        user_id: Option<&str>,
        node: &str,
    ) -> Result<(ConnectionId, bool, Vec<Bytes>), BindError> {
        self.with_session(token, user_id, |session| match &session.binding {
            _ if session.ended.is_some() => Err(BindError::NotFound),
            None => {
                session.binding = Some(Binding::Moved {
                    node: node.to_owned(),
                });
                let early = session.early.take();
                Ok((session.connection_id.clone(), session.stateful, early))
            }
            Some(Binding::Moved { node }) => Err(BindError::Moved(node.clone())),
            Some(_) => Err(BindError::OtherTransport),
        })
    }

    /// Adopts a connection negotiated on the node `origin` (see [`Sessions::take_over`]).
    pub(crate) fn adopt(&self, token: &str, adopted: Adopted) {
        let bytes = adopted.early.iter().map(Bytes::len).sum();
        self.lock().insert(
            token.to_owned(),
            Session {
                connection_id: adopted.connection_id,
                user_id: adopted.user_id,
                created: Instant::now(),
                stateful: adopted.stateful,
                binding: None,
                origin: Some(adopted.origin),
                ended: None,
                early: Early {
                    payloads: adopted.early,
                    bytes,
                },
            },
        );
    }

    /// Forgets a session handed over to another node, whose connection ended.
    pub(crate) fn forget_moved(&self, token: &str) {
        let mut sessions = self.lock();
        if matches!(
            sessions
                .get(token)
                .and_then(|session| session.binding.as_ref()),
            Some(Binding::Moved { .. })
        ) {
            sessions.remove(token);
        }
    }

    /// Marks a session's connection as ended. Long-polling sessions linger
    /// (so the next poll answers 204) until [`Sessions::remove`] or the reaper.
    /// Returns the node that negotiated the connection, if this one took it over.
    pub(crate) fn end(&self, token: &str) -> Option<String> {
        let mut sessions = self.lock();
        match sessions.get_mut(token) {
            Some(session) if matches!(session.binding, Some(Binding::LongPolling { .. })) => {
                session.ended = Some(Instant::now());
                session.origin.clone()
            }
            _ => sessions.remove(token).and_then(|session| session.origin),
        }
    }

    /// Forgets a session.
    pub(crate) fn remove(&self, token: &str) {
        self.lock().remove(token);
    }

    /// Moves a session to another key (negotiate version 0 uses the connection id).
    pub(crate) fn rekey(&self, from: &str, to: &str) {
        let mut sessions = self.lock();
        if let Some(session) = sessions.remove(from) {
            sessions.insert(to.to_owned(), session);
        }
    }

    /// Drops sessions no transport picked up, and ended ones, older than
    /// `timeout`; returns how many.
    pub(crate) fn reap(&self, timeout: Duration) -> usize {
        let now = Instant::now();
        let mut sessions = self.lock();
        let before = sessions.len();
        sessions.retain(|_, session| match (&session.binding, session.ended) {
            (_, Some(ended)) => now - ended < timeout,
            (None, None) => now - session.created < timeout,
            // Forwarding to the node that took a connection over lasts until
            // that node reports its end, or this long at most.
            (Some(Binding::Moved { .. }), None) => now - session.created < MOVED_EXPIRY,
            (Some(_), None) => true,
        });
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
        let (token, id) = sessions.create(Some("alice".into()), false, None);
        assert_ne!(token, id.as_str());
        let bind = |token: &str, user| {
            sessions
                .bind(token, user, Binding::WebSocket { resume: None })
                .map(|bound| match bound {
                    Bound::New { connection_id, .. } => connection_id,
                    Bound::Resume(_) => panic!("not stateful"),
                })
        };
        assert_eq!(bind(id.as_str(), Some("alice")), Err(BindError::NotFound));
        assert_eq!(bind(&token, Some("bob")), Err(BindError::WrongUser));
        assert_eq!(bind(&token, None), Err(BindError::WrongUser));
        assert_eq!(bind(&token, Some("alice")), Ok(id));
        assert_eq!(
            bind(&token, Some("alice")),
            Err(BindError::AlreadyConnected)
        );
        let (sender, _) = mpsc::channel(1);
        let sse = Binding::ServerSentEvents { inbound: sender };
        assert!(matches!(
            sessions.bind(&token, Some("alice"), sse),
            Err(BindError::OtherTransport)
        ));
        let payload = Bytes::from_static(b"x");
        assert_eq!(
            sessions
                .deliver(&token, Some("alice"), &payload, 10)
                .unwrap_err(),
            BindError::WebSocketSend
        );
        sessions.end(&token);
        assert_eq!(sessions.len(), 0);
    }

    #[test]
    fn what_is_posted_before_the_transport_starts_waits_for_it_bounded() {
        let sessions = Sessions::default();
        let (token, _) = sessions.create(None, false, None);
        let payload = |text: &'static str| Bytes::from_static(text.as_bytes());
        for text in ["ab", "cd"] {
            assert!(matches!(
                sessions.deliver(&token, None, &payload(text), 5),
                Ok(Delivery::Kept)
            ));
        }
        assert_eq!(
            sessions
                .deliver(&token, None, &payload("ef"), 5)
                .unwrap_err(),
            BindError::TooMuchEarly(5),
            "4 bytes wait; 2 more would pass the limit of 5"
        );
        let (inbound, _) = mpsc::channel(1);
        let channel = Arc::new(LongPollChannel::new(1024));
        let bound = sessions.bind(&token, None, Binding::LongPolling { inbound, channel });
        let Ok(Bound::New { early, .. }) = bound else {
            panic!("a new connection")
        };
        assert_eq!(early, [payload("ab"), payload("cd")], "in order");
        assert!(matches!(
            sessions.deliver(&token, None, &payload("ef"), 5),
            Ok(Delivery::Send(_))
        ));
    }

    #[test]
    fn stateful_sessions_take_a_second_socket_as_a_resumption() {
        let sessions = Sessions::default();
        let (token, _) = sessions.create(None, true, None);
        let binding = || Binding::WebSocket { resume: None };
        let first = sessions.bind(&token, None, binding());
        assert!(matches!(
            first,
            Ok(Bound::New {
                stateful: true,
                resumed: Some(_),
                ..
            })
        ));
        assert!(matches!(
            sessions.bind(&token, None, binding()),
            Ok(Bound::Resume(_))
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn unused_and_ended_sessions_expire() {
        let sessions = Sessions::default();
        let (used, _) = sessions.create(None, false, None);
        sessions.create(None, false, None);
        sessions
            .bind(&used, None, Binding::WebSocket { resume: None })
            .unwrap();
        tokio::time::advance(Duration::from_secs(16)).await;
        assert_eq!(sessions.reap(Duration::from_secs(15)), 1);
        assert_eq!(sessions.len(), 1);
    }
}
