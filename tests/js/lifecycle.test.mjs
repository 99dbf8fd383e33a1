// The hub's on_connected/on_disconnected hooks (reported to the group
// `__lifecycle` as `connected:<id>`, `disconnected:<id>` or
// `disconnected:<id>:error`), the hub filter guarding AdminOnly, and the hub
// context used from a background task (StartTicker).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import {
  connect,
  build,
  signalR,
  collect,
  waitFor,
  Peer,
  Inbox,
  settle,
  assertReceived,
  rejectsWith,
  within,
  assertRegistryClean,
  trackSends,
} from "./lib/client.mjs";

const LIFECYCLE = "__lifecycle";

const watcher = await Peer.open("watcher");
await watcher.invoke("JoinGroup", LIFECYCLE);
const opened = [watcher.connection];
after(() => Promise.all(opened.map((connection) => connection.stop())));

/** Opens a connection this file stops at the end. */
async function open(options) {
  const connection = await connect(options);
  opened.push(connection);
  return connection;
}

/** The watcher's lifecycle messages about `id` so far, proven complete (see `settle`). */
async function eventsAbout(id) {
  const messages = await settle(watcher.connection, watcher.inbox);
  return messages.filter((message) => message.split(":")[1] === id);
}

/** Waits until the watcher got `message`. */
function watcherGets(message) {
  return watcher.inbox.until((messages) => messages.includes(message), JSON.stringify(message));
}

/** Waits until `connection`'s onclose fired, resolving with its error. */
function closed(connection) {
  return new Promise((resolve) => connection.onclose(resolve));
}

test("a connection that connects, then stops: connected:<id>, then disconnected:<id>", async () => {
  const client = await open();
  const id = client.connectionId;
  await within(watcherGets(`connected:${id}`), "the connected message");
  assert.equal(await client.invoke("GetConnectionId"), id, "the hook reports the connection's own id");
  await client.stop();
  await within(watcherGets(`disconnected:${id}`), "the disconnected message");
  assert.deepEqual(await eventsAbout(id), [`connected:${id}`, `disconnected:${id}`]);
});

test("the connected message reaches the group before the new connection's first call completes", async () => {
  const client = await open();
  const id = client.connectionId;
  // on_connected runs before any invocation of the connection.
  await client.invoke("SendToGroup", LIFECYCLE, `first call of ${id}`);
  const messages = await settle(watcher.connection, watcher.inbox);
  const connectedAt = messages.indexOf(`connected:${id}`);
  assert.ok(connectedAt >= 0, "connected message received");
  assert.ok(connectedAt < messages.indexOf(`first call of ${id}`), JSON.stringify(messages));
});

test("a connection without negotiation: the hooks report the id the server assigned", async () => {
  const client = await open({ skipNegotiation: true });
  const id = await client.invoke("GetConnectionId");
  await within(watcherGets(`connected:${id}`), "the connected message");
  await client.stop();
  await within(watcherGets(`disconnected:${id}`), "the disconnected message");
  assert.deepEqual(await eventsAbout(id), [`connected:${id}`, `disconnected:${id}`]);
});

test("a connection closed by the server with an error: disconnected:<id>:error", async () => {
  const client = await open();
  const id = client.connectionId;
  const onclose = closed(client);
  client.invoke("AbortMe", "go away", false).catch(() => {});
  await within(onclose, "the client to close");
  await within(watcherGets(`disconnected:${id}:error`), "the disconnected-with-error message");
  assert.deepEqual(await eventsAbout(id), [`connected:${id}`, `disconnected:${id}:error`]);
});

test("a connection reconnecting after the server closed it: the old id's error, then the new id", async () => {
  const client = build({ reconnect: [0] });
  opened.push(client);
  await client.start();
  const oldId = client.connectionId;
  const reconnected = new Promise((resolve) => client.onreconnected(resolve));
  client.invoke("AbortMe", "come back", true).catch(() => {});
  const newId = await within(reconnected, "the client to reconnect");
  assert.notEqual(newId, oldId);
  await within(watcherGets(`connected:${newId}`), "the new id's connected message");
  await within(watcherGets(`disconnected:${oldId}:error`), "the old id's disconnected message");
  assert.deepEqual(await eventsAbout(oldId), [`connected:${oldId}`, `disconnected:${oldId}:error`]);
  assert.deepEqual(await eventsAbout(newId), [`connected:${newId}`]);
  await client.stop();
  await within(watcherGets(`disconnected:${newId}`), "the new id's disconnected message");
});

test("a client stopping while AskClient waits for its answer is reported disconnected", async () => {
  const client = await open();
  const id = client.connectionId;
  let asked;
  const question = new Promise((resolve) => {
    asked = resolve;
  });
  client.on("Answer", () => {
    asked();
    return new Promise(() => {}); // never answers
  });
  client.invoke("AskClient", "q").catch(() => {});
  await within(question, "the question");
  await client.stop();
  // The pending client result ends with the connection; nothing waits for it.
  await within(watcherGets(`disconnected:${id}`), "the disconnected message", 2000);
});

