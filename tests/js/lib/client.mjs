// Shared helpers for tests that drive the server with the official client.
// Environment: HUB_URL (required): the hub's URL, e.g. http://127.0.0.1:1234/hubs/test;
// HUB_TRANSPORT (WebSockets, ServerSentEvents or LongPolling; default
// WebSockets) and HUB_PROTOCOL (json or messagepack; default json): what
// every connection built here uses unless a test asks otherwise.
import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import * as signalR from "@microsoft/signalr";
import { MessagePackHubProtocol } from "@microsoft/signalr-protocol-msgpack";

export { signalR };

export const HUB_URL = process.env.HUB_URL;
if (!HUB_URL) throw new Error("HUB_URL is not set");

/** The transport of this run (an `HttpTransportType` name). */
export const TRANSPORT = process.env.HUB_TRANSPORT ?? "WebSockets";
/** The hub protocol of this run. */
export const PROTOCOL = process.env.HUB_PROTOCOL ?? "json";
if (!(TRANSPORT in signalR.HttpTransportType)) throw new Error(`unknown HUB_TRANSPORT ${TRANSPORT}`);
if (PROTOCOL !== "json" && PROTOCOL !== "messagepack") throw new Error(`unknown HUB_PROTOCOL ${PROTOCOL}`);

/** A fresh instance of this run's hub protocol. */
export function hubProtocol() {
  return PROTOCOL === "messagepack" ? new MessagePackHubProtocol() : new signalR.JsonHubProtocol();
}

/**
 * Builds (not starts) a connection to the test hub. `token` becomes the user
 * id; `protocol` replaces the JSON hub protocol (e.g. a RecordingProtocol);
 * `reconnect` is `true` (the default retry delays) or an array of delays for
 * `withAutomaticReconnect`; `keepAliveMs` and `serverTimeoutMs` set the
 * client's Ping interval and server timeout; `httpClient` replaces the
 * client's HTTP client.
 */
export function build({
  url = HUB_URL,
  token,
  skipNegotiation = false,
  transport,
  protocol,
  reconnect,
  keepAliveMs,
  serverTimeoutMs,
  httpClient,
} = {}) {
  const options = {};
  if (httpClient !== undefined) options.httpClient = httpClient;
  if (token !== undefined) options.accessTokenFactory = () => token;
  if (skipNegotiation) {
    options.skipNegotiation = true;
    options.transport = signalR.HttpTransportType.WebSockets;
  } else if (transport !== null) {
    // `null`: no transport option, the client picks (and falls back).
    options.transport = transport ?? signalR.HttpTransportType[TRANSPORT];
  }
  const builder = new signalR.HubConnectionBuilder().withUrl(url, options).configureLogging(signalR.LogLevel.Error);
  builder.withHubProtocol(protocol ?? hubProtocol());
  if (reconnect === true) builder.withAutomaticReconnect();
  else if (reconnect !== undefined) builder.withAutomaticReconnect(reconnect);
  if (keepAliveMs !== undefined) builder.withKeepAliveInterval(keepAliveMs);
  if (serverTimeoutMs !== undefined) builder.withServerTimeout(serverTimeoutMs);
  return builder.build();
}

/** Builds and starts a connection. */
export async function connect(options) {
  const connection = build(options);
  await connection.start();
  return connection;
}

/**
 * Records every `Receive(message)` a connection gets, and lets a test wait
 * for messages (no sleeps: waits resolve as soon as the messages arrive).
 */
export class Inbox {
  constructor(connection, method = "Receive") {
    this.messages = [];
    this.waiters = [];
    connection.on(method, (message) => {
      this.messages.push(message);
      this.waiters = this.waiters.filter((waiter) => !waiter());
    });
  }

  /** Resolves once `done(messages)` is true, with the messages so far. */
  until(done, description, timeoutMs = 5000) {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!done(this.messages)) return false;
        clearTimeout(timer);
        resolve([...this.messages]);
        return true;
      };
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for ${description}; got ${JSON.stringify(this.messages)}`)),
        timeoutMs,
      );
      if (!check()) this.waiters.push(check);
    });
  }

  /** Resolves with the first `count` messages once they have arrived. */
  async take(count, timeoutMs) {
    const messages = await this.until((m) => m.length >= count, `${count} message(s)`, timeoutMs);
    return messages.slice(0, count);
  }
}

/**
 * Returns everything `inbox` received up to now, proven complete: the
 * connection asks the server to send a marker to itself; messages to one
 * connection are delivered in order, so once the marker arrives, anything
 * sent to this connection before the call has arrived too. The marker is
 * removed from the inbox.
 */
export async function settle(connection, inbox) {
  const marker = `settle-${Math.random()}`;
  await connection.invoke("SendToCaller", marker);
  await inbox.until((m) => m.includes(marker), `marker ${marker}`);
  inbox.messages.splice(inbox.messages.indexOf(marker), 1);
  return [...inbox.messages];
}

/** Returns what `inbox` received since the last drain, proven complete (see `settle`), and empties it. */
export async function drain(connection, inbox) {
  const messages = await settle(connection, inbox);
  inbox.messages.length = 0;
  return messages;
}

/**
 * A started connection with an inbox for `Receive`, a name for assertion
 * messages, and its connection id.
 */
export class Peer {
  static async open(name, options) {
    const connection = await connect(options);
    return new Peer(name, connection);
  }

  constructor(name, connection) {
    this.name = name;
    this.connection = connection;
    this.inbox = new Inbox(connection);
  }

  get id() {
    return this.connection.connectionId;
  }

  invoke(method, ...args) {
    return this.connection.invoke(method, ...args);
  }

  /** What arrived since the last call, proven complete. */
  received() {
    return drain(this.connection, this.inbox);
  }

  stop() {
    return this.connection.stop();
  }
}

/**
 * Asserts exactly what each peer received since the last check: `expected`
 * maps a peer's name to its messages in order; unlisted peers must have got
 * nothing.
 */
export async function assertReceived(peers, expected) {
  for (const name of Object.keys(expected)) {
    if (!peers.some((peer) => peer.name === name)) throw new Error(`no peer named ${name}`);
  }
  const received = await Promise.all(peers.map((peer) => peer.received()));
  const actual = Object.fromEntries(peers.map((peer, i) => [peer.name, received[i]]));
  const wanted = Object.fromEntries(peers.map((peer) => [peer.name, expected[peer.name] ?? []]));
  assert.deepEqual(actual, wanted);
}

/** Asserts that `promise` rejects with an Error whose message is exactly `message`. */
export async function rejectsWith(promise, message) {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof Error, `expected an Error, got ${error}`);
    assert.equal(error.message, message);
    return true;
  });
}

/** The test hub's registry counts, as `GetStats` reports them. */
export async function getStats(connection) {
  const { connections, users, groups, groupedConnections } = await connection.invoke("GetStats");
  return { connections, users, groups, groupedConnections };
}

/**
 * Polls `GetStats` until it equals `expected` (the server unregisters a
 * connection asynchronously once its socket closes), failing with the last
 * stats after `timeoutMs`.
 */
export async function waitForStats(connection, expected, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stats = await getStats(connection);
    if (isDeepStrictEqual(stats, expected)) return stats;
    if (Date.now() > deadline) {
      assert.deepEqual(stats, expected, `registry stats did not reach the expected counts within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Stops `connections`, then checks with a fresh connection that the server's
 * registry holds nothing but that connection: no leaked connection, user or
 * group.
 */
