//! Churn and leaks: many short connections (connect, handshake, invoke,
//! disconnect), 50 at a time, mixed across transports: mostly raw WebSockets
//! (some skipping negotiation), plus Long Polling and Server-Sent Events over
//! raw HTTP. Half of the cycles end abruptly: the socket is dropped without a
//! Close message or close frame, a Long Polling client vanishes without
//! DELETE (sometimes with a poll in flight), an invocation is left running.
//! Some cycles have a user (bearer token) and join a group.
//!
//! Afterwards (a bounded wait for the server to notice the abandoned
//! connections; Long Polling ones end after the short `disconnect_timeout`
//! used here) the hub's registry must be empty, and what the process holds
//! on the heap (the server runs in the test's process; a counting allocator
//! tells) must be back where it was after a warm-up, within
//! [`HEAP_GROWTH_LIMIT`], and the second half of the cycles may add at most
//! [`SECOND_HALF_HEAP_LIMIT`]. The resident set is reported too; it moves
//! with the allocator's working set (the peak number of connections), so it
//! is not what finds a leak.
//!
//! `churn_2k` always runs; `soak_20k` (20,000 cycles) is `#[ignore]`d for the
//! time it takes in debug builds: `scripts/test.sh` runs it in a release
//! build, `cargo test --release -p tests --test churn -- --ignored`.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hub_core::RegistryStats;
use hub_transport::EndpointOptions;
use samples::testhub;
use serde_json::{Value, json};
use tests::TestServer;
use tests::raw_http::{HttpConn, SseStream, negotiate, resident_set_size};
use tests::raw_ws::{HubSocket, Protocol, RS};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Counts the bytes the whole test process holds on the heap.
#[global_allocator]
static HEAP: cap::Cap<std::alloc::System> = cap::Cap::new(std::alloc::System, usize::MAX);

const PATH: &str = testhub::PATH;
/// Cycles running at once.
const CONCURRENCY: usize = 50;
/// Cycles run before the baseline is measured.
const WARM_UP: usize = 1000;
/// Bytes the process may hold on the heap at the end beyond what it held
/// after the warm-up (maps keep the capacity of the busiest moment).
/// Measured: +1.5 to +2.1 KiB (2,000 cycles), +49 to +98 KiB (20,000, up to
/// 550 connections at once).
const HEAP_GROWTH_LIMIT: usize = 256 * 1024;
/// Bytes the second half of the cycles may add to the heap: a leak of 16
/// bytes per cycle fails `churn_2k`, of 2 bytes `soak_20k`. Measured: -1.3
/// to +4.3 KiB.
const SECOND_HALF_HEAP_LIMIT: usize = 16 * 1024;
/// The soak's cycles must finish within this (a hang guard; they take about
/// 8 s in a release build).
const SOAK_LIMIT: Duration = Duration::from_secs(120);
/// How long the server may take to forget abandoned connections.
const CLEANUP_LIMIT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    WebSockets,
    ServerSentEvents,
    LongPolling,
}

/// What cycle `n` does; every property varies independently of the others.
#[derive(Debug)]
struct Plan {
    n: usize,
    transport: Transport,
    /// Ends without Close message, close frame or DELETE.
    abrupt: bool,
    user: Option<String>,
    group: Option<String>,
    /// WebSockets only: connect without negotiating.
    skip_negotiation: bool,
    /// Abrupt cycles only: vanish with an invocation (or, on Long Polling, a poll) in flight.
    in_flight: bool,
}

impl Plan {
    fn new(n: usize) -> Self {
        let transport = match n % 10 {
            3 => Transport::LongPolling,
            7 => Transport::ServerSentEvents,
            _ => Transport::WebSockets,
        };
        Self {
            n,
            transport,
            abrupt: (n / 10) % 2 == 1,
            user: n.is_multiple_of(3).then(|| format!("user-{}", n % 17)),
            group: (n % 4 == 1).then(|| format!("group-{}", n % 13)),
            skip_negotiation: transport == Transport::WebSockets && n.is_multiple_of(5),
            in_flight: (n / 20) % 2 == 1,
        }
    }
}

