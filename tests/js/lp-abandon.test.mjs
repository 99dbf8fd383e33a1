// Opens COUNT long-polling connections by raw HTTP, completes their handshakes,
// then abandons them: no more polls, no DELETE. The Rust side checks that the
// server drops them all after its disconnect timeout.
// Environment: HUB_URL, COUNT.
import { test } from "node:test";
import assert from "node:assert/strict";

const HUB_URL = process.env.HUB_URL;
const COUNT = Number(process.env.COUNT ?? "1000");
const BATCH = 50;

async function openAndAbandon() {
  const negotiate = await fetch(`${HUB_URL}/negotiate?negotiateVersion=1`, { method: "POST" });
  assert.equal(negotiate.status, 200);
  const { connectionToken } = await negotiate.json();
  const url = `${HUB_URL}?id=${connectionToken}`;
  const firstPoll = await fetch(`${url}&_=${Date.now()}`);
  assert.equal(firstPoll.status, 200, "the first poll starts the connection");
  await firstPoll.arrayBuffer();
  const handshake = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "text/plain;charset=UTF-8" },
    body: '{"protocol":"json","version":1}\u001e',
  });
  assert.equal(handshake.status, 200);
  await handshake.arrayBuffer();
}

test(`open ${COUNT} long-polling connections and abandon them`, async () => {
  for (let done = 0; done < COUNT; done += BATCH) {
    await Promise.all(Array.from({ length: Math.min(BATCH, COUNT - done) }, openAndAbandon));
  }
});
