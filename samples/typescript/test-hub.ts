// Generated from the Rust hub `Test` by hub-core (`#[hub(typescript)]`). Do not edit: regenerate it.
import type { HubConnection, IStreamResult } from "@microsoft/signalr";

/**
 * Counts of the hub's registry, for leak checks.
 */
export type Stats = { connections: number, users: number, groups: number, groupedConnections: number, };

/**
 * Backplane counters of one node.
 */
export type ClusterCounters = { published: number, lost: number, received: number, };

/** What the test hub calls on its clients. */
export interface TestClient {
  /** Every `SendTo*` method delivers `Receive(message)`. */
  receive(message: string): void;
  /** A client result: the client's answer to `question`. */
  answer(question: string): string | Promise<string>;
}

/** The test hub's methods. */
export class TestHub {
  /** The connection the calls and handlers go through. */
  readonly connection: HubConnection;

  /** The hub's typed calls and handlers on `connection` (built, started or not). */
  constructor(connection: HubConnection) {
    this.connection = connection;
  }

  /** Invokes a hub method and resolves with its result, or rejects with its error (`HubConnection.invoke`). */
  readonly invoke = {
    /** Returns `message`. */
    echo: (message: string): Promise<string> =>
      this.connection.invoke<string>("Echo", message),
    /** Returns `a + b`. */
    add: (a: number, b: number): Promise<number> =>
      this.connection.invoke<number>("Add", a, b),
    /** The caller's connection id. */
    getConnectionId: (): Promise<string> =>
      this.connection.invoke<string>("GetConnectionId"),
    /** The caller's user id, or null. */
    whoami: (): Promise<string | null> =>
      this.connection.invoke<string | null>("Whoami"),
    /** `Receive(message)` to everyone. */
    sendToAll: (message: string): Promise<void> =>
      this.connection.invoke<void>("SendToAll", message),
    /** `Receive(message)` to everyone but the caller. */
    sendToOthers: (message: string): Promise<void> =>
      this.connection.invoke<void>("SendToOthers", message),
    /** `Receive(message)` to the caller. */
    sendToCaller: (message: string): Promise<void> =>
      this.connection.invoke<void>("SendToCaller", message),
    /** `Receive(message)` to one connection. */
    sendToConnection: (connectionId: string, message: string): Promise<void> =>
      this.connection.invoke<void>("SendToConnection", connectionId, message),
    /** `Receive(message)` to every connection of a user. */
    sendToUser: (userId: string, message: string): Promise<void> =>
      this.connection.invoke<void>("SendToUser", userId, message),
    /** Adds the caller to a group. */
    joinGroup: (group: string): Promise<void> =>
      this.connection.invoke<void>("JoinGroup", group),
    /** Removes the caller from a group. */
    leaveGroup: (group: string): Promise<void> =>
      this.connection.invoke<void>("LeaveGroup", group),
    /** `Receive(message)` to a group. */
    sendToGroup: (group: string, message: string): Promise<void> =>
      this.connection.invoke<void>("SendToGroup", group, message),
    /** Fails with `message`. */
    throw: (message: string): Promise<void> =>
      this.connection.invoke<void>("Throw", message),
    /** Returns `ms` after waiting `ms` milliseconds. */
    delay: (ms: number): Promise<number> =>
      this.connection.invoke<number>("Delay", ms),
    /** The sum of a client-to-server stream of numbers. */
    sum: (numbers: IStreamResult<number>): Promise<number> =>
      this.connection.invoke<number>("Sum", numbers),
    /** Asks the caller `Answer(question)` (a client result) and returns the reply. */
    askClient: (question: string): Promise<string> =>
      this.connection.invoke<string>("AskClient", question),
    /** `Receive(message)` to everyone but the listed connections. */
    sendToAllExcept: (excluded: Array<string>, message: string): Promise<void> =>
      this.connection.invoke<void>("SendToAllExcept", excluded, message),
    /** `Receive(message)` to the listed connections. */
    sendToConnections: (connectionIds: Array<string>, message: string): Promise<void> =>
      this.connection.invoke<void>("SendToConnections", connectionIds, message),
    /** `Receive(message)` to the members of several groups. */
    sendToGroups: (groups: Array<string>, message: string): Promise<void> =>
      this.connection.invoke<void>("SendToGroups", groups, message),
    /** `Receive(message)` to a group but the listed connections. */
    sendToGroupExcept: (group: string, excluded: Array<string>, message: string): Promise<void> =>
      this.connection.invoke<void>("SendToGroupExcept", group, excluded, message),
    /** `Receive(message)` to a group but the caller. */
    sendToOthersInGroup: (group: string, message: string): Promise<void> =>
      this.connection.invoke<void>("SendToOthersInGroup", group, message),
    /** `Receive(message)` to every connection of the listed users. */
    sendToUsers: (userIds: Array<string>, message: string): Promise<void> =>
      this.connection.invoke<void>("SendToUsers", userIds, message),
    /** Adds any connection to a group. */
    addToGroup: (connectionId: string, group: string): Promise<void> =>
      this.connection.invoke<void>("AddToGroup", connectionId, group),
    /** Removes any connection from a group. */
    removeFromGroup: (connectionId: string, group: string): Promise<void> =>
      this.connection.invoke<void>("RemoveFromGroup", connectionId, group),
    /** Panics with `message` (the caller gets an error; the connection survives). */
    panic: (message: string): Promise<void> =>
      this.connection.invoke<void>("Panic", message),
    /** Fails with an unexpected (non-hub) error whose text stays on the server. */
    failUnexpectedly: (message: string): Promise<void> =>
      this.connection.invoke<void>("FailUnexpectedly", message),
    /** Counts of this hub's connections, users and groups on this server. */
    getStats: (): Promise<Stats> =>
      this.connection.invoke<Stats>("GetStats"),
    /** How many `Endless` producers are alive (dropped producers are not). */
    liveProducers: (): Promise<number> =>
      this.connection.invoke<number>("LiveProducers"),
    /**
     * Sums two upload streams around a plain argument: `"<label>: <sum1>, <sum2>"`.
     * (The JS client cannot pass two stream arguments in a row: its
     * `_replaceStreamingParams` skips the one after a stream.)
     */
    sumBoth: (first: IStreamResult<number>, label: string, second: IStreamResult<number>): Promise<string> =>
      this.connection.invoke<string>("SumBoth", first, label, second),
    /**
     * Sends `Receive("tick <n>")` to the caller `count` times from a spawned
     * task, through the hub context, then `Receive("ticks done")`.
     */
    startTicker: (count: number): Promise<void> =>
      this.connection.invoke<void>("StartTicker", count),
    /** Only the user `admin` may call this (enforced by [`AdminFilter`]). */
    adminOnly: (): Promise<string> =>
      this.connection.invoke<string>("AdminOnly"),
    /**
     * Closes the caller's connection from the server, with an error and
     * whether the client may reconnect.
     */
    abortMe: (error: string, allowReconnect: boolean): Promise<void> =>
      this.connection.invoke<void>("AbortMe", error, allowReconnect),
    /** Only authenticated users may call this (`#[hub(authorize)]`). */
    secretForUsers: (): Promise<string> =>
      this.connection.invoke<string>("SecretForUsers"),
    /**
     * Only users with the role `admin` may call this (`#[hub(authorize = "admin")]`;
     * the test authentication gives the user `admin` that role).
     */
    adminByRole: (): Promise<string> =>
      this.connection.invoke<string>("AdminByRole"),
    /** The caller's claims, as name/value pairs. */
    getClaims: (): Promise<Array<[string, string]>> =>
      this.connection.invoke<Array<[string, string]>>("GetClaims"),
    /** Asks any connection (on any node) `Answer(question)` and returns its reply. */
    askConnection: (connectionId: string, question: string): Promise<string> =>
      this.connection.invoke<string>("AskConnection", connectionId, question),
    /** The connections in a group, on every node, sorted. */
    groupMembers: (group: string): Promise<Array<string>> =>
      this.connection.invoke<Array<string>>("GroupMembers", group),
    /** The groups of a connection (on any node), sorted. */
    groupsOf: (connectionId: string): Promise<Array<string>> =>
      this.connection.invoke<Array<string>>("GroupsOf", connectionId),
    /** The connections of a user, on every node, sorted. */
    userConnections: (userId: string): Promise<Array<string>> =>
      this.connection.invoke<Array<string>>("UserConnections", userId),
    /** Whether a user is connected to any node. */
    isUserOnline: (userId: string): Promise<boolean> =>
      this.connection.invoke<boolean>("IsUserOnline", userId),
    /** This node's id in a cluster, or null. */
    nodeId: (): Promise<string | null> =>
      this.connection.invoke<string | null>("NodeId"),
    /** This node's backplane counters (`{published, lost, received}`), or null. */
    getClusterStats: (): Promise<ClusterCounters | null> =>
      this.connection.invoke<ClusterCounters | null>("GetClusterStats"),
    /**
     * The W3C trace id (32 lowercase hex digits) of the span this
     * invocation runs in: the `traceparent` header's trace id when the
     * Invocation carries one (all zeros with `OTEL_SDK_DISABLED=true`).
     */
    currentTraceId: (): Promise<string> =>
      this.connection.invoke<string>("CurrentTraceId"),
    /**
     * Returns `ms` after waiting `ms` milliseconds; a CancelInvocation for
     * it ends the wait early, with an error (counted by `CancelledCount`).
     */
    cancellableDelay: (ms: number): Promise<number> =>
      this.connection.invoke<number>("CancellableDelay", ms),
    /** How many `CancellableDelay` calls a CancelInvocation ended on this server. */
    cancelledCount: (): Promise<number> =>
      this.connection.invoke<number>("CancelledCount"),
  };

