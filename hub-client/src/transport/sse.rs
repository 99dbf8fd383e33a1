//! Server-Sent Events: a `text/event-stream` response down, POSTs up (JSON
//! only). The token travels in the query (`access_token`) for the stream,
//! as the JS client sends it, and in the header for POSTs.

use bytes::{Buf, Bytes, BytesMut};
use http::{HeaderValue, Method, header};
use http_body_util::BodyExt;
use tokio::sync::mpsc;

use super::common::{AbortOnDrop, CLOSE_TIMEOUT, Endpoint, Received};
use super::post::Poster;
use crate::error::Error;
use crate::http::{Lane, common_headers};
use crate::options::ConnectionOptions;
use crate::url::encode_query_value;

/// Payloads read ahead of the connection.
const EVENTS: usize = 32;

/// An open event stream and its sender.
#[derive(Debug)]
pub(crate) struct ServerSentEvents {
    events: mpsc::Receiver<Received>,
    poster: Poster,
    reader: AbortOnDrop,
}

impl ServerSentEvents {
    /// Opens the event stream: returns once its `200` head arrived.
    pub(crate) async fn open(
        endpoint: &Endpoint,
        options: &ConnectionOptions,
    ) -> Result<Self, Error> {
        let mut stream_url = endpoint.url.clone();
        if let Some(token) = &endpoint.token {
            stream_url.push_query("access_token", &encode_query_value(token));
        }
        let mut headers = common_headers(&options.headers, None);
        headers.push((
            header::ACCEPT,
            HeaderValue::from_static("text/event-stream"),
        ));
        let response = Lane::new(options)
            .request(
                Method::GET,
                &stream_url,
                &headers,
                Bytes::new(),
                options.http_timeout,
                "event stream",
            )
            .await?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(Error::Http {
                what: "event stream",
                status,
                hint: "",
            });
        }
        let (sender, events) = mpsc::channel(EVENTS);
        let limit = options.max_message_size;
        let reader_events = sender.clone();
        let reader = tokio::spawn(async move {
            let mut body = response.into_body();
            let mut parser = EventParser::new(limit);
            let end = loop {
                match body.frame().await {
                    Some(Ok(frame)) => {
                        let Ok(data) = frame.into_data() else {
                            continue;
                        };
                        match parser.push(&data) {
                            Ok(payloads) => {
                                for payload in payloads {
                                    if reader_events.send(Received::Data(payload)).await.is_err() {
                                        return;
                                    }
                                }
                            }
                            Err(error) => break error,
                        }
                    }
                    Some(Err(error)) => {
                        break Error::ConnectionLost(format!("the event stream failed: {error}"));
                    }
                    None => break Error::ConnectionLost("the event stream ended".into()),
                }
            };
            let _ = reader_events.send(Received::Closed(Some(end))).await;
        });
        let poster = Poster::start(
            endpoint.url.clone(),
            common_headers(&options.headers, endpoint.token.as_deref()),
            "text/plain;charset=UTF-8",
            options,
            sender,
        );
        Ok(Self {
            events,
            poster,
            reader: AbortOnDrop(reader),
        })
    }

    /// The next payload. Cancel-safe.
    pub(crate) async fn recv(&mut self) -> Received {
        self.events
            .recv()
            .await
            .unwrap_or(Received::Closed(Some(Error::ConnectionLost(
                "the event stream ended".into(),
            ))))
    }

    /// POSTs a payload.
    pub(crate) async fn send(&mut self, payload: Bytes) -> Result<(), Error> {
        self.poster.send(payload).await
    }

    /// Sends what is queued, then drops the stream.
    pub(crate) async fn close(self) {
        self.poster.finish(CLOSE_TIMEOUT).await;
        drop(self.reader);
    }
}

/// Reads `text/event-stream` bytes into the events' data: `data:` lines
/// joined by `\n`, an event ended by a blank line; comments and other
/// fields ignored. Lines end at CRLF, LF or CR.
#[derive(Debug)]
pub(crate) struct EventParser {
    buffer: BytesMut,
    data: Vec<u8>,
    has_data: bool,
    limit: usize,
    /// The previous chunk ended with CR: a LF starting this one belongs to it.
    after_cr: bool,
}

impl EventParser {
    /// A parser refusing events (and lines) over `limit` bytes.
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            buffer: BytesMut::new(),
            data: Vec::new(),
            has_data: false,
            limit,
            after_cr: false,
        }
    }

    /// Adds bytes; returns the data of every event they complete.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Result<Vec<Bytes>, Error> {
        let mut bytes = bytes;
        if self.after_cr && bytes.first() == Some(&b'\n') {
            bytes = &bytes[1..];
        }
        self.after_cr = false;
        self.buffer.extend_from_slice(bytes);
        let mut events = Vec::new();
        while let Some(end) = self.buffer.iter().position(|&b| b == b'\n' || b == b'\r') {
            let line = self.buffer.split_to(end);
            let terminator = self.buffer[0];
            if terminator == b'\r' {
                if self.buffer.len() == 1 {
                    self.after_cr = true;
                    self.buffer.advance(1);
                } else if self.buffer[1] == b'\n' {
                    self.buffer.advance(2);
                } else {
                    self.buffer.advance(1);
                }
            } else {
                self.buffer.advance(1);
            }
            if let Some(event) = self.line(&line)? {
                events.push(event);
            }
        }
        if self.buffer.len() > self.limit {
            return Err(Error::Protocol(format!(
                "an event stream line is longer than {} bytes",
                self.limit
            )));
        }
        Ok(events)
    }

    fn line(&mut self, line: &[u8]) -> Result<Option<Bytes>, Error> {
        if line.is_empty() {
            if !self.has_data {
                return Ok(None);
            }
            self.has_data = false;
            return Ok(Some(Bytes::from(std::mem::take(&mut self.data))));
        }
        if line[0] == b':' {
            return Ok(None);
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        if field != b"data" {
            return Ok(None);
        }
        if self.has_data {
            self.data.push(b'\n');
        }
        self.has_data = true;
        self.data.extend_from_slice(value);
        if self.data.len() > self.limit {
            return Err(Error::Protocol(format!(
                "an event is larger than {} bytes",
                self.limit
            )));
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_data_lines_whatever_the_line_ends_and_chunks() {
        let stream = b":\r\ndata: {\"type\":6}\x1e\r\n\r\ndata: a\ndata:b\rdata: c\r\n\r\nid: 1\nevent: x\n\n";
        for split in 0..stream.len() {
            let mut parser = EventParser::new(1024);
            let mut events = parser.push(&stream[..split]).unwrap();
            events.extend(parser.push(&stream[split..]).unwrap());
            assert_eq!(
                events,
                [
                    Bytes::from_static(b"{\"type\":6}\x1e"),
                    Bytes::from_static(b"a\nb\nc")
                ],
                "split at {split}"
            );
        }
    }

    #[test]
    fn refuses_events_over_the_limit() {
        let mut parser = EventParser::new(8);
        assert!(parser.push(b"data: 0123456789\n").is_err());
        let mut parser = EventParser::new(8);
        assert!(parser.push(b"data: 0123456789").is_err());
    }
}