/// Parses a payload of RS-terminated JSON records.
fn records(payload: &str) -> Vec<Value> {
    assert!(
        payload.is_empty() || payload.ends_with(RS),
        "complete records only: {payload:?}"
    );
    payload
        .split_terminator(RS)
        .map(|record| {
            serde_json::from_str(record).unwrap_or_else(|error| panic!("{error}: {record:?}"))
        })
        .collect()
}

/// `Authorization: Bearer <user>` when there is a user.
fn auth_headers(auth: &Option<String>) -> Vec<(&'static str, &str)> {
    auth.iter()
        .map(|value| ("Authorization", value.as_str()))
        .collect()
}

/// A hub connection over raw HTTP (Long Polling or Server-Sent Events).
struct HttpClient {
    /// Negotiate, POSTs, DELETE.
    send: HttpConn,
    /// Long Polling: the polls.
    poll: Option<HttpConn>,
    /// Server-Sent Events: the event stream.
    events: Option<SseStream>,
    target: String,
    auth: Option<String>,
    received: VecDeque<Value>,
    others: Vec<Value>,
    next_id: u64,
}

impl HttpClient {
    async fn open(addr: SocketAddr, plan: &Plan) -> Self {
        let auth = plan.user.as_ref().map(|user| format!("Bearer {user}"));
        let headers: Vec<(&str, &str)> = auth
            .iter()
            .map(|value| ("Authorization", value.as_str()))
            .collect();
        let mut send = HttpConn::connect(addr).await;
        let (_, token) = negotiate(&mut send, PATH, &headers).await;
        let target = format!("{PATH}?id={token}");
        let mut client = Self {
            send,
            poll: None,
            events: None,
            target,
            auth,
            received: VecDeque::new(),
            others: Vec::new(),
            next_id: 0,
        };
        match plan.transport {
            Transport::LongPolling => {
                let mut poll = HttpConn::connect(addr).await;
                // The first poll starts the connection and answers at once, empty.
                let response = poll
                    .request("GET", &client.target, &auth_headers(&client.auth), b"")
                    .await;
                assert_eq!(response.status, 200, "first poll: {response:?}");
                assert!(response.body.is_empty(), "first poll: {response:?}");
                client.poll = Some(poll);
            }
            Transport::ServerSentEvents => {
                // EventSource sends the token in the query.
                let mut target = client.target.clone();
                if let Some(user) = &plan.user {
                    target.push_str(&format!("&access_token={user}"));
                }
                client.events = Some(SseStream::open(addr, &target, &[]).await);
            }
            Transport::WebSockets => unreachable!("not an HTTP transport"),
        }
        client.post(tests::raw_ws::JSON_HANDSHAKE.as_bytes()).await;
        let handshake = client.next_record().await;
        assert_eq!(handshake, json!({}), "the handshake response");
        client
    }

    async fn post(&mut self, body: &[u8]) {
        let headers = auth_headers(&self.auth);
        let response = self
            .send
            .request("POST", &self.target, &headers, body)
            .await;
        assert_eq!(response.status, 200, "POST: {response:?}");
    }

    /// The next record (Pings included: Long Polling has none, SSE ones are skipped).
    async fn next_record(&mut self) -> Value {
        loop {
            if let Some(record) = self.received.pop_front() {
                if record["type"] == 6 {
                    continue;
                }
                return record;
            }
            if let Some(events) = &mut self.events {
                let data = events.next_event().await.expect("an event, not the end");
                self.received.extend(records(&data));
            } else {
                let headers = auth_headers(&self.auth);
                let poll = self.poll.as_mut().expect("a poll connection");
                let response = poll.request("GET", &self.target, &headers, b"").await;
                assert_eq!(response.status, 200, "poll: {response:?}");
                let body = String::from_utf8(response.body).expect("UTF-8 records");
                self.received.extend(records(&body));
            }
        }
    }

