/** The chat hub's methods. */
export class ChatHub {
    /** The hub's typed calls and handlers on `connection` (built, started or not). */
    constructor(connection) {
        /** Invokes a hub method and resolves with its result, or rejects with its error (`HubConnection.invoke`). */
        this.invoke = {
            /** Sends `message` from `user` to everyone. */
            sendMessage: (user, message) => this.connection.invoke("SendMessage", user, message),
        };
        /** Sends a hub method call without waiting for the method; resolves once sent (`HubConnection.send`). */
        this.send = {
            /** Sends `message` from `user` to everyone. */
            sendMessage: (user, message) => this.connection.send("SendMessage", user, message),
        };
        /** Handles one client callback; returns a function that removes the handler (`HubConnection.on`/`off`). */
        this.on = {
            /** A message from `user`. */
            receiveMessage: (handler) => this.handle("ReceiveMessage", handler),
        };
        this.connection = connection;
    }
    /** Handles every client callback with `client`; returns a function that removes the handlers. */
    register(client) {
        const removers = [
            this.on.receiveMessage((...args) => client.receiveMessage(...args)),
        ];
        return () => removers.forEach((remove) => remove());
    }
    handle(method, handler) {
        this.connection.on(method, handler);
        return () => this.connection.off(method, handler);
    }
}
