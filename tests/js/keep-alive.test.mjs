// Server keep-alive. Environment: KEEP_ALIVE_MS, the server's
// keep_alive_interval (short, e.g. 200). The server Pings a connection it has
// sent nothing to for that long, and only then.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { connect, signalR, RecordingProtocol, collect, within } from "./lib/client.mjs";

const KEEP_ALIVE_MS = Number(process.env.KEEP_ALIVE_MS);
assert.ok(KEEP_ALIVE_MS > 0 && KEEP_ALIVE_MS <= 500, `KEEP_ALIVE_MS=${process.env.KEEP_ALIVE_MS} (a short interval)`);

/** A RecordingProtocol that also notes when each message arrived. */
class TimedProtocol extends RecordingProtocol {
  constructor() {
    super();
    this.times = [];
  }

  parseMessages(input, logger) {
    const messages = super.parseMessages(input, logger);
    const now = performance.now();
    for (const message of messages) this.times.push({ at: now, message });
    return messages;
  }

  /** Arrival times of the Pings received in [from, to). */
  pingsBetween(from, to) {
    return this.times
      .filter(({ at, message }) => message.type === signalR.MessageType.Ping && at >= from && at < to)
      .map(({ at }) => at);
  }
}

const opened = [];
after(() => Promise.all(opened.map((connection) => connection.stop())));

async function open(options) {
  const connection = await connect(options);
  opened.push(connection);
  return connection;
}

test(`an idle connection gets a Ping about every ${KEEP_ALIVE_MS} ms`, async () => {
  const protocol = new TimedProtocol();
  await open({ protocol });
  // Watching an idle connection for a while is the behaviour under test.
  const windowMs = 5 * KEEP_ALIVE_MS;
  const from = performance.now();
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  const pings = protocol.pingsBetween(from, performance.now());
  assert.ok(pings.length >= 3, `${pings.length} Ping(s) in ${windowMs} ms`);
  assert.ok(pings.length <= 6, `${pings.length} Ping(s) in ${windowMs} ms: more than one per interval`);
  const gaps = pings.slice(1).map((at, i) => at - pings[i]);
  // Pings are not sent sooner than the interval (a little slack for delivery jitter).
  assert.ok(
    gaps.every((gap) => gap >= KEEP_ALIVE_MS * 0.75),
    `gaps between Pings: ${gaps.map(Math.round)}`,
  );
  // Nothing but Pings was sent to the idle connection.
  assert.deepEqual(protocol.messages, []);
});

test("no Ping while the server keeps sending other messages", async () => {
  const protocol = new TimedProtocol();
  const connection = await open({ protocol });
  // 20 items, one every KEEP_ALIVE_MS / 4: the connection is never idle for an interval.
  const count = 20;
  const { done } = collect(connection.stream("Counter", count, Math.round(KEEP_ALIVE_MS / 4)));
  const { items, error } = await within(done, "the stream", 10_000);
  assert.equal(error, undefined);
  assert.equal(items.length, count);
  const streamed = protocol.times.filter(({ message }) => message.type === signalR.MessageType.StreamItem);
  const from = streamed[0].at;
  const to = streamed.at(-1).at;
  assert.ok(to - from >= 3 * KEEP_ALIVE_MS, `the stream lasted ${to - from} ms`);
  assert.deepEqual(protocol.pingsBetween(from, to), [], "Pings while items flowed");
});

test("server Pings keep a client with a short server timeout connected through a long call", async () => {
  const connection = await open({ serverTimeoutMs: 3 * KEEP_ALIVE_MS });
  let closeError;
  connection.onclose((error) => {
    closeError = error ?? new Error("closed");
  });
  // During the Delay the server sends nothing but Pings; without them the
  // client would give up after 3 intervals.
  const ms = 8 * KEEP_ALIVE_MS;
  assert.equal(await within(connection.invoke("Delay", ms), "the Delay", 10_000), ms);
  assert.equal(closeError, undefined);
  assert.equal(connection.state, signalR.HubConnectionState.Connected);
});
