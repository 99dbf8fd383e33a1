//! Servers that misbehave: each failure is a typed error, in bounded time,
//! and never a panic.

use std::future::Future;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hub_client::{ConnectionState, Error, HubConnection};
use tokio::net::TcpListener;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

use crate::support::WAIT;

/// A WebSocket server (for skip-negotiation clients) that runs `script` on
/// its first connection; returns its URL.
async fn websocket_server<F, Fut>(script: F) -> String
where
    F: FnOnce(WebSocketStream<tokio::net::TcpStream>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hub", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let socket = tokio_tungstenite::accept_async(stream).await.unwrap();
        script(socket).await;
    });
    url
}

/// Reads the handshake and accepts it.
async fn accept_handshake(socket: &mut WebSocketStream<tokio::net::TcpStream>) {
    let request = socket.next().await.unwrap().unwrap();
    assert!(
        request
            .to_text()
            .unwrap()
            .starts_with("{\"protocol\":\"json\"")
    );
    socket.send(Message::text("{}\u{1e}")).await.unwrap();
}

fn client(url: &str) -> HubConnection {
    HubConnection::builder(url)
        .transports(hub_client::TransportKind::WebSockets)
        .skip_negotiation(true)
        .server_timeout(Duration::from_secs(2))
        .build()
        .unwrap()
}

async fn closed_with(connection: &HubConnection) -> Option<Error> {
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
    connection.on_closed(move |error| {
        let _ = sender.send(error);
    });
    tokio::time::timeout(WAIT, receiver.recv())
        .await
        .expect("closed within the wait")
        .expect("events open")
}

#[tokio::test]
async fn a_malformed_message_closes_with_a_protocol_error_and_fails_waiting_calls() {
    let url = websocket_server(|mut socket| async move {
        accept_handshake(&mut socket).await;
        let _ping = socket.next().await;
        let _invocation = socket.next().await;
        socket
            .send(Message::text("{\"type\":1,\u{1e}"))
            .await
            .unwrap();
        while socket.next().await.is_some() {}
    })
    .await;
    let connection = client(&url);
    connection.start().await.unwrap();
    let closed = tokio::spawn({
        let connection = connection.clone();
        async move { closed_with(&connection).await }
    });
    let call = connection.invoke::<String>("Echo", ("x",)).await;
    assert!(matches!(call, Err(Error::ConnectionLost(_))), "{call:?}");
    let error = closed.await.unwrap();
    assert!(matches!(error, Some(Error::Protocol(_))), "{error:?}");
    assert_eq!(connection.state(), ConnectionState::Disconnected);
}

#[tokio::test]
async fn unknown_ids_and_types_are_ignored_and_a_close_ends_cleanly() {
    let url = websocket_server(|mut socket| async move {
        accept_handshake(&mut socket).await;
        let _ping = socket.next().await;
        for record in [
            "{\"type\":3,\"invocationId\":\"nobody\",\"result\":1}",
            "{\"type\":2,\"invocationId\":\"nobody\",\"item\":1}",
            "{\"type\":99}",
            "{\"type\":1,\"target\":\"NoHandler\",\"arguments\":[1]}",
        ] {
            socket
                .send(Message::text(format!("{record}\u{1e}")))
                .await
                .unwrap();
        }
        // Answer the Echo the client sends next.
        let invocation = socket.next().await.unwrap().unwrap();
        let text = invocation.to_text().unwrap().to_owned();
        assert!(text.contains("\"Echo\""), "{text}");
        socket
            .send(Message::text(
                "{\"type\":3,\"invocationId\":\"0\",\"result\":\"fine\"}\u{1e}{\"type\":7}\u{1e}",
            ))
            .await
            .unwrap();
        while socket.next().await.is_some() {}
    })
    .await;
    let connection = client(&url);
    connection.start().await.unwrap();
    let closed = tokio::spawn({
        let connection = connection.clone();
        async move { closed_with(&connection).await }
    });
    assert_eq!(
        connection.invoke::<String>("Echo", ("x",)).await.unwrap(),
        "fine"
    );
    assert_eq!(closed.await.unwrap(), None);
}

