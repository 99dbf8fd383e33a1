// Client results: AskClient invokes the caller's `Answer(question)` handler
// and returns its reply; missing handlers, throwing handlers and handlers
// returning nothing fail the call with the client's error. All with the
// default MaximumParallelInvocationsPerClient = 1: the server must keep
// reading (the client's Completion) while AskClient holds the only slot.
// Environment: CLIENT_RESULT_TIMEOUT_MS, when set, is the server's
// client_result_timeout, and only the tests of that timeout run.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { connect, signalR, RecordingProtocol, waitFor, within, assertRegistryClean } from "./lib/client.mjs";

const RESULT_TIMEOUT_MS = process.env.CLIENT_RESULT_TIMEOUT_MS ? Number(process.env.CLIENT_RESULT_TIMEOUT_MS) : undefined;
/** Tests for the default server, and for a server with a short client-result timeout. */
const defaultTest = RESULT_TIMEOUT_MS === undefined ? test : () => {};
const timeoutTest = RESULT_TIMEOUT_MS === undefined ? () => {} : test;

const opened = [];
after(() => Promise.all(opened.map((connection) => connection.stop())));

/** Opens a connection this file stops at the end. */
async function open(options) {
  const connection = await connect(options);
  opened.push(connection);
  return connection;
}

/** A started connection whose `Answer` handlers are `handlers` (none if empty). */
async function answering(...handlers) {
  const connection = await open();
  for (const handler of handlers) connection.on("Answer", handler);
  return connection;
}

/** Asserts that `AskClient(question)` on `connection` fails with an error containing `text`. */
async function askFails(connection, question, text) {
  await assert.rejects(within(connection.invoke("AskClient", question), "AskClient"), (error) => {
    assert.ok(error instanceof Error, `expected an Error, got ${error}`);
    assert.ok(
      error.message.startsWith("An unexpected error occurred invoking 'AskClient' on the server."),
      error.message,
    );
    assert.ok(error.message.includes(text), `${JSON.stringify(error.message)} contains ${JSON.stringify(text)}`);
    return true;
  });
  // The connection survives the failed call.
  assert.equal(await connection.invoke("Echo", "still here"), "still here");
}

defaultTest("a synchronous handler's return value is AskClient's result", async () => {
  const questions = [];
  const connection = await answering((question) => {
    questions.push(question);
    return `reply to ${question}`;
  });
  assert.equal(await within(connection.invoke("AskClient", "q1"), "AskClient"), "reply to q1");
  assert.equal(await within(connection.invoke("AskClient", "ünïcødé ✓"), "AskClient"), "reply to ünïcødé ✓");
  assert.deepEqual(questions, ["q1", "ünïcødé ✓"]);
});

defaultTest("an async handler's resolved value is AskClient's result", async () => {
  const connection = await answering(async (question) => {
    // Resolve on a later turn of the event loop (after I/O), not synchronously.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 50));
    return `later: ${question}`;
  });
  assert.equal(await within(connection.invoke("AskClient", "slow"), "AskClient"), "later: slow");
});

defaultTest("on the wire: the server's Invocation carries an id and the question", async () => {
  const protocol = new RecordingProtocol();
  const connection = await open({ protocol });
  connection.on("Answer", (question) => question.toUpperCase());
  assert.equal(await connection.invoke("AskClient", "wire"), "WIRE");
  const invocations = protocol.messages.filter((message) => message.type === signalR.MessageType.Invocation);
  assert.equal(invocations.length, 1);
  const [invocation] = invocations;
  assert.equal(invocation.target.toLowerCase(), "answer");
  assert.deepEqual(invocation.arguments, ["wire"]);
  assert.equal(typeof invocation.invocationId, "string");
  assert.notEqual(invocation.invocationId, "");
});

defaultTest("AskClient calls pipelined on one connection are answered in order", async () => {
  const connection = await answering((question) => `#${question}`);
  const questions = Array.from({ length: 10 }, (_, i) => `${i}`);
  const replies = await within(
    Promise.all(questions.map((question) => connection.invoke("AskClient", question))),
    "every AskClient",
  );
  assert.deepEqual(
    replies,
    questions.map((question) => `#${question}`),
  );
});

