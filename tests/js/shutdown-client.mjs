// Not a `node --test` file: driven by tests/tests/shutdown.rs, which stops the
// server when this script prints READY, then reads the RESULT line.
//
// The official client, built withAutomaticReconnect, has Delay(500) in flight
// when the server shuts down. It reports what it saw: the invocation's
// outcome, every message it parsed (through a recording protocol), and
// whether `onreconnecting` fired (and with which error).
// Environment: see lib/client.mjs (HUB_URL, HUB_TRANSPORT).
import { build, RecordingProtocol, within } from "./lib/client.mjs";

const started = Date.now();
const events = [];
const log = (event) => events.push({ event, at: Date.now() - started });

const protocol = new RecordingProtocol();
// One immediate retry (which fails: the server is gone), then a long wait the
// script cuts short by stopping the connection.
const connection = build({ protocol, reconnect: [0, 60000] });
let reconnecting;
const reconnectingFired = new Promise((resolve) => {
  reconnecting = resolve;
});
connection.onreconnecting((error) => {
  log("reconnecting");
  reconnecting(error === undefined ? null : String(error.message ?? error));
});
connection.onclose((error) => log(`closed${error ? `: ${error.message}` : ""}`));

await connection.start();
const delay = connection.invoke("Delay", 500).then(
  (value) => {
    log("delay completed");
    return { value };
  },
  (error) => {
    log("delay failed");
    return { error: error.message };
  },
);
// Streams take no invocation slot: once an item of this stream (sent after
// the Delay invocation) arrives, the server has read the Delay and runs it.
await within(
  new Promise((resolve, reject) => {
    connection.stream("Counter", 1, 0).subscribe({ next: resolve, error: reject, complete: () => {} });
  }),
  "the first stream item",
  10000,
);
log("ready");
console.log("READY");

const delayOutcome = await within(delay, "the Delay invocation to settle", 15000);
const reconnectingError = await within(reconnectingFired, "onreconnecting", 15000);
await connection.stop();
console.log(
  `RESULT ${JSON.stringify({
    delay: delayOutcome,
    reconnectingError,
    messages: protocol.messages,
    events,
  })}`,
);
