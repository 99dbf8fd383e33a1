//! Chaos tests of the scale-out: real `testhub` nodes on a real Redis, raw
//! WebSocket clients on each node sending steadily to all, to users and to
//! groups, while Redis or a node fails; every message counted by sender and
//! sequence number on every receiver.

pub mod peer;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::{Instant, sleep};

pub use peer::{Peer, Sent, To, tag};

use crate::processes::{Persistence, RedisServer, TestHubProcess};

/// What goes wrong during the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Redis frozen (SIGSTOP) for 5 s, then resumed.
    PauseRedis,
    /// Redis killed (SIGKILL), down for 2 s, restarted (with its data if
    /// persistent).
    RestartRedis(Persistence),
    /// The third node killed, down for 2 s, restarted (a new process).
    RestartNode,
}

/// The counts of one run, over the messages acknowledged to their senders
/// and the receivers that stayed connected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Messages acknowledged to their senders.
    pub acked: usize,
    /// Deliveries owed: each acknowledged message times its recipients.
    pub expected: usize,
    /// Deliveries owed that arrived (once or more).
    pub delivered: usize,
    /// Deliveries owed that never arrived.
    pub lost: usize,
    /// Extra copies received.
    pub duplicated: usize,
    /// Messages received after a later one of the same sender.
    pub out_of_order: usize,
    /// Messages received by someone they were not for.
    pub unexpected: usize,
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "acked={} expected={} delivered={} lost={} duplicated={} out_of_order={} unexpected={}",
            self.acked,
            self.expected,
            self.delivered,
            self.lost,
            self.duplicated,
            self.out_of_order,
            self.unexpected
        )
    }
}

/// Whether `receiver` is a recipient of a message to `to`.
fn receives(receiver: &Peer, to: &To) -> bool {
    match to {
        To::All => true,
        To::User(user) => receiver.user == *user,
        To::Group(group) => receiver.group == *group,
    }
}

/// Counts what `senders` sent and `receivers` received (messages of other
/// senders are ignored).
pub fn tally(senders: &[&Peer], receivers: &[&Peer]) -> Tally {
    let mut tally = Tally::default();
    let sent: HashMap<&str, HashMap<u64, To>> = senders
        .iter()
        .map(|sender| {
            let sent = sender.sent().into_iter().map(|s| (s.seq, s.to)).collect();
            (sender.name.as_str(), sent)
        })
        .collect();
    tally.acked = sent.values().map(HashMap::len).sum();
    for receiver in receivers {
        let mut copies: HashMap<(&str, u64), usize> = HashMap::new();
        let mut last: HashMap<&str, u64> = HashMap::new();
        let received = receiver.received();
        for text in &received {
            let Some((sender, seq)) = text.rsplit_once('|') else {
                continue;
            };
            let (Some((sender, by_sender)), Ok(seq)) = (sent.get_key_value(sender), seq.parse())
            else {
                continue;
            };
            let Some(to) = by_sender.get(&seq) else {
                continue; // Not acknowledged: no promise made.
            };
            if !receives(receiver, to) {
                tally.unexpected += 1;
                continue;
            }
            let count = copies.entry((sender, seq)).or_default();
            *count += 1;
            if *count > 1 {
                tally.duplicated += 1;
                continue;
            }
            let last = last.entry(sender).or_insert(seq);
            if seq < *last {
                tally.out_of_order += 1;
            }
            *last = (*last).max(seq);
        }
        for (sender, by_sender) in &sent {
            for (seq, to) in by_sender {
                if receives(receiver, to) {
                    tally.expected += 1;
                    if copies.contains_key(&(*sender, *seq)) {
                        tally.delivered += 1;
                    } else {
                        tally.lost += 1;
                    }
                }
            }
        }
    }
    tally
}

