//! One-shot HTTP/1.1 requests over a raw socket (`Connection: close`), for
//! status, header and body checks the official clients never exercise.

use std::net::SocketAddr;

use serde_json::Value;

use crate::raw_http::{HttpConn, TIMEOUT};

/// A response as received.
#[derive(Debug)]
pub struct RawResponse {
    /// The status code.
    pub status: u16,
    /// Header names (lower case) and values.
    pub headers: Vec<(String, String)>,
    /// The body, taken out of its framing (`Content-Length`, chunks, or up
    /// to the end of the connection); empty for 101, 204 and 304.
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The body as text; fails the test unless it is UTF-8.
    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("UTF-8 body")
    }

    /// The body parsed as JSON; fails the test (showing the body) unless it is JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|error| {
            panic!(
                "JSON body ({error}): {:?}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// Sends one request (with `Connection: close` and an empty body) on a new
/// connection and reads the whole response, then waits for the server to
/// close the connection (failing the test if anything follows the response,
/// or unless it all ends within [`TIMEOUT`]). An upgrade answered with 101
/// keeps the socket open: it is not waited for.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
) -> RawResponse {
    tokio::time::timeout(TIMEOUT, async {
        let mut conn = HttpConn::connect(addr).await;
        let mut all = vec![("Connection", "close")];
        all.extend_from_slice(headers);
        let response = conn.request(method, target, &all, b"").await;
        if response.status != 101 {
            conn.expect_end().await;
        }
        response
    })
    .await
    .unwrap_or_else(|_| panic!("{method} {target}: no whole response within {TIMEOUT:?}"))
}
