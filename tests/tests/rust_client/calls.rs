//! Typed and untyped calls: results, errors, streams both ways and their
//! cancellation, client results.

use std::time::Duration;

use futures_util::StreamExt;
use hub_client::{Answer, Error, Upload};
use tests::TestServer;

use crate::support::{COMBOS, WAIT, connect};

#[tokio::test]
async fn typed_and_untyped_methods_return_their_results() {
    let server = TestServer::testhub().await;
    for combo in COMBOS {
        let client = connect(&server.testhub_url(), combo).await;
        let hub = &client.hub;
        assert_eq!(hub.echo("hi".into()).await.unwrap(), "hi", "{combo:?}");
        assert_eq!(hub.add(40, 2).await.unwrap(), 42, "{combo:?}");
        let id = hub.get_connection_id().await.unwrap();
        assert_eq!(Some(id), client.connection.connection_id(), "{combo:?}");
        assert_eq!(hub.whoami().await.unwrap(), None, "{combo:?}");
        hub.send_to_caller("void".into()).await.unwrap();
        let untyped: i64 = client.connection.invoke("add", (1, 2)).await.unwrap();
        assert_eq!(untyped, 3, "{combo:?}: names match ignoring case");
        // A send gets no answer; what it caused still arrives.
        client
            .connection
            .send("SendToCaller", ("sent",))
            .await
            .unwrap();
        hub.send_to_caller("sent too".into()).send().await.unwrap();
        let mut inbox = client.inbox;
        assert_eq!(
            inbox.take(3).await,
            ["void", "sent", "sent too"],
            "{combo:?}"
        );
        // Calls run concurrently on one connection; answers find their callers.
        let calls = (0..20).map(|n| hub.echo(format!("m{n}")).into_future());
        let answers = futures_util::future::try_join_all(calls).await.unwrap();
        let expected: Vec<String> = (0..20).map(|n| format!("m{n}")).collect();
        assert_eq!(answers, expected, "{combo:?}");
        client.connection.stop().await;
    }
    server.stop().await;
}

#[tokio::test]
async fn hub_errors_arrive_as_typed_errors_and_the_connection_survives() {
    let server = TestServer::testhub().await;
    for combo in COMBOS {
        let client = connect(&server.testhub_url(), combo).await;
        let hub = &client.hub;
        let error = hub.throw("boom".into()).await.unwrap_err();
        assert_eq!(
            error,
            Error::Hub(
                "An unexpected error occurred invoking 'Throw' on the server. HubException: boom"
                    .into()
            ),
            "{combo:?}"
        );
        assert!(error.is_hub_error());
        let error = hub.fail_unexpectedly("secret".into()).await.unwrap_err();
        assert!(
            matches!(&error, Error::Hub(text) if !text.contains("secret")),
            "{combo:?}: {error}"
        );
        let error = client
            .connection
            .invoke::<()>("NoSuchMethod", ())
            .await
            .unwrap_err();
        assert!(
            matches!(&error, Error::Hub(text) if text.contains("Method does not exist")),
            "{combo:?}: {error}"
        );
        // A result that does not decode into the asked type.
        let error = client
            .connection
            .invoke::<i32>("Echo", ("x",))
            .await
            .unwrap_err();
        assert!(matches!(error, Error::Decode(_)), "{combo:?}: {error}");
        assert_eq!(hub.echo("still here".into()).await.unwrap(), "still here");
        client.connection.stop().await;
    }
    server.stop().await;
}

#[tokio::test]
async fn streams_both_ways() {
    let server = TestServer::testhub().await;
    for combo in COMBOS {
        let client = connect(&server.testhub_url(), combo).await;
        let hub = &client.hub;
        let items: Vec<i32> = hub.counter(5, 1).map(Result::unwrap).collect().await;
        assert_eq!(items, [0, 1, 2, 3, 4], "{combo:?}");
        let untyped: Vec<i32> = client
            .connection
            .stream::<i32>("Counter", (3, 1))
            .map(Result::unwrap)
            .collect()
            .await;
        assert_eq!(untyped, [0, 1, 2], "{combo:?}");
        // A stream that fails after two items: two items, then the error, then the end.
        let mut failing = hub.failing_counter(2, "stream broke".into());
        assert_eq!(failing.next().await.unwrap().unwrap(), 0);
        assert_eq!(failing.next().await.unwrap().unwrap(), 1);
        let error = failing.next().await.unwrap().unwrap_err();
        assert!(
            matches!(&error, Error::Hub(text) if text.contains("stream broke")),
            "{combo:?}: {error}"
        );
        assert!(failing.next().await.is_none());
        // Uploads: one, two around an argument, and through the untyped API.
        let sum = hub.sum(futures_util::stream::iter(1..=10)).await.unwrap();
        assert_eq!(sum, 55, "{combo:?}");
        let both = hub
            .sum_both(
                futures_util::stream::iter([1, 2]),
                "total".into(),
                futures_util::stream::iter([10, 20, 30]),
            )
            .await
            .unwrap();
        assert_eq!(both, "total: 3, 60", "{combo:?}");
        let untyped: i64 = client
            .connection
            .invoke_with_uploads(
                "Sum",
                (),
                vec![Upload::new(futures_util::stream::iter([4, 5]))],
            )
            .await
            .unwrap();
        assert_eq!(untyped, 9, "{combo:?}");
        client.connection.stop().await;
    }
    server.stop().await;
}