    async fn invoke(&mut self, target: &str, arguments: Value) -> String {
        self.next_id += 1;
        let id = self.next_id.to_string();
        let message =
            json!({"type": 1, "invocationId": id, "target": target, "arguments": arguments});
        self.post(format!("{message}{RS}").as_bytes()).await;
        id
    }

    async fn call(&mut self, target: &str, arguments: Value) -> Value {
        let id = self.invoke(target, arguments).await;
        loop {
            let record = self.next_record().await;
            if record["type"] == 3 && record["invocationId"] == id.as_str() {
                assert!(record.get("error").is_none(), "{target}: {record}");
                return record.get("result").cloned().unwrap_or(Value::Null);
            }
            self.others.push(record);
        }
    }

    /// Ends as the official client does: a Close message, then DELETE (Long
    /// Polling) or the end of the event stream (SSE).
    async fn close(mut self) {
        self.post(b"{\"type\":7}\x1e").await;
        if let Some(events) = &mut self.events {
            // The server ends the event stream once it has the Close.
            while let Some(data) = events.next_event().await {
                for record in records(&data) {
                    assert!(
                        record["type"] == 6 || group_message(&record),
                        "only Pings and group messages after the Close: {record}"
                    );
                }
            }
            return;
        }
        let (target, headers) = (&self.target, auth_headers(&self.auth));
        let response = self.send.request("DELETE", target, &headers, b"").await;
        // 404 when the Close message already ended the connection (the JS client tolerates it).
        assert!(
            response.status == 202 || response.status == 404,
            "DELETE: {response:?}"
        );
        let poll = self.poll.as_mut().expect("a poll connection");
        loop {
            let response = poll.request("GET", target, &headers, b"").await;
            match response.status {
                204 | 404 => break,
                200 => assert!(
                    records(&String::from_utf8_lossy(&response.body))
                        .iter()
                        .all(|record| record["type"] == 7 || group_message(record)),
                    "only a Close and group messages after the client's Close: {response:?}"
                ),
                _ => panic!("poll after DELETE: {response:?}"),
            }
        }
    }

    /// Vanishes: no Close, no DELETE; maybe with a request in flight.
    async fn abandon(mut self, in_flight: bool) {
        if in_flight {
            if let Some(poll) = &mut self.poll {
                let headers = auth_headers(&self.auth);
                poll.send_request("GET", &self.target, &headers, b"").await;
            } else {
                let message =
                    json!({"type": 1, "invocationId": "x", "target": "Delay", "arguments": [20]});
                self.post(format!("{message}{RS}").as_bytes()).await;
            }
        }
        drop(self);
    }
}

/// A connection of any transport.
enum Client {
    Ws(HubSocket),
    Http(HttpClient),
}

impl Client {
    async fn open(addr: SocketAddr, plan: &Plan) -> Self {
        let auth = plan.user.as_ref().map(|user| format!("Bearer {user}"));
        if plan.transport != Transport::WebSockets {
            return Client::Http(HttpClient::open(addr, plan).await);
        }
        // Node sends the token in a header, browsers in the query: alternate.
        let in_query = plan.n.is_multiple_of(2);
        let mut headers: Vec<(&str, &str)> = Vec::new();
        let mut query = String::new();
        if let (Some(auth), Some(user)) = (&auth, &plan.user) {
            if in_query {
                query = format!("access_token={user}");
            } else {
                headers.push(("Authorization", auth));
            }
        }
        let mut socket = if plan.skip_negotiation {
            let path = if query.is_empty() {
                PATH.to_owned()
            } else {
                format!("{PATH}?{query}")
            };
            HubSocket::connect(addr, &path, &headers).await
        } else {
            let mut conn = HttpConn::connect(addr).await;
            let negotiate_headers: Vec<(&str, &str)> = auth
                .iter()
                .map(|value| ("Authorization", value.as_str()))
                .collect();
            let (_, token) = negotiate(&mut conn, PATH, &negotiate_headers).await;
            let mut path = format!("{PATH}?id={token}");
            if !query.is_empty() {
                path.push('&');
                path.push_str(&query);
            }
            HubSocket::upgrade(conn.into_stream(), addr, &path, &headers)
                .await
                .unwrap_or_else(|(status, body)| panic!("upgrade refused: {status} {body:?}"))
        };
        socket.handshake(Protocol::Json).await;
        Client::Ws(socket)
    }

