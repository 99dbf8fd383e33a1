//! The Server-Sent Events transport: server → client as a `text/event-stream`
//! response, client → server as POSTs.

use std::convert::Infallible;

use bytes::{BufMut, Bytes, BytesMut};
use futures_util::stream;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::{BodyExt, StreamBody};
use hub_core::protocol::TransferFormat;
use hub_core::{Inbound, Transport, TransportError, TransportEvent};
use hyper::body::Frame;
use tokio::sync::mpsc;

use crate::http_util::Body;

/// The transport's name in negotiate responses.
pub(crate) const NAME: &str = "ServerSentEvents";

/// Server-Sent Events carry text only (MessagePack is refused at the handshake).
pub(crate) const FORMATS: &[TransferFormat] = &[TransferFormat::Text];

/// Events buffered for the response body before writes wait.
const BODY_CAPACITY: usize = 16;

/// The `text/event-stream` response, and the transport that feeds it.
pub(crate) fn open(inbound: mpsc::Receiver<Bytes>) -> (Response<Body>, ServerSentEventsTransport) {
    let (events, body) = mpsc::channel::<Bytes>(BODY_CAPACITY);
    // A comment first, so that EventSource fires `open` (the client's start() waits for it).
    let _ = events.try_send(Bytes::from_static(b":\r\n"));
    let body = stream::unfold(body, |mut body| async move {
        body.recv()
            .await
            .map(|event| (Ok::<_, Infallible>(Frame::data(event)), body))
    });
    let mut response = Response::new(StreamBody::new(body).boxed());
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store"),
    );
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::CONTENT_ENCODING,
        HeaderValue::from_static("identity"),
    );
    let transport = ServerSentEventsTransport {
        inbound,
        events: Some(events),
        pending: Vec::new(),
    };
    (response, transport)
}

/// Formats a payload as one event: a `data:` line per line, then a blank line.
///
/// Lines end at CRLF, LF or a lone CR, as an `EventSource` reads them, so the
/// client reads each line break as LF (the same JSON whitespace) and never
/// loses the rest of a line after a CR.
pub(crate) fn event(payload: &[u8]) -> Bytes {
    let mut event = BytesMut::with_capacity(payload.len() + 16);
    let mut rest = payload;
    loop {
        let end = rest.iter().position(|&byte| byte == b'\r' || byte == b'\n');
        event.put_slice(b"data: ");
        event.put_slice(&rest[..end.unwrap_or(rest.len())]);
        event.put_slice(b"\r\n");
        let Some(end) = end else { break };
        let crlf = rest[end] == b'\r' && rest.get(end + 1) == Some(&b'\n');
        rest = &rest[end + if crlf { 2 } else { 1 }..];
    }
    event.put_slice(b"\r\n");
    event.freeze()
}

/// The server side of a Server-Sent Events connection.
#[derive(Debug)]
pub(crate) struct ServerSentEventsTransport {
    inbound: mpsc::Receiver<Bytes>,
    /// `None` once closed (dropping it ends the response).
    events: Option<mpsc::Sender<Bytes>>,
    /// Payloads fed since the last flush, sent as one event.
    pending: Vec<u8>,
}

impl Transport for ServerSentEventsTransport {
    fn name(&self) -> &'static str {
        NAME
    }

    fn transfer_formats(&self) -> &'static [TransferFormat] {
        FORMATS
    }

    async fn recv(&mut self) -> Option<Result<TransportEvent, TransportError>> {
        let Some(events) = &self.events else {
            return None;
        };
        tokio::select! {
            // What the client POSTed comes first, even when it also went away.
            biased;
            data = self.inbound.recv() => data.map(|data| Ok(TransportEvent::Data(Inbound { data, format: None }))),
            // The client closed its EventSource: hyper dropped the response body.
            () = events.closed() => None,
        }
    }

    async fn feed(
        &mut self,
        payload: Bytes,
        _format: TransferFormat,
    ) -> Result<(), TransportError> {
        self.pending.extend_from_slice(&payload);
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), TransportError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let event = event(&self.pending);
        self.pending.clear();
        let events = self.events.as_ref().ok_or(TransportError::Closed)?;
        events.send(event).await.map_err(|_| TransportError::Closed)
    }

    async fn close(&mut self) {
        self.events = None;
    }
}

#[cfg(test)]
mod tests {
    use super::event;

    #[test]
    fn formats_each_line_as_data() {
        assert_eq!(
            &event(b"{\"type\":6}\x1e")[..],
            b"data: {\"type\":6}\x1e\r\n\r\n"
        );
        assert_eq!(
            &event(b"a\nb\r\nc")[..],
            b"data: a\r\ndata: b\r\ndata: c\r\n\r\n"
        );
    }

    #[test]
    fn ends_lines_at_a_lone_cr_too() {
        // An EventSource ends a line at CR, LF or CRLF: a CR left inside a
        // `data:` line would cut the rest of that line off.
        assert_eq!(&event(b"a\rb")[..], b"data: a\r\ndata: b\r\n\r\n");
        assert_eq!(
            &event(b"[1,\r\r\n2]\r")[..],
            b"data: [1,\r\ndata: \r\ndata: 2]\r\ndata: \r\n\r\n"
        );
    }
}
