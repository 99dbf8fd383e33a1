// Server-to-client streams: items in order then completion, cancellation
// (dispose) that drops the producer, failures mid-stream, concurrent streams,
// and the errors for mixing up streaming and non-streaming invocations.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import {
  connect,
  signalR,
  RecordingProtocol,
  rejectsWith,
  collect,
  streamResult,
  waitFor,
  within,
  assertRegistryClean,
} from "./lib/client.mjs";

const protocol = new RecordingProtocol();
const connection = await connect({ protocol });
const opened = [connection];
after(() => Promise.all(opened.map((c) => c.stop())));

/** Proves `conn` still works. */
async function stillWorks(conn = connection) {
  const message = `alive ${Math.random()}`;
  assert.equal(await conn.invoke("Echo", message), message);
}

/** Waits until the server reports no live `Endless` producer. */
function producersGone(conn = connection) {
  return waitFor(async () => (await conn.invoke("LiveProducers")) === 0, "LiveProducers to reach 0");
}

/** The recorded StreamItem and Completion messages for one invocation id. */
function recordedFor(invocationId) {
  return protocol.messages.filter((message) => message.invocationId === invocationId);
}

test("Counter(5, 20) yields 0..4 in order, then completes", async () => {
  const { items, error } = await streamResult(connection.stream("Counter", 5, 20));
  assert.equal(error, undefined);
  assert.deepEqual(items, [0, 1, 2, 3, 4]);
});

test("Counter(0, ...) completes without any item", async () => {
  const { items, error } = await streamResult(connection.stream("Counter", 0, 20));
  assert.equal(error, undefined);
  assert.deepEqual(items, []);
});

test("on the wire: StreamItems with the stream's id, then a Completion with neither result nor error", async () => {
  protocol.received.length = 0;
  const { items } = await streamResult(connection.stream("Counter", 3, 1));
  assert.deepEqual(items, [0, 1, 2]);
  const [first] = protocol.messages;
  assert.ok(first, "the server sent something");
  const id = first.invocationId;
  assert.deepEqual(protocol.messages, [
    { type: signalR.MessageType.StreamItem, invocationId: id, item: 0 },
    { type: signalR.MessageType.StreamItem, invocationId: id, item: 1 },
    { type: signalR.MessageType.StreamItem, invocationId: id, item: 2 },
    { type: signalR.MessageType.Completion, invocationId: id },
  ]);
});

test("dispose() mid-stream: the producer is dropped, the server completes the stream, the connection works", async () => {
  assert.equal(await connection.invoke("LiveProducers"), 0, "no producer before the test");
  protocol.received.length = 0;
  let gotThree;
  const three = new Promise((resolve) => {
    gotThree = resolve;
  });
  const { subscription, items } = collect(connection.stream("Endless", 10), (_, all) => {
    if (all.length === 3) gotThree();
  });
  await within(three, "3 items of Endless");
  assert.deepEqual(items.slice(0, 3), [0, 1, 2]);
  assert.equal(await connection.invoke("LiveProducers"), 1, "the producer is alive while streaming");

  subscription.dispose();
  await producersGone();
  await stillWorks();

  // The server still ends the cancelled stream with a plain Completion, and
  // sends nothing for it afterwards.
  const id = protocol.messages.find((message) => message.type === signalR.MessageType.StreamItem).invocationId;
  const completion = await waitFor(
    () => recordedFor(id).find((message) => message.type === signalR.MessageType.Completion),
    "the Completion of the cancelled stream",
  );
  assert.deepEqual(completion, { type: signalR.MessageType.Completion, invocationId: id });
  await stillWorks();
  const forStream = recordedFor(id);
  assert.equal(forStream.at(-1), completion, "nothing for the stream after its Completion");
  forStream.slice(0, -1).forEach((message, i) => {
    assert.deepEqual(message, { type: signalR.MessageType.StreamItem, invocationId: id, item: i });
  });
});

test("several Endless streams disposed one by one: each producer is dropped", async () => {
  const streams = Array.from({ length: 3 }, () => collect(connection.stream("Endless", 5)));
  await waitFor(() => streams.every((stream) => stream.items.length > 0), "an item from each stream");
  assert.equal(await connection.invoke("LiveProducers"), 3);
  streams[1].subscription.dispose();
  await waitFor(async () => (await connection.invoke("LiveProducers")) === 2, "LiveProducers to reach 2");
  // The others keep streaming.
  const counts = streams.map((stream) => stream.items.length);
  await waitFor(
    () => streams[0].items.length > counts[0] && streams[2].items.length > counts[2],
    "more items from the streams not disposed",
  );
  streams[0].subscription.dispose();
  streams[2].subscription.dispose();
  await producersGone();
  await stillWorks();
});