  /** Sends a hub method call without waiting for the method; resolves once sent (`HubConnection.send`). */
  readonly send = {
    /** Returns `message`. */
    echo: (message: string): Promise<void> =>
      this.connection.send("Echo", message),
    /** Returns `a + b`. */
    add: (a: number, b: number): Promise<void> =>
      this.connection.send("Add", a, b),
    /** The caller's connection id. */
    getConnectionId: (): Promise<void> =>
      this.connection.send("GetConnectionId"),
    /** The caller's user id, or null. */
    whoami: (): Promise<void> =>
      this.connection.send("Whoami"),
    /** `Receive(message)` to everyone. */
    sendToAll: (message: string): Promise<void> =>
      this.connection.send("SendToAll", message),
    /** `Receive(message)` to everyone but the caller. */
    sendToOthers: (message: string): Promise<void> =>
      this.connection.send("SendToOthers", message),
    /** `Receive(message)` to the caller. */
    sendToCaller: (message: string): Promise<void> =>
      this.connection.send("SendToCaller", message),
    /** `Receive(message)` to one connection. */
    sendToConnection: (connectionId: string, message: string): Promise<void> =>
      this.connection.send("SendToConnection", connectionId, message),
    /** `Receive(message)` to every connection of a user. */
    sendToUser: (userId: string, message: string): Promise<void> =>
      this.connection.send("SendToUser", userId, message),
    /** Adds the caller to a group. */
    joinGroup: (group: string): Promise<void> =>
      this.connection.send("JoinGroup", group),
    /** Removes the caller from a group. */
    leaveGroup: (group: string): Promise<void> =>
      this.connection.send("LeaveGroup", group),
    /** `Receive(message)` to a group. */
    sendToGroup: (group: string, message: string): Promise<void> =>
      this.connection.send("SendToGroup", group, message),
    /** Fails with `message`. */
    throw: (message: string): Promise<void> =>
      this.connection.send("Throw", message),
    /** Returns `ms` after waiting `ms` milliseconds. */
    delay: (ms: number): Promise<void> =>
      this.connection.send("Delay", ms),
    /** The sum of a client-to-server stream of numbers. */
    sum: (numbers: IStreamResult<number>): Promise<void> =>
      this.connection.send("Sum", numbers),
    /** Asks the caller `Answer(question)` (a client result) and returns the reply. */
    askClient: (question: string): Promise<void> =>
      this.connection.send("AskClient", question),
    /** `Receive(message)` to everyone but the listed connections. */
    sendToAllExcept: (excluded: Array<string>, message: string): Promise<void> =>
      this.connection.send("SendToAllExcept", excluded, message),
    /** `Receive(message)` to the listed connections. */
    sendToConnections: (connectionIds: Array<string>, message: string): Promise<void> =>
      this.connection.send("SendToConnections", connectionIds, message),
    /** `Receive(message)` to the members of several groups. */
    sendToGroups: (groups: Array<string>, message: string): Promise<void> =>
      this.connection.send("SendToGroups", groups, message),
    /** `Receive(message)` to a group but the listed connections. */
    sendToGroupExcept: (group: string, excluded: Array<string>, message: string): Promise<void> =>
      this.connection.send("SendToGroupExcept", group, excluded, message),
    /** `Receive(message)` to a group but the caller. */
    sendToOthersInGroup: (group: string, message: string): Promise<void> =>
      this.connection.send("SendToOthersInGroup", group, message),
    /** `Receive(message)` to every connection of the listed users. */
    sendToUsers: (userIds: Array<string>, message: string): Promise<void> =>
      this.connection.send("SendToUsers", userIds, message),
    /** Adds any connection to a group. */
    addToGroup: (connectionId: string, group: string): Promise<void> =>
      this.connection.send("AddToGroup", connectionId, group),
    /** Removes any connection from a group. */
    removeFromGroup: (connectionId: string, group: string): Promise<void> =>
      this.connection.send("RemoveFromGroup", connectionId, group),
    /** Panics with `message` (the caller gets an error; the connection survives). */
    panic: (message: string): Promise<void> =>
      this.connection.send("Panic", message),
    /** Fails with an unexpected (non-hub) error whose text stays on the server. */
    failUnexpectedly: (message: string): Promise<void> =>
      this.connection.send("FailUnexpectedly", message),
    /** Counts of this hub's connections, users and groups on this server. */
    getStats: (): Promise<void> =>
      this.connection.send("GetStats"),
    /** How many `Endless` producers are alive (dropped producers are not). */
    liveProducers: (): Promise<void> =>
      this.connection.send("LiveProducers"),
    /**
     * Sums two upload streams around a plain argument: `"<label>: <sum1>, <sum2>"`.
     * (The JS client cannot pass two stream arguments in a row: its
     * `_replaceStreamingParams` skips the one after a stream.)
     */
    sumBoth: (first: IStreamResult<number>, label: string, second: IStreamResult<number>): Promise<void> =>
      this.connection.send("SumBoth", first, label, second),
    /**
     * Sends `Receive("tick <n>")` to the caller `count` times from a spawned
     * task, through the hub context, then `Receive("ticks done")`.
     */
    startTicker: (count: number): Promise<void> =>
      this.connection.send("StartTicker", count),
    /** Only the user `admin` may call this (enforced by [`AdminFilter`]). */
    adminOnly: (): Promise<void> =>
      this.connection.send("AdminOnly"),
    /**
     * Closes the caller's connection from the server, with an error and
     * whether the client may reconnect.
     */
    abortMe: (error: string, allowReconnect: boolean): Promise<void> =>
      this.connection.send("AbortMe", error, allowReconnect),
    /** Only authenticated users may call this (`#[hub(authorize)]`). */
    secretForUsers: (): Promise<void> =>
      this.connection.send("SecretForUsers"),
    /**
     * Only users with the role `admin` may call this (`#[hub(authorize = "admin")]`;
     * the test authentication gives the user `admin` that role).
     */
    adminByRole: (): Promise<void> =>
      this.connection.send("AdminByRole"),
    /** The caller's claims, as name/value pairs. */
    getClaims: (): Promise<void> =>
      this.connection.send("GetClaims"),
    /** Asks any connection (on any node) `Answer(question)` and returns its reply. */
    askConnection: (connectionId: string, question: string): Promise<void> =>
      this.connection.send("AskConnection", connectionId, question),
    /** The connections in a group, on every node, sorted. */
    groupMembers: (group: string): Promise<void> =>
      this.connection.send("GroupMembers", group),
    /** The groups of a connection (on any node), sorted. */
    groupsOf: (connectionId: string): Promise<void> =>
      this.connection.send("GroupsOf", connectionId),
    /** The connections of a user, on every node, sorted. */
    userConnections: (userId: string): Promise<void> =>
      this.connection.send("UserConnections", userId),
    /** Whether a user is connected to any node. */
    isUserOnline: (userId: string): Promise<void> =>
      this.connection.send("IsUserOnline", userId),
    /** This node's id in a cluster, or null. */
    nodeId: (): Promise<void> =>
      this.connection.send("NodeId"),
    /** This node's backplane counters (`{published, lost, received}`), or null. */
    getClusterStats: (): Promise<void> =>
      this.connection.send("GetClusterStats"),
    /**
     * The W3C trace id (32 lowercase hex digits) of the span this
     * invocation runs in: the `traceparent` header's trace id when the
     * Invocation carries one (all zeros with `OTEL_SDK_DISABLED=true`).
     */
    currentTraceId: (): Promise<void> =>
      this.connection.send("CurrentTraceId"),
    /**
     * Returns `ms` after waiting `ms` milliseconds; a CancelInvocation for
     * it ends the wait early, with an error (counted by `CancelledCount`).
     */
    cancellableDelay: (ms: number): Promise<void> =>
      this.connection.send("CancellableDelay", ms),
    /** How many `CancellableDelay` calls a CancelInvocation ended on this server. */
    cancelledCount: (): Promise<void> =>
      this.connection.send("CancelledCount"),
  };

