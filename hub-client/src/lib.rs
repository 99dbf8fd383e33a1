//! A SignalR client on tokio, typed by the same `#[hub]` trait as the server.
//!
//! ```
//! # use std::time::Duration;
//! use futures_util::StreamExt;
//! use hub_client::HubConnection;
//! use samples::testhub::{TestClientHandler, TestProxy};
//!
//! struct Client;
//!
//! impl TestClientHandler for Client {
//!     async fn receive(&self, message: String) {
//!         println!("received {message}");
//!     }
//!     async fn answer(&self, question: String) -> String {
//!         format!("the answer to {question}")
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), hub_client::Error> {
//! # let server = tests::TestServer::testhub().await;
//! # let url = server.testhub_url();
//! // `url` is `http://127.0.0.1:PORT/hubs/test`, where `samples::testhub` listens.
//! let connection = HubConnection::builder(url).with_automatic_reconnect().build()?;
//! Client.register(&connection); // the callbacks of `#[hub_client] trait TestClient`
//! connection.start().await?;
//!
//! let hub = TestProxy(connection.clone()); // the calls of `#[hub] trait Test`
//! assert_eq!(hub.add(40, 2).await?, 42);
//! assert_eq!(hub.ask_client("life".into()).await?, "the answer to life");
//! let numbers: Vec<i32> = hub.counter(3, 10).map(Result::unwrap).collect().await;
//! assert_eq!(numbers, [0, 1, 2]);
//! let sum = hub.sum(futures_util::stream::iter([1, 2, 3])).await?;
//! assert_eq!(sum, 6);
//! hub.send_to_caller("hi".into()).send().await?; // no result wanted
//!
//! // Without a Rust trait: the untyped API.
//! let echoed: String = connection.invoke("Echo", ("hello",)).await?;
//! assert_eq!(echoed, "hello");
//!
//! connection.stop().await;
//! # server.stop().await;
//! # Ok(())
//! # }
//! ```
//!
//! # What it does
//! Everything the official JS client does: negotiate (versions 1 and 0,
//! redirects with `url`/`accessToken`), WebSockets → Server-Sent Events →
//! Long Polling fallback and a transport option, skip-negotiation, JSON and
//! MessagePack, an access-token factory and headers, keep-alive Pings and a
//! server timeout, automatic reconnect with a retry policy and
//! reconnecting/reconnected/closed events, stateful reconnect (sequence
//! numbers, acks, a bounded resend buffer), clean stop.
//!
//! # TLS
//! `https://` and `wss://` URLs (and negotiate redirects to them) work on
//! every transport with the `tls` feature, on by default: rustls on the
//! `ring` provider, the server's certificate checked against Mozilla's
//! roots. [`HubConnectionBuilder::tls_config`] takes your own
//! [`rustls::ClientConfig`] (a private CA, client certificates); see
//! [`tls`]. A refused certificate is [`Error::Certificate`], any other
//! failed handshake [`Error::Tls`]. Without the feature, `https://` is
//! refused with [`Error::InvalidUrl`].
//!
//! # Typed calls and callbacks
//! `#[hub] trait Chat` generates `ChatProxy<C>`: wrap a connection
//! (`ChatProxy(connection.clone())`) and call the hub's methods, without
//! their `&HubCtx`. Awaiting a call invokes the method and returns its
//! result; `.send()` sends it without waiting; dropping the call before its
//! answer sends a CancelInvocation, which cancels a hub method's
//! `CancellationToken` (.NET 11 servers and this one; older servers ignore
//! it). Streaming methods return a
//! `Stream<Item = Result<T, Error>>`; dropping it cancels the stream on the
//! server. Upload parameters take any `Stream`.
//!
//! `#[hub_client] trait ChatClient` is implemented by the server for every
//! client target, so your type cannot implement it too: it generates
//! `ChatClientHandler`, the same methods with owned arguments, which your
//! type implements and registers with `handler.register(&connection)`. A
//! method with a return type answers the server's client-result request.
//!
//! # Bounded everywhere
//! A malformed message closes the connection with [`Error::Protocol`]; a
//! server that stops answering trips the server timeout; each buffer has a
//! limit and a stated behaviour when full ([`ConnectionOptions`]).

mod connection;
mod connector;
mod error;
mod http;
mod negotiate;
mod options;
#[cfg(feature = "tls")]
pub mod tls;
mod transport;
mod url;

pub use connection::{ConnectionState, HubConnection, HubConnectionBuilder, HubStream};
pub use error::{Error, Result};
pub use hub_core::client_api::{Answer, Upload};
pub use hub_protocol::Protocol;
pub use options::{
    AccessTokenFactory, ConnectionOptions, RetryContext, RetryDelays, RetryPolicy, TransportKind,
    Transports,
};
/// The TLS library of the `tls` feature, re-exported: build a
/// [`ClientConfig`](rustls::ClientConfig) for
/// [`HubConnectionBuilder::tls_config`] without matching its version.
#[cfg(feature = "tls")]
pub use rustls;
