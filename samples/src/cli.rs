//! The command line every sample binary shares.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::BrowserClient;

/// Parsed arguments.
#[derive(Debug, Clone)]
pub struct Args {
    /// `--addr HOST:PORT` (default `127.0.0.1:5000`; port 0 picks a free port).
    pub addr: SocketAddr,
    /// `--redis URL` (`redis://HOST:PORT`, `redis+cluster://…`, `redis+sentinel://…/SERVICE`): join the other processes serving the hub
    /// through this Redis.
    pub redis: Option<String>,
    /// `--backplane pubsub|streams`: the backplane on that Redis (default
    /// `pubsub`; `streams` is the durable one, see `hub_redis::Mode`).
    pub backplane: hub_redis::Mode,
    /// `--node-modules DIR`: where the official browser client is installed
    /// (samples with a page; default `./node_modules`, then the repository's).
    pub node_modules: Option<PathBuf>,
}

impl Args {
    /// The official browser client for the sample's page; exits with a
    /// one-line fix when it is not installed.
    pub fn browser_client(&self) -> BrowserClient {
        BrowserClient::locate(self.node_modules.as_deref()).unwrap_or_else(|error| {
            eprintln!("error: {error}");
            std::process::exit(1);
        })
    }

    /// Joins the Redis backplane given with `--redis` (if any) as the hub
    /// `name`; exits with a clear message when Redis cannot be reached.
    pub async fn join_backplane(
        &self,
        hub: hub_core::HubBuilder,
        name: &str,
    ) -> hub_core::HubBuilder {
        let Some(url) = &self.redis else {
            return hub;
        };
        let mut mode = self.backplane.clone();
        if let hub_redis::Mode::Streams(streams) = &mut mode
            && url.starts_with("redis+sentinel://")
        {
            // Behind Sentinel there is a replica: a batch counts once it
            // has it, so that a failover loses nothing.
            streams.replicas = 1;
        }
        let options = hub_redis::RedisOptions {
            mode,
            ..hub_redis::RedisOptions::new(url, name)
        };
        match hub_redis::RedisBackplane::connect_with(options).await {
            Ok(backplane) => hub.backplane(backplane),
            Err(error) => {
                eprintln!("error: {error}");
                std::process::exit(1);
            }
        }
    }
}

/// Parses `std::env::args()`, exiting with a usage message on bad input.
pub fn parse(program: &str) -> Args {
    match parse_from(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(error) => {
            eprintln!(
                "{program}: {error}\nusage: {program} [--addr HOST:PORT] [--redis URL [--backplane pubsub|streams]] [--node-modules DIR]\n  URL: redis://HOST:PORT, redis+cluster://HOST:PORT,HOST:PORT... or redis+sentinel://HOST:PORT,.../SERVICE"
            );
            std::process::exit(2);
        }
    }
}

fn parse_from(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args {
        addr: SocketAddr::from(([127, 0, 0, 1], 5000)),
        redis: None,
        backplane: hub_redis::Mode::PubSub,
        node_modules: None,
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => {
                let value = args.next().ok_or("--addr needs a value")?;
                parsed.addr = value
                    .parse()
                    .map_err(|_| format!("--addr: `{value}` is not HOST:PORT"))?;
            }
            "--redis" => parsed.redis = Some(args.next().ok_or("--redis needs a URL")?),
            "--backplane" => {
                let mode = args.next().ok_or("--backplane needs pubsub or streams")?;
                parsed.backplane = hub_redis::Mode::parse(&mode)?;
            }
            "--node-modules" => {
                let dir = args.next().ok_or("--node-modules needs a directory")?;
                parsed.node_modules = Some(PathBuf::from(dir));
            }
            "-h" | "--help" => return Err("help".into()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(parsed)
}

/// Logs to stderr (`RUST_LOG` filters; default `info`).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// Prints the line tests and scripts wait for: `listening on http://HOST:PORT`.
pub fn announce(addr: SocketAddr) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "listening on http://{addr}");
    let _ = stdout.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, String> {
        parse_from(args.iter().map(|arg| arg.to_string()))
    }

    #[test]
    fn parses_the_address() {
        assert_eq!(parse(&[]).unwrap().addr.port(), 5000);
        assert_eq!(parse(&["--addr", "127.0.0.1:0"]).unwrap().addr.port(), 0);
        assert!(parse(&["--addr"]).is_err());
        assert!(parse(&["--addr", "nope"]).is_err());
        assert!(parse(&["--bogus"]).is_err());
        let args = parse(&["--redis", "redis://127.0.0.1:6379"]).unwrap();
        assert_eq!(args.redis.as_deref(), Some("redis://127.0.0.1:6379"));
        assert_eq!(args.backplane, hub_redis::Mode::PubSub);
        let args = parse(&["--redis", "redis://r", "--backplane", "streams"]).unwrap();
        assert!(matches!(args.backplane, hub_redis::Mode::Streams(_)));
        assert!(parse(&["--backplane", "kafka"]).is_err());
        assert!(parse(&["--backplane"]).is_err());
    }
}
