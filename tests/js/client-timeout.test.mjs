// Client timeout. Environment: CLIENT_TIMEOUT_MS, the server's
// client_timeout_interval (short, e.g. 500); the server's keep_alive_interval
// must be well under it (the JS client arms its own Ping timer only when it
// receives something, so it pings no more often than the server sends). A
// client that sends nothing for that long is closed with a reconnectable
// error; any message keeps it alive.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { build, signalR, Peer, RecordingProtocol, within } from "./lib/client.mjs";

const CLIENT_TIMEOUT_MS = Number(process.env.CLIENT_TIMEOUT_MS);
assert.ok(
  CLIENT_TIMEOUT_MS > 0 && CLIENT_TIMEOUT_MS <= 2000,
  `CLIENT_TIMEOUT_MS=${process.env.CLIENT_TIMEOUT_MS} (a short timeout)`,
);

/** A client that never Pings on its own and never times the server out. */
const SILENT = { keepAliveMs: 60_000, serverTimeoutMs: 120_000 };
const CLOSE_ERROR = "Server returned an error on close: Connection closed with an error.";

/** Asserts that `error` is the client's error for the server's timeout Close. */
function assertTimeoutError(error) {
  assert.ok(error instanceof Error, `expected an Error, got ${error}`);
  // ASP.NET sends exactly "Connection closed with an error."; a detail may follow.
  assert.ok(error.message.startsWith(CLOSE_ERROR), error.message);
}

const opened = [];
after(() => Promise.all(opened.map((connection) => connection.stop())));

/** Builds and starts a connection this file stops at the end; `closed` resolves with onclose's error. */
async function start(options) {
  const connection = build(options);
  opened.push(connection);
  const closed = new Promise((resolve) => connection.onclose(resolve));
  await connection.start();
  return { connection, closed, startedAt: performance.now() };
}

test("a client that sends nothing is closed by the server with a reconnectable error", async () => {
  const protocol = new RecordingProtocol();
  const { connection, closed, startedAt } = await start({ ...SILENT, protocol });
  const error = await within(closed, "the server to close the silent client", 10 * CLIENT_TIMEOUT_MS);
  const elapsed = performance.now() - startedAt;
  assertTimeoutError(error);
  assert.ok(elapsed >= CLIENT_TIMEOUT_MS * 0.8, `closed after ${elapsed} ms, before the timeout`);
  assert.equal(connection.state, signalR.HubConnectionState.Disconnected);
  const closes = protocol.messages.filter((message) => message.type === signalR.MessageType.Close);
  assert.equal(closes.length, 1, JSON.stringify(closes));
  assert.ok(closes[0].error.startsWith("Connection closed with an error."), closes[0].error);
  assert.equal(closes[0].allowReconnect, true);
});

test("a silent client with automatic reconnect reconnects as a new connection", async () => {
  const { connection } = await start({ ...SILENT, reconnect: [0] });
  const oldId = connection.connectionId;
  const reconnecting = new Promise((resolve) => connection.onreconnecting(resolve));
  const reconnected = new Promise((resolve) => connection.onreconnected(resolve));
  const error = await within(reconnecting, "onreconnecting", 10 * CLIENT_TIMEOUT_MS);
  assertTimeoutError(error);
  const newId = await within(reconnected, "onreconnected", 10 * CLIENT_TIMEOUT_MS);
  assert.notEqual(newId, oldId);
  assert.equal(await connection.invoke("Echo", "back"), "back");
  await connection.stop();
});

test("the timed-out connection is reported disconnected with an error", async () => {
  const watcher = await Peer.open("watcher", { keepAliveMs: Math.round(CLIENT_TIMEOUT_MS / 5) });
  opened.push(watcher.connection);
  await watcher.invoke("JoinGroup", "__lifecycle");
  const { connection, closed } = await start(SILENT);
  const id = connection.connectionId;
  await within(closed, "the server to close the silent client", 10 * CLIENT_TIMEOUT_MS);
  await within(
    watcher.inbox.until((messages) => messages.includes(`disconnected:${id}:error`), "the disconnected message"),
    "the disconnected message",
  );
});

test("a client that Pings more often than the timeout stays connected", async () => {
  const { connection, closed } = await start({ keepAliveMs: Math.round(CLIENT_TIMEOUT_MS / 5) });
  let closeError;
  closed.then((error) => {
    closeError = error ?? new Error("closed");
  });
  // The client sends nothing but Pings during the Delay (3 timeouts long).
  const ms = 3 * CLIENT_TIMEOUT_MS;
  assert.equal(await within(connection.invoke("Delay", ms), "the Delay", 10 * CLIENT_TIMEOUT_MS), ms);
  assert.equal(closeError, undefined);
  assert.equal(connection.state, signalR.HubConnectionState.Connected);
});

test("a client that keeps invoking (no Pings) stays connected", async () => {
  const { connection, closed } = await start(SILENT);
  let closeError;
  closed.then((error) => {
    closeError = error ?? new Error("closed");
  });
  const until = performance.now() + 3 * CLIENT_TIMEOUT_MS;
  while (performance.now() < until) {
    assert.equal(await connection.invoke("Echo", "busy"), "busy");
    // Gaps well under the timeout: the behaviour under test.
    await new Promise((resolve) => setTimeout(resolve, CLIENT_TIMEOUT_MS / 5));
  }
  assert.equal(closeError, undefined);
  assert.equal(connection.state, signalR.HubConnectionState.Connected);
});
