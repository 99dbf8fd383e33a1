// Scheduling of one connection's invocations. Environment: MAX_PARALLEL, the
// server's maximum_parallel_invocations_per_client (default 1, ASP.NET's).
// With 1, calls run one at a time in arrival order; with more, up to that many
// run at once. Streaming calls (server-to-client and upload) never take a
// slot, and non-blocking sends take their turn without being answered.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import {
  connect,
  signalR,
  RecordingProtocol,
  collect,
  waitFor,
  within,
  assertRegistryClean,
} from "./lib/client.mjs";

const MAX_PARALLEL = Number(process.env.MAX_PARALLEL ?? "1");
assert.ok(Number.isInteger(MAX_PARALLEL) && MAX_PARALLEL >= 1, `MAX_PARALLEL=${process.env.MAX_PARALLEL}`);
const serial = MAX_PARALLEL === 1;
/** Tests only for one mode are not registered in the other. */
const serialTest = serial ? test : () => {};
const parallelTest = serial ? () => {} : test;

const protocol = new RecordingProtocol();
const connection = await connect({ protocol });
after(() => connection.stop());

/**
 * Fires every call of `calls` (`[label, method, ...args]`) at once, without
 * awaiting in between, and resolves with the labels in completion order and
 * each call's time from the start to its completion.
 */
async function fire(calls) {
  const order = [];
  const elapsed = {};
  const start = performance.now();
  await within(
    Promise.all(
      calls.map(([label, method, ...args]) =>
        connection.invoke(method, ...args).then(() => {
          order.push(label);
          elapsed[label] = performance.now() - start;
        }),
      ),
    ),
    "every call to complete",
    10_000,
  );
  return { order, elapsed };
}

/** Resolves with `connection`'s answer to Echo, failing if it takes more than `timeoutMs`. */
async function echoWithin(timeoutMs, description) {
  const message = `echo ${Math.random()}`;
  assert.equal(await within(connection.invoke("Echo", message), description, timeoutMs), message);
}

serialTest("one at a time: Echo sent after Delay(300) completes after it", async () => {
  const { order, elapsed } = await fire([
    ["Delay", "Delay", 300],
    ["Echo", "Echo", "quick"],
  ]);
  assert.deepEqual(order, ["Delay", "Echo"], "Echo waits for the Delay sent before it");
  assert.ok(elapsed.Echo >= 290, `Echo answered after ${elapsed.Echo} ms, before the Delay(300) ended`);
});

serialTest("one at a time: a short Delay sent after a long one completes after it", async () => {
  const { order, elapsed } = await fire([
    ["long", "Delay", 400],
    ["short", "Delay", 10],
  ]);
  assert.deepEqual(order, ["long", "short"]);
  assert.ok(elapsed.short >= 400, `the short Delay ended after ${elapsed.short} ms: it ran alongside the long one`);
});

serialTest("one at a time: more calls than the server queues all complete, in order", async () => {
  // The queue holds 32 calls; past that the server stops reading until a slot frees.
  const calls = [["Delay", "Delay", 200], ...Array.from({ length: 60 }, (_, i) => [`echo ${i}`, "Echo", `${i}`])];
  const { order } = await fire(calls);
  assert.deepEqual(
    order,
    calls.map(([label]) => label),
  );
});

parallelTest(`${MAX_PARALLEL} at once: Echo completes before a Delay(300) sent first`, async () => {
  const { order, elapsed } = await fire([
    ["Delay", "Delay", 300],
    ["Echo", "Echo", "quick"],
  ]);
  assert.deepEqual(order, ["Echo", "Delay"]);
  assert.ok(elapsed.Echo < 250, `Echo answered after ${elapsed.Echo} ms`);
});

parallelTest(`${MAX_PARALLEL} at once: a Delay(10) sent after Delay(400)s completes first`, async () => {
  const longs = Array.from({ length: MAX_PARALLEL - 1 }, (_, i) => [`long ${i}`, "Delay", 400]);
  const { order, elapsed } = await fire([...longs, ["short", "Delay", 10]]);
  assert.equal(order[0], "short", `completion order ${JSON.stringify(order)}`);
  assert.ok(elapsed.short < 300, `the short Delay ended after ${elapsed.short} ms`);
});

