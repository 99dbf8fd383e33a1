// Groups: join/leave, managing another connection's membership, the group
// targets (group, groups, group_except, others_in_group), and membership
// ending with the connection.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { Peer, assertReceived, assertRegistryClean, getStats, waitForStats } from "./lib/client.mjs";

const [a, b, c, d] = await Promise.all(["a", "b", "c", "d"].map((name) => Peer.open(name)));
const peers = [a, b, c, d];
const opened = peers.map((peer) => peer.connection);
after(() => Promise.all(opened.map((connection) => connection.stop())));

/** Opens a peer this file stops at the end. */
async function open(name, options) {
  const peer = await Peer.open(name, options);
  opened.push(peer.connection);
  return peer;
}

test("group: SendToGroup reaches exactly the members, whoever sends", async () => {
  await a.invoke("JoinGroup", "room");
  await b.invoke("JoinGroup", "room");
  await d.invoke("SendToGroup", "room", "from outside");
  await assertReceived(peers, { a: ["from outside"], b: ["from outside"] });
  await a.invoke("SendToGroup", "room", "from a member");
  await assertReceived(peers, { a: ["from a member"], b: ["from a member"] });
});

test("group: joining twice still means one copy", async () => {
  await c.invoke("JoinGroup", "twice");
  await c.invoke("JoinGroup", "twice");
  await d.invoke("SendToGroup", "twice", "once");
  await assertReceived(peers, { c: ["once"] });
});

test("group: LeaveGroup stops delivery to the leaver only", async () => {
  await a.invoke("JoinGroup", "leaving");
  await b.invoke("JoinGroup", "leaving");
  assert.equal(await b.invoke("LeaveGroup", "leaving"), null);
  await d.invoke("SendToGroup", "leaving", "after b left");
  await assertReceived(peers, { a: ["after b left"] });
  // Leaving a group one is not in, or that does not exist, is not an error.
  assert.equal(await b.invoke("LeaveGroup", "leaving"), null);
  assert.equal(await b.invoke("LeaveGroup", "never-existed"), null);
  await b.invoke("JoinGroup", "leaving");
  await d.invoke("SendToGroup", "leaving", "b is back");
  await assertReceived(peers, { a: ["b is back"], b: ["b is back"] });
});

test("group: an empty group disappears from the registry", async () => {
  const before = await getStats(d.connection);
  await d.invoke("JoinGroup", "transient");
  assert.deepEqual(await getStats(d.connection), {
    ...before,
    groups: before.groups + 1,
    groupedConnections: before.groupedConnections + 1,
  });
  await d.invoke("LeaveGroup", "transient");
  assert.deepEqual(await getStats(d.connection), before);
});

test("group: names are case-sensitive", async () => {
  await a.invoke("JoinGroup", "Case");
  await b.invoke("JoinGroup", "case");
  await d.invoke("SendToGroup", "Case", "to Case");
  await assertReceived(peers, { a: ["to Case"] });
  await d.invoke("SendToGroup", "case", "to case");
  await assertReceived(peers, { b: ["to case"] });
  await d.invoke("SendToGroup", "CASE", "to CASE");
  await assertReceived(peers, {});
});

test("group: sending to a group nobody joined reaches nobody and is not an error", async () => {
  assert.equal(await a.invoke("SendToGroup", "nobody-here", "lost"), null);
  await assertReceived(peers, {});
});

test("group: an empty group name is rejected, and the connection keeps working", async () => {
  await assert.rejects(a.invoke("JoinGroup", ""), /^Error: An unexpected error occurred invoking 'JoinGroup' on the server\./);
  assert.equal(await a.invoke("Echo", "still here"), "still here");
  await assert.rejects(a.invoke("AddToGroup", b.id, ""), /^Error: An unexpected error occurred invoking 'AddToGroup' on the server\./);
  assert.equal(await a.invoke("Echo", "still here"), "still here");
});

test("AddToGroup/RemoveFromGroup manage another connection's membership", async () => {
  await a.invoke("AddToGroup", c.id, "managed");
  await d.invoke("SendToGroup", "managed", "c was added");
  await assertReceived(peers, { c: ["c was added"] });

  await a.invoke("AddToGroup", b.id, "managed");
  await d.invoke("RemoveFromGroup", c.id, "managed");
  await d.invoke("SendToGroup", "managed", "c was removed");
  await assertReceived(peers, { b: ["c was removed"] });

  // A membership the connection made itself can be removed by another one.
  await c.invoke("JoinGroup", "self-joined");
  await a.invoke("RemoveFromGroup", c.id, "self-joined");
  await d.invoke("SendToGroup", "self-joined", "nobody left");
  await assertReceived(peers, {});
});

