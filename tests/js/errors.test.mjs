// Failed invocations: the exact error texts (ASP.NET's), no leaked server
// details, errors suppressed for non-blocking sends, and the connection
// working after each failure.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { connect, signalR, RecordingProtocol, rejectsWith, assertRegistryClean } from "./lib/client.mjs";

const protocol = new RecordingProtocol();
const connection = await connect({ protocol });
const bystander = await connect();
after(() => Promise.all([connection.stop(), bystander.stop()]));

/** Proves `connection` still works after a failure. */
async function stillWorks(conn = connection) {
  const message = `alive ${Math.random()}`;
  assert.equal(await conn.invoke("Echo", message), message);
}

const notFound = (target) => `Failed to invoke '${target}' due to an error on the server. HubException: Method does not exist.`;
const badArguments = (target) => `Failed to invoke '${target}' due to an error on the server.`;
const unexpected = (target) => `An unexpected error occurred invoking '${target}' on the server.`;

test("unknown method: 'Method does not exist.', then the connection works", async () => {
  await rejectsWith(connection.invoke("Nope"), notFound("Nope"));
  await stillWorks();
  await rejectsWith(connection.invoke("Nope", 1, "two", [3]), notFound("Nope"));
  await stillWorks();
  // The error names the target as the client sent it.
  await rejectsWith(connection.invoke("NOPE"), notFound("NOPE"));
  await stillWorks();
});

test("wrong argument count: a generic binding error, then the connection works", async () => {
  await rejectsWith(connection.invoke("Echo"), badArguments("Echo"));
  await stillWorks();
  await rejectsWith(connection.invoke("Echo", "a", "b"), badArguments("Echo"));
  await stillWorks();
  await rejectsWith(connection.invoke("Add", 1), badArguments("Add"));
  await stillWorks();
  await rejectsWith(connection.invoke("Add", 1, 2, 3), badArguments("Add"));
  await stillWorks();
  await rejectsWith(connection.invoke("GetConnectionId", "unexpected"), badArguments("GetConnectionId"));
  await stillWorks();
});

test("argument of the wrong type: a generic binding error, then the connection works", async () => {
  await rejectsWith(connection.invoke("Add", "x", 1), badArguments("Add"));
  await stillWorks();
  await rejectsWith(connection.invoke("Add", 1.5, 1), badArguments("Add"));
  await stillWorks();
  await rejectsWith(connection.invoke("Add", null, 1), badArguments("Add"));
  await stillWorks();
  await rejectsWith(connection.invoke("Echo", 42), badArguments("Echo"));
  await stillWorks();
  await rejectsWith(connection.invoke("Echo", { message: "x" }), badArguments("Echo"));
  await stillWorks();
  await rejectsWith(connection.invoke("SendToConnections", "not a list", "x"), badArguments("SendToConnections"));
  await stillWorks();
});

test("Throw: the HubException message reaches the client, then the connection works", async () => {
  await rejectsWith(connection.invoke("Throw", "boom"), `${unexpected("Throw")} HubException: boom`);
  await stillWorks();
  const message = "ünïcødé \"quoted\" message\nwith a newline";
  await rejectsWith(connection.invoke("Throw", message), `${unexpected("Throw")} HubException: ${message}`);
  await stillWorks();
});

test("Throw invoked with another case: the error names the target as sent", async () => {
  await rejectsWith(connection.invoke("throw", "lower"), `${unexpected("throw")} HubException: lower`);
  await stillWorks();
});

test("Panic: a generic error without the panic text, then the connection works", async () => {
  for (let i = 0; i < 3; i++) {
    await rejectsWith(connection.invoke("Panic", "secret panic text"), unexpected("Panic"));
    await stillWorks();
  }
  await stillWorks(bystander);
});

test("FailUnexpectedly: a generic error that does not leak the message, then the connection works", async () => {
  await rejectsWith(connection.invoke("FailUnexpectedly", "secret database password"), unexpected("FailUnexpectedly"));
  await stillWorks();
});

test("failures in a pipeline do not disturb the invocations around them", async () => {
  const results = await Promise.allSettled([
    connection.invoke("Echo", "before"),
    connection.invoke("Panic", "pipelined"),
    connection.invoke("Nope"),
    connection.invoke("Throw", "pipelined"),
    connection.invoke("Add", "x", 1),
    connection.invoke("FailUnexpectedly", "pipelined"),
    connection.invoke("Echo", "after"),
  ]);
  const summary = results.map((result) =>
    result.status === "fulfilled" ? { value: result.value } : { error: result.reason.message },
  );
  assert.deepEqual(summary, [
    { value: "before" },
    { error: unexpected("Panic") },
    { error: notFound("Nope") },
    { error: `${unexpected("Throw")} HubException: pipelined` },
    { error: badArguments("Add") },
    { error: unexpected("FailUnexpectedly") },
    { value: "after" },
  ]);
});

test("send() (no invocation id): the server answers nothing, even on errors", async () => {
  protocol.received.length = 0;
  await connection.send("Nope", 1);
  await connection.send("Echo");
  await connection.send("Add", "x", 1);
  await connection.send("Throw", "not reported");
  await connection.send("Panic", "not reported");
  await connection.send("FailUnexpectedly", "not reported");
  await connection.send("Echo", "result not reported");
  // The server handles one connection's messages in order: anything it sent
  // for the sends above arrives before this invocation's completion.
  assert.equal(await connection.invoke("Echo", "after sends"), "after sends");
  const messages = protocol.messages;
  assert.equal(messages.length, 1, `only the Echo completion: ${JSON.stringify(messages)}`);
  assert.equal(messages[0].type, signalR.MessageType.Completion);
  assert.equal(messages[0].result, "after sends");
  assert.equal(connection.state, signalR.HubConnectionState.Connected);
});

test("send() runs the method: a non-blocking SendToCaller is delivered", async () => {
  const received = [];
  connection.on("Receive", (message) => {
    received.push(message);
  });
  try {
    await connection.send("SendToCaller", "sent without id");
    await connection.invoke("Echo", "sync");
    assert.deepEqual(received, ["sent without id"]);
  } finally {
    connection.off("Receive");
  }
});

test("the registry is empty once every connection has stopped", async () => {
  await assertRegistryClean([connection, bystander]);
});