// ASP.NET ends streams with the connection (stream tokens follow ConnectionAborted;
// uploads complete with an error), so nothing waits for the drain timeout.
test("a client stopping mid-stream or mid-upload is reported disconnected promptly", async () => {
  const streaming = await open();
  const streamingId = streaming.connectionId;
  const { items } = collect(streaming.stream("Endless", 10));
  await waitFor(() => items.length > 0, "an item of Endless");
  await streaming.stop();
  await within(watcherGets(`disconnected:${streamingId}`), "the streaming client's disconnected message", 2000);

  const uploading = await open();
  const uploadingId = uploading.connectionId;
  const sends = trackSends(uploading);
  const subject = new signalR.Subject();
  uploading.invoke("Sum", subject).catch(() => {});
  subject.next(1);
  await uploading.invoke("Echo", "Sum is waiting");
  // The client chains the stream item's send after the invocation's, so over
  // HTTP transports it may still be on its way after Echo returned; stopping
  // first would make the server answer it 404 (the connection is gone) and
  // the client's unguarded chain report an unhandled rejection.
  await sends.settled();
  await uploading.stop();
  await within(watcherGets(`disconnected:${uploadingId}`), "the uploading client's disconnected message", 2000);
});

test("several connections coming and going: each reported once, with its own id", async () => {
  const clients = await Promise.all(Array.from({ length: 5 }, () => open()));
  const ids = clients.map((client) => client.connectionId);
  assert.equal(new Set(ids).size, ids.length);
  await Promise.all(clients.map((client) => client.stop()));
  await within(
    watcher.inbox.until(
      (messages) => ids.every((id) => messages.includes(`disconnected:${id}`)),
      "every disconnected message",
    ),
    "every disconnected message",
  );
  for (const id of ids) assert.deepEqual(await eventsAbout(id), [`connected:${id}`, `disconnected:${id}`]);
});

test("AdminOnly as 'bob': rejected by the hub filter", async () => {
  const bob = await open({ token: "bob" });
  await rejectsWith(
    bob.invoke("AdminOnly"),
    "An unexpected error occurred invoking 'AdminOnly' on the server. HubException: Only admin may call AdminOnly.",
  );
  assert.equal(await bob.invoke("Echo", "bob is fine"), "bob is fine", "other methods are not filtered");
});

test("AdminOnly invoked in another case by 'bob': still rejected", async () => {
  const bob = await open({ token: "bob" });
  await rejectsWith(
    bob.invoke("adminonly"),
    "An unexpected error occurred invoking 'adminonly' on the server. HubException: Only admin may call AdminOnly.",
  );
});

test("AdminOnly anonymously, or as 'Admin' (user ids are case-sensitive): rejected", async () => {
  const anonymous = await open();
  await rejectsWith(
    anonymous.invoke("AdminOnly"),
    "An unexpected error occurred invoking 'AdminOnly' on the server. HubException: Only admin may call AdminOnly.",
  );
  const capitalized = await open({ token: "Admin" });
  await rejectsWith(
    capitalized.invoke("AdminOnly"),
    "An unexpected error occurred invoking 'AdminOnly' on the server. HubException: Only admin may call AdminOnly.",
  );
});

test("AdminOnly as 'admin': 'secret'", async () => {
  const admin = await open({ token: "admin" });
  assert.equal(await admin.invoke("AdminOnly"), "secret");
  assert.equal(await admin.invoke("ADMINONLY"), "secret");
});

test("StartTicker(5): the caller receives tick 0..4, then ticks done, in order", async () => {
  await watcher.received(); // forget earlier tests' lifecycle messages
  const caller = new Peer("caller", await open());
  const bystander = new Peer("bystander", await open());
  assert.equal(await caller.invoke("StartTicker", 5), null);
  await within(
    caller.inbox.until((messages) => messages.includes("ticks done"), "ticks done"),
    "the ticks",
  );
  await assertReceived([caller, bystander, watcher], {
    caller: ["tick 0", "tick 1", "tick 2", "tick 3", "tick 4", "ticks done"],
    // The watcher saw the two connections connect.
    watcher: [`connected:${caller.id}`, `connected:${bystander.id}`],
  });
});

test("StartTicker(0): only ticks done", async () => {
  const caller = new Peer("caller", await open());
  await caller.invoke("StartTicker", 0);
  await within(
    caller.inbox.until((messages) => messages.includes("ticks done"), "ticks done"),
    "ticks done",
  );
  assert.deepEqual(await caller.received(), ["ticks done"]);
});

test("tickers of two connections at once: each caller gets only its own ticks, in order", async () => {
  const first = await open();
  const second = await open();
  const inboxes = [new Inbox(first), new Inbox(second)];
  await Promise.all([first.invoke("StartTicker", 50), second.invoke("StartTicker", 30)]);
  await within(
    Promise.all(inboxes.map((inbox) => inbox.until((messages) => messages.includes("ticks done"), "ticks done"))),
    "both tickers",
  );
  const ticks = (count) => [...Array.from({ length: count }, (_, i) => `tick ${i}`), "ticks done"];
  assert.deepEqual(await settle(first, inboxes[0]), ticks(50));
  assert.deepEqual(await settle(second, inboxes[1]), ticks(30));
});

test("the registry is empty once every connection has stopped", async () => {
  await assertRegistryClean(opened.splice(0));
});