#[tokio::test]
async fn handshake_refusals_silence_and_oversized_messages() {
    let refused = websocket_server(|mut socket| async move {
        let _ = socket.next().await;
        let _ = socket
            .send(Message::text("{\"error\":\"not today\"}\u{1e}"))
            .await;
    })
    .await;
    let error = client(&refused).start().await.unwrap_err();
    assert_eq!(
        error,
        Error::Handshake("the server refused the handshake: not today".into())
    );

    let silent = websocket_server(|mut socket| async move {
        let _ = socket.next().await;
        tokio::time::sleep(Duration::from_secs(30)).await;
    })
    .await;
    let started = tokio::time::Instant::now();
    let error = client(&silent).start().await.unwrap_err();
    assert_eq!(error, Error::ServerTimeout);
    assert!(started.elapsed() < WAIT);

    let silent_later = websocket_server(|mut socket| async move {
        accept_handshake(&mut socket).await;
        while socket.next().await.is_some() {}
    })
    .await;
    let connection = client(&silent_later);
    connection.start().await.unwrap();
    assert_eq!(closed_with(&connection).await, Some(Error::ServerTimeout));

    let oversized = websocket_server(|mut socket| async move {
        accept_handshake(&mut socket).await;
        let big = format!(
            "{{\"type\":1,\"target\":\"x\",\"arguments\":[\"{}\"]}}\u{1e}",
            "a".repeat(4096)
        );
        let _ = socket.send(Message::text(big)).await;
        while socket.next().await.is_some() {}
    })
    .await;
    let mut options = hub_client::ConnectionOptions {
        transports: hub_client::TransportKind::WebSockets.into(),
        skip_negotiation: true,
        max_message_size: 1024,
        ..Default::default()
    };
    options.server_timeout = Duration::from_secs(5);
    let connection = HubConnection::builder(&oversized)
        .options(options)
        .build()
        .unwrap();
    connection.start().await.unwrap();
    let error = closed_with(&connection).await;
    assert!(
        matches!(&error, Some(Error::ConnectionLost(_) | Error::Protocol(_))),
        "{error:?}"
    );
}

#[tokio::test]
async fn bad_negotiate_answers_are_typed_errors() {
    let app = axum::Router::new()
        .route(
            "/refuse/negotiate",
            axum::routing::post(|| async { r#"{"error":"nope"}"# }),
        )
        .route(
            "/garbage/negotiate",
            axum::routing::post(|| async { "<html>" }),
        )
        .route(
            "/legacy/negotiate",
            axum::routing::post(|| async {
                r#"{"connectionId":"c","availableTransports":[],"ProtocolVersion":"1.5"}"#
            }),
        )
        .route(
            "/loop/negotiate",
            axum::routing::post(|headers: http::HeaderMap| async move {
                let host = headers[http::header::HOST].to_str().unwrap().to_owned();
                format!(r#"{{"url":"http://{host}/loop"}}"#)
            }),
        );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let start = |path: &str| {
        let connection = HubConnection::builder(format!("{base}{path}"))
            .build()
            .unwrap();
        async move { connection.start().await.unwrap_err() }
    };
    assert_eq!(start("/refuse").await, Error::Negotiate("nope".into()));
    assert!(matches!(start("/garbage").await, Error::Negotiate(_)));
    assert!(matches!(start("/legacy").await, Error::Negotiate(_)));
    assert_eq!(
        start("/loop").await,
        Error::Negotiate("Negotiate redirection limit exceeded.".into())
    );
    let missing = start("/nothing").await;
    assert!(
        matches!(missing, Error::Http { status: 404, .. }),
        "{missing:?}"
    );
    // (https:// is accepted with the `tls` feature: tests/rust_client_tls.rs.)
    assert!(matches!(
        HubConnection::builder("ftp://example.invalid/hub").build(),
        Err(Error::InvalidUrl { .. })
    ));
}
