//! Long Polling: GET polls down (the first one answered at once), POSTs up,
//! DELETE to stop. `204` on a poll is the server's end of the connection.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::Method;
use tokio::sync::mpsc;

use super::common::{AbortOnDrop, CLOSE_TIMEOUT, Endpoint, Received};
use super::post::Poster;
use crate::error::Error;
use crate::http::{Lane, common_headers, read_body};
use crate::options::ConnectionOptions;
use crate::url::HubUrl;

/// Payloads polled ahead of the connection.
const EVENTS: usize = 32;

/// An open Long Polling transport.
#[derive(Debug)]
pub(crate) struct LongPolling {
    events: mpsc::Receiver<Received>,
    poster: Poster,
    poller: AbortOnDrop,
    url: HubUrl,
    headers: Vec<(http::HeaderName, http::HeaderValue)>,
    /// For the DELETE (opened when closing).
    delete: Lane,
}

/// The poll URL: the cache buster `_=<ms>` as the JS client adds it.
fn poll_url(url: &HubUrl) -> HubUrl {
    let mut url = url.clone();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    url.push_query("_", &now.to_string());
    url
}

impl LongPolling {
    /// Makes the first poll (which the server answers at once) and starts polling.
    pub(crate) async fn open(
        endpoint: &Endpoint,
        options: &ConnectionOptions,
    ) -> Result<Self, Error> {
        let headers = common_headers(&options.headers, endpoint.token.as_deref());
        let mut lane = Lane::new(options);
        let response = lane
            .request(
                Method::GET,
                &poll_url(&endpoint.url),
                &headers,
                Bytes::new(),
                options.http_timeout,
                "poll",
            )
            .await?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(Error::Http {
                what: "poll",
                status,
                hint: "",
            });
        }
        let first = read_body(
            response,
            options.max_message_size,
            options.http_timeout,
            "poll",
        )
        .await?;
        let (sender, events) = mpsc::channel(EVENTS);
        if !first.is_empty() {
            let _ = sender.try_send(Received::Data(first));
        }
        let poller = tokio::spawn(poll(
            lane,
            endpoint.url.clone(),
            headers.clone(),
            options.poll_timeout,
            options.max_message_size,
            sender.clone(),
        ));
        let content_type = match options.protocol.transfer_format() {
            hub_protocol::TransferFormat::Text => "text/plain;charset=UTF-8",
            hub_protocol::TransferFormat::Binary => "application/octet-stream",
        };
        let poster = Poster::start(
            endpoint.url.clone(),
            headers.clone(),
            content_type,
            options,
            sender,
        );
        Ok(Self {
            events,
            poster,
            poller: AbortOnDrop(poller),
            url: endpoint.url.clone(),
            headers,
            delete: Lane::new(options),
        })
    }

    /// The next payload. Cancel-safe.
    pub(crate) async fn recv(&mut self) -> Received {
        self.events
            .recv()
            .await
            .unwrap_or(Received::Closed(Some(Error::ConnectionLost(
                "polling stopped".into(),
            ))))
    }

    /// POSTs a payload.
    pub(crate) async fn send(&mut self, payload: Bytes) -> Result<(), Error> {
        self.poster.send(payload).await
    }

    /// Sends what is queued, stops polling and DELETEs the connection (a
    /// `404` is fine: the server already ended it).
    pub(crate) async fn close(mut self) {
        self.poster.finish(CLOSE_TIMEOUT).await;
        drop(self.poller);
        let _ = self
            .delete
            .request(
                Method::DELETE,
                &self.url,
                &self.headers,
                Bytes::new(),
                CLOSE_TIMEOUT,
                "DELETE",
            )
            .await;
    }
}

async fn poll(
    mut lane: Lane,
    url: HubUrl,
    headers: Vec<(http::HeaderName, http::HeaderValue)>,
    timeout: Duration,
    limit: usize,
    events: mpsc::Sender<Received>,
) {
    let end = loop {
        let response = match lane
            .request(
                Method::GET,
                &poll_url(&url),
                &headers,
                Bytes::new(),
                timeout,
                "poll",
            )
            .await
        {
            Ok(response) => response,
            // A poll the server held too long: poll again, as the JS client does.
            Err(Error::Timeout { .. }) => continue,
            Err(error) => break Some(error),
        };
        match response.status().as_u16() {
            204 => break None,
            200 => match read_body(response, limit, timeout, "poll").await {
                Ok(body) if body.is_empty() => {}
                Ok(body) => {
                    if events.send(Received::Data(body)).await.is_err() {
                        return;
                    }
                }
                Err(error) => break Some(error),
            },
            status => {
                break Some(Error::Http {
                    what: "poll",
                    status,
                    hint: "",
                });
            }
        }
    };
    let _ = events.send(Received::Closed(end)).await;
}
