//! What the user chooses: where Redis is (one server, a Cluster, behind
//! Sentinel), which backplane runs on it (pub/sub or streams), and the
//! bounds of the durable one.

use std::time::Duration;

/// Why the backplane could not start.
#[derive(Debug, thiserror::Error)]
pub enum RedisBackplaneError {
    /// The URL is not a Redis URL.
    #[error("invalid Redis URL `{url}`: {source}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// Why it is invalid.
        source: redis::RedisError,
    },
    /// Redis did not answer.
    #[error("cannot reach Redis at `{url}`: {source}")]
    Unreachable {
        /// The URL given.
        url: String,
        /// The connection error.
        source: redis::RedisError,
    },
}

/// Where Redis is, read from a URL by [`Deployment::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deployment {
    /// One server: `redis://HOST:PORT[/DB]`.
    Standalone(String),
    /// A Redis Cluster, from any of its primaries:
    /// `redis+cluster://HOST:PORT[,HOST:PORT...]`. Pub/sub uses sharded
    /// channels (`SPUBLISH`/`SSUBSCRIBE`, Redis 7); every key and channel of
    /// one hub shares a hash tag, so one shard carries one hub.
    Cluster(Vec<String>),
    /// A primary watched by Sentinel:
    /// `redis+sentinel://HOST:PORT[,HOST:PORT...]/SERVICE`. The backplane
    /// asks the sentinels for the primary, and again after a failure or when
    /// they name another one (a failover).
    Sentinel {
        /// `redis://HOST:PORT` of each sentinel.
        sentinels: Vec<String>,
        /// The name the sentinels monitor the primary under.
        service: String,
    },
}

impl Deployment {
    /// Reads `url`: `redis://` (one server), `redis+cluster://` or
    /// `redis+sentinel://` (see the variants).
    pub fn parse(url: &str) -> Result<Self, String> {
        let hosts = |list: &str| -> Result<Vec<String>, String> {
            let hosts: Vec<String> = list
                .split(',')
                .filter(|host| !host.is_empty())
                .map(|host| format!("redis://{host}"))
                .collect();
            if hosts.is_empty() {
                Err(format!("`{url}` names no HOST:PORT"))
            } else {
                Ok(hosts)
            }
        };
        if let Some(rest) = url.strip_prefix("redis+cluster://") {
            return Ok(Self::Cluster(hosts(rest.trim_end_matches('/'))?));
        }
        if let Some(rest) = url.strip_prefix("redis+sentinel://") {
            let (list, service) = rest
                .split_once('/')
                .filter(|(_, service)| !service.is_empty())
                .ok_or_else(|| format!("`{url}`: the service name is missing (…/SERVICE)"))?;
            return Ok(Self::Sentinel {
                sentinels: hosts(list)?,
                service: service.to_owned(),
            });
        }
        if url.starts_with("redis://") || url.starts_with("rediss://") || url.starts_with("unix:") {
            return Ok(Self::Standalone(url.to_owned()));
        }
        Err(format!(
            "`{url}`: expected redis://, redis+cluster:// or redis+sentinel://"
        ))
    }
}

/// Which backplane runs on Redis.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Mode {
    /// Redis pub/sub, as ASP.NET Core SignalR: a message published while
    /// Redis is unreachable, or while a node resubscribes, is lost (counted).
    #[default]
    PubSub,
    /// A Redis Stream per hub, read from the last entry each node saw: what
    /// was published while a node's connection was away is read when it is
    /// back, and messages wait in a bounded local queue while Redis is
    /// unreachable (see [`StreamOptions`]).
    Streams(StreamOptions),
}

impl Mode {
    /// `pubsub` or `streams` (with default [`StreamOptions`]).
    pub fn parse(name: &str) -> Result<Self, String> {
        match name {
            "pubsub" => Ok(Self::PubSub),
            "streams" => Ok(Self::Streams(StreamOptions::default())),
            other => Err(format!("unknown backplane `{other}` (pubsub or streams)")),
        }
    }
}

/// How much of the stream Redis keeps: the window in which a node whose
/// connection dropped can still resume without losing anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retention {
    /// About this many entries (`XADD … MAXLEN ~ N`).
    MaxLen(u64),
    /// Entries younger than this (`XADD … MINID ~ now-age`).
    MaxAge(Duration),
}

