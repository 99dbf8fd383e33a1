//! Just enough of Socket.IO (protocol v5, the one of socket.io 3 and later)
//! over Engine.IO v4's WebSocket transport for load generation: pre-encoded
//! event frames with an ack id patched in place, and allocation-free reading
//! of the few packets a benchmark sees.
//!
//! Over WebSocket every frame is one Engine.IO packet: a type digit (`0`
//! open, `1` close, `2` ping, `3` pong, `4` message) and its data. A message
//! carries one Socket.IO packet: a type digit (`0` connect, `1` disconnect,
//! `2` event, `3` ack, `4` connect error), the namespace when it is not `/`
//! (`/name,`), the ack id when there is one (decimal), then JSON:
//!
//! ```text
//! server: 0{"sid":"...","pingInterval":25000,...}   open
//! client: 40                                         connect to /
//! server: 40{"sid":"..."}
//! client: 421000000042["echo","payload"]             event, ack id 1000000042
//! server: 431000000042["payload"]                    its ack
//! server: 2        client: 3                         the server pings
//! ```

use crate::protocol::{CallTemplate, ID_WIDTH};
use crate::ws::OP_TEXT;

/// The query that opens Engine.IO v4 straight over WebSocket.
pub const QUERY: &str = "EIO=4&transport=websocket";

/// The path and query of a Socket.IO server's WebSocket endpoint, at the
/// default path `/socket.io/`.
pub const DEFAULT_PATH: &str = "/socket.io/?EIO=4&transport=websocket";

/// The client's namespace connect packet for the default namespace `/`.
pub const CONNECT: &[u8] = b"40";

/// A whole client frame holding Engine.IO's pong (`3`), the answer to the
/// server's pings (masked with the zero key, as [`crate::ws`] frames are).
pub const PONG_FRAME: &[u8] = &[0x81, 0x81, 0, 0, 0, 0, b'3'];

/// Added to every ack id of a template: the ids are numbers, which the
/// server reads and writes back without leading zeros, so they always have
/// [`ID_WIDTH`] digits and compare byte for byte.
pub const ACK_ID_BASE: u64 = 1_000_000_000;