    async fn call(&mut self, target: &str, arguments: Value) -> (Value, Vec<Value>) {
        match self {
            Client::Ws(socket) => {
                let result = socket.call(target, arguments).await;
                (result, socket.take_others())
            }
            Client::Http(client) => {
                let result = client.call(target, arguments).await;
                (result, std::mem::take(&mut client.others))
            }
        }
    }

    async fn close(self) {
        match self {
            Client::Ws(socket) => socket.close_allowing(group_message).await,
            Client::Http(client) => client.close().await,
        }
    }

    async fn abandon(self, in_flight: bool) {
        match self {
            Client::Ws(mut socket) => {
                if in_flight {
                    socket.invoke("Delay", json!([20])).await;
                }
                // Dropped: no Close message, no close frame.
                drop(socket);
            }
            Client::Http(client) => client.abandon(in_flight).await,
        }
    }
}

/// A greeting another member of a group sent: it may still arrive after a
/// client's Close, when it was sent before the server read the Close.
fn group_message(message: &Value) -> bool {
    message["type"] == 1 && message["target"] == "Receive"
}

/// One connect, invoke, disconnect cycle, checking every answer.
async fn cycle(addr: SocketAddr, plan: Plan) {
    let mut client = Client::open(addr, &plan).await;
    let n = plan.n;
    if let Some(group) = &plan.group {
        client.call("JoinGroup", json!([group])).await;
        let hello = format!("hello {n}");
        let (_, others) = client.call("SendToGroup", json!([group, hello])).await;
        // The caller is in the group: its copy arrives before the Completion.
        // (Other members' greetings may arrive too.)
        assert!(
            others
                .iter()
                .any(|message| message["target"] == "Receive" && message["arguments"][0] == hello),
            "cycle {n}: own group message in {others:?}"
        );
    }
    let (result, _) = client.call("Echo", json!([format!("echo {n}")])).await;
    assert_eq!(result, json!(format!("echo {n}")), "cycle {n}");
    let (user, _) = client.call("Whoami", json!([])).await;
    assert_eq!(user, json!(plan.user), "cycle {n}: {plan:?}");
    if plan.abrupt {
        client.abandon(plan.in_flight).await;
    } else {
        client.close().await;
    }
}

/// Runs cycles `range` with [`CONCURRENCY`] at a time; a failing cycle fails the test.
async fn run_cycles(addr: SocketAddr, range: std::ops::Range<usize>) {
    let permits = Arc::new(Semaphore::new(CONCURRENCY));
    let mut cycles = JoinSet::new();
    for n in range {
        let permit = permits.clone().acquire_owned().await.expect("semaphore");
        cycles.spawn(async move {
            cycle(addr, Plan::new(n)).await;
            drop(permit);
        });
        while let Some(done) = cycles.try_join_next() {
            done.unwrap_or_else(|error| std::panic::resume_unwind(error.into_panic()));
        }
    }
    while let Some(done) = cycles.join_next().await {
        done.unwrap_or_else(|error| std::panic::resume_unwind(error.into_panic()));
    }
}