defaultTest("the server keeps reading while AskClient waits: a call sent from inside the handler runs after it", async () => {
  const order = [];
  let echo;
  const connection = await answering(async (question) => {
    // With one invocation slot, this Echo must wait for AskClient; the
    // server still has to read (and route) the Completion sent after it.
    echo = connection.invoke("Echo", "queued").then((result) => order.push(`echo:${result}`));
    await new Promise((resolve) => setTimeout(resolve, 20));
    return `answer:${question}`;
  });
  const ask = connection.invoke("AskClient", "q").then((result) => order.push(result));
  await within(ask, "AskClient");
  await within(echo, "the Echo sent from the handler");
  assert.deepEqual(order, ["answer:q", "echo:queued"]);
});

defaultTest("AskClient from several connections at once: each caller answers its own question", async () => {
  const connections = await Promise.all(
    ["a", "b", "c"].map(async (name) => {
      const connection = await open();
      connection.on("Answer", (question) => `${name} answers ${question}`);
      return { name, connection };
    }),
  );
  const replies = await within(
    Promise.all(connections.map(({ name, connection }) => connection.invoke("AskClient", `to ${name}`))),
    "every AskClient",
  );
  assert.deepEqual(replies, ["a answers to a", "b answers to b", "c answers to c"]);
});

defaultTest("no Answer handler: the call fails with 'Client didn't provide a result.'", async () => {
  const connection = await answering();
  await askFails(connection, "anyone?", "Client didn't provide a result.");
});

defaultTest("a handler returning nothing: the call fails with 'Client didn't provide a result.'", async () => {
  const connection = await answering(() => undefined);
  await askFails(connection, "void?", "Client didn't provide a result.");
});

defaultTest("a throwing handler: the call fails with the thrown message", async () => {
  const connection = await answering(() => {
    throw new Error("handler exploded");
  });
  await askFails(connection, "boom?", "handler exploded");
});

defaultTest("a rejecting async handler: the call fails with the rejection's message", async () => {
  const connection = await answering(async () => {
    await new Promise((resolve) => setTimeout(resolve, 10));
    throw new Error("async handler failed");
  });
  await askFails(connection, "later boom?", "async handler failed");
});

defaultTest("two handlers returning values: the call fails with 'Client provided multiple results.'", async () => {
  const connection = await answering(
    () => "one",
    () => "two",
  );
  await askFails(connection, "which?", "Client provided multiple results.");
});

defaultTest("a handler answering with a non-string: the call fails, the connection works", async () => {
  const connection = await answering(() => ({ not: "a string" }));
  await assert.rejects(within(connection.invoke("AskClient", "object?"), "AskClient"), (error) => {
    assert.ok(
      error.message.startsWith("An unexpected error occurred invoking 'AskClient' on the server."),
      error.message,
    );
    return true;
  });
  assert.equal(await connection.invoke("Echo", "fine"), "fine");
});

timeoutTest("a client that never answers: AskClient fails after the timeout, a late answer is ignored", async () => {
  let answer;
  const asked = [];
  const connection = await answering((question) => {
    asked.push(question);
    return new Promise((resolve) => {
      answer = resolve;
    });
  });
  const start = performance.now();
  await assert.rejects(
    within(connection.invoke("AskClient", "never"), "AskClient to time out", 10 * RESULT_TIMEOUT_MS + 2000),
    (error) => {
      assert.ok(
        error.message.startsWith("An unexpected error occurred invoking 'AskClient' on the server."),
        error.message,
      );
      return true;
    },
  );
  const elapsed = performance.now() - start;
  assert.ok(elapsed >= RESULT_TIMEOUT_MS * 0.9, `AskClient failed after ${elapsed} ms`);
  assert.deepEqual(asked, ["never"]);
  // The late answer (a Completion for an id nobody waits for) is ignored.
  answer("too late");
  assert.equal(await connection.invoke("Echo", "still here"), "still here");
  // The next question is answered normally.
  const next = connection.invoke("AskClient", "again");
  await waitFor(() => asked.length === 2, "the second question");
  answer("in time");
  assert.equal(await within(next, "AskClient"), "in time");
});

test("the registry is empty once every connection has stopped", async () => {
  await assertRegistryClean(opened.splice(0));
});
