// Stateful reconnect: the network drops a receiver's WebSocket while another
// client keeps broadcasting; the receiver comes back on the same connection
// and has every message exactly once, in order.
// Environment: HUB_URL (direct), PROXY_HUB_URL (the same hub through a proxy
// that cuts every connection on GET PROXY_CUT_URL).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { connect, Inbox, signalR } from "./lib/client.mjs";

const PROXY_HUB_URL = process.env.PROXY_HUB_URL;
const PROXY_CUT_URL = process.env.PROXY_CUT_URL;

const receiver = new signalR.HubConnectionBuilder()
  .withUrl(PROXY_HUB_URL, { transport: signalR.HttpTransportType.WebSockets })
  .withStatefulReconnect()
  .configureLogging(signalR.LogLevel.Error)
  .build();
const events = [];
receiver.onreconnecting(() => events.push("reconnecting"));
receiver.onclose(() => events.push("closed"));
const inbox = new Inbox(receiver);
await receiver.start();
const sender = await connect();
after(() => Promise.all([receiver.stop(), sender.stop()]));

test("messages broadcast while the socket is down arrive exactly once, in order", async () => {
  const id = receiver.connectionId;
  const total = 60;
  const expected = Array.from({ length: total }, (_, n) => `m${n}`);
  for (let n = 0; n < 20; n++) await sender.invoke("SendToAll", `m${n}`);
  await inbox.take(20);

  const cut = await fetch(PROXY_CUT_URL);
  assert.equal(cut.status, 200);
  for (let n = 20; n < 40; n++) await sender.invoke("SendToAll", `m${n}`);

  // The receiver comes back by itself; its calls work again.
  assert.equal(await receiver.invoke("Echo", "back"), "back");
  assert.equal(await receiver.invoke("GetConnectionId"), id, "the same connection");
  for (let n = 40; n < total; n++) await sender.invoke("SendToAll", `m${n}`);

  assert.deepEqual(await inbox.take(total, 10000), expected);
  // Nothing more (no duplicate) arrives before a marker sent after everything.
  await receiver.invoke("SendToCaller", "marker");
  const all = await inbox.until((messages) => messages.includes("marker"), "the marker");
  assert.deepEqual(all, [...expected, "marker"]);
  assert.deepEqual(events, [], "stateful reconnect is invisible to the app");
});
