//! What the load generator speaks on a connection: SignalR in one of its hub
//! protocols, or Socket.IO. The scenarios ask the same of both (echo a
//! string with a reply, broadcast a string to everyone and confirm), and read
//! the replies as the same [`Message`]s:
//!
//! | scenario step | SignalR | Socket.IO |
//! | --- | --- | --- |
//! | echo call | `Echo(arg)` Invocation | `echo` event with an ack |
//! | its reply | Completion carrying `arg` | ack carrying `arg` |
//! | broadcast call | `SendToAll(arg)` Invocation | `broadcast` event with an ack |
//! | each delivery | `Receive(arg)` Invocation | `message` event |
//! | keep-alive | the client pings | the server pings, the client pongs |

use crate::protocol::{CallTemplate, Message, Protocol, Records};
use crate::socketio::{self, Packet};

/// A connection's protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// SignalR with this hub protocol.
    SignalR(Protocol),
    /// Socket.IO v5 over Engine.IO v4 WebSocket, JSON (the common parser).
    SocketIo,
}

impl std::str::FromStr for Wire {
    type Err = String;

    /// `json`, `messagepack` (SignalR) or `socketio`.
    fn from_str(name: &str) -> Result<Self, String> {
        match name {
            "socketio" | "socket.io" => Ok(Self::SocketIo),
            other => other.parse().map(Self::SignalR),
        }
    }
}

impl Wire {
    /// The name the results carry: `json`, `messagepack` or `socketio`.
    pub fn name(self) -> &'static str {
        match self {
            Self::SignalR(protocol) => protocol.name(),
            Self::SocketIo => "socketio",
        }
    }

    /// The echo call carrying `arg`.
    pub fn echo_call(self, arg: &str) -> CallTemplate {
        match self {
            Self::SignalR(protocol) => CallTemplate::new(protocol, "Echo", arg),
            Self::SocketIo => socketio::event_template("echo", arg),
        }
    }

    /// The broadcast call carrying `arg`.
    pub fn broadcast_call(self, arg: &str) -> CallTemplate {
        match self {
            Self::SignalR(protocol) => CallTemplate::new(protocol, "SendToAll", arg),
            Self::SocketIo => socketio::event_template("broadcast", arg),
        }
    }

    /// The target (SignalR) or event name (Socket.IO) of each delivery of a
    /// broadcast.
    pub fn delivery_target(self) -> &'static [u8] {
        match self {
            Self::SignalR(_) => b"Receive",
            Self::SocketIo => b"message",
        }
    }

    /// The frame the client sends now and then to stay alive, if the
    /// protocol has the client ping (SignalR's Ping; Socket.IO's server pings).
    pub fn keepalive_frame(self) -> Option<Vec<u8>> {
        match self {
            Self::SignalR(protocol) => Some(protocol.ping_frame()),
            Self::SocketIo => None,
        }
    }

    /// The frame answering a [`Message::Ping`] from the server, if the
    /// protocol wants one (Socket.IO's pong; SignalR's pings need none).
    pub fn pong_frame(self) -> Option<&'static [u8]> {
        match self {
            Self::SignalR(_) => None,
            Self::SocketIo => Some(socketio::PONG_FRAME),
        }
    }

    /// The messages of one frame's payload, each with its record (for
    /// printing).
    pub fn messages(self, payload: &[u8]) -> Messages<'_> {
        Messages(match self {
            Self::SignalR(protocol) => Inner::SignalR(protocol, protocol.records(payload)),
            Self::SocketIo => Inner::SocketIo(Some(payload)),
        })
    }
}

/// Reads a Socket.IO packet as the message the scenarios look for.
fn socketio_message(packet: Packet<'_>) -> Message<'_> {
    match packet {
        Packet::Ack { id, arg } => Message::Completion {
            id,
            result: arg,
            error: false,
        },
        Packet::Event { name, arg, .. } => Message::Invocation { target: name, arg },
        Packet::Ping => Message::Ping,
        Packet::Close | Packet::Disconnect | Packet::ConnectError(_) => Message::Close,
        Packet::Open(_) => Message::Other(0),
        Packet::Pong => Message::Other(3),
        Packet::Connect(_) => Message::Other(40),
        Packet::Other(_) => Message::Other(u8::MAX),
        Packet::Malformed => Message::Malformed,
    }
}

/// Iterator over the messages of one frame: (record, message).
#[derive(Debug)]
pub struct Messages<'a>(Inner<'a>);

#[derive(Debug)]
enum Inner<'a> {
    /// SignalR frames may hold several records.
    SignalR(Protocol, Records<'a>),
    /// A Socket.IO frame is one packet.
    SocketIo(Option<&'a [u8]>),
}

impl<'a> Iterator for Messages<'a> {
    type Item = (&'a [u8], Message<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            Inner::SignalR(protocol, records) => {
                let record = records.next()?;
                Some((record, protocol.parse(record)))
            }
            Inner::SocketIo(payload) => {
                let payload = payload.take()?;
                Some((payload, socketio_message(socketio::parse(payload))))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back() {
        for wire in [
            Wire::SignalR(Protocol::Json),
            Wire::SignalR(Protocol::MessagePack),
            Wire::SocketIo,
        ] {
            assert_eq!(wire.name().parse::<Wire>(), Ok(wire));
        }
        assert!("xml".parse::<Wire>().is_err());
    }

    #[test]
    fn socketio_replies_read_as_signalr_ones() {
        let messages: Vec<_> = Wire::SocketIo
            .messages(b"431000000007[\"e1\"]")
            .map(|(_, message)| message)
            .collect();
        assert_eq!(
            messages,
            [Message::Completion {
                id: b"1000000007",
                result: Some(b"e1"),
                error: false
            }]
        );
        let (_, delivery) = Wire::SocketIo
            .messages(b"42[\"message\",\"b1\"]")
            .next()
            .unwrap();
        assert_eq!(
            delivery,
            Message::Invocation {
                target: Wire::SocketIo.delivery_target(),
                arg: Some(b"b1")
            }
        );
        assert_eq!(
            Wire::SocketIo.messages(b"2").next().map(|(_, m)| m),
            Some(Message::Ping)
        );
        assert_eq!(
            Wire::SocketIo.messages(b"41").next().unwrap().1,
            Message::Close
        );
    }

    #[test]
    fn echo_calls_carry_their_argument_and_id() {
        for wire in [Wire::SignalR(Protocol::Json), Wire::SocketIo] {
            let mut call = wire.echo_call("abcd");
            call.set_id(5);
            assert_eq!(call.arg(), b"abcd");
            assert!(call.id().ends_with(b"5"));
        }
    }
}
