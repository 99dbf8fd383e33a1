//! Client-to-server payloads of Server-Sent Events and Long Polling: POSTs
//! to `{hub}?id=`, one at a time, batching what queued meanwhile.

use bytes::{Bytes, BytesMut};
use http::{HeaderName, HeaderValue, Method, header};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::common::Received;
use crate::error::Error;
use crate::http::{Lane, read_body};
use crate::options::ConnectionOptions;
use crate::url::HubUrl;

/// Payloads waiting for a POST.
const QUEUE: usize = 64;

/// A POST body gathers queued payloads up to this size.
const BATCH_BYTES: usize = 64 * 1024;

/// The task that POSTs payloads.
#[derive(Debug)]
pub(crate) struct Poster {
    queue: Option<mpsc::Sender<Bytes>>,
    task: Option<JoinHandle<()>>,
}

impl Drop for Poster {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

impl Poster {
    /// Starts the task; a failed POST is reported on `events` as the end of
    /// the transport.
    pub(crate) fn start(
        url: HubUrl,
        headers: Vec<(HeaderName, HeaderValue)>,
        content_type: &'static str,
        options: &ConnectionOptions,
        events: mpsc::Sender<Received>,
    ) -> Self {
        let (queue, mut payloads) = mpsc::channel::<Bytes>(QUEUE);
        let timeout = options.http_timeout;
        let mut lane = Lane::new(options);
        let task = tokio::spawn(async move {
            let mut headers = headers;
            headers.push((header::CONTENT_TYPE, HeaderValue::from_static(content_type)));
            while let Some(first) = payloads.recv().await {
                let body = if payloads.is_empty() {
                    first
                } else {
                    let mut batch = BytesMut::from(&first[..]);
                    while batch.len() < BATCH_BYTES
                        && let Ok(next) = payloads.try_recv()
                    {
                        batch.extend_from_slice(&next);
                    }
                    batch.freeze()
                };
                let sent = async {
                    let response = lane
                        .request(Method::POST, &url, &headers, body, timeout, "send")
                        .await?;
                    let status = response.status().as_u16();
                    let _ = read_body(response, 64 * 1024, timeout, "send").await;
                    if status == 200 {
                        Ok(())
                    } else {
                        Err(Error::Http {
                            what: "send",
                            status,
                            hint: "",
                        })
                    }
                };
                if let Err(error) = sent.await {
                    let _ = events.send(Received::Closed(Some(error))).await;
                    return;
                }
            }
        });
        Self {
            queue: Some(queue),
            task: Some(task),
        }
    }

    /// Queues a payload (waits while the queue is full).
    pub(crate) async fn send(&self, payload: Bytes) -> Result<(), Error> {
        match &self.queue {
            Some(queue) => queue
                .send(payload)
                .await
                .map_err(|_| Error::ConnectionLost("the transport's sender has stopped".into())),
            None => Err(Error::NotConnected),
        }
    }

    /// Sends what is queued, then stops (bounded by `limit`).
    pub(crate) async fn finish(mut self, limit: std::time::Duration) {
        self.queue = None;
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(limit, &mut task).await.is_err()
        {
            task.abort();
        }
    }
}
