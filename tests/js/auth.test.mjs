// Authentication and per-method authorization through the official client.
// Environment: HUB_URL; with JWT=1 the server authenticates JWTs and refuses
// anonymous users, and VALID_TOKEN (alice, role admin), FORGED_TOKEN and
// EXPIRED_TOKEN are set.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { build, connect } from "./lib/client.mjs";

const jwt = process.env.JWT === "1";
const opened = [];
async function open(options) {
  const connection = await connect(options);
  opened.push(connection);
  return connection;
}
after(() => Promise.all(opened.map((connection) => connection.stop())));

if (!jwt) {
  test("#[hub(authorize)] refuses anonymous callers with ASP.NET's text", async () => {
    const anonymous = await open();
    await assert.rejects(anonymous.invoke("SecretForUsers"), {
      message: "Failed to invoke 'SecretForUsers' because user is unauthorized",
    });
    assert.equal(await anonymous.invoke("Echo", "still connected"), "still connected");
    const bob = await open({ token: "bob" });
    assert.equal(await bob.invoke("SecretForUsers"), "secret for bob");
  });

  test("#[hub(authorize = \"admin\")] needs the role claim", async () => {
    const bob = await open({ token: "bob" });
    await assert.rejects(bob.invoke("AdminByRole"), {
      message: "Failed to invoke 'AdminByRole' because user is unauthorized",
    });
    const admin = await open({ token: "admin" });
    assert.equal(await admin.invoke("AdminByRole"), "admin secret");
    assert.deepEqual(await admin.invoke("GetClaims"), [["role", "admin"]]);
  });

  test("a fire-and-forget call to a refused method gets nothing back", async () => {
    const anonymous = await open();
    await anonymous.send("SecretForUsers");
    assert.equal(await anonymous.invoke("Echo", "next"), "next");
  });
} else {
  test("a valid JWT: the user id is its sub, its roles authorize", async () => {
    const alice = await open({ token: process.env.VALID_TOKEN });
    assert.equal(await alice.invoke("Whoami"), "alice");
    assert.equal(await alice.invoke("AdminByRole"), "admin secret");
    assert.deepEqual(await alice.invoke("GetClaims"), [["role", "admin"]]);
  });

  for (const [name, token] of [
    ["no token", undefined],
    ["a forged token", process.env.FORGED_TOKEN],
    ["an expired token", process.env.EXPIRED_TOKEN],
  ]) {
    test(`${name} is refused at negotiate (401)`, async () => {
      const connection = build({ token });
      await assert.rejects(connection.start(), (error) => {
        assert.match(String(error), /401/);
        return true;
      });
    });
  }
}