/// What a run measured.
#[derive(Debug)]
pub struct Report {
    /// Between the clients that stayed connected.
    pub tally: Tally,
    /// From the clients of the killed node (before it died) to the others
    /// ([`Fault::RestartNode`] only).
    pub from_killed_node: Option<Tally>,
    /// The nodes that logged that Redis lost the stream.
    pub resets_logged: usize,
    /// With [`Fault::RestartNode`]: whether a client of the restarted node
    /// received messages from every other sender.
    pub restarted_node_serves: Option<bool>,
}

/// The users and groups of the clients; each node has one client of each user.
const USERS: [&str; 2] = ["ann", "bob"];
const GROUPS: [&str; 2] = ["red", "blue"];
/// How often each client sends.
const EVERY: Duration = Duration::from_millis(25);

async fn connect_peers(node: usize, hub: &TestHubProcess) -> Vec<Arc<Peer>> {
    let mut peers = Vec::new();
    for (i, user) in USERS.iter().enumerate() {
        let name = format!("n{node}c{i}");
        let group = GROUPS[(node + i) % 2];
        peers.push(Arc::new(
            Peer::connect(&name, user, group, node, hub.addr).await,
        ));
    }
    peers
}

fn targets(peer: &Peer) -> Vec<To> {
    let other_user = USERS.iter().find(|user| **user != peer.user).unwrap();
    let other_group = GROUPS.iter().find(|group| **group != peer.group).unwrap();
    vec![
        To::All,
        To::User(other_user.to_string()),
        To::Group(other_group.to_string()),
        To::Group(peer.group.clone()),
    ]
}

