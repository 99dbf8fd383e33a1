// Two testhub processes joined by Redis, clients on both: every target,
// groups and users spread over both nodes, group changes for connections on
// the other node, client results across nodes, membership queries, and
// clients whose HTTP requests alternate between the nodes (no sticky
// sessions). Environment: NODE1_URL, NODE2_URL (hub URLs of the two nodes).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { build, signalR, Inbox } from "./lib/client.mjs";
import { MessagePackHubProtocol } from "@microsoft/signalr-protocol-msgpack";

const [NODE1, NODE2] = [process.env.NODE1_URL, process.env.NODE2_URL];

const opened = [];
/** A started client on `url`, with its inbox; answers `Answer` with "<name>: <question>". */
async function peer(name, url, options = {}) {
  const connection = build({ url, transport: signalR.HttpTransportType.WebSockets, ...options });
  connection.on("Answer", (question) => `${name}: ${question}`);
  const inbox = new Inbox(connection);
  await connection.start();
  opened.push(connection);
  return { name, connection, inbox, id: connection.connectionId };
}
after(() => Promise.all(opened.map((connection) => connection.stop())));

const msgpack = { protocol: new MessagePackHubProtocol() };
const alice1 = await peer("alice1", NODE1, { token: "alice" });
const bob1 = await peer("bob1", NODE1, { token: "bob" });
const alice2 = await peer("alice2", NODE2, { token: "alice", ...msgpack });
const carol2 = await peer("carol2", NODE2, { token: "carol" });
const anon2 = await peer("anon2", NODE2);
const everyone = [alice1, bob1, alice2, carol2, anon2];

/**
 * Everything `peer` received so far, proven complete across nodes: a marker
 * from a connection on each node travels the same way as the messages under
 * test (a node publishes in order, and messages sent before an invocation
 * returned were published before it), so once every marker has arrived, so
 * has every earlier message from either node.
 */
async function settleAcross(peer) {
  const markers = [];
  for (const sender of [alice1, alice2]) {
    const marker = `settle-${sender.name}-${Math.random()}`;
    markers.push(marker);
    await sender.connection.invoke("SendToConnection", peer.id, marker);
  }
  await peer.inbox.until((messages) => markers.every((marker) => messages.includes(marker)), "the markers");
  return peer.inbox.messages.filter((message) => !markers.includes(message));
}

/** Proves each peer received exactly `expected[name]` (nothing for unlisted peers). */
async function expectReceived(expected) {
  for (const peer of everyone) {
    const got = await settleAcross(peer);
    if (peer.sortInbox) got.sort();
    peer.inbox.messages.length = 0;
    assert.deepEqual(got, expected[peer.name] ?? [], `${peer.name} received`);
  }
}

test("the two clients' nodes differ", async () => {
  const [node1, node2] = [await alice1.connection.invoke("NodeId"), await alice2.connection.invoke("NodeId")];
  assert.ok(node1 && node2);
  assert.notEqual(node1, node2);
});

test("all, others and caller span both nodes (JSON and MessagePack receivers)", async () => {
  await bob1.connection.invoke("SendToAll", "all");
  await expectReceived(Object.fromEntries(everyone.map((p) => [p.name, ["all"]])));
  await carol2.connection.invoke("SendToOthers", "others");
  await expectReceived({ alice1: ["others"], bob1: ["others"], alice2: ["others"], anon2: ["others"] });
  await alice2.connection.invoke("SendToCaller", "me");
  await expectReceived({ alice2: ["me"] });
});

test("client(id), clients(ids) and all_except(ids) on the other node", async () => {
  await alice1.connection.invoke("SendToConnection", carol2.id, "direct");
  await expectReceived({ carol2: ["direct"] });
  await carol2.connection.invoke("SendToConnections", [alice1.id, bob1.id, carol2.id], "listed");
  await expectReceived({ alice1: ["listed"], bob1: ["listed"], carol2: ["listed"] });
  await bob1.connection.invoke("SendToAllExcept", [alice2.id, bob1.id], "except");
  await expectReceived({ alice1: ["except"], carol2: ["except"], anon2: ["except"] });
});

test("user(id) and users(ids) reach every connection of the user on every node", async () => {
  await anon2.connection.invoke("SendToUser", "alice", "to alice");
  await expectReceived({ alice1: ["to alice"], alice2: ["to alice"] });
  await bob1.connection.invoke("SendToUsers", ["carol", "bob"], "to carol and bob");
  await expectReceived({ bob1: ["to carol and bob"], carol2: ["to carol and bob"] });
});

