// Every client target, with several connections: who receives, and who
// does not. Each check proves absence with a marker round trip (settle), never
// with a sleep.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { Peer, assertReceived, assertRegistryClean } from "./lib/client.mjs";

// Two connections of user "alice", one of "Alice" (user ids are
// case-sensitive), one of "bob", one anonymous.
const [alice1, alice2, upperAlice, bob, anon] = await Promise.all([
  Peer.open("alice1", { token: "alice" }),
  Peer.open("alice2", { token: "alice" }),
  Peer.open("Alice", { token: "Alice" }),
  Peer.open("bob", { token: "bob" }),
  Peer.open("anon"),
]);
const peers = [alice1, alice2, upperAlice, bob, anon];
const everyone = (message) => Object.fromEntries(peers.map((peer) => [peer.name, [message]]));
let stopped = false;
after(() => (stopped ? undefined : Promise.all(peers.map((peer) => peer.stop()))));

test("the peers have distinct connection ids", () => {
  assert.equal(new Set(peers.map((peer) => peer.id)).size, peers.length);
});

test("all: SendToAll reaches every connection, the caller included", async () => {
  await bob.invoke("SendToAll", "to all");
  await assertReceived(peers, everyone("to all"));
});

test("others: SendToOthers reaches every connection but the caller", async () => {
  await bob.invoke("SendToOthers", "to others");
  const expected = everyone("to others");
  delete expected.bob;
  await assertReceived(peers, expected);
  // The caller's other connections of the same user are not "the caller".
  await alice1.invoke("SendToOthers", "from alice1");
  await assertReceived(peers, { alice2: ["from alice1"], Alice: ["from alice1"], bob: ["from alice1"], anon: ["from alice1"] });
});

test("caller: SendToCaller reaches only the caller", async () => {
  await anon.invoke("SendToCaller", "to caller");
  await alice2.invoke("SendToCaller", "to alice2 itself");
  await assertReceived(peers, { anon: ["to caller"], alice2: ["to alice2 itself"] });
});

test("client(id): SendToConnection reaches only that connection", async () => {
  await alice1.invoke("SendToConnection", bob.id, "to bob's connection");
  await alice1.invoke("SendToConnection", alice1.id, "to my own connection");
  await assertReceived(peers, { bob: ["to bob's connection"], alice1: ["to my own connection"] });
});

test("client(id): an unknown connection id reaches nobody and is not an error", async () => {
  assert.equal(await alice1.invoke("SendToConnection", "no-such-connection", "lost"), null);
  assert.equal(await alice1.invoke("SendToConnection", bob.id.toUpperCase() + "x", "lost"), null);
  await assertReceived(peers, {});
});

test("clients(ids): SendToConnections reaches exactly the listed connections", async () => {
  await anon.invoke("SendToConnections", [alice2.id, bob.id], "to two");
  await assertReceived(peers, { alice2: ["to two"], bob: ["to two"] });
  await anon.invoke("SendToConnections", ["no-such-connection", upperAlice.id], "unknown skipped");
  await assertReceived(peers, { Alice: ["unknown skipped"] });
  await anon.invoke("SendToConnections", [], "to nobody");
  await assertReceived(peers, {});
});

// As in ASP.NET, whose DefaultHubLifetimeManager.SendConnectionsAsync filters all connections by
// `connectionIds.Contains(id)`, so each listed connection gets one copy.
test("clients(ids): a connection listed twice still gets one copy", async () => {
  await anon.invoke("SendToConnections", [bob.id, bob.id], "listed twice");
  await assertReceived(peers, { bob: ["listed twice"] });
});

test("all_except(ids): SendToAllExcept skips exactly the listed connections", async () => {
  await bob.invoke("SendToAllExcept", [alice1.id, bob.id], "all but two");
  await assertReceived(peers, { alice2: ["all but two"], Alice: ["all but two"], anon: ["all but two"] });
  await bob.invoke("SendToAllExcept", [], "nobody excluded");
  await assertReceived(peers, everyone("nobody excluded"));
  await bob.invoke("SendToAllExcept", ["no-such-connection"], "unknown excluded");
  await assertReceived(peers, everyone("unknown excluded"));
  await bob.invoke("SendToAllExcept", peers.map((peer) => peer.id), "everyone excluded");
  await assertReceived(peers, {});
});

test("user: SendToUser reaches every connection of that user, case-sensitively", async () => {
  await anon.invoke("SendToUser", "alice", "to alice");
  await assertReceived(peers, { alice1: ["to alice"], alice2: ["to alice"] });
  await anon.invoke("SendToUser", "Alice", "to Alice");
  await assertReceived(peers, { Alice: ["to Alice"] });
  await anon.invoke("SendToUser", "ALICE", "to ALICE");
  await anon.invoke("SendToUser", "nobody", "to nobody");
  await anon.invoke("SendToUser", "", "to the empty user");
  await assertReceived(peers, {});
});

test("user: the caller gets a copy when it is one of the user's connections", async () => {
  await alice1.invoke("SendToUser", "alice", "to my user");
  await assertReceived(peers, { alice1: ["to my user"], alice2: ["to my user"] });
});

test("users: SendToUsers reaches every connection of the listed users", async () => {
  await anon.invoke("SendToUsers", ["alice", "bob"], "to alice and bob");
  await assertReceived(peers, { alice1: ["to alice and bob"], alice2: ["to alice and bob"], bob: ["to alice and bob"] });
  await anon.invoke("SendToUsers", ["Alice", "nobody"], "to Alice and nobody");
  await assertReceived(peers, { Alice: ["to Alice and nobody"] });
  await anon.invoke("SendToUsers", [], "to no user");
  await assertReceived(peers, {});
});

// As in ASP.NET, whose DefaultHubLifetimeManager.SendUsersAsync filters all connections by
// `userIds.Contains(userId)`, so each connection gets one copy.
test("users: a user listed twice still gets one copy per connection", async () => {
  await anon.invoke("SendToUsers", ["bob", "bob"], "bob twice");
  await assertReceived(peers, { bob: ["bob twice"] });
});

test("messages from one sender reach each receiver in the order sent", async () => {
  const messages = Array.from({ length: 20 }, (_, i) => `ordered ${i}`);
  // Pipelined: the server runs one invocation of a connection at a time, in order.
  await Promise.all(messages.map((message) => bob.invoke("SendToAll", message)));
  await assertReceived(peers, Object.fromEntries(peers.map((peer) => [peer.name, messages])));
});

test("the registry is empty once every connection has stopped", async () => {
  stopped = true;
  await assertRegistryClean(peers.map((peer) => peer.connection));
});