parallelTest(`${MAX_PARALLEL} at once, not more: one call past the limit waits for a slot`, async () => {
  const longs = Array.from({ length: MAX_PARALLEL }, (_, i) => [`long ${i}`, "Delay", 400]);
  const { order, elapsed } = await fire([...longs, ["short", "Delay", 10]]);
  assert.notEqual(order[0], "short", `completion order ${JSON.stringify(order)}`);
  assert.ok(elapsed.short >= 400, `the short Delay ended after ${elapsed.short} ms: it did not wait for a slot`);
});

test("a server-to-client stream takes no slot: Echo completes while Endless runs", async () => {
  let gotOne;
  const one = new Promise((resolve) => {
    gotOne = resolve;
  });
  const { subscription, items, done } = collect(connection.stream("Endless", 20), gotOne);
  let ended = false;
  done.then(() => {
    ended = true;
  });
  await within(one, "an item of Endless");
  for (let i = 0; i < 3; i++) await echoWithin(2000, "Echo while Endless streams");
  assert.equal(await within(connection.invoke("Add", 2, 3), "Add while Endless streams", 2000), 5);
  assert.equal(ended, false, "the stream was still running");
  const seen = items.length;
  await waitFor(() => items.length > seen, "more items after the calls");
  subscription.dispose();
  await waitFor(async () => (await connection.invoke("LiveProducers")) === 0, "LiveProducers to reach 0");
});

test("several streams take no slot: Echo completes while more streams than slots run", async () => {
  const streams = Array.from({ length: MAX_PARALLEL + 2 }, () => collect(connection.stream("Endless", 20)));
  await waitFor(() => streams.every((stream) => stream.items.length > 0), "an item from every stream");
  await echoWithin(2000, "Echo while the streams run");
  streams.forEach((stream) => stream.subscription.dispose());
  await waitFor(async () => (await connection.invoke("LiveProducers")) === 0, "LiveProducers to reach 0");
});

test("an upload call takes no slot: Echo completes while Sum waits for its stream", async () => {
  const subject = new signalR.Subject();
  let summed = false;
  const sum = connection.invoke("Sum", subject).then((result) => {
    summed = true;
    return result;
  });
  subject.next(20);
  await echoWithin(2000, "Echo while Sum waits");
  subject.next(22);
  await echoWithin(2000, "another Echo while Sum waits");
  assert.equal(summed, false, "Sum was still waiting for its stream");
  subject.complete();
  assert.equal(await within(sum, "Sum"), 42);
});

serialTest("a non-blocking send() is never answered but takes its turn", async () => {
  protocol.received.length = 0;
  const start = performance.now();
  await connection.send("Delay", 200);
  const echo = await connection.invoke("Echo", "after send");
  const elapsed = performance.now() - start;
  assert.equal(echo, "after send");
  assert.ok(elapsed >= 190, `Echo answered after ${elapsed} ms, before the sent Delay(200) ended`);
  // Only Echo's Completion came back: nothing for the sent Delay, which
  // finished before Echo started.
  assert.deepEqual(
    protocol.messages.map(({ type, result }) => ({ type, result })),
    [{ type: signalR.MessageType.Completion, result: "after send" }],
  );
});

parallelTest(`${MAX_PARALLEL} at once: non-blocking sends take slots too`, async () => {
  protocol.received.length = 0;
  const start = performance.now();
  for (let i = 0; i < MAX_PARALLEL; i++) await connection.send("Delay", 400);
  const echo = await within(connection.invoke("Echo", "after sends"), "Echo after the sends");
  const elapsed = performance.now() - start;
  assert.equal(echo, "after sends");
  assert.ok(elapsed >= 390, `Echo answered after ${elapsed} ms, while every slot ran a sent Delay(400)`);
  assert.deepEqual(
    protocol.messages.map(({ type, result }) => ({ type, result })),
    [{ type: signalR.MessageType.Completion, result: "after sends" }],
  );
});

test("non-blocking sends are never answered, even when they fail", async () => {
  protocol.received.length = 0;
  await connection.send("Delay", 50);
  await connection.send("Throw", "not reported");
  await connection.send("NoSuchMethod");
  await connection.send("Counter", 1, 1);
  // The sent Delay has ended once a later Delay(100) has (after it, or beside it).
  assert.equal(await connection.invoke("Delay", 100), 100);
  assert.equal(await connection.invoke("Echo", "last"), "last");
  assert.deepEqual(
    protocol.messages.map(({ type, result }) => ({ type, result })),
    [
      { type: signalR.MessageType.Completion, result: 100 },
      { type: signalR.MessageType.Completion, result: "last" },
    ],
  );
});

test("the registry is empty once the connection has stopped", async () => {
  await assertRegistryClean([connection]);
});
