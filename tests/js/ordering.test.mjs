// Ordering guarantees: one invocation at a time per connection, in arrival
// order (MaximumParallelInvocationsPerClient = 1), and messages a method sends
// before it returns arrive before its completion.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { connect, signalR, Inbox, RecordingProtocol, assertRegistryClean } from "./lib/client.mjs";

const protocol = new RecordingProtocol();
const connection = await connect({ token: "orderly", protocol });
const inbox = new Inbox(connection);
const other = await connect();
after(() => Promise.all([connection.stop(), other.stop()]));

test("invocations fired together complete in the order sent, one at a time", async () => {
  const delays = Array.from({ length: 10 }, (_, i) => 100 - i * 10); // 100, 90, ..., 10
  const completed = [];
  const start = performance.now();
  const results = await Promise.all(
    delays.map((ms) =>
      connection.invoke("Delay", ms).then((result) => {
        completed.push(result);
        return result;
      }),
    ),
  );
  const elapsed = performance.now() - start;
  assert.deepEqual(results, delays);
  assert.deepEqual(completed, delays, "a shorter Delay sent later never overtakes a longer one");
  const total = delays.reduce((sum, ms) => sum + ms, 0);
  assert.ok(elapsed >= total - 1, `run one after another: ${elapsed} ms for ${total} ms of delays`);
});

test("a quick call queued behind a slow one on the same connection waits for it", async () => {
  const order = [];
  await Promise.all([
    connection.invoke("Delay", 150).then(() => order.push("Delay")),
    connection.invoke("Echo", "quick").then(() => order.push("Echo")),
  ]);
  assert.deepEqual(order, ["Delay", "Echo"]);
});

test("a slow invocation on one connection does not hold up another connection", async () => {
  let slowDone = false;
  const slow = connection.invoke("Delay", 2000).then(() => {
    slowDone = true;
  });
  assert.equal(await other.invoke("Echo", "meanwhile"), "meanwhile");
  assert.equal(slowDone, false, "the other connection answered while the Delay was still running");
  await slow;
});

test("messages a method sends to the caller arrive before its completion", async () => {
  inbox.messages.length = 0;
  await connection.invoke("SendToCaller", "caller");
  assert.deepEqual(inbox.messages, ["caller"]);
  await connection.invoke("SendToAll", "all");
  assert.deepEqual(inbox.messages, ["caller", "all"]);
  await connection.invoke("SendToUser", "orderly", "user");
  assert.deepEqual(inbox.messages, ["caller", "all", "user"]);
  await connection.invoke("SendToConnection", connection.connectionId, "connection");
  assert.deepEqual(inbox.messages, ["caller", "all", "user", "connection"]);
  await connection.invoke("JoinGroup", "ordering");
  await connection.invoke("SendToGroup", "ordering", "group");
  assert.deepEqual(inbox.messages, ["caller", "all", "user", "connection", "group"]);
  await connection.invoke("LeaveGroup", "ordering");
});

/** The recorded messages, simplified: fan-out invocations and completions. */
function wireMessages() {
  return protocol.messages.map((message) =>
    message.type === signalR.MessageType.Invocation
      ? // The client matches the target case-insensitively, so the server may send "Receive" or "receive".
        { receive: message.arguments, target: message.target.toLowerCase(), invocationId: message.invocationId }
      : { type: message.type, invocationId: message.invocationId, result: message.result },
  );
}

test("on the wire: the Receive invocation precedes the Completion", async () => {
  protocol.received.length = 0;
  await connection.invoke("SendToCaller", "wire");
  const [{ invocationId }] = wireMessages().filter((message) => message.type === signalR.MessageType.Completion);
  assert.deepEqual(wireMessages(), [
    // A fan-out message is non-blocking: no invocation id.
    { receive: ["wire"], target: "receive", invocationId: undefined },
    { type: signalR.MessageType.Completion, invocationId, result: null },
  ]);
});

test("pipelined invocations: each method's message precedes its completion, in order", async () => {
  inbox.messages.length = 0;
  protocol.received.length = 0;
  const messages = Array.from({ length: 20 }, (_, i) => `pipelined ${i}`);
  const seenAtCompletion = await Promise.all(
    messages.map((message) => connection.invoke("SendToCaller", message).then(() => [...inbox.messages])),
  );
  // The client may dispatch several received messages before resolving a
  // completion, so at completion i the inbox holds at least messages 0..i.
  seenAtCompletion.forEach((seen, i) => assert.deepEqual(seen.slice(0, i + 1), messages.slice(0, i + 1)));
  assert.deepEqual(inbox.messages, messages);
  // On the wire, strictly alternating: Receive(i), then Completion(i).
  const wire = wireMessages();
  const ids = wire.filter((message) => message.type === signalR.MessageType.Completion).map((m) => m.invocationId);
  // The client numbers its invocations in call order; the completions come back in that order.
  assert.deepEqual(
    ids.map(Number),
    ids.map((_, i) => Number(ids[0]) + i),
  );
  assert.deepEqual(
    wire,
    messages.flatMap((message, i) => [
      { receive: [message], target: "receive", invocationId: undefined },
      { type: signalR.MessageType.Completion, invocationId: ids[i], result: null },
    ]),
  );
});

test("a non-blocking send() and a later invoke() run in the order sent", async () => {
  inbox.messages.length = 0;
  await connection.send("SendToCaller", "sent first");
  await connection.send("Delay", 100);
  await connection.send("SendToCaller", "sent second");
  await connection.invoke("SendToCaller", "invoked third");
  assert.deepEqual(inbox.messages, ["sent first", "sent second", "invoked third"]);
});

test("the registry is empty once every connection has stopped", async () => {
  await assertRegistryClean([connection, other]);
});