test("AddToGroup with an unknown connection id is ignored, creating no group", async () => {
  const before = await getStats(d.connection);
  assert.equal(await d.invoke("AddToGroup", "no-such-connection", "ghost"), null);
  assert.equal(await d.invoke("RemoveFromGroup", "no-such-connection", "ghost"), null);
  assert.deepEqual(await getStats(d.connection), before);
  await d.invoke("SendToGroup", "ghost", "to ghost");
  await assertReceived(peers, {});
});

test("groups: SendToGroups sends one copy per listed group a connection is in", async () => {
  await a.invoke("JoinGroup", "g1");
  await a.invoke("JoinGroup", "g2");
  await b.invoke("JoinGroup", "g1");
  await c.invoke("JoinGroup", "g2");
  await d.invoke("SendToGroups", ["g1", "g2"], "to g1 and g2");
  await assertReceived(peers, { a: ["to g1 and g2", "to g1 and g2"], b: ["to g1 and g2"], c: ["to g1 and g2"] });
  await d.invoke("SendToGroups", ["g2", "no-such-group"], "to g2 only");
  await assertReceived(peers, { a: ["to g2 only"], c: ["to g2 only"] });
  await d.invoke("SendToGroups", [], "to no group");
  await assertReceived(peers, {});
});

test("group_except: SendToGroupExcept skips the listed members", async () => {
  await Promise.all([a, b, c].map((peer) => peer.invoke("JoinGroup", "except")));
  await d.invoke("SendToGroupExcept", "except", [b.id], "not b");
  await assertReceived(peers, { a: ["not b"], c: ["not b"] });
  await a.invoke("SendToGroupExcept", "except", [a.id, c.id], "not a, not c");
  await assertReceived(peers, { b: ["not a, not c"] });
  // Excluding a non-member changes nothing; excluding nobody reaches all members.
  await d.invoke("SendToGroupExcept", "except", [d.id, "no-such-connection"], "non-members excluded");
  await assertReceived(peers, { a: ["non-members excluded"], b: ["non-members excluded"], c: ["non-members excluded"] });
  await d.invoke("SendToGroupExcept", "except", [], "nobody excluded");
  await assertReceived(peers, { a: ["nobody excluded"], b: ["nobody excluded"], c: ["nobody excluded"] });
  await d.invoke("SendToGroupExcept", "except", [a.id, b.id, c.id], "all excluded");
  await assertReceived(peers, {});
});

test("others_in_group: SendToOthersInGroup reaches the members but the caller", async () => {
  await Promise.all([a, b, c].map((peer) => peer.invoke("JoinGroup", "others")));
  await b.invoke("SendToOthersInGroup", "others", "from b");
  await assertReceived(peers, { a: ["from b"], c: ["from b"] });
  // A non-member caller: every member receives.
  await d.invoke("SendToOthersInGroup", "others", "from outside");
  await assertReceived(peers, { a: ["from outside"], b: ["from outside"], c: ["from outside"] });
});

test("membership ends when the connection stops; a new connection does not inherit it", async () => {
  const e = await open("e");
  await e.invoke("JoinGroup", "solo");
  await e.invoke("JoinGroup", "shared");
  await a.invoke("JoinGroup", "shared");
  const oldId = e.id;
  const before = await getStats(a.connection);

  await e.stop();
  // "solo" had e only: it is gone; "shared" stays, with a.
  await waitForStats(a.connection, {
    connections: before.connections - 1,
    users: before.users,
    groups: before.groups - 1,
    groupedConnections: before.groupedConnections - 1,
  });

  // The same client object starts a new connection: new id, no groups.
  await e.connection.start();
  assert.notEqual(e.id, oldId);
  const f = await open("f");
  const everyone = [...peers, e, f];
  await d.invoke("SendToGroup", "solo", "to solo");
  await d.invoke("SendToGroup", "shared", "to shared");
  await assertReceived(everyone, { a: ["to shared"] });

  // Nothing can bring the stopped connection back into a group.
  await d.invoke("AddToGroup", oldId, "solo");
  await d.invoke("SendToConnection", oldId, "to the old id");
  await d.invoke("SendToGroup", "solo", "to solo again");
  await assertReceived(everyone, {});
  assert.deepEqual(await getStats(a.connection), {
    connections: before.connections + 1,
    users: before.users,
    groups: before.groups - 1,
    groupedConnections: before.groupedConnections - 1,
  });
});

test("the registry is empty once every connection has stopped", async () => {
  await assertRegistryClean(opened.splice(0));
});
