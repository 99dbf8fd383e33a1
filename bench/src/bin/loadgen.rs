//! `loadgen`: a SignalR load generator over WebSockets (JSON or MessagePack),
//! which also speaks Socket.IO (`--protocol socketio`) to compare with a
//! Socket.IO server doing the same work (`bench/socketio-peer`).
//!
//! ```text
//! loadgen echo|broadcast|idle --url ws://127.0.0.1:5000/hubs/test [options]
//! loadgen echo --protocol socketio --url 'ws://127.0.0.1:5000/socket.io/?EIO=4&transport=websocket'
//! loadgen broadcast --url ws://127.0.0.1:5001/hubs/test --url ws://127.0.0.1:5002/hubs/test
//! ```
//!
//! `broadcast` may be given several URLs, the nodes of one scaled-out hub: its
//! receivers are spread round-robin over them and the sender uses the first
//! (see `bench/scaleout.sh`).
//!
//! Frames are pre-encoded once per connection and patched in place (id,
//! sequence number, timestamp); replies are read in place without allocating.
//! The last line printed is `RESULT key=value ...` for scripts.

use bench::loadgen::{Config, Scenario, broadcast, echo, idle};

const USAGE: &str = "\
usage: loadgen echo|broadcast|idle [options]
  --url ws://HOST:PORT/PATH     hub URL (default ws://127.0.0.1:5000/hubs/test); broadcast:
                                repeat it (or give URL,URL,...) to spread the receivers
                                round-robin over several nodes, the sender on the first
  --protocol json|messagepack|socketio
                                SignalR hub protocol (default json), or Socket.IO (v5 over
                                Engine.IO v4 WebSocket; the URL is then the server's
                                /socket.io/?EIO=4&transport=websocket): events echo and
                                broadcast with acks, deliveries as event message
  --connections N               echo: concurrent callers (default 10);
                                broadcast: receivers (default 100); idle: connections (default 10000)
  --duration S                  measured seconds (default 10)
  --warmup S                    seconds before measuring (default 2)
  --hold S                      idle: seconds to hold the connections (default 40)
  --drain S                     broadcast: seconds to wait for late deliveries (default 10)
  --paced                       broadcast: the next SendToAll only once every receiver has the
                                last (send latency = the broadcast's end-to-end time)
  --negotiate                   POST /negotiate first (default: skipNegotiation)
  --sources K                   bind client sockets to 127.0.0.1..127.0.0.K (default: 1 per 20,000)
  --connect-concurrency N       connection attempts in flight (default 64)
  --connect-timeout S           give up opening one connection after S seconds (default 30)
  --server-pid PID              report the server's CPU and (idle) RSS from /proc; repeat it
                                (or give PID,PID,...) to sum several processes
  --threads N                   runtime threads (default 1: a current-thread runtime)";

fn main() {
    let config = match Config::from_args(std::env::args().skip(1)) {
        Ok(config) => config,
        Err(error) => {
            if !error.is_empty() {
                eprintln!("loadgen: {error}");
            }
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    };
    let runtime = if config.threads() == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(config.threads())
            .enable_all()
            .build()
    }
    .expect("tokio runtime");
    println!("{}", config.summary());
    runtime.block_on(async {
        match config.scenario() {
            Scenario::Echo => echo::run(&config).await,
            Scenario::Broadcast => broadcast::run(&config).await,
            Scenario::Idle => idle::run(&config).await,
        }
    });
    // Don't wait for the aborted connections to wind down.
    runtime.shutdown_background();
}
