// Client-to-server (upload) streams: a signalR.Subject passed as an argument.
// Sums, empty streams, two streams around a plain argument, a stream the
// client fails, wrong stream counts, and uploads whose invocation failed.
import { test, after, afterEach } from "node:test";
import assert from "node:assert/strict";
import {
  connect,
  signalR,
  RecordingProtocol,
  rejectsWith,
  within,
  assertRegistryClean,
  trackSends,
} from "./lib/client.mjs";

const protocol = new RecordingProtocol();
const connection = await connect({ protocol });
// Uploaded items are sent by the client on its own, one by one (slowly over
// Long Polling): each test waits for them before the next one starts.
const sends = trackSends(connection);
afterEach(() => sends.settled());
after(() => connection.stop());

/** Proves the connection still works. */
async function stillWorks() {
  const message = `alive ${Math.random()}`;
  assert.equal(await connection.invoke("Echo", message), message);
}

const unexpected = (target) => `An unexpected error occurred invoking '${target}' on the server.`;
const streamCount = (target, sent, expected) =>
  `${unexpected(target)} HubException: Client sent ${sent} stream(s), Hub method expects ${expected}.`;

/**
 * Bound for uploads of a thousand items: over Long Polling the client sends
 * each item in a POST of its own, one after the other, which takes seconds
 * on a busy machine (the suite runs tests in parallel).
 */
const BULK_UPLOAD_MS = 30_000;

/** Sends `items` on `subject`, then completes it. */
function upload(subject, items) {
  for (const item of items) subject.next(item);
  subject.complete();
}

test("Sum of 1..10 uploaded on a Subject", async () => {
  const subject = new signalR.Subject();
  const sum = connection.invoke("Sum", subject);
  upload(subject, Array.from({ length: 10 }, (_, i) => i + 1));
  assert.equal(await within(sum, "Sum"), 55);
});

test("Sum of 1..1000: far more items than the server buffers per stream", async () => {
  const subject = new signalR.Subject();
  const sum = connection.invoke("Sum", subject);
  upload(subject, Array.from({ length: 1000 }, (_, i) => i + 1));
  assert.equal(await within(sum, "Sum", BULK_UPLOAD_MS), 500_500);
});

test("Sum with items sent while the method already runs", async () => {
  const subject = new signalR.Subject();
  const sum = connection.invoke("Sum", subject);
  // Round trips between items: the server has long started Sum and waits for more.
  for (const n of [5, 7, 11]) {
    subject.next(n);
    await stillWorks();
  }
  subject.complete();
  assert.equal(await within(sum, "Sum"), 23);
});

test("Sum of an empty stream is 0", async () => {
  const subject = new signalR.Subject();
  const sum = connection.invoke("Sum", subject);
  subject.complete();
  assert.equal(await within(sum, "Sum"), 0);
});

test("several uploads at once on one connection", async () => {
  const subjects = Array.from({ length: 4 }, () => new signalR.Subject());
  const sums = subjects.map((subject) => connection.invoke("Sum", subject));
  // Interleave the items of the four streams, and complete them in reverse order.
  for (let n = 1; n <= 20; n++) subjects.forEach((subject, i) => subject.next(n * (i + 1)));
  [...subjects].reverse().forEach((subject) => subject.complete());
  assert.deepEqual(await within(Promise.all(sums), "every Sum"), [210, 420, 630, 840]);
});

test("SumBoth: two streams around a plain argument", async () => {
  const first = new signalR.Subject();
  const second = new signalR.Subject();
  const result = connection.invoke("SumBoth", first, "label", second);
  for (let n = 1; n <= 5; n++) {
    first.next(n);
    second.next(n * 100);
  }
  first.complete();
  second.complete();
  assert.equal(await within(result, "SumBoth"), "label: 15, 1500");
});

test("SumBoth: the second stream ends first, the first one is empty", async () => {
  const first = new signalR.Subject();
  const second = new signalR.Subject();
  const result = connection.invoke("SumBoth", first, "other", second);
  upload(second, [1, 2, 3]);
  await stillWorks();
  first.complete();
  assert.equal(await within(result, "SumBoth"), "other: 0, 6");
});