/// Waits (bounded) until the registry is empty; returns how long it took.
async fn wait_until_empty(server: &TestServer) -> Duration {
    let started = Instant::now();
    loop {
        let stats = server.context.stats();
        if stats == RegistryStats::default() {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < CLEANUP_LIMIT,
            "the registry still holds {stats:?} {CLEANUP_LIMIT:?} after the last cycle"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The heap once what ended connections leave behind is gone too (Long
/// Polling sessions linger until reaped, up to `disconnect_timeout` + 1 s
/// after their connection): the first reading not below the one taken a
/// second before, within [`CLEANUP_LIMIT`].
async fn settled_heap() -> usize {
    let started = Instant::now();
    let mut before = HEAP.allocated();
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = HEAP.allocated();
        if now >= before || started.elapsed() > CLEANUP_LIMIT {
            return now;
        }
        before = now;
    }
}

/// Samples the registry every 100 ms while cycles run: the largest counts seen.
fn sample_registry(
    server: &TestServer,
) -> (watch::Sender<bool>, tokio::task::JoinHandle<RegistryStats>) {
    let context = server.context.clone();
    let (stop, mut stopped) = watch::channel(false);
    let sampler = tokio::spawn(async move {
        let mut peak = RegistryStats::default();
        let mut interval = tokio::time::interval(Duration::from_millis(100));
        loop {
            tokio::select! {
                _ = interval.tick() => {}
                _ = stopped.changed() => return peak,
            }
            let stats = context.stats();
            peak.connections = peak.connections.max(stats.connections);
            peak.users = peak.users.max(stats.users);
            peak.groups = peak.groups.max(stats.groups);
            peak.grouped_connections = peak.grouped_connections.max(stats.grouped_connections);
        }
    });
    (stop, sampler)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Runs `cycles` cycles after a warm-up; returns how long they took.
async fn churn(cycles: usize) -> Duration {
    let hub = testhub::hub();
    let context = hub.context();
    let options = EndpointOptions {
        // Abandoned Long Polling connections end after 2 s without a poll.
        disconnect_timeout: Duration::from_secs(2),
        ..testhub::endpoint_options()
    };
    let server = TestServer::start(testhub::server_with(hub, options), context).await;
    let addr = server.addr;

    let started = Instant::now();
    run_cycles(addr, 0..WARM_UP).await;
    let warm_up_time = started.elapsed();
    let warm_up_cleanup = wait_until_empty(&server).await;
    let baseline = resident_set_size();
    let heap_baseline = settled_heap().await;

    let (stop, sampler) = sample_registry(&server);
    let started = Instant::now();
    let half = WARM_UP + cycles / 2;
    run_cycles(addr, WARM_UP..half).await;
    wait_until_empty(&server).await;
    let heap_middle = settled_heap().await;
    run_cycles(addr, half..WARM_UP + cycles).await;
    let churn_time = started.elapsed();
    let _ = stop.send(true);
    let peak = sampler.await.expect("sampler");
    let cleanup = wait_until_empty(&server).await;
    let end = resident_set_size();
    let heap_end = settled_heap().await;

    println!(
        "churn: warm-up {WARM_UP} cycles in {warm_up_time:?} (empty {warm_up_cleanup:?} later); \
         {cycles} cycles in {churn_time:?} ({:.0}/s), registry empty {cleanup:?} later; \
         peak registry {peak:?}; final registry {:?}; heap after warm-up {:.2} MiB, at the \
         end {:.2} MiB ({:+} bytes, {:+} over the second half); RSS after warm-up {:.1} MiB, at the end {:.1} MiB \
         ({:+.1} MiB)",
        cycles as f64 / churn_time.as_secs_f64(),
        server.context.stats(),
        mib(heap_baseline as u64),
        mib(heap_end as u64),
        heap_end as i64 - heap_baseline as i64,
        heap_end as i64 - heap_middle as i64,
        mib(baseline),
        mib(end),
        mib(end) - mib(baseline),
    );
    assert!(
        peak.connections > 0 && peak.users > 0 && peak.groups > 0,
        "the cycles did register connections, users and groups: {peak:?}"
    );
    assert!(
        heap_end < heap_middle + SECOND_HALF_HEAP_LIMIT,
        "the heap grew by {} bytes over the last {} cycles",
        heap_end - heap_middle,
        cycles - cycles / 2
    );
    assert!(
        heap_end < heap_baseline + HEAP_GROWTH_LIMIT,
        "the heap grew by {} bytes over {cycles} cycles",
        heap_end - heap_baseline
    );
    server.stop().await;
    churn_time
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn churn_2k() {
    churn(2_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "soak: 20,000 cycles take minutes in debug builds; run with --ignored"]
async fn soak_20k() {
    let took = churn(20_000).await;
    assert!(took < SOAK_LIMIT, "20,000 cycles took {took:?}");
}
