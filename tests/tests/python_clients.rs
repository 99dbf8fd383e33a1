//! The two SignalR clients on PyPI against the test hub (and, for uploads,
//! the weather hub), over every transport × protocol pair each can do:
//!
//! * `signalrcore` 1.0.2 (tests/python/signalrcore_client.py): WebSockets
//!   with JSON and MessagePack, Server-Sent Events with JSON, Long Polling
//!   with JSON.
//! * `pysignalr` 1.3.3 (tests/python/pysignalr_client.py): WebSockets (its
//!   only transport) with JSON and MessagePack.
//!
//! Each test serves both hubs in-process, runs the client's script with the
//! names of the checks to run, and fails with the script's output unless every
//! check passed. The checks: `connect` (and GetConnectionId), `echo`, `add`,
//! `error` (a hub error reaches the caller, the connection survives),
//! `receive` (SendToCaller → `Receive`), `broadcast` (SendToAll and
//! SendToConnection across two connections), `stream` (Counter),
//! `client_result` (AskClient → the client's `Answer`), `auth` (a bearer token
//! names the user: Whoami), `upload` (a client-to-server stream: the weather
//! hub's UploadStream → `UploadComplete(sum)`) and `stop`.
//!
//! What a client cannot do is left out of its list, with the reason beside it
//! (the scripts' docstrings tell the details).

use std::time::Duration;

use hub_core::HubOptions;
use tests::TestServer;
use tests::python::{WeatherHubServer, venv};

/// Hub options for the Python clients: Pings every second. signalrcore stops
/// a WebSockets or Server-Sent Events connection by closing its socket and
/// joining the thread blocked reading it, which wakes only when the server
/// next sends something: with the default 15 s keep-alive every `stop()`
/// would take up to 15 s.
fn options() -> HubOptions {
    HubOptions {
        keep_alive_interval: Duration::from_secs(1),
        ..HubOptions::default()
    }
}

/// Runs `script` over `transport` × `protocol` with `checks`.
async fn run(script: &str, transport: &str, protocol: &str, checks: &[&str]) {
    let venv = venv().await;
    let testhub =
        TestServer::testhub_with(samples::testhub::builder().options(options()).build()).await;
    let weatherhub =
        WeatherHubServer::start(samples::weatherhub::builder().options(options()).build()).await;
    let (hub_url, weatherhub_url) = (testhub.testhub_url(), weatherhub.hub_url());
    let output = venv
        .run_checks(
            script,
            checks,
            &[
                ("HUB_URL", &hub_url),
                ("WEATHERHUB_URL", &weatherhub_url),
                ("HUB_TRANSPORT", transport),
                ("HUB_PROTOCOL", protocol),
            ],
        )
        .await;
    // The script ran every check asked for, not fewer.
    for check in checks {
        assert!(
            output
                .lines()
                .any(|line| line.starts_with(&format!("ok {check} "))),
            "{script} did not report `ok {check}`:\n{output}"
        );
    }
    testhub.stop().await;
    weatherhub.stop().await;
}

mod signalrcore {
    use super::run;

    const SCRIPT: &str = "signalrcore_client.py";

    // No `client_result`: signalrcore drops a handler's return value and never
    // answers the server's Invocation.

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn websockets_json() {
        run(
            SCRIPT,
            "WebSockets",
            "json",
            &[
                "connect",
                "echo",
                "add",
                "error",
                "receive",
                "broadcast",
                "stream",
                "auth",
                "upload",
                "stop",
            ],
        )
        .await;
    }

    /// No `upload`: signalrcore encodes a MessagePack Invocation with streams
    /// without its InvocationId slot (`[1, {}, target, [], [streamId]]`) and
    /// the stream's end without its ResultKind (`[3, {}, streamId]`).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn websockets_messagepack() {
        run(
            SCRIPT,
            "WebSockets",
            "messagepack",
            &[
                "connect",
                "echo",
                "add",
                "error",
                "receive",
                "broadcast",
                "stream",
                "auth",
                "stop",
            ],
        )
        .await;
    }

    // Server-Sent Events carry text only: no MessagePack.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn server_sent_events_json() {
        run(
            SCRIPT,
            "ServerSentEvents",
            "json",
            &[
                "connect",
                "echo",
                "add",
                "error",
                "receive",
                "broadcast",
                "stream",
                "auth",
                "upload",
                "stop",
            ],
        )
        .await;
    }

    /// Its handshake is POSTed before its first poll. No `auth`: signalrcore
    /// sends the token with negotiate and its POSTs but not with its polls,
    /// which the server (as ASP.NET) refuses with 403 for a connection that
    /// has a user. The script patches the client's Long Polling framing (it
    /// hands on one record per poll response; see the script).
    ///
    /// No Long Polling × MessagePack: signalrcore 1.0.2 always reads Long
    /// Polling responses with its text client, which waits for a record
    /// separator MessagePack never sends (its binary client cannot even be
    /// built: it calls `super()` on the wrong class), so no MessagePack
    /// message ever reaches the application.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn long_polling_json() {
        run(
            SCRIPT,
            "LongPolling",
            "json",
            &[
                "connect",
                "echo",
                "add",
                "error",
                "receive",
                "broadcast",
                "stream",
                "upload",
                "stop",
            ],
        )
        .await;
    }
}

mod pysignalr {
    use super::run;

    const SCRIPT: &str = "pysignalr_client.py";

    const CHECKS: &[&str] = &[
        "connect",
        "echo",
        "add",
        "error",
        "receive",
        "broadcast",
        "stream",
        "client_result",
        "auth",
        "upload",
        "stop",
    ];

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn websockets_json() {
        run(SCRIPT, "WebSockets", "json", CHECKS).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn websockets_messagepack() {
        run(SCRIPT, "WebSockets", "messagepack", CHECKS).await;
    }
}
