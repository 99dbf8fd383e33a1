// Every request/response method of the test hub, method-name matching, and
// connections that skip negotiation.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { connect, Peer, assertReceived, assertRegistryClean } from "./lib/client.mjs";

const alice = await Peer.open("alice", { token: "alice" });
const anonymous = await Peer.open("anonymous");
const opened = [alice.connection, anonymous.connection];
after(() => Promise.all(opened.map((connection) => connection.stop())));

/** Opens a connection this file stops at the end. */
async function open(options) {
  const connection = await connect(options);
  opened.push(connection);
  return connection;
}

test("Echo returns its argument unchanged", async () => {
  for (const message of ["", "hello", "ünïcødé ✓ 🚀", 'quotes " \\ and \n newlines \t', "x".repeat(20_000)]) {
    assert.equal(await alice.invoke("Echo", message), message);
  }
});

test("Add adds, including negative and large (but JS-safe) integers", async () => {
  assert.equal(await alice.invoke("Add", 40, 2), 42);
  assert.equal(await alice.invoke("Add", -5, 3), -2);
  assert.equal(await alice.invoke("Add", 0, 0), 0);
  assert.equal(await alice.invoke("Add", 2 ** 50, 2 ** 50 + 1), 2 ** 51 + 1);
});

test("GetConnectionId returns the caller's negotiated id, distinct per connection", async () => {
  const first = await alice.invoke("GetConnectionId");
  assert.equal(typeof first, "string");
  assert.notEqual(first, "");
  assert.equal(first, alice.id);
  assert.equal(await alice.invoke("GetConnectionId"), first, "stable for the connection's lifetime");
  assert.equal(await anonymous.invoke("GetConnectionId"), anonymous.id);
  assert.notEqual(anonymous.id, alice.id);
});

test("Whoami returns the bearer token as the user id, or null without a token", async () => {
  assert.equal(await alice.invoke("Whoami"), "alice");
  assert.equal(await anonymous.invoke("Whoami"), null);
  const upper = await open({ token: "Alice" });
  assert.equal(await upper.invoke("Whoami"), "Alice", "the user id keeps its case");
});

test("Delay returns its argument after waiting that long", async () => {
  assert.equal(await alice.invoke("Delay", 0), 0);
  const start = performance.now();
  assert.equal(await alice.invoke("Delay", 200), 200);
  const elapsed = performance.now() - start;
  assert.ok(elapsed >= 199, `Delay(200) answered after ${elapsed} ms`);
});

test("void methods complete with a null result", async () => {
  assert.equal(await alice.invoke("SendToCaller", "void"), null);
  assert.equal(await alice.invoke("JoinGroup", "methods-void"), null);
  assert.equal(await alice.invoke("LeaveGroup", "methods-void"), null);
  assert.equal(await alice.invoke("SendToGroup", "methods-void", "nobody"), null);
  await assertReceived([alice], { alice: ["void"] });
});

test("method names match case-insensitively", async () => {
  assert.equal(await alice.invoke("echo", "lower"), "lower");
  assert.equal(await alice.invoke("ECHO", "upper"), "upper");
  assert.equal(await alice.invoke("eChO", "mixed"), "mixed");
  assert.equal(await alice.invoke("ADD", 1, 2), 3);
  assert.equal(await alice.invoke("getconnectionid"), alice.id);
  assert.equal(await alice.invoke("WHOAMI"), "alice");
  await alice.invoke("sEnDtOcAlLeR", "via mixed case");
  await alice.invoke("sendtocaller", "via lower case");
  await assertReceived([alice, anonymous], { alice: ["via mixed case", "via lower case"] });
});

test("skipNegotiation: calls work, and the server assigns a real connection id", async () => {
  const skipped = await open({ skipNegotiation: true });
  assert.equal(skipped.connectionId, null, "the client never learns its id without negotiation");
  assert.equal(await skipped.invoke("Echo", "no negotiate"), "no negotiate");
  assert.equal(await skipped.invoke("Add", 2, 3), 5);
  assert.equal(await skipped.invoke("Whoami"), null);

  const id = await skipped.invoke("GetConnectionId");
  assert.equal(typeof id, "string");
  assert.notEqual(id, "");
  assert.notEqual(id, alice.id);

  // The id is the one the server routes by: another connection can reach it.
  const peer = new Peer("skipped", skipped);
  await alice.invoke("SendToConnection", id, "found you");
  await assertReceived([peer, alice], { skipped: ["found you"] });

  const other = await open({ skipNegotiation: true });
  assert.notEqual(await other.invoke("GetConnectionId"), id, "each connection gets its own id");
});

test("skipNegotiation: the bearer token still sets the user id", async () => {
  const bob = await open({ skipNegotiation: true, token: "bob" });
  assert.equal(await bob.invoke("Whoami"), "bob");
  const peer = new Peer("bob", bob);
  await alice.invoke("SendToUser", "bob", "to bob");
  await assertReceived([peer, alice], { bob: ["to bob"] });
});

test("the registry is empty once every connection has stopped", async () => {
  await assertRegistryClean(opened.splice(0));
  await assertRegistryClean([], { token: "alice" });
});
