//! The SignalR load generator behind the `loadgen` binary: its options, and
//! one module per scenario.
//!
//! [`Config::from_args`] reads the command line; [`echo::run`],
//! [`broadcast::run`] and [`idle::run`] each drive one scenario to the end
//! and print its results, the last line being `RESULT key=value ...`.

use std::sync::Arc;
use std::time::Duration;

use crate::args::Args;
use crate::protocol::Protocol;
use crate::wire::Wire;

use self::target::{Target, parse_target};

pub mod broadcast;
mod counters;
pub mod echo;
pub mod idle;
mod report;
mod target;

/// A load scenario, the first word of the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// Concurrent callers each invoke `Echo` in a loop and time the replies.
    Echo,
    /// One sender calls `SendToAll`; receivers time and count the deliveries.
    Broadcast,
    /// Many connections sit idle, pinging, while the server's memory is watched.
    Idle,
}

/// Everything the command line chose.
#[derive(Debug)]
pub struct Config {
    pub(crate) scenario: Scenario,
    /// Where to connect, one per `--url` (never empty): echo and idle use the
    /// first only; broadcast spreads its receivers over all (see
    /// [`Config::receiver_target`]).
    pub(crate) targets: Vec<Arc<Target>>,
    pub(crate) connections: usize,
    pub(crate) duration: Duration,
    pub(crate) warmup: Duration,
    pub(crate) hold: Duration,
    pub(crate) drain: Duration,
    /// broadcast: send the next `SendToAll` only once every receiver has
    /// the last one (its send latency is then the broadcast's end-to-end time).
    pub(crate) paced: bool,
    pub(crate) connect_concurrency: usize,
    /// The server processes to watch in /proc (summed when several).
    pub(crate) server_pids: Vec<u32>,
    pub(crate) threads: usize,
}

impl Config {
    /// Parses the command line, program name excluded. An empty error means
    /// `--help` was asked for: print the usage alone.
    pub fn from_args(words: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut words: Vec<String> = words.into_iter().collect();
        let mut urls = take_repeated(&mut words, "url")?;
        let server_pids = take_repeated(&mut words, "server-pid")?
            .iter()
            .map(|pid| {
                pid.parse()
                    .map_err(|_| format!("--server-pid: cannot parse `{pid}`"))
            })
            .collect::<Result<Vec<u32>, String>>()?;
        let mut args = Args::parse(words);
        if args.flag("help")? {
            return Err(String::new());
        }
        let scenario = match args.positional() {
            [word] => match word.as_str() {
                "echo" => Scenario::Echo,
                "broadcast" => Scenario::Broadcast,
                "idle" => Scenario::Idle,
                other => return Err(format!("unknown scenario `{other}`")),
            },
            [] => return Err("no scenario given".into()),
            _ => return Err("one scenario only".into()),
        };
        if urls.is_empty() {
            urls.push("ws://127.0.0.1:5000/hubs/test".to_owned());
        }
        if urls.len() > 1 && scenario != Scenario::Broadcast {
            return Err("several --url: only broadcast spreads its connections over nodes".into());
        }
        let wire = args.value("protocol", Wire::SignalR(Protocol::Json))?;
        let default_connections = match scenario {
            Scenario::Echo => 10,
            Scenario::Broadcast => 100,
            Scenario::Idle => 10_000,
        };
        let connections: usize = args.value("connections", default_connections)?;
        let seconds = |args: &mut Args, key: &str, default: f64| -> Result<Duration, String> {
            let value: f64 = args.value(key, default)?;
            Duration::try_from_secs_f64(value).map_err(|_| format!("--{key}: bad duration"))
        };
        let duration = seconds(&mut args, "duration", 10.0)?;
        let warmup = seconds(&mut args, "warmup", 2.0)?;
        let hold = seconds(&mut args, "hold", 40.0)?;
        let drain = seconds(&mut args, "drain", 10.0)?;
        let paced = args.flag("paced")?;
        let negotiate = args.flag("negotiate")?;
        if negotiate && wire == Wire::SocketIo {
            return Err("--negotiate is SignalR's; Socket.IO opens straight over WebSocket".into());
        }
        let sources: Option<u8> = args.optional("sources")?;
        let connect_concurrency = args.value("connect-concurrency", 64usize)?.max(1);
        let connect_timeout = seconds(&mut args, "connect-timeout", 30.0)?;
        let threads = args.value("threads", 1usize)?.max(1);
        args.finish()?;

        // The connections, the broadcast sender included, over the nodes.
        let per_target = (connections + 1).div_ceil(urls.len());
        let targets = urls
            .iter()
            .map(|url| {
                parse_target(url, wire, negotiate, sources, per_target, connect_timeout)
                    .map(Arc::new)
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Self {
            scenario,
            targets,
            connections,
            duration,
            warmup,
            hold,
            drain,
            paced,
            connect_concurrency,
            server_pids,
            threads,
        })
    }

    /// The scenario to run.
    pub fn scenario(&self) -> Scenario {
        self.scenario
    }

    /// Runtime threads: 1 means a current-thread runtime.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// The line printed before a run: scenario, targets, protocol (or Socket.IO),
    /// negotiation, connection count and source addresses.
    pub fn summary(&self) -> String {
        let against = self
            .targets
            .iter()
            .map(|target| format!("{}{}", target.addr, target.path))
            .collect::<Vec<_>>()
            .join(", ");
        let target = self.target();
        format!(
            "loadgen: {:?} against {against} ({}, {}), {} connections, sources {:?}",
            self.scenario,
            target.wire.name(),
            match (target.wire, target.negotiate) {
                (Wire::SocketIo, _) => "Engine.IO v4 over WebSocket",
                (_, true) => "negotiate",
                (_, false) => "skipNegotiation",
            },
            self.connections,
            self.target().sources,
        )
    }

    /// The first target: every connection of echo and idle, and broadcast's sender.
    pub(crate) fn target(&self) -> &Arc<Target> {
        &self.targets[0]
    }

    /// The node broadcast receiver `index` connects to: round-robin.
    pub(crate) fn receiver_node(&self, index: usize) -> usize {
        index % self.targets.len()
    }

    /// The target broadcast receiver `index` connects to.
    pub(crate) fn receiver_target(&self, index: usize) -> &Arc<Target> {
        &self.targets[self.receiver_node(index)]
    }
}

/// Takes every `--key VALUE` out of `args`, for the options that may be
/// repeated ([`Args`] keeps only the last of each); a value may also list
/// several, separated by commas. Follows [`Args::parse`]: a value is the next
/// word unless it starts with `--`.
fn take_repeated(args: &mut Vec<String>, key: &str) -> Result<Vec<String>, String> {
    let option = format!("--{key}");
    let mut values = Vec::new();
    let mut rest = Vec::with_capacity(args.len());
    let mut words = std::mem::take(args).into_iter().peekable();
    while let Some(word) = words.next() {
        if word != option {
            rest.push(word);
            continue;
        }
        match words.next_if(|next| !next.starts_with("--")) {
            Some(value) => values.extend(
                value
                    .split(',')
                    .filter(|part| !part.is_empty())
                    .map(str::to_owned),
            ),
            None => return Err(format!("--{key} needs a value")),
        }
    }
    *args = rest;
    Ok(values)
}