test("groups with members on both nodes; joins for connections on the other node", async () => {
  await alice1.connection.invoke("JoinGroup", "room");
  // Node 1 adds a connection that lives on node 2 (acknowledged by node 2).
  await bob1.connection.invoke("AddToGroup", carol2.id, "room");
  await anon2.connection.invoke("AddToGroup", bob1.id, "other");
  await anon2.connection.invoke("SendToGroup", "room", "room");
  await expectReceived({ alice1: ["room"], carol2: ["room"] });
  await alice2.connection.invoke("SendToGroups", ["room", "other"], "groups");
  await expectReceived({ alice1: ["groups"], carol2: ["groups"], bob1: ["groups"] });
  await carol2.connection.invoke("SendToGroupExcept", "room", [alice1.id], "group except");
  await expectReceived({ carol2: ["group except"] });
  await carol2.connection.invoke("SendToOthersInGroup", "room", "others in group");
  await expectReceived({ alice1: ["others in group"] });
  // Node 2 removes a connection that lives on node 1.
  await carol2.connection.invoke("RemoveFromGroup", alice1.id, "room");
  await bob1.connection.invoke("SendToGroup", "room", "after removal");
  await expectReceived({ carol2: ["after removal"] });
});

test("membership queries agree on both nodes", async () => {
  await alice2.connection.invoke("JoinGroup", "club");
  await bob1.connection.invoke("JoinGroup", "club");
  const members = [alice2.id, bob1.id].sort();
  for (const asker of [alice1, carol2]) {
    assert.deepEqual(await asker.connection.invoke("GroupMembers", "club"), members);
    assert.deepEqual(await asker.connection.invoke("GroupsOf", alice2.id), ["club"]);
    assert.deepEqual(await asker.connection.invoke("UserConnections", "alice"), [alice1.id, alice2.id].sort());
    assert.equal(await asker.connection.invoke("IsUserOnline", "carol"), true);
    assert.equal(await asker.connection.invoke("IsUserOnline", "dave"), false);
  }
});

test("client results across nodes (AskClient on a connection of the other node)", async () => {
  assert.equal(await alice1.connection.invoke("AskConnection", carol2.id, "ping?"), "carol2: ping?");
  assert.equal(await carol2.connection.invoke("AskConnection", bob1.id, "pong?"), "bob1: pong?");
  // A MessagePack client answering a JSON caller.
  assert.equal(await bob1.connection.invoke("AskConnection", alice2.id, "mixed?"), "alice2: mixed?");
  await assert.rejects(alice1.connection.invoke("AskConnection", "no-such-connection", "?"), {
    message: /Connection 'no-such-connection' does not exist\./,
  });
});

/** An HTTP client that sends each request to the next node in turn. */
class AlternatingHttpClient extends signalR.DefaultHttpClient {
  constructor(nodes, first) {
    super(signalR.NullLogger.instance);
    this.origins = nodes.map((url) => new URL(url).origin);
    this.next = first;
    this.used = new Set();
  }

  send(request) {
    const origin = this.origins[this.next++ % this.origins.length];
    const url = new URL(request.url);
    request.url = `${origin}${url.pathname}${url.search}`;
    this.used.add(origin);
    return super.send(request);
  }
}

for (const [name, transport] of [
  ["Long Polling", signalR.HttpTransportType.LongPolling],
  ["Server-Sent Events", signalR.HttpTransportType.ServerSentEvents],
]) {
  for (const first of [0, 1]) {
    test(`${name} with every request alternating between the nodes (negotiate on node ${first + 1})`, async () => {
      const http = new AlternatingHttpClient([NODE1, NODE2], first);
      // The stream (EventSource) goes to node 1; the other requests alternate.
      const roaming = await peer("roaming", NODE1, { transport, httpClient: http });
      everyone.push(roaming);
      try {
        for (let n = 0; n < 6; n++) assert.equal(await roaming.connection.invoke("Echo", `e${n}`), `e${n}`);
        await alice2.connection.invoke("SendToConnection", roaming.id, "from node 2");
        await roaming.connection.invoke("SendToAll", "from roaming");
        const expected = Object.fromEntries(everyone.map((p) => [p.name, ["from roaming"]]));
        // Messages from different senders (here, nodes) have no order between them.
        expected.roaming = ["from node 2", "from roaming"];
        roaming.sortInbox = true;
        await expectReceived(expected);
        roaming.sortInbox = false;
        const items = [];
        await new Promise((resolve, reject) =>
          roaming.connection.stream("Counter", 4, 5).subscribe({ next: (item) => items.push(item), complete: resolve, error: reject }),
        );
        assert.deepEqual(items, [0, 1, 2, 3]);
        assert.equal(http.used.size, 2, "requests went to both nodes");
        // Both nodes agree the roaming client is connected.
        await roaming.connection.invoke("JoinGroup", "roamers");
        for (const asker of [alice1, alice2]) {
          assert.deepEqual(await asker.connection.invoke("GroupMembers", "roamers"), [roaming.id]);
        }
      } finally {
        everyone.pop();
        await roaming.connection.stop();
      }
    });
  }
}
