// Generated from the Rust hub `Chat` by hub-core (`#[hub(typescript)]`). Do not edit: regenerate it.
import type { HubConnection } from "@microsoft/signalr";

/** What the chat hub calls on its clients. */
export interface ChatClient {
  /** A message from `user`. */
  receiveMessage(user: string, message: string): void;
}

/** The chat hub's methods. */
export class ChatHub {
  /** The connection the calls and handlers go through. */
  readonly connection: HubConnection;

  /** The hub's typed calls and handlers on `connection` (built, started or not). */
  constructor(connection: HubConnection) {
    this.connection = connection;
  }

  /** Invokes a hub method and resolves with its result, or rejects with its error (`HubConnection.invoke`). */
  readonly invoke = {
    /** Sends `message` from `user` to everyone. */
    sendMessage: (user: string, message: string): Promise<void> =>
      this.connection.invoke<void>("SendMessage", user, message),
  };

  /** Sends a hub method call without waiting for the method; resolves once sent (`HubConnection.send`). */
  readonly send = {
    /** Sends `message` from `user` to everyone. */
    sendMessage: (user: string, message: string): Promise<void> =>
      this.connection.send("SendMessage", user, message),
  };

  /** Handles one client callback; returns a function that removes the handler (`HubConnection.on`/`off`). */
  readonly on = {
    /** A message from `user`. */
    receiveMessage: (handler: (user: string, message: string) => void): (() => void) =>
      this.handle("ReceiveMessage", handler),
  };

  /** Handles every client callback with `client`; returns a function that removes the handlers. */
  register(client: ChatClient): () => void {
    const removers: Array<() => void> = [
      this.on.receiveMessage((...args) => client.receiveMessage(...args)),
    ];
    return () => removers.forEach((remove) => remove());
  }

  private handle(method: string, handler: (...args: any[]) => any): () => void {
    this.connection.on(method, handler);
    return () => this.connection.off(method, handler);
  }
}