/// A packet read from one frame, borrowing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packet<'a> {
    /// Engine.IO open (`0`), with its JSON.
    Open(&'a [u8]),
    /// Engine.IO close (`1`).
    Close,
    /// Engine.IO ping (`2`): answer with [`PONG_FRAME`].
    Ping,
    /// Engine.IO pong (`3`).
    Pong,
    /// Socket.IO connect (`40`), with its JSON.
    Connect(&'a [u8]),
    /// Socket.IO disconnect (`41`).
    Disconnect,
    /// Socket.IO event (`42`): its ack id if any, its name and first argument
    /// when that is a string without escapes.
    Event {
        /// The ack id.
        id: Option<&'a [u8]>,
        /// The event name.
        name: &'a [u8],
        /// The first argument, when a plain string.
        arg: Option<&'a [u8]>,
    },
    /// Socket.IO ack (`43`): its id and first argument when a plain string.
    Ack {
        /// The ack id.
        id: &'a [u8],
        /// The first argument, when a plain string.
        arg: Option<&'a [u8]>,
    },
    /// Socket.IO connect error (`44`), with its JSON.
    ConnectError(&'a [u8]),
    /// Any other packet (noop, upgrade, binary events), whole.
    Other(&'a [u8]),
    /// Not a packet this reader understands.
    Malformed,
}

/// Reads the packet of one frame's payload.
pub fn parse(payload: &[u8]) -> Packet<'_> {
    let Some((&engine, rest)) = payload.split_first() else {
        return Packet::Malformed;
    };
    match engine {
        b'0' => Packet::Open(rest),
        b'1' => Packet::Close,
        b'2' => Packet::Ping,
        b'3' => Packet::Pong,
        b'4' => parse_message(rest),
        _ => Packet::Other(payload),
    }
}

/// Reads a Socket.IO packet (an Engine.IO message's data).
fn parse_message(packet: &[u8]) -> Packet<'_> {
    let Some((&kind, mut rest)) = packet.split_first() else {
        return Packet::Malformed;
    };
    if rest.first() == Some(&b'/') {
        // A namespace other than `/`: `/name,` (or the whole rest).
        rest = match rest.iter().position(|&b| b == b',') {
            Some(comma) => &rest[comma + 1..],
            None => &[],
        };
    }
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let (id, data) = rest.split_at(digits);
    let id = (!id.is_empty()).then_some(id);
    match kind {
        b'0' => Packet::Connect(data),
        b'1' => Packet::Disconnect,
        b'2' => {
            let Some(array) = data.strip_prefix(b"[") else {
                return Packet::Malformed;
            };
            match string_at(array) {
                Some((name, after)) => Packet::Event {
                    id,
                    name,
                    arg: after
                        .strip_prefix(b",")
                        .and_then(|arg| Some(string_at(arg)?.0)),
                },
                None => Packet::Malformed,
            }
        }
        b'3' => match (id, data.strip_prefix(b"[")) {
            (Some(id), Some(array)) => Packet::Ack {
                id,
                arg: string_at(array).map(|(arg, _)| arg),
            },
            _ => Packet::Malformed,
        },
        b'4' => Packet::ConnectError(data),
        _ => Packet::Other(packet),
    }
}

/// The JSON string at the start of `json` when it has no escapes, and what
/// follows it.
fn string_at(json: &[u8]) -> Option<(&[u8], &[u8])> {
    let rest = json.strip_prefix(b"\"")?;
    let end = rest.iter().position(|&b| b == b'"')?;
    let value = &rest[..end];
    (!value.contains(&b'\\')).then_some((value, &rest[end + 1..]))
}

/// A whole client frame emitting `event` with one string argument and an
/// ack id: `42<id>["<event>","<arg>"]`, pre-encoded once; the id (from
/// [`ACK_ID_BASE`] up) and the argument bytes are patched in place. `event`
/// and `arg` must be plain ASCII with no quote or backslash.
pub fn event_template(event: &str, arg: &str) -> CallTemplate {
    let mut record = b"42".to_vec();
    let id_at = record.len();
    record.extend_from_slice(ACK_ID_BASE.to_string().as_bytes());
    debug_assert_eq!(record.len() - id_at, ID_WIDTH);
    record.extend_from_slice(b"[\"");
    record.extend_from_slice(event.as_bytes());
    record.extend_from_slice(b"\",\"");
    let arg_at = record.len();
    record.extend_from_slice(arg.as_bytes());
    record.extend_from_slice(b"\"]");
    CallTemplate::from_record(OP_TEXT, &record, id_at, (arg_at, arg.len()), ACK_ID_BASE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_engine_io_packets() {
        assert_eq!(
            parse(b"0{\"sid\":\"a\",\"pingInterval\":25000}"),
            Packet::Open(b"{\"sid\":\"a\",\"pingInterval\":25000}")
        );
        assert_eq!(parse(b"1"), Packet::Close);
        assert_eq!(parse(b"2"), Packet::Ping);
        assert_eq!(parse(b"3"), Packet::Pong);
        assert_eq!(parse(b"6"), Packet::Other(b"6"));
        assert_eq!(parse(b""), Packet::Malformed);
        assert_eq!(parse(b"4"), Packet::Malformed);
    }

    #[test]
    fn reads_socket_io_packets() {
        assert_eq!(
            parse(b"40{\"sid\":\"xyz\"}"),
            Packet::Connect(b"{\"sid\":\"xyz\"}")
        );
        assert_eq!(parse(b"41"), Packet::Disconnect);
        assert_eq!(
            parse(b"44{\"message\":\"no\"}"),
            Packet::ConnectError(b"{\"message\":\"no\"}")
        );
        assert_eq!(
            parse(b"42[\"message\",\"b0000000001-x\"]"),
            Packet::Event {
                id: None,
                name: b"message",
                arg: Some(b"b0000000001-x")
            }
        );
        assert_eq!(
            parse(b"42/chat,7[\"echo\",{\"a\":1}]"),
            Packet::Event {
                id: Some(b"7"),
                name: b"echo",
                arg: None
            }
        );
        assert_eq!(
            parse(b"431000000042[\"hi\"]"),
            Packet::Ack {
                id: b"1000000042",
                arg: Some(b"hi")
            }
        );
        assert_eq!(
            parse(b"4312[null]"),
            Packet::Ack {
                id: b"12",
                arg: None
            }
        );
        assert_eq!(
            parse(b"4312[]"),
            Packet::Ack {
                id: b"12",
                arg: None
            }
        );
        // Escaped strings are not read (the benchmark never sends them).
        assert_eq!(
            parse(b"4312[\"a\\\"b\"]"),
            Packet::Ack {
                id: b"12",
                arg: None
            }
        );
        assert_eq!(parse(b"43[\"no id\"]"), Packet::Malformed);
        assert_eq!(parse(b"42{}"), Packet::Malformed);
    }

    #[test]
    fn event_template_is_patched_in_place() {
        let mut template = event_template("echo", "abcd");
        template.set_id(42);
        template.arg_mut().copy_from_slice(b"wxyz");
        assert_eq!(template.id(), b"1000000042");
        assert_eq!(template.arg(), b"wxyz");
        // Zero-key masked client text frame, short payload: 6 header bytes.
        let frame = template.frame();
        assert_eq!(frame[0], 0x80 | OP_TEXT);
        let payload = &frame[6..];
        assert_eq!(payload, b"421000000042[\"echo\",\"wxyz\"]");
        assert_eq!(
            parse(payload),
            Packet::Event {
                id: Some(b"1000000042"),
                name: b"echo",
                arg: Some(b"wxyz")
            }
        );
    }

    #[test]
    fn pong_frame_is_a_masked_text_frame() {
        let mut frame = Vec::new();
        crate::ws::encode_frame(OP_TEXT, b"3", &mut frame);
        assert_eq!(frame, PONG_FRAME);
    }
}