  /** Streams a hub method's items (`HubConnection.stream`); disposing the subscription cancels the stream. */
  readonly stream = {
    /** Streams 0, 1, ..., count-1, one every `delay_ms`; stops when the client cancels. */
    counter: (count: number, delayMs: number): IStreamResult<number> =>
      this.connection.stream<number>("Counter", count, delayMs),
    /** Streams 0, 1, ... and fails with `message` after `fail_after` items. */
    failingCounter: (failAfter: number, message: string): IStreamResult<number> =>
      this.connection.stream<number>("FailingCounter", failAfter, message),
    /** Streams forever (every `delay_ms`) until cancelled; counts live producers. */
    endless: (delayMs: number): IStreamResult<number> =>
      this.connection.stream<number>("Endless", delayMs),
  };

  /** Handles one client callback; returns a function that removes the handler (`HubConnection.on`/`off`). */
  readonly on = {
    /** Every `SendTo*` method delivers `Receive(message)`. */
    receive: (handler: (message: string) => void): (() => void) =>
      this.handle("Receive", handler),
    /** A client result: the client's answer to `question`. */
    answer: (handler: (question: string) => string | Promise<string>): (() => void) =>
      this.handle("Answer", handler),
  };

  /** Handles every client callback with `client`; returns a function that removes the handlers. */
  register(client: TestClient): () => void {
    const removers: Array<() => void> = [
      this.on.receive((...args) => client.receive(...args)),
      this.on.answer((...args) => client.answer(...args)),
    ];
    return () => removers.forEach((remove) => remove());
  }

  private handle(method: string, handler: (...args: any[]) => any): () => void {
    this.connection.on(method, handler);
    return () => this.connection.off(method, handler);
  }
}
