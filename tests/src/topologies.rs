//! Redis as large deployments run it: a three-primary Redis Cluster, and a
//! primary with a replica watched by Sentinel (Debian's `redis-server`,
//! and `redis-cli` from `redis-tools`).

use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};
use tokio::time::{Instant, sleep};

use crate::processes::{Persistence, RedisServer, free_port, kill, ping};

/// Runs `redis-cli -p PORT ARGS...` (bounded: 10 s); its output.
pub async fn redis_cli(port: u16, args: &[&str]) -> String {
    let output = tokio::time::timeout(
        Duration::from_secs(10),
        Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &port.to_string()])
            .args(args)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("redis-cli answers within 10 s")
    .expect("run redis-cli (apt-get install -y redis-tools; .ci/run does)");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Polls `check` every 100 ms until it holds; fails after `limit`.
async fn until<F, Fut>(what: &str, limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !check().await {
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        sleep(Duration::from_millis(100)).await;
    }
}

/// Three primaries, no replicas, every slot assigned.
#[derive(Debug)]
pub struct RedisCluster {
    /// The primaries.
    pub nodes: Vec<RedisServer>,
}

impl RedisCluster {
    /// Starts three `redis-server --cluster-enabled yes` and joins them with
    /// `redis-cli --cluster create`; returns once every node says `cluster_state:ok`.
    pub async fn start() -> Self {
        let mut nodes = Vec::new();
        for _ in 0..3 {
            // The bus port defaults to the port + 10,000, past 65,535 for
            // half the ephemeral range: a free one of its own instead.
            let bus = free_port().to_string();
            let node = RedisServer::start_with(
                Persistence::None,
                &[
                    "--cluster-enabled",
                    "yes",
                    "--cluster-port",
                    &bus,
                    "--cluster-config-file",
                    "nodes.conf",
                    "--cluster-node-timeout",
                    "2000",
                ],
            )
            .await;
            nodes.push(node);
        }
        let addresses: Vec<String> = nodes
            .iter()
            .map(|node| format!("127.0.0.1:{}", node.port))
            .collect();
        let mut args = vec!["--cluster", "create"];
        args.extend(addresses.iter().map(String::as_str));
        args.extend(["--cluster-replicas", "0", "--cluster-yes"]);
        let created = redis_cli(nodes[0].port, &args).await;
        assert!(created.contains("[OK]"), "cluster create: {created}");
        for node in &nodes {
            let port = node.port;
            until("cluster_state:ok", Duration::from_secs(20), || async move {
                redis_cli(port, &["cluster", "info"])
                    .await
                    .contains("cluster_state:ok")
            })
            .await;
        }
        Self { nodes }
    }

    /// `redis+cluster://127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3`.
    pub fn url(&self) -> String {
        let hosts: Vec<String> = self
            .nodes
            .iter()
            .map(|node| format!("127.0.0.1:{}", node.port))
            .collect();
        format!("redis+cluster://{}", hosts.join(","))
    }
}

/// A primary, its replica, and one sentinel watching them as `primary`.
#[derive(Debug)]
pub struct RedisSentinel {
    /// The primary at the start.
    pub primary: RedisServer,
    /// Its replica at the start.
    pub replica: RedisServer,
    /// The sentinel's port.
    pub port: u16,
    sentinel: Child,
    dir: std::path::PathBuf,
}

/// The name the sentinel monitors the primary under.
pub const SERVICE: &str = "primary";

impl Drop for RedisSentinel {
    fn drop(&mut self) {
        let _ = self.sentinel.start_kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl RedisSentinel {
    /// Starts the three, and returns once the replica is in sync and the
    /// sentinel knows it (a failover is possible).
    pub async fn start() -> Self {
        let primary = RedisServer::start().await;
        let primary_port = primary.port.to_string();
        let replica = RedisServer::start_with(
            Persistence::None,
            &["--replicaof", "127.0.0.1", &primary_port],
        )
        .await;
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("sentinel-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a directory for the sentinel");
        let config = dir.join("sentinel.conf");
        std::fs::write(
            &config,
            format!(
                "port {port}\nbind 127.0.0.1\ndir {}\n\
                 sentinel monitor {SERVICE} 127.0.0.1 {primary_port} 1\n\
                 sentinel down-after-milliseconds {SERVICE} 1000\n\
                 sentinel failover-timeout {SERVICE} 5000\n",
                dir.display()
            ),
        )
        .expect("write sentinel.conf");
        let sentinel = Command::new("redis-server")
            .arg(&config)
            .arg("--sentinel")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start redis-server --sentinel");
        until("the sentinel answers", Duration::from_secs(10), || {
            ping(port)
        })
        .await;
        let replica_port = replica.port;
        until(
            "the replica is in sync",
            Duration::from_secs(20),
            || async move {
                redis_cli(replica_port, &["info", "replication"])
                    .await
                    .contains("master_link_status:up")
            },
        )
        .await;
        until(
            "the sentinel knows the replica",
            Duration::from_secs(30),
            || async move {
                let replicas = redis_cli(port, &["sentinel", "replicas", SERVICE]).await;
                replicas.contains(&replica_port.to_string()) && !replicas.contains("s_down")
            },
        )
        .await;
        Self {
            primary,
            replica,
            port,
            sentinel,
            dir,
        }
    }

    /// `redis+sentinel://127.0.0.1:PORT/primary`.
    pub fn url(&self) -> String {
        format!("redis+sentinel://127.0.0.1:{}/{SERVICE}", self.port)
    }

    /// The port of the server the sentinel names primary now.
    pub async fn primary_port(&self) -> u16 {
        let answer = redis_cli(self.port, &["sentinel", "get-master-addr-by-name", SERVICE]).await;
        answer
            .lines()
            .nth(1)
            .and_then(|port| port.trim().parse().ok())
            .unwrap_or_else(|| panic!("no primary named: {answer:?}"))
    }

    /// `SENTINEL FAILOVER`, then waits until the replica is primary and the
    /// old primary follows it.
    pub async fn failover(&self) {
        let answer = redis_cli(self.port, &["sentinel", "failover", SERVICE]).await;
        assert!(answer.contains("OK"), "SENTINEL FAILOVER: {answer}");
        let replica = self.replica.port;
        until(
            "the replica is promoted",
            Duration::from_secs(20),
            || async move {
                self.primary_port().await == replica
                    && redis_cli(replica, &["role"]).await.starts_with("master")
            },
        )
        .await;
        let old = self.primary.port;
        until(
            "the old primary follows",
            Duration::from_secs(20),
            || async move { redis_cli(old, &["role"]).await.starts_with("slave") },
        )
        .await;
    }

    /// Stops the sentinel.
    pub async fn stop(mut self) {
        kill(&mut self.sentinel, "redis-server --sentinel").await;
    }
}