export async function assertRegistryClean(connections, { token } = {}) {
  await Promise.all(connections.map((connection) => connection.stop()));
  const fresh = await connect({ token });
  try {
    await waitForStats(fresh, {
      connections: 1,
      users: token === undefined ? 0 : 1,
      groups: 0,
      groupedConnections: 0,
    });
  } finally {
    await fresh.stop();
  }
}

/**
 * A parsed message in a protocol-neutral shape: the MessagePack parser adds
 * empty `headers` and undefined `result`/`error` keys the JSON one leaves out.
 */
function comparable(message) {
  const copy = { ...message };
  if (copy.headers !== undefined && Object.keys(copy.headers).length === 0) delete copy.headers;
  for (const key of Object.keys(copy)) {
    if (copy[key] === undefined) delete copy[key];
  }
  return copy;
}

/**
 * The JSON hub protocol, recording every message the client parses (after
 * the handshake), to check what the server sent, including messages the
 * client itself would ignore.
 */
export class RecordingProtocol {
  constructor() {
    this.inner = hubProtocol();
    this.name = this.inner.name;
    this.version = this.inner.version;
    this.transferFormat = this.inner.transferFormat;
    this.received = [];
  }

  parseMessages(input, logger) {
    const messages = this.inner.parseMessages(input, logger);
    this.received.push(...messages.map(comparable));
    return messages;
  }

  writeMessage(message) {
    return this.inner.writeMessage(message);
  }

  /** The recorded messages but Pings. */
  get messages() {
    return this.received.filter((message) => message.type !== signalR.MessageType.Ping);
  }
}

/**
 * Polls `condition` (sync or async) every 20 ms until it returns a truthy
 * value, which it resolves with; fails with `description` after `timeoutMs`.
 */
export async function waitFor(condition, description, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // A condition that never settles (an invocation without an answer) fails
    // at the deadline too, instead of hanging the test.
    const value = await within(Promise.resolve().then(condition), description, Math.max(deadline - Date.now(), 1));
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Rejects with `description` unless `promise` settles within `timeoutMs`. */
export function within(promise, description, timeoutMs = 5000) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${description}`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Subscribes to a stream (`connection.stream(...)`) and records it: `items`
 * so far, and `done`, a promise of `{ items, error }` once the stream
 * completes (`error` undefined) or fails. `onItem(item, items)` runs for each
 * item. `subscription.dispose()` cancels the stream.
 */
export function collect(stream, onItem = () => {}) {
  const items = [];
  let finish;
  const done = new Promise((resolve) => {
    finish = resolve;
  });
  const subscription = stream.subscribe({
    next: (item) => {
      items.push(item);
      onItem(item, items);
    },
    complete: () => finish({ items: [...items], error: undefined }),
    error: (error) => finish({ items: [...items], error }),
  });
  return { items, done, subscription };
}

/** Resolves with `{ items, error }` once the stream ended (see `collect`), failing after `timeoutMs`. */
export function streamResult(stream, timeoutMs = 5000) {
  return within(collect(stream).done, "the stream to end", timeoutMs);
}

/**
 * Tracks the sends of a connection that the client makes by itself (stream
 * items it POSTs one by one over Long Polling, ...), so that a test can wait
 * for them before it moves on or stops the connection. Uses the client's
 * `connection.connection.send`, the one door every outgoing message takes.
 */
export function trackSends(connection) {
  const transportConnection = connection.connection;
  const send = transportConnection.send.bind(transportConnection);
  const inFlight = new Set();
  transportConnection.send = (data) => {
    const sending = send(data);
    inFlight.add(sending);
    sending.then(
      () => inFlight.delete(sending),
      () => inFlight.delete(sending),
    );
    return sending;
  };
  return {
    /** Resolves once every send started so far (and any they chained) has settled. */
    async settled() {
      while (inFlight.size > 0) {
        await Promise.allSettled([...inFlight]);
        // Let chained sends (the client's promise queues) start.
        await new Promise((resolve) => setImmediate(resolve));
      }
    },
  };
}