/// Sends from a client of each node until every client got a message from
/// every node: the backplane carries messages between all of them (a
/// subscription may still be starting when a node says it listens).
pub async fn until_joined(peers: &[Arc<Peer>], nodes: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut round = 0;
    loop {
        for node in 0..nodes {
            if let Some(peer) = peers.iter().find(|peer| peer.node == node) {
                peer.call(
                    "SendToAll",
                    serde_json::json!([format!("warmup-{node}|{round}")]),
                )
                .await;
            }
        }
        let joined = peers.iter().all(|peer| {
            let received = peer.received();
            (0..nodes).all(|node| {
                let prefix = format!("warmup-{node}|");
                received.iter().any(|text| text.starts_with(&prefix))
            })
        });
        if joined {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the nodes never reached each other"
        );
        round += 1;
        sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until `receivers` have every message `senders` owe them, or no
/// message arrived for 3 s, or 30 s passed.
pub async fn settle(senders: &[&Peer], receivers: &[&Peer]) -> Tally {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut last_count = 0;
    let mut last_change = Instant::now();
    loop {
        let tally = tally(senders, receivers);
        if tally.lost == 0 || Instant::now() > deadline {
            return tally;
        }
        let count: usize = receivers.iter().map(|r| r.received_count()).sum();
        if count != last_count {
            last_count = count;
            last_change = Instant::now();
        } else if last_change.elapsed() > Duration::from_secs(3) {
            return tally;
        }
        sleep(Duration::from_millis(100)).await;
    }
}

/// `count` `testhub` nodes started with `args`, two clients on each, joined
/// and sending steadily.
struct Traffic {
    nodes: Vec<TestHubProcess>,
    peers: Vec<Arc<Peer>>,
    senders: Vec<tokio::task::JoinHandle<()>>,
}

impl Traffic {
    async fn start(program: &str, args: &[&str], count: usize) -> Self {
        let mut nodes = Vec::new();
        let mut peers = Vec::new();
        for node in 0..count {
            let hub = TestHubProcess::start_with(program, args).await;
            peers.extend(connect_peers(node, &hub).await);
            nodes.push(hub);
        }
        until_joined(&peers, count).await;
        let senders = peers
            .iter()
            .map(|peer| peer.start_sending(targets(peer), EVERY))
            .collect();
        Self {
            nodes,
            peers,
            senders,
        }
    }

    /// Stops every client sending and waits until each has.
    async fn stop_sending(&mut self) {
        for peer in &self.peers {
            peer.stop_sending();
        }
        for sender in self.senders.drain(..) {
            tokio::time::timeout(Duration::from_secs(15), sender)
                .await
                .expect("senders stop")
                .expect("sender task");
        }
    }
}

/// Three `testhub` nodes with `--backplane mode`, two clients on each, all
/// sending for 2 s, through `fault`, and 3 s after it; then every message
/// is counted.
pub async fn run(program: &str, mode: &str, fault: Fault) -> Report {
    let persistence = match fault {
        Fault::RestartRedis(persistence) => persistence,
        _ => Persistence::None,
    };
    let mut redis = RedisServer::start_with(persistence, &[]).await;
    let url = redis.url();
    let args = ["--redis", &url, "--backplane", mode];
    let mut traffic = Traffic::start(program, &args, 3).await;
    sleep(Duration::from_secs(2)).await;
    let mut late = None;
    match fault {
        Fault::PauseRedis => {
            redis.pause().await;
            sleep(Duration::from_secs(5)).await;
            redis.resume().await;
        }
        Fault::RestartRedis(_) => {
            redis.stop().await;
            sleep(Duration::from_secs(2)).await;
            redis.restart().await;
        }
        Fault::RestartNode => {
            traffic.nodes.pop().expect("three nodes").kill().await;
            sleep(Duration::from_secs(2)).await;
            let hub = TestHubProcess::start_with(program, &args).await;
            late = Some(Arc::new(
                Peer::connect("late", "carol", "red", 2, hub.addr).await,
            ));
            traffic.nodes.push(hub);
        }
    }
    sleep(Duration::from_secs(3)).await;
    traffic.stop_sending().await;
    let (stayed, killed): (Vec<&Peer>, Vec<&Peer>) = traffic
        .peers
        .iter()
        .map(|peer| &**peer)
        .partition(|peer| fault != Fault::RestartNode || peer.node != 2);
    let tally = settle(&stayed, &stayed).await;
    let from_killed_node = (fault == Fault::RestartNode).then(|| self::tally(&killed, &stayed));
    let restarted_node_serves = late.map(|late| {
        let received = late.received();
        stayed.iter().all(|sender| {
            let prefix = format!("{}|", sender.name);
            received.iter().any(|text| text.starts_with(&prefix))
        })
    });
    let resets_logged = traffic
        .nodes
        .iter()
        .filter(|node| !node.logged("Redis lost the backplane stream").is_empty())
        .count();
    for node in traffic.nodes {
        node.kill().await;
    }
    let report = Report {
        tally,
        from_killed_node,
        resets_logged,
        restarted_node_serves,
    };
    println!(
        "CHAOS backplane={mode} fault={fault:?}: {tally}; from the killed node: {:?}; nodes that logged a lost stream: {resets_logged}; restarted node serves: {:?}",
        report.from_killed_node.map(|t| t.to_string()),
        report.restarted_node_serves
    );
    report
}

/// Two `testhub` nodes on `url` (any deployment) with `--backplane mode`,
/// two clients on each sending steadily; `during` runs after 2 s of
/// traffic, then 3 s more; every message counted.
pub async fn steady(
    program: &str,
    url: &str,
    mode: &str,
    during: impl Future<Output = ()>,
) -> Tally {
    let args = ["--redis", url, "--backplane", mode];
    let mut traffic = Traffic::start(program, &args, 2).await;
    sleep(Duration::from_secs(2)).await;
    during.await;
    sleep(Duration::from_secs(3)).await;
    traffic.stop_sending().await;
    let peers: Vec<&Peer> = traffic.peers.iter().map(|peer| &**peer).collect();
    let tally = settle(&peers, &peers).await;
    for node in traffic.nodes {
        node.kill().await;
    }
    println!("STEADY backplane={mode} on {url}: {tally}");
    tally
}
