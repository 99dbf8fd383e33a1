//! `socketio-peer`: a socketioxide 0.18 server on axum, WebSocket transport
//! only, doing the load generator's work the Socket.IO way, so that
//! `bench/run.sh` can compare `testhub` with it in the same run. A benchmark
//! peer only: nothing in the product links it.
//!
//! * `echo` (with an ack): the ack carries the same payload back, as
//!   testhub's `Echo` returns its argument in a Completion.
//! * `broadcast` (with an ack): emits `message` with the payload to every
//!   connected socket of the default namespace (the caller included), then
//!   acks the caller, as testhub's `SendToAll` sends `Receive` to all and then
//!   completes the call.
//!
//! `TCP_NODELAY` is set as testhub and the baseline set it; everything else
//! is socketioxide's defaults (4 KiB WebSocket read buffer, 25 s pings, the
//! common JSON parser), except the per-socket buffer: 1,024 packets, like the
//! outbound queues of testhub and the baseline.
//!
//! ```text
//! socketio-peer [--addr HOST:PORT]   # prints `listening on http://HOST:PORT`
//! ```

use std::io::Write;
use std::net::SocketAddr;

use axum::serve::ListenerExt;
use socketioxide::SocketIo;
use socketioxide::extract::{AckSender, Data, SocketRef};
use socketioxide::{ParserConfig, TransportType};

/// Outbound packets buffered per socket, as testhub's and the baseline's queues.
const QUEUE: usize = 1024;

/// Registers the two events on each socket of the default namespace.
async fn on_connect(socket: SocketRef) {
    socket.on("echo", async |Data::<String>(payload), ack: AckSender| {
        let _ = ack.send(&payload);
    });
    socket.on(
        "broadcast",
        async |io: SocketIo, Data::<String>(payload), ack: AckSender| {
            if let Err(error) = io.emit("message", &payload).await {
                eprintln!("socketio-peer: broadcast failed: {error}");
            }
            let _ = ack.send(&());
        },
    );
}

/// `--addr HOST:PORT` (default 127.0.0.1:5000); exits with the usage on error.
fn parse_addr() -> SocketAddr {
    let mut args = std::env::args().skip(1);
    let mut addr = SocketAddr::from(([127, 0, 0, 1], 5000));
    while let Some(arg) = args.next() {
        let parsed = match (arg.as_str(), args.next()) {
            ("--addr", Some(value)) => value.parse().ok(),
            _ => None,
        };
        match parsed {
            Some(parsed) => addr = parsed,
            None => {
                eprintln!("socketio-peer: bad arguments\nusage: socketio-peer [--addr HOST:PORT]");
                std::process::exit(2);
            }
        }
    }
    addr
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = parse_addr();
    let (layer, io) = SocketIo::builder()
        .transports([TransportType::Websocket])
        .with_parser(ParserConfig::common())
        .max_buffer_size(QUEUE)
        .build_layer();
    io.ns("/", on_connect);
    let app = axum::Router::new().layer(layer);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    // TCP_NODELAY, as testhub and the baseline set it.
    let listener = listener.tap_io(|stream| {
        let _ = stream.set_nodelay(true);
    });
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on http://{local}")?;
    stdout.flush()?;
    drop(stdout);
    axum::serve(listener, app).await
}
