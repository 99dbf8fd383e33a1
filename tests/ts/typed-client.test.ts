// The test hub through its generated TypeScript module
// (samples/typescript/test-hub.ts, from `#[hub(typescript)]`), compiled with
// `tsc --strict` by tests/tests/typescript.rs and run with node:test.
// Environment: HUB_URL (the test hub's URL), HUB_PROTOCOL (json or messagepack).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { HubConnectionBuilder, JsonHubProtocol, LogLevel, Subject } from "@microsoft/signalr";
import type { HubConnection, IHubProtocol } from "@microsoft/signalr";
import { MessagePackHubProtocol } from "@microsoft/signalr-protocol-msgpack";
import { TestHub } from "../../samples/typescript/test-hub.js";
import type { Stats, TestClient } from "../../samples/typescript/test-hub.js";

const url = process.env.HUB_URL;
if (!url) throw new Error("HUB_URL is not set");
const protocol: IHubProtocol =
  process.env.HUB_PROTOCOL === "messagepack" ? new MessagePackHubProtocol() : new JsonHubProtocol();

function build(token?: string): HubConnection {
  return new HubConnectionBuilder()
    .withUrl(url!, token === undefined ? {} : { accessTokenFactory: () => token })
    .withHubProtocol(protocol)
    .configureLogging(LogLevel.Error)
    .build();
}

/** Resolves with the arguments of the next call of a handler registration. */
function next<Args extends unknown[]>(register: (handler: (...args: Args) => void) => () => void): Promise<Args> {
  return new Promise((resolve) => {
    const remove = register((...args) => {
      remove();
      resolve(args);
    });
  });
}

const connection = build("ada");
const hub = new TestHub(connection);
await connection.start();
after(() => connection.stop());

test("invoke resolves with typed results", async () => {
  const echoed: string = await hub.invoke.echo("typed");
  assert.equal(echoed, "typed");
  const sum: number = await hub.invoke.add(40, 2);
  assert.equal(sum, 42);
  const user: string | null = await hub.invoke.whoami();
  assert.equal(user, "ada");
  assert.equal(await hub.invoke.getConnectionId(), connection.connectionId);
  const claims: Array<[string, string]> = await hub.invoke.getClaims();
  assert.ok(Array.isArray(claims));
});

test("results of declared types keep their serde names", async () => {
  const stats: Stats = await hub.invoke.getStats();
  assert.ok(stats.connections >= 1, JSON.stringify(stats));
  assert.equal(typeof stats.groupedConnections, "number");
  assert.equal(await hub.invoke.getClusterStats(), null);
});

test("invoke rejects with the hub method's error", async () => {
  await assert.rejects(hub.invoke.throw("typed failure"), /typed failure/);
});

test("send and on: a client callback arrives with its typed arguments", async () => {
  const received = next(hub.on.receive);
  await hub.send.sendToCaller("sent without waiting");
  assert.deepEqual(await received, ["sent without waiting"]);
});

test("a removed handler is no longer called", async () => {
  const calls: string[] = [];
  const remove = hub.on.receive((message) => void calls.push(message));
  await hub.invoke.sendToCaller("first");
  remove();
  const after = next(hub.on.receive);
  await hub.invoke.sendToCaller("second");
  await after;
  assert.deepEqual(calls, ["first"]);
});

test("stream yields typed items", async () => {
  const items: number[] = [];
  await new Promise<void>((resolve, reject) => {
    hub.stream.counter(4, 1).subscribe({
      next: (item: number) => void items.push(item),
      complete: resolve,
      error: reject,
    });
  });
  assert.deepEqual(items, [0, 1, 2, 3]);
});

test("upload streams are IStreamResult arguments", async () => {
  const numbers = new Subject<number>();
  const sum = hub.invoke.sum(numbers);
  for (const n of [1, 2, 3, 4]) numbers.next(n);
  numbers.complete();
  assert.equal(await sum, 10);
});

test("register answers client results through the typed client interface", async () => {
  const client: TestClient = {
    receive: () => {},
    answer: async (question) => `typed answer to ${question}`,
  };
  const unregister = hub.register(client);
  try {
    assert.equal(await hub.invoke.askClient("why?"), "typed answer to why?");
  } finally {
    unregister();
  }
  // With the handlers removed, the client has no answer to give.
  await assert.rejects(hub.invoke.askClient("again?"), /Client didn't provide a result/);
});

test("the types reject wrong calls at compile time", () => {
  // Each line below compiles only because of its @ts-expect-error: were the
  // module untyped, tsc would fail on the unused directive. None of them runs.
  const never = false as boolean;
  if (never) {
    // @ts-expect-error Add takes numbers
    void hub.invoke.add("1", 2);
    // @ts-expect-error Echo takes exactly one argument
    void hub.invoke.echo();
    // @ts-expect-error Echo resolves with a string
    const wrong: Promise<number> = hub.invoke.echo("x");
    void wrong;
    // @ts-expect-error Counter is a stream, not an invocation
    void hub.invoke.counter(1, 1);
    // @ts-expect-error Receive's handler takes a string
    hub.on.receive((message: number) => void message);
    // @ts-expect-error the client interface needs Answer
    const incomplete: TestClient = { receive: () => {} };
    void incomplete;
    // @ts-expect-error there is no such hub method
    void hub.invoke.noSuchMethod();
  }
});