/// The bounds of the streams backplane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamOptions {
    /// What the stream keeps (default: about 100,000 entries).
    pub retention: Retention,
    /// Messages waiting locally for Redis, at most (default 100,000). When
    /// the queue is full, a new message is refused: `publish` fails, the hub
    /// counts it lost (`ClusterStats::lost`), the backplane counts it in
    /// [`RedisStats::refused`](crate::stats::RedisStats::refused) and logs
    /// it; the messages already queued keep their place and order.
    pub queue_capacity: usize,
    /// Bytes waiting locally, at most (default 64 MiB); full as above.
    pub queue_bytes: usize,
    /// Entries written to Redis in one round trip, at most (default 256).
    pub batch: usize,
    /// How long one read waits for new entries on the server (default 1 s).
    pub block: Duration,
    /// Replicas that must have a batch before it counts as written (Redis
    /// `WAIT`, 1 s at most; default 0: the primary's answer is enough).
    /// Until they do, the batch is written again (readers drop the copies)
    /// and later messages wait. With Sentinel, 1 keeps a failover from
    /// losing what the old primary had not passed on yet; while no replica
    /// answers, nothing is written (the local queue fills, then refuses).
    pub replicas: usize,
}

impl Default for StreamOptions {
    fn default() -> Self {
        Self {
            retention: Retention::MaxLen(100_000),
            queue_capacity: 100_000,
            queue_bytes: 64 << 20,
            batch: 256,
            block: Duration::from_secs(1),
            replicas: 0,
        }
    }
}

/// Options of a Redis backplane.
#[derive(Debug, Clone)]
pub struct RedisOptions {
    /// Where Redis is: `redis://HOST:PORT[/DB]`, `redis+cluster://…` or
    /// `redis+sentinel://…/SERVICE` (see [`Deployment::parse`]).
    pub url: String,
    /// The hub's name in channel and key names (one backplane per hub).
    pub hub: String,
    /// Prefix of every channel and key (`signalr`), to share a Redis.
    pub channel_prefix: String,
    /// This node's id (a fresh random id by default); URL-safe.
    pub node_id: Option<String>,
    /// Start even if Redis is unreachable, and join once it is (false: fail).
    pub start_degraded: bool,
    /// Pub/sub (default) or streams.
    pub mode: Mode,
}

impl RedisOptions {
    /// Options for `hub` on the Redis at `url`, over pub/sub.
    pub fn new(url: impl Into<String>, hub: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            hub: hub.into(),
            channel_prefix: "signalr".into(),
            node_id: None,
            start_degraded: false,
            mode: Mode::PubSub,
        }
    }

    /// The hash tag every key and channel of this hub starts with
    /// (`{prefix:hub}`): in a Cluster they all live on one shard, so that
    /// multi-key commands and sharded pub/sub work.
    pub(crate) fn base(&self) -> String {
        format!("{{{}:{}}}", self.channel_prefix, self.hub)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_the_deployment() {
        assert_eq!(
            Deployment::parse("redis://127.0.0.1:6379/2"),
            Ok(Deployment::Standalone("redis://127.0.0.1:6379/2".into()))
        );
        assert_eq!(
            Deployment::parse("redis+cluster://a:1,b:2"),
            Ok(Deployment::Cluster(vec![
                "redis://a:1".into(),
                "redis://b:2".into()
            ]))
        );
        assert_eq!(
            Deployment::parse("redis+sentinel://s:26379/primary"),
            Ok(Deployment::Sentinel {
                sentinels: vec!["redis://s:26379".into()],
                service: "primary".into()
            })
        );
        assert!(Deployment::parse("redis+sentinel://s:26379").is_err());
        assert!(Deployment::parse("redis+cluster://").is_err());
        assert!(Deployment::parse("http://x").is_err());
        assert_eq!(Mode::parse("pubsub"), Ok(Mode::PubSub));
        assert!(matches!(Mode::parse("streams"), Ok(Mode::Streams(_))));
        assert!(Mode::parse("kafka").is_err());
    }
}
