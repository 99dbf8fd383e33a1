// Load: many concurrent connections with pipelined invocations, and a
// broadcast storm; nothing lost, nothing duplicated, nothing mixed up.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { connect, Inbox, settle, getStats, assertRegistryClean } from "./lib/client.mjs";

const opened = [];
after(() => Promise.all(opened.map((connection) => connection.stop())));

async function openMany(count) {
  const connections = await Promise.all(Array.from({ length: count }, () => connect()));
  opened.push(...connections);
  return connections;
}

async function stopAll(connections) {
  await Promise.all(connections.map((connection) => connection.stop()));
}

test("200 connections x 20 concurrent Echo calls: every reply correct", async () => {
  const connections = await openMany(200);
  assert.equal(new Set(connections.map((connection) => connection.connectionId)).size, 200);
  assert.equal((await getStats(connections[0])).connections, 200);

  const replies = await Promise.all(
    connections.map((connection, c) =>
      Promise.all(Array.from({ length: 20 }, (_, i) => connection.invoke("Echo", `connection ${c} call ${i}`))),
    ),
  );
  replies.forEach((calls, c) =>
    assert.deepEqual(
      calls,
      Array.from({ length: 20 }, (_, i) => `connection ${c} call ${i}`),
    ),
  );
  // And each connection is still itself.
  const ids = await Promise.all(connections.map((connection) => connection.invoke("GetConnectionId")));
  assert.deepEqual(
    ids,
    connections.map((connection) => connection.connectionId),
  );
  await stopAll(connections);
});

test("50 connections each SendToAll once: every connection gets every message exactly once", async () => {
  const count = 50;
  const connections = await openMany(count);
  const inboxes = connections.map((connection) => new Inbox(connection));
  const messages = connections.map((_, i) => `broadcast from ${i}`);

  await Promise.all(connections.map((connection, i) => connection.invoke("SendToAll", messages[i])));

  await Promise.all(
    inboxes.map(async (inbox, r) => {
      const taken = await inbox.take(count, 10_000);
      const all = await settle(connections[r], inbox);
      assert.equal(all.length, count, `connection ${r} got extra messages: ${all.length}`);
      assert.deepEqual([...taken].sort(), [...messages].sort(), `connection ${r}`);
    }),
  );
  await stopAll(connections);
});

test("50 connections each SendToAll 5 times, pipelined: all delivered, in order per sender", async () => {
  const count = 50;
  const perSender = 5;
  const connections = await openMany(count);
  const inboxes = connections.map((connection) => new Inbox(connection));
  const sent = connections.map((_, s) => Array.from({ length: perSender }, (_, i) => `sender ${s} message ${i}`));

  await Promise.all(
    connections.map((connection, s) => Promise.all(sent[s].map((message) => connection.invoke("SendToAll", message)))),
  );

  await Promise.all(
    inboxes.map(async (inbox, r) => {
      await inbox.take(count * perSender, 10_000);
      const all = await settle(connections[r], inbox);
      assert.equal(all.length, count * perSender, `connection ${r}: ${all.length} messages`);
      sent.forEach((messages, s) => {
        const fromSender = all.filter((message) => message.startsWith(`sender ${s} `));
        assert.deepEqual(fromSender, messages, `connection ${r}, sender ${s}`);
      });
    }),
  );
  await stopAll(connections);
});

test("the registry is empty once every connection has stopped", async () => {
  await assertRegistryClean(opened.splice(0));
});
