//! The Rust sample client (`chat-client`) and a browser tab of the chat
//! sample in one room, over each transport the terminal client can take: a
//! message typed in the page reaches the Rust client's standard output, and
//! a line written to its standard input appears in the page. At the end of
//! its input the client stops cleanly and exits 0.

use std::process::Stdio;
use std::time::Duration;

use tests::TestServer;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{ChildStdout, Command};

const WAIT: Duration = Duration::from_secs(30);

/// One browser at a time, as in tests/browser.rs.
static BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn line_until(lines: &mut Lines<BufReader<ChildStdout>>, expected: &str) {
    let read = async {
        while let Some(line) = lines.next_line().await.expect("read the client's output") {
            if line == expected {
                return;
            }
        }
        panic!("the client ended before printing `{expected}`");
    };
    tokio::time::timeout(WAIT, read)
        .await
        .unwrap_or_else(|_| panic!("the client did not print `{expected}` in time"));
}

async fn chat(transport: &str, protocol: &str) {
    let _browser = BROWSER.lock().await;
    let client = samples::BrowserClient::locate(None).expect("npm ci has installed the client");
    let hub = samples::chat::hub();
    let context = hub.context();
    let server = TestServer::start(samples::chat::server(hub, &client), context).await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_chat-client-process"))
        .args([
            "--url",
            &format!("{}/chatHub", server.base_url),
            "--name",
            "rusty",
        ])
        .args(["--transport", transport, "--protocol", protocol])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start chat-client");
    let mut stdin = child.stdin.take().expect("piped stdin");
    let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
    // Its own message comes back once it is connected.
    stdin.write_all(b"ready\n").await.unwrap();
    line_until(&mut lines, "rusty: ready").await;

    let page_transport = match transport {
        "longpolling" => "LongPolling",
        _ => "default",
    };
    let page = tokio::spawn({
        let url = server.base_url.clone();
        async move { tests::browser::run("chat-rust-client.test.mjs", &url, page_transport).await }
    });
    line_until(&mut lines, "alice: hello from the page").await;
    stdin.write_all(b"hello from rust\n").await.unwrap();
    page.await.expect("the page's checks passed");

    drop(stdin);
    let status = tokio::time::timeout(WAIT, child.wait())
        .await
        .expect("the client exits at the end of its input")
        .unwrap();
    assert!(status.success(), "{status}");
    server.stop().await;
}

#[tokio::test]
async fn websockets_json() {
    chat("websockets", "json").await;
}

#[tokio::test]
async fn server_sent_events_json() {
    chat("sse", "json").await;
}

#[tokio::test]
async fn long_polling_messagepack() {
    chat("longpolling", "messagepack").await;
}