#[tokio::test]
async fn dropping_a_stream_cancels_it_on_the_server() {
    let server = TestServer::testhub().await;
    for combo in COMBOS {
        let client = connect(&server.testhub_url(), combo).await;
        let hub = &client.hub;
        let mut endless = hub.endless(5);
        assert_eq!(endless.next().await.unwrap().unwrap(), 0);
        assert_eq!(endless.next().await.unwrap().unwrap(), 1);
        assert_eq!(hub.live_producers().await.unwrap(), 1, "{combo:?}");
        drop(endless);
        // The server drops the producer when the CancelInvocation arrives.
        let deadline = tokio::time::Instant::now() + WAIT;
        while hub.live_producers().await.unwrap() != 0 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{combo:?}: the producer lives on"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        client.connection.stop().await;
    }
    server.stop().await;
}

#[tokio::test]
async fn callbacks_answer_client_results() {
    let server = TestServer::testhub().await;
    for combo in COMBOS {
        let client = connect(&server.testhub_url(), combo).await;
        let answer = client.hub.ask_client("life".into()).await.unwrap();
        assert_eq!(answer, "answer to life", "{combo:?}");
        // Untyped handlers: a second one answering too is an error, as in the JS client.
        client
            .connection
            .on("answer", |(question,): (String,)| async move {
                Answer(question)
            });
        let error = client.hub.ask_client("x".into()).await.unwrap_err();
        assert!(
            matches!(&error, Error::Hub(text) if text.contains("Client provided multiple results.")),
            "{combo:?}: {error}"
        );
        client.connection.off("Answer");
        let error = client.hub.ask_client("x".into()).await.unwrap_err();
        assert!(
            matches!(&error, Error::Hub(text) if text.contains("Client didn't provide a result.")),
            "{combo:?}: {error}"
        );
        client
            .connection
            .on("Answer", |(_,): (String,)| async move {
                Err::<Answer<String>, _>("no answer here")
            });
        let error = client.hub.ask_client("x".into()).await.unwrap_err();
        assert!(
            matches!(&error, Error::Hub(text) if text.contains("no answer here")),
            "{combo:?}: {error}"
        );
        client.connection.stop().await;
    }
    server.stop().await;
}

#[tokio::test]
async fn a_call_dropped_before_its_answer_is_cancelled_on_the_server() {
    let server = TestServer::testhub().await;
    for (done, combo) in COMBOS.into_iter().enumerate() {
        let client = connect(&server.testhub_url(), combo).await;
        let hub = &client.hub;
        let mut call = Box::pin(hub.cancellable_delay(3_600_000).into_future());
        // The first poll queues the Invocation; dropping the call then
        // queues its CancelInvocation behind it.
        assert!(futures_util::poll!(&mut call).is_pending(), "{combo:?}");
        drop(call);
        let expected = done as u64 + 1;
        let counted = async {
            // Each answer is a round trip after the cancellation was sent;
            // the cancelled method counts itself once it runs again.
            while hub.cancelled_count().await.unwrap() < expected {}
        };
        tokio::time::timeout(WAIT, counted)
            .await
            .unwrap_or_else(|_| panic!("{combo:?}: the dropped call was not cancelled"));
        // An answered call is not cancelled afterwards.
        assert_eq!(hub.cancellable_delay(1).await.unwrap(), 1, "{combo:?}");
        assert_eq!(hub.cancelled_count().await.unwrap(), expected, "{combo:?}");
        client.connection.stop().await;
    }
    server.stop().await;
}
