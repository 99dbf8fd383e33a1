//! Messages to clients, encoded at most once per protocol and shared by every recipient.

use std::cell::OnceCell;

use bytes::Bytes;
use serde::Serialize;

use hub_protocol::{EncodeError, Protocol};

/// Something that can be encoded in any hub protocol.
pub(crate) trait Encode {
    fn encode(&self, protocol: Protocol) -> Result<Bytes, EncodeError>;
}

/// A non-blocking Invocation of a client method: `target(arguments...)`.
pub(crate) struct ClientInvocation<'a, A: ?Sized> {
    pub(crate) target: &'a str,
    pub(crate) arguments: &'a A,
}

impl<A: Serialize + ?Sized> Encode for ClientInvocation<'_, A> {
    fn encode(&self, protocol: Protocol) -> Result<Bytes, EncodeError> {
        protocol.encode_invocation(None, self.target, self.arguments)
    }
}

/// A message already encoded in every protocol (received from another node).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Frames {
    /// The message in each protocol, in [`Protocol::ALL`] order.
    encoded: Vec<Bytes>,
}

impl Encode for Frames {
    fn encode(&self, protocol: Protocol) -> Result<Bytes, EncodeError> {
        self.encoded.get(protocol.index()).cloned().ok_or_else(|| {
            EncodeError::new(format!("no {} encoding was received", protocol.name()))
        })
    }
}

/// A message on its way to many connections.
///
/// The first recipient using a protocol encodes the message for that protocol;
/// every later recipient gets a clone of the same [`Bytes`].
pub(crate) struct SerializedMessage<'a> {
    source: &'a dyn Encode,
    encoded: [OnceCell<Bytes>; Protocol::ALL.len()],
}

impl<'a> SerializedMessage<'a> {
    pub(crate) fn new(source: &'a dyn Encode) -> Self {
        Self {
            source,
            encoded: Default::default(),
        }
    }

    /// The message in `protocol`, encoded on first use.
    pub(crate) fn get(&self, protocol: Protocol) -> Result<Bytes, EncodeError> {
        let cell = &self.encoded[protocol.index()];
        if let Some(bytes) = cell.get() {
            return Ok(bytes.clone());
        }
        let bytes = self.source.encode(protocol)?;
        Ok(cell.get_or_init(|| bytes).clone())
    }

    /// The message in every protocol (for other nodes), reusing what is encoded.
    pub(crate) fn frames(&self) -> Result<Frames, EncodeError> {
        let encoded = Protocol::ALL
            .into_iter()
            .map(|protocol| self.get(protocol))
            .collect::<Result<_, _>>()?;
        Ok(Frames { encoded })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    struct Counting<'a>(&'a Cell<usize>);

    impl Encode for Counting<'_> {
        fn encode(&self, _: Protocol) -> Result<Bytes, EncodeError> {
            self.0.set(self.0.get() + 1);
            Ok(Bytes::from_static(b"x"))
        }
    }

    #[test]
    fn encodes_once_per_protocol_and_shares_the_bytes() {
        let count = Cell::new(0);
        let source = Counting(&count);
        let message = SerializedMessage::new(&source);
        let first = message.get(Protocol::Json).unwrap();
        let second = message.get(Protocol::Json).unwrap();
        assert_eq!(count.get(), 1);
        assert_eq!(first.as_ptr(), second.as_ptr());
        let frames = message.frames().unwrap();
        assert_eq!(count.get(), Protocol::ALL.len(), "each other protocol once");
        let relayed = SerializedMessage::new(&frames);
        assert_eq!(
            relayed.get(Protocol::Json).unwrap().as_ptr(),
            first.as_ptr()
        );
    }
}
