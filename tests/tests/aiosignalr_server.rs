//! The Rust client against a SignalR server this project did not write:
//! the one PyPI's `aiosignalr` 0.1.1 ships (aiohttp), over WebSockets with
//! JSON, started by the test in the test virtualenv
//! (tests/python/aiosignalr_server.py: part of the test hub's contract).
//! The typed calls are those of `samples::testhub`'s `#[hub] trait Test`.
//!
//! aiosignalr's quirks, tolerated because the protocol allows them or the
//! official clients accept them too:
//! * a void method's Completion carries no `result` (ASP.NET sends `null`):
//!   both mean "no value";
//! * a `HubException`'s message is the whole Completion error (ASP.NET
//!   prefixes "An unexpected error occurred invoking ..."): the client
//!   reports the server's text verbatim either way;
//! * method names match the Python method's name, lowercased, so the hub's
//!   methods are named with their wire names.

use std::process::Stdio;
use std::time::Duration;

use futures_util::StreamExt;
use hub_client::{Error, HubConnection, TransportKind};
use samples::testhub::{TestClientHandler, TestProxy};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(20);

struct Client(mpsc::UnboundedSender<String>);

impl TestClientHandler for Client {
    async fn receive(&self, message: String) {
        let _ = self.0.send(message);
    }

    async fn answer(&self, question: String) -> String {
        format!("rust answers {question}")
    }
}

#[tokio::test]
async fn the_typed_client_calls_an_aiosignalr_hub() {
    let venv = tests::python::venv().await;
    let mut server = venv
        .command([tests::python::python_dir().join("aiosignalr_server.py")])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the aiosignalr server");
    let stdout = server.stdout.take().expect("piped stdout");
    let line = tokio::time::timeout(WAIT, BufReader::new(stdout).lines().next_line())
        .await
        .expect("the server announces itself in time")
        .expect("read its output")
        .expect("a line");
    let base = line
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line}"));
    let url = format!("{base}/hubs/test");

    let connection = HubConnection::builder(&url)
        .transports(TransportKind::WebSockets)
        .build()
        .unwrap();
    let (sender, mut inbox) = mpsc::unbounded_channel();
    Client(sender).register(&connection);
    tokio::time::timeout(WAIT, connection.start())
        .await
        .expect("start in time")
        .expect("start");
    let hub = TestProxy(connection.clone());
    let calls = async {
        assert_eq!(hub.echo("hi".into()).await.unwrap(), "hi");
        assert_eq!(hub.add(40, 2).await.unwrap(), 42);
        assert_eq!(
            Some(hub.get_connection_id().await.unwrap()),
            connection.connection_id()
        );
        hub.send_to_caller("to me".into()).await.unwrap();
        assert_eq!(inbox.recv().await.unwrap(), "to me");
        hub.send_to_all("to all".into()).send().await.unwrap();
        assert_eq!(inbox.recv().await.unwrap(), "to all");
        hub.join_group("g".into()).await.unwrap();
        hub.send_to_group("g".into(), "to g".into()).await.unwrap();
        assert_eq!(inbox.recv().await.unwrap(), "to g");
        assert_eq!(
            hub.throw("boom".into()).await.unwrap_err(),
            Error::Hub("boom".into())
        );
        let items: Vec<i32> = hub.counter(4, 1).map(Result::unwrap).collect().await;
        assert_eq!(items, [0, 1, 2, 3]);
        let sum = hub
            .sum(futures_util::stream::iter([1, 2, 3, 4]))
            .await
            .unwrap();
        assert_eq!(sum, 10);
        assert_eq!(
            hub.ask_client("why".into()).await.unwrap(),
            "rust answers why"
        );
    };
    tokio::time::timeout(WAIT, calls)
        .await
        .expect("every call answered in time");
    connection.stop().await;
    drop(server.stdin.take());
    let status = tokio::time::timeout(WAIT, server.wait())
        .await
        .expect("the server stops when its input closes")
        .unwrap();
    assert!(status.success(), "{status}");
}
