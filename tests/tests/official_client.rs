//! The official `@microsoft/signalr` client (Node.js) against the test hub,
//! every test file over every transport × protocol pair the client supports:
//! WebSockets, Server-Sent Events and Long Polling × JSON and MessagePack
//! (MessagePack needs binary frames, which Server-Sent Events cannot carry).

use std::time::Duration;

use hub_core::HubOptions;
use tests::{TestServer, node_test};

/// Runs `script` over `transport` × `protocol` against the test hub with
/// `options`; `env` tells the script what else it runs against.
async fn run(
    script: &str,
    transport: &str,
    protocol: &str,
    options: HubOptions,
    env: &[(&str, &str)],
) {
    let server =
        TestServer::testhub_with(samples::testhub::builder().options(options).build()).await;
    let url = server.testhub_url();
    let mut all = vec![
        ("HUB_URL", url.as_str()),
        ("HUB_TRANSPORT", transport),
        ("HUB_PROTOCOL", protocol),
    ];
    all.extend_from_slice(env);
    node_test(script, &all).await;
    server.stop().await;
}

/// One module per test file, one test per transport × protocol pair.
macro_rules! matrix {
    ($($name:ident: $script:literal $(, options: $options:expr, env: $env:expr)? $(, except: [$($skip:ident),*])?;)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            fn options() -> HubOptions {
                matrix!(@options $($options)?)
            }

            fn env() -> Vec<(&'static str, &'static str)> {
                matrix!(@env $($env)?)
            }

            matrix!(@pair websockets_json, "WebSockets", "json", $script $(, [$($skip),*])?);
            matrix!(@pair websockets_messagepack, "WebSockets", "messagepack", $script $(, [$($skip),*])?);
            matrix!(@pair server_sent_events_json, "ServerSentEvents", "json", $script $(, [$($skip),*])?);
            matrix!(@pair long_polling_json, "LongPolling", "json", $script $(, [$($skip),*])?);
            matrix!(@pair long_polling_messagepack, "LongPolling", "messagepack", $script $(, [$($skip),*])?);
        }
    )*};
    (@options) => { HubOptions::default() };
    (@options $options:expr) => { $options };
    (@env) => { Vec::new() };
    (@env $env:expr) => { $env };
    (@pair $test:ident, $transport:literal, $protocol:literal, $script:literal) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $test() {
            run($script, $transport, $protocol, options(), &env()).await;
        }
    };
    (@pair $test:ident, $transport:literal, $protocol:literal, $script:literal, [$($skip:ident),*]) => {
        matrix!(@skip $test, $transport, $protocol, $script, [$($skip),*]);
    };
    (@skip $test:ident, $transport:literal, $protocol:literal, $script:literal, []) => {
        matrix!(@pair $test, $transport, $protocol, $script);
    };
    (@skip long_polling_json, $transport:literal, $protocol:literal, $script:literal, [long_polling $(, $rest:ident)*]) => {};
    (@skip long_polling_messagepack, $transport:literal, $protocol:literal, $script:literal, [long_polling $(, $rest:ident)*]) => {};
    (@skip $test:ident, $transport:literal, $protocol:literal, $script:literal, [long_polling $(, $rest:ident)*]) => {
        matrix!(@skip $test, $transport, $protocol, $script, [$($rest),*]);
    };
}

matrix! {
    basics: "basics.test.mjs";
    methods: "methods.test.mjs";
    targets: "targets.test.mjs";
    groups: "groups.test.mjs";
    errors: "errors.test.mjs";
    ordering: "ordering.test.mjs";
    load: "load.test.mjs";
    streams: "streams.test.mjs";
    uploads: "uploads.test.mjs";
    client_results: "client-results.test.mjs";
    client_results_timeout: "client-results.test.mjs",
        options: HubOptions {
            client_result_timeout: Some(Duration::from_millis(300)),
            ..Default::default()
        },
        env: vec![("CLIENT_RESULT_TIMEOUT_MS", "300")];
    scheduling: "scheduling.test.mjs";
    scheduling_parallel: "scheduling.test.mjs",
        options: HubOptions {
            maximum_parallel_invocations_per_client: 4,
            ..Default::default()
        },
        env: vec![("MAX_PARALLEL", "4")];
    lifecycle: "lifecycle.test.mjs";
    connection_control: "connection-control.test.mjs";
    auth: "auth.test.mjs";
    // Long Polling keeps itself alive: no Pings, no client timeout (as ASP.NET).
    keep_alive: "keep-alive.test.mjs",
        options: HubOptions {
            keep_alive_interval: Duration::from_millis(200),
            ..Default::default()
        },
        env: vec![("KEEP_ALIVE_MS", "200")],
        except: [long_polling];
    client_timeout: "client-timeout.test.mjs",
        options: HubOptions {
            client_timeout_interval: Duration::from_millis(500),
            // Official clients ping only after receiving something: the server must ping first.
            keep_alive_interval: Duration::from_millis(100),
            ..Default::default()
        },
        env: vec![("CLIENT_TIMEOUT_MS", "500")],
        except: [long_polling];
}