test("SumBoth: many items on the second stream while the first stays open", async () => {
  const first = new signalR.Subject();
  const second = new signalR.Subject();
  const result = connection.invoke("SumBoth", first, "busy", second);
  upload(second, Array.from({ length: 100 }, () => 1));
  upload(first, [42]);
  assert.equal(await within(result, "SumBoth"), "busy: 42, 100");
});

test("a Subject ended with an error fails the upload with the client's message", async () => {
  const subject = new signalR.Subject();
  const sum = connection.invoke("Sum", subject);
  subject.next(1);
  subject.next(2);
  subject.error(new Error("client broke"));
  await assert.rejects(within(sum, "Sum"), (error) => {
    assert.ok(error instanceof Error);
    assert.ok(error.message.startsWith(unexpected("Sum")), error.message);
    assert.ok(error.message.includes("client broke"), error.message);
    return true;
  });
  await stillWorks();
});

test("Sum without a stream: the stream-count error", async () => {
  await rejectsWith(connection.invoke("Sum"), streamCount("Sum", 0, 1));
  await stillWorks();
});

test("a stream for a method without stream parameters: the stream-count error", async () => {
  const subject = new signalR.Subject();
  await rejectsWith(connection.invoke("Echo", subject, "x"), streamCount("Echo", 1, 0));
  await stillWorks();
  subject.complete();
});

test("SumBoth with one stream: the stream-count error", async () => {
  const subject = new signalR.Subject();
  await rejectsWith(connection.invoke("SumBoth", subject, "label"), streamCount("SumBoth", 1, 2));
  subject.complete();
  await stillWorks();
});

test("an upload whose invocation was refused: its items are ignored, the connection works", async () => {
  const subject = new signalR.Subject();
  await rejectsWith(connection.invoke("Echo", subject, "x"), streamCount("Echo", 1, 0));
  protocol.received.length = 0;
  // Far more items than a stream buffers: if the server kept them for a
  // stream nobody reads, it would stop reading this connection.
  upload(subject, Array.from({ length: 100 }, (_, i) => i));
  await stillWorks();
  assert.deepEqual(
    protocol.messages.map((message) => message.type),
    [signalR.MessageType.Completion],
    `nothing but Echo's completion: ${JSON.stringify(protocol.messages)}`,
  );
  // A later upload is unaffected.
  const next = new signalR.Subject();
  const sum = connection.invoke("Sum", next);
  upload(next, [1, 2, 3]);
  assert.equal(await within(sum, "Sum"), 6);
});

test("an upload whose method failed on an item: later items are ignored, the connection works", async () => {
  const subject = new signalR.Subject();
  const sum = connection.invoke("Sum", subject);
  subject.next(1);
  subject.next("not a number");
  await assert.rejects(within(sum, "Sum"), (error) => {
    assert.ok(error.message.startsWith(unexpected("Sum")), error.message);
    return true;
  });
  protocol.received.length = 0;
  upload(subject, Array.from({ length: 100 }, (_, i) => i));
  await sends.settled();
  await stillWorks();
  assert.deepEqual(
    protocol.messages.map((message) => message.type),
    [signalR.MessageType.Completion],
    `nothing but Echo's completion: ${JSON.stringify(protocol.messages)}`,
  );
});

test("an upload that overflows Sum: the error, then later items are ignored", async () => {
  const subject = new signalR.Subject();
  const sum = connection.invoke("Sum", subject);
  subject.next(Number.MAX_SAFE_INTEGER);
  subject.next(Number.MAX_SAFE_INTEGER);
  // i64 overflows only after ~1024 such items; send enough, then more.
  for (let i = 0; i < 1100; i++) subject.next(Number.MAX_SAFE_INTEGER);
  await rejectsWith(within(sum, "Sum", BULK_UPLOAD_MS), `${unexpected("Sum")} HubException: Sum overflowed.`);
  upload(subject, [1, 2, 3]);
  await stillWorks();
});

test("the registry is empty once the connection has stopped", async () => {
  await assertRegistryClean([connection]);
});
