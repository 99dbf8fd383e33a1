// Shared helpers for tests that drive the server with the official client.
// Environment: HUB_URL (required): the hub's URL, e.g. http://127.0.0.1:1234/hubs/test.
import * as signalR from "@microsoft/signalr";

export { signalR };

export const HUB_URL = process.env.HUB_URL;
if (!HUB_URL) throw new Error("HUB_URL is not set");

/** Builds (not starts) a connection to the test hub. `token` becomes the user id. */
export function build({ url = HUB_URL, token, skipNegotiation = false, transport } = {}) {
  const options = {};
  if (token !== undefined) options.accessTokenFactory = () => token;
  if (skipNegotiation) {
    options.skipNegotiation = true;
    options.transport = signalR.HttpTransportType.WebSockets;
  } else if (transport !== undefined) {
    options.transport = transport;
  }
  return new signalR.HubConnectionBuilder()
    .withUrl(url, options)
    .configureLogging(signalR.LogLevel.Error)
    .build();
}

/** Builds and starts a connection. */
export async function connect(options) {
  const connection = build(options);
  await connection.start();
  return connection;
}

/**
 * Records every `Receive(message)` a connection gets, and lets a test wait
 * for messages (no sleeps: waits resolve as soon as the messages arrive).
 */
export class Inbox {
  constructor(connection, method = "Receive") {
    this.messages = [];
    this.waiters = [];
    connection.on(method, (message) => {
      this.messages.push(message);
      this.waiters = this.waiters.filter((waiter) => !waiter());
    });
  }

  /** Resolves once `done(messages)` is true, with the messages so far. */
  until(done, description, timeoutMs = 5000) {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!done(this.messages)) return false;
        clearTimeout(timer);
        resolve([...this.messages]);
        return true;
      };
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for ${description}; got ${JSON.stringify(this.messages)}`)),
        timeoutMs,
      );
      if (!check()) this.waiters.push(check);
    });
  }

  /** Resolves with the first `count` messages once they have arrived. */
  async take(count, timeoutMs) {
    const messages = await this.until((m) => m.length >= count, `${count} message(s)`, timeoutMs);
    return messages.slice(0, count);
  }
}

/**
 * Returns everything `inbox` received up to now, proven complete: the
 * connection asks the server to send a marker to itself; messages to one
 * connection are delivered in order, so once the marker arrives, anything
 * sent to this connection before the call has arrived too. The marker is
 * removed from the inbox.
 */
export async function settle(connection, inbox) {
  const marker = `settle-${Math.random()}`;
  await connection.invoke("SendToCaller", marker);
  await inbox.until((m) => m.includes(marker), `marker ${marker}`);
  inbox.messages.splice(inbox.messages.indexOf(marker), 1);
  return [...inbox.messages];
}
