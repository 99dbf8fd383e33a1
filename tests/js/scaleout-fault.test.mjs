// Redis goes away while two nodes serve clients, then comes back: both
// nodes keep serving their local clients meanwhile, count what could not be
// published as lost, and deliver across nodes again once Redis is back.
// Environment: NODE1_URL, NODE2_URL. Asks the Rust side (by printing a line
// starting with @ and reading the answer on stdin) to stop and start Redis.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createInterface } from "node:readline";
import { build, signalR, Inbox, waitFor, within } from "./lib/client.mjs";

const stdin = createInterface({ input: process.stdin });
const answers = [];
const waiting = [];
stdin.on("line", (line) => (waiting.length > 0 ? waiting.shift()(line) : answers.push(line)));
/** Asks the test runner to do something; resolves with its answer. */
function ask(request) {
  console.log(`@${request}`);
  const answer = answers.length > 0 ? Promise.resolve(answers.shift()) : new Promise((resolve) => waiting.push(resolve));
  return within(answer, `the test runner's answer to ${request}`, 30_000);
}
after(() => stdin.close());

const [NODE1, NODE2] = [process.env.NODE1_URL, process.env.NODE2_URL];
const opened = [];
async function peer(url) {
  const connection = build({ url, transport: signalR.HttpTransportType.WebSockets });
  const inbox = new Inbox(connection);
  await connection.start();
  opened.push(connection);
  return { connection, inbox };
}
after(() => Promise.all(opened.map((connection) => connection.stop())));

const sender1 = await peer(NODE1);
const local1 = await peer(NODE1);
const sender2 = await peer(NODE2);
const remote2 = await peer(NODE2);

/** Sends from node 1 until node 2's client receives one (bounded). */
async function crossNodeDelivery(tag) {
  let n = 0;
  await waitFor(
    async () => {
      await sender1.connection.invoke("SendToAll", `${tag}-${n++}`);
      return remote2.inbox.messages.some((message) => message.startsWith(`${tag}-`));
    },
    `a message from node 1 reaching node 2 (${tag})`,
    20_000,
  );
}

test("Redis down: each node keeps serving its own clients; messages for the other node are counted lost", { timeout: 120_000 }, async () => {
  await crossNodeDelivery("before");
  const lostBefore = (await sender1.connection.invoke("GetClusterStats")).lost;

  assert.equal(await ask("stop-redis"), "stopped");
  // Local delivery and invocations go on, on both nodes.
  await sender1.connection.invoke("SendToAll", "during outage from node 1");
  await local1.inbox.until((messages) => messages.includes("during outage from node 1"), "node 1's local broadcast");
  await sender2.connection.invoke("SendToAll", "during outage from node 2");
  await remote2.inbox.until((messages) => messages.includes("during outage from node 2"), "node 2's local broadcast");
  assert.equal(await sender1.connection.invoke("Echo", "still here"), "still here");
  // What node 1 could not publish is counted, not dropped silently.
  await waitFor(
    async () => (await sender1.connection.invoke("GetClusterStats")).lost > lostBefore,
    "the lost counter to grow",
    10_000,
  );

  assert.equal(await ask("start-redis"), "started");
  await crossNodeDelivery("after");
  // And the other way round.
  let n = 0;
  await waitFor(
    async () => {
      await sender2.connection.invoke("SendToAll", `back-${n++}`);
      return local1.inbox.messages.some((message) => message.startsWith("back-"));
    },
    "a message from node 2 reaching node 1",
    20_000,
  );
});
