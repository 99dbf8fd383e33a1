// Connection control from a hub method: AbortMe(error, allowReconnect)
// closes the caller's connection with a Close message; the official client
// stops for good without allowReconnect, and reconnects (as a new connection)
// with it when automatic reconnect is configured.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import {
  build,
  connect,
  signalR,
  Peer,
  RecordingProtocol,
  assertReceived,
  collect,
  within,
  waitForStats,
} from "./lib/client.mjs";

const opened = [];
after(() => Promise.all(opened.map((connection) => connection.stop())));

/** Builds and starts a connection this file stops at the end, recording its events. */
async function start(options) {
  const protocol = new RecordingProtocol();
  const connection = build({ protocol, ...options });
  opened.push(connection);
  const events = [];
  let resolveClosed;
  const closed = new Promise((resolve) => {
    resolveClosed = resolve;
  });
  let resolveReconnected;
  const reconnected = new Promise((resolve) => {
    resolveReconnected = resolve;
  });
  connection.onclose((error) => {
    events.push({ event: "close", error: error?.message });
    resolveClosed(error);
  });
  connection.onreconnecting((error) => events.push({ event: "reconnecting", error: error?.message }));
  connection.onreconnected((connectionId) => {
    events.push({ event: "reconnected", connectionId });
    resolveReconnected(connectionId);
  });
  await connection.start();
  return { connection, protocol, events, closed, reconnected };
}

/** The Close messages `protocol` recorded. */
function closeMessages(protocol) {
  return protocol.messages.filter((message) => message.type === signalR.MessageType.Close);
}

test("AbortMe('bye', false): onclose with the server's error, no reconnect despite withAutomaticReconnect()", async () => {
  const { connection, protocol, events, closed } = await start({ reconnect: true });
  connection.invoke("AbortMe", "bye", false).catch(() => {});
  const error = await within(closed, "onclose");
  assert.ok(error instanceof Error, `onclose got ${error}`);
  assert.equal(error.message, "Server returned an error on close: bye");
  assert.deepEqual(events, [{ event: "close", error: "Server returned an error on close: bye" }]);
  assert.equal(connection.state, signalR.HubConnectionState.Disconnected);
  const [close, ...more] = closeMessages(protocol);
  assert.deepEqual(more, []);
  assert.equal(close.error, "bye");
  assert.notEqual(close.allowReconnect, true);
  await assert.rejects(connection.invoke("Echo", "after close"));
});

test("AbortMe('retry', true) without automatic reconnect: onclose with the error", async () => {
  const { connection, protocol, events, closed } = await start();
  connection.invoke("AbortMe", "retry", true).catch(() => {});
  const error = await within(closed, "onclose");
  assert.equal(error?.message, "Server returned an error on close: retry");
  assert.deepEqual(events, [{ event: "close", error: "Server returned an error on close: retry" }]);
  assert.deepEqual(
    closeMessages(protocol).map(({ error, allowReconnect }) => ({ error, allowReconnect })),
    [{ error: "retry", allowReconnect: true }],
  );
});

test("AbortMe('retry', true) with withAutomaticReconnect([0]): reconnects with a new id, and calls work", async () => {
  const { connection, protocol, events, reconnected } = await start({ reconnect: [0] });
  const oldId = connection.connectionId;
  connection.invoke("AbortMe", "retry", true).catch(() => {});
  const newId = await within(reconnected, "onreconnected");
  assert.equal(typeof newId, "string");
  assert.notEqual(newId, oldId, "a reconnect is a new connection");
  assert.equal(connection.connectionId, newId);
  assert.deepEqual(events, [
    { event: "reconnecting", error: "Server returned an error on close: retry" },
    { event: "reconnected", connectionId: newId },
  ]);
  assert.deepEqual(
    closeMessages(protocol).map(({ error, allowReconnect }) => ({ error, allowReconnect })),
    [{ error: "retry", allowReconnect: true }],
  );
  assert.equal(connection.state, signalR.HubConnectionState.Connected);
  assert.equal(await connection.invoke("Echo", "after reconnect"), "after reconnect");
  assert.equal(await connection.invoke("GetConnectionId"), newId);
});

test("after a reconnect, the old connection's groups are gone", async () => {
  const { connection, reconnected } = await start({ reconnect: [0] });
  const peer = new Peer("reconnecting", connection);
  const other = new Peer("other", await connect());
  opened.push(other.connection);
  await connection.invoke("JoinGroup", "control-group");
  await other.invoke("SendToGroup", "control-group", "before");
  await assertReceived([peer, other], { reconnecting: ["before"] });
  connection.invoke("AbortMe", "retry", true).catch(() => {});
  await within(reconnected, "onreconnected");
  await other.invoke("SendToGroup", "control-group", "after");
  await assertReceived([peer, other], {});
});

test("a completion the server sent before closing still arrives", async () => {
  const { connection, closed } = await start({ reconnect: true });
  // One at a time: AbortMe runs after the Delay, whose Completion goes out before the Close.
  const delay = connection.invoke("Delay", 100);
  connection.invoke("AbortMe", "bye", false).catch(() => {});
  assert.equal(await within(delay, "the Delay"), 100);
  await within(closed, "onclose");
});

// ASP.NET ends streams with the connection (stream tokens follow ConnectionAborted;
// uploads complete with an error), so nothing waits for the drain timeout.
test("a stream running when the server closes the connection ends promptly with the close error", async () => {
  const { connection, closed } = await start();
  let gotOne;
  const one = new Promise((resolve) => {
    gotOne = resolve;
  });
  const { done } = collect(connection.stream("Endless", 10), gotOne);
  await within(one, "an item of Endless");
  connection.invoke("AbortMe", "bye", false).catch(() => {});
  const { error } = await within(done, "the stream to end", 2000);
  assert.equal(error?.message, "Server returned an error on close: bye");
  await within(closed, "onclose", 2000);
});

// ASP.NET ends streams with the connection (stream tokens follow ConnectionAborted;
// uploads complete with an error), so nothing waits for the drain timeout.
test("an upload pending when the server closes the connection does not delay the close", async () => {
  const { connection, closed } = await start();
  const subject = new signalR.Subject();
  // Sum fails (its upload ends with the connection); observed from the start,
  // since the failure may arrive before the Close.
  const sum = connection.invoke("Sum", subject).then(
    () => null,
    (error) => error,
  );
  subject.next(1);
  assert.equal(await connection.invoke("Echo", "Sum is waiting"), "Sum is waiting");
  connection.invoke("AbortMe", "bye", false).catch(() => {});
  await within(closed, "onclose", 2000);
  assert.ok((await sum) instanceof Error, "Sum fails");
});

test("the server forgets aborted connections", async () => {
  await Promise.all(opened.splice(0).map((connection) => connection.stop()));
  const fresh = await connect();
  try {
    await waitForStats(fresh, { connections: 1, users: 0, groups: 0, groupedConnections: 0 });
  } finally {
    await fresh.stop();
  }
});
