// The test hub's request/response methods through the official client.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { connect } from "./lib/client.mjs";

const alice = await connect({ token: "alice" });
const anonymous = await connect();
after(() => Promise.all([alice.stop(), anonymous.stop()]));

test("Echo returns its argument", async () => {
  assert.equal(await alice.invoke("Echo", "hello"), "hello");
  assert.equal(await alice.invoke("Echo", "ünïcødé ✓ \"quotes\" \n newline"), "ünïcødé ✓ \"quotes\" \n newline");
});

test("Add adds", async () => {
  assert.equal(await alice.invoke("Add", 40, 2), 42);
  assert.equal(await alice.invoke("Add", -5, 3), -2);
});

test("GetConnectionId returns the id the client knows", async () => {
  assert.equal(await alice.invoke("GetConnectionId"), alice.connectionId);
  assert.notEqual(alice.connectionId, anonymous.connectionId);
});

test("Whoami returns the bearer token's user, or null", async () => {
  assert.equal(await alice.invoke("Whoami"), "alice");
  assert.equal(await anonymous.invoke("Whoami"), null);
});