/** Opens a connection streaming `Endless`, and waits for its first item. */
async function endlessOnAnotherConnection() {
  const doomed = await connect();
  opened.push(doomed);
  let gotOne;
  const one = new Promise((resolve) => {
    gotOne = resolve;
  });
  const { done } = collect(doomed.stream("Endless", 10), gotOne);
  await within(one, "an item of Endless");
  assert.equal(await connection.invoke("LiveProducers"), 1);
  return { doomed, done };
}

// ASP.NET ends streams with the connection (stream tokens follow ConnectionAborted;
// uploads complete with an error), so nothing waits for the drain timeout.
test("a connection stopped mid-stream: its producer is dropped promptly", async () => {
  const { doomed } = await endlessOnAnotherConnection();
  await doomed.stop();
  await waitFor(async () => (await connection.invoke("LiveProducers")) === 0, "LiveProducers to reach 0", 2000);
});

test("FailingCounter(2, 'oops') yields 0, 1, then fails with the streaming error", async () => {
  const { items, error } = await streamResult(connection.stream("FailingCounter", 2, "oops"));
  assert.deepEqual(items, [0, 1]);
  assert.ok(error instanceof Error, `expected an Error, got ${error}`);
  assert.equal(error.message, "An error occurred on the server while streaming results. HubException: oops");
  await stillWorks();
});

test("FailingCounter(0, ...) fails before any item", async () => {
  const { items, error } = await streamResult(connection.stream("FailingCounter", 0, "at once"));
  assert.deepEqual(items, []);
  assert.equal(error?.message, "An error occurred on the server while streaming results. HubException: at once");
  await stillWorks();
});

test("several streams at once on one connection interleave and all complete", async () => {
  protocol.received.length = 0;
  const specs = [
    [5, 40],
    [4, 50],
    [6, 30],
  ];
  const results = await within(
    Promise.all(specs.map(([count, delay]) => collect(connection.stream("Counter", count, delay)).done)),
    "every stream to complete",
  );
  results.forEach(({ items, error }, i) => {
    assert.equal(error, undefined);
    assert.deepEqual(items, Array.from({ length: specs[i][0] }, (_, n) => n));
  });
  // They ran concurrently: every stream's first item arrived before any
  // stream's last item.
  const items = protocol.messages.filter((message) => message.type === signalR.MessageType.StreamItem);
  const ids = [...new Set(items.map((message) => message.invocationId))];
  assert.equal(ids.length, specs.length);
  const firsts = ids.map((id) => items.findIndex((message) => message.invocationId === id));
  const lasts = ids.map((id) => items.findLastIndex((message) => message.invocationId === id));
  assert.ok(
    Math.max(...firsts) < Math.min(...lasts),
    `streams interleave: ${JSON.stringify(items.map((message) => message.invocationId))}`,
  );
});

test("a stream and plain invocations share the connection", async () => {
  const { done } = collect(connection.stream("Counter", 5, 30));
  assert.equal(await connection.invoke("Add", 1, 2), 3);
  await stillWorks();
  const { items, error } = await within(done, "the stream to complete");
  assert.equal(error, undefined);
  assert.deepEqual(items, [0, 1, 2, 3, 4]);
});

test("stream() of a non-streaming method: the non-streaming error, then the connection works", async () => {
  const { items, error } = await streamResult(connection.stream("Echo", "x"));
  assert.deepEqual(items, []);
  assert.equal(
    error?.message,
    "The client attempted to invoke the non-streaming 'Echo' method with a streaming invocation.",
  );
  await stillWorks();
});

test("invoke() of a streaming method: the streaming error, then the connection works", async () => {
  await rejectsWith(
    connection.invoke("Counter", 1, 1),
    "The client attempted to invoke the streaming 'Counter' method with a non-streaming invocation.",
  );
  await stillWorks();
  // Nothing of a stream leaks out for such an invocation.
  protocol.received.length = 0;
  await rejectsWith(
    connection.invoke("Endless", 1),
    "The client attempted to invoke the streaming 'Endless' method with a non-streaming invocation.",
  );
  await stillWorks();
  assert.ok(
    protocol.messages.every((message) => message.type === signalR.MessageType.Completion),
    `only completions: ${JSON.stringify(protocol.messages)}`,
  );
  assert.equal(await connection.invoke("LiveProducers"), 0);
});

test("stream() of an unknown method or with bad arguments: the binding errors", async () => {
  const unknown = await streamResult(connection.stream("NoSuchStream", 1));
  assert.equal(
    unknown.error?.message,
    "Failed to invoke 'NoSuchStream' due to an error on the server. HubException: Method does not exist.",
  );
  const badArguments = await streamResult(connection.stream("Counter", "five", 1));
  assert.equal(badArguments.error?.message, "Failed to invoke 'Counter' due to an error on the server.");
  await stillWorks();
});

test("no producer outlives the tests, and the registry is empty", async () => {
  await producersGone();
  await assertRegistryClean(opened.splice(0));
});
