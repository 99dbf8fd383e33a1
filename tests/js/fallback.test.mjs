// A client given no transport option ends up on the best transport the server
// offers and accepts, then works normally.
// Environment: HUB_URL, EXPECTED_TRANSPORT (the JS class name, e.g.
// "ServerSentEventsTransport").
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { connect, Inbox } from "./lib/client.mjs";

const expected = process.env.EXPECTED_TRANSPORT;
if (!expected) throw new Error("EXPECTED_TRANSPORT is not set");

// No transport option: the client picks from what negotiate offers.
const first = await connect({ transport: null });
const second = await connect({ transport: null });
const inbox = new Inbox(second);
after(() => Promise.all([first.stop(), second.stop()]));

test(`the client falls back to ${expected}`, () => {
  assert.equal(first.connection.transport.constructor.name, expected);
  assert.equal(second.connection.transport.constructor.name, expected);
});

test("Echo works", async () => {
  assert.equal(await first.invoke("Echo", "over the fallback"), "over the fallback");
});

test("SendToAll reaches another client", async () => {
  await first.invoke("SendToAll", "broadcast");
  assert.deepEqual(await inbox.take(1), ["broadcast"]);
});

test("Counter streams every item in order", async () => {
  const items = [];
  await new Promise((resolve, reject) =>
    first.stream("Counter", 5, 5).subscribe({ next: (item) => items.push(item), complete: resolve, error: reject }),
  );
  assert.deepEqual(items, [0, 1, 2, 3, 4]);
});
