"""signalrcore (PyPI `signalrcore`) against the test hub and the weather hub.

Run by tests/tests/python_clients.rs with the environment and arguments that
harness.py describes. signalrcore is synchronous: it runs a thread per
connection (plus one for keep-alives) and calls our callbacks on it, so every
check waits on a queue or an event, with a deadline.

What signalrcore 1.0.2 cannot do, so no check here asks it to:
* client results: a handler's return value is dropped, no Completion is sent
  (the server's `AskClient` would wait forever);
* an upload with a result: its client-to-server stream is a non-blocking
  Invocation (no invocationId), so the test hub's `Sum` result never comes
  back; the `upload` check uses the weather hub's `UploadStream`, which tells
  the caller `UploadComplete(sum)`, as ASP.NET samples for this client do.
The transport × protocol pairs it cannot do are listed in python_clients.rs.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

from harness import HUB_URL, PROTOCOL, TRANSPORT, WAIT_S, WEATHERHUB_URL, CheckFailed, expect, expect_equal, run
from signalrcore.hub.handlers import StreamHandler
from signalrcore.hub_connection_builder import HubConnectionBuilder
from signalrcore.messages.stream_invocation_message import StreamInvocationMessage
from signalrcore.protocol.messagepack_protocol import MessagePackHubProtocol
from signalrcore.subject import Subject
from signalrcore.types import HttpTransportType

TRANSPORTS = {
    'WebSockets': HttpTransportType.web_sockets,
    'ServerSentEvents': HttpTransportType.server_sent_events,
    'LongPolling': HttpTransportType.long_polling,
}


class Connection:
    """A started signalrcore connection, with invoke/stream helpers that wait."""

    def __init__(self, url: str = HUB_URL, token: str | None = None) -> None:
        options: dict[str, Any] = {'transport': TRANSPORTS[TRANSPORT]}
        if token is not None:
            options['access_token_factory'] = lambda: token
        builder = HubConnectionBuilder().with_url(url, options=options)
        if PROTOCOL == 'messagepack':
            builder = builder.with_hub_protocol(MessagePackHubProtocol())
        # JSON is signalrcore's default: no protocol configured.
        self.hub = builder.build()
        self.opened = threading.Event()
        self.closed = threading.Event()
        # Completions with an error reach the connection's on_error, not the
        # invocation's callback: route them by invocation id.
        self.pending: dict[str, queue.Queue[tuple[str, Any]]] = {}
        self.hub.on_open(self.opened.set)
        self.hub.on_close(self.closed.set)
        self.hub.on_error(self._on_error)
        self.hub.start()
        expect(self.opened.wait(WAIT_S), f'the connection did not open within {WAIT_S} s')

    def _on_error(self, message: Any) -> None:
        replies = self.pending.get(getattr(message, 'invocation_id', None))
        if replies is not None:
            replies.put(('error', message.error))

    def call(self, method: str, arguments: list[Any]) -> tuple[str, Any]:
        """Invokes `method` and waits for its Completion: ('result', value) or ('error', text)."""
        replies: queue.Queue[tuple[str, Any]] = queue.Queue()
        invocation_id = f'{method}-{id(replies)}'
        self.pending[invocation_id] = replies
        self.hub.invoke(method, arguments, on_invocation=lambda m: replies.put(('result', m.result)),
                        invocation_id=invocation_id)
        try:
            return replies.get(timeout=WAIT_S)
        except queue.Empty:
            raise CheckFailed(f'no Completion for {method}{arguments} within {WAIT_S} s') from None
        finally:
            del self.pending[invocation_id]

    def invoke(self, method: str, arguments: list[Any]) -> Any:
        """Invokes `method` and returns its result (fails on a hub error)."""
        kind, value = self.call(method, arguments)
        expect(kind == 'result', f'{method}{arguments} failed: {value}')
        return value

    def stream(self, method: str, arguments: list[Any]) -> list[Any]:
        """Streams `method` to its end and returns the items."""
        items: list[Any] = []
        ended: queue.Queue[tuple[str, Any]] = queue.Queue()
        # signalrcore's `stream()` sends the StreamInvocation and only then
        # returns the handler to `subscribe()` to: items that arrive in between
        # are dropped with a warning (a race in the client, likeliest on Long
        # Polling and Server-Sent Events, where another thread receives). This
        # does what `stream()` does, with the callbacks attached first.
        handler = StreamHandler(method, f'{method}-{id(items)}')
        handler.subscribe({
            'next': items.append,
            'complete': lambda m: ended.put(('complete', m)),
            'error': lambda m: ended.put(('error', m)),
        })
        self.hub.stream_handlers[handler.invocation_id].append(handler)
        self.pending[handler.invocation_id] = ended
        self.hub.transport.send(
            StreamInvocationMessage(handler.invocation_id, method, arguments, headers=self.hub.headers)
        )
        try:
            kind, message = ended.get(timeout=WAIT_S)
        except queue.Empty:
            raise CheckFailed(f'{method}{arguments} did not end within {WAIT_S} s; items so far {items}') from None
        finally:
            del self.pending[handler.invocation_id]
        expect(kind == 'complete', f'{method}{arguments} failed: {getattr(message, "error", message)}')
        return items

    def stop(self) -> None:
        self.hub.stop()
        expect(self.closed.wait(WAIT_S), f'the connection did not close within {WAIT_S} s')


def tolerate_long_polling_framing() -> None:
    """Works around a bug of signalrcore 1.0.2's Long Polling client.

    `LongPollingBaseClient._append` hands on only the first record of a poll
    response and keeps the rest until the next response that carries data,
    which may never come: the Completion of `SendToCaller`, written right
    after the `Receive` it caused, is never seen. A server may answer a poll
    with every record it has buffered (ASP.NET does, and so do we), so this is
    the client's fault. The replacement hands on every complete record of the
    buffer (the transport then splits them on the record separator).
    """
    from signalrcore.transport.long_polling.long_polling_client import LongPollingBaseClient

    def append(self: LongPollingBaseClient, frame: bytes) -> bytes | None:
        self._buffer += frame
        end = self._buffer.rfind(self._byte_separator)
        if end == -1:
            return None
        complete, self._buffer = self._buffer[:end], self._buffer[end + 1 :]
        return complete

    LongPollingBaseClient._append = append


def received(connection: Connection, target: str) -> queue.Queue[list[Any]]:
    """A queue of the arguments of every `target` call the server makes."""
    calls: queue.Queue[list[Any]] = queue.Queue()
    connection.hub.on(target, calls.put)
    return calls


def next_call(calls: queue.Queue[list[Any]], what: str) -> list[Any]:
    try:
        return calls.get(timeout=WAIT_S)
    except queue.Empty:
        raise CheckFailed(f'no {what} within {WAIT_S} s') from None


main: Connection | None = None


def connection() -> Connection:
    expect(main is not None, 'the `connect` check must run first')
    return main  # type: ignore[return-value]


def check_connect() -> None:
    global main
    main = Connection()
    connection_id = main.invoke('GetConnectionId', [])
    expect(isinstance(connection_id, str) and len(connection_id) > 0, f'bad connection id {connection_id!r}')


def check_echo() -> None:
    for message in ['hello', 'héllo wörld ✓ "quoted" \\ back', 'x' * 5000, '']:
        expect_equal(connection().invoke('Echo', [message]), message, 'Echo')


def check_add() -> None:
    expect_equal(connection().invoke('Add', [40, 2]), 42, 'Add(40, 2)')
    expect_equal(connection().invoke('Add', [-5, 2**40]), 2**40 - 5, 'Add(-5, 2^40)')


def check_error() -> None:
    kind, error = connection().call('Throw', ['boom from python'])
    expect_equal(kind, 'error', 'Throw completes with an error')
    expect('boom from python' in error, f'the error names the message: {error!r}')
    # The connection survives a hub error.
    expect_equal(connection().invoke('Echo', ['still here']), 'still here', 'Echo after an error')


def check_receive() -> None:
    calls = received(connection(), 'Receive')
    expect_equal(connection().invoke('SendToCaller', ['to the caller']), None, 'SendToCaller result')
    expect_equal(next_call(calls, 'Receive from SendToCaller'), ['to the caller'], 'Receive arguments')


def check_broadcast() -> None:
    other = Connection()
    try:
        here, there = received(connection(), 'Receive'), received(other, 'Receive')
        connection().invoke('SendToAll', ['to everyone'])
        expect_equal(next_call(here, 'Receive on the caller'), ['to everyone'], 'Receive on the caller')
        expect_equal(next_call(there, 'Receive on the other connection'), ['to everyone'], 'Receive elsewhere')
        other_id = other.invoke('GetConnectionId', [])
        connection().invoke('SendToConnection', [other_id, 'just for you'])
        expect_equal(next_call(there, 'Receive from SendToConnection'), ['just for you'], 'SendToConnection')
    finally:
        other.stop()


def check_stream() -> None:
    expect_equal(connection().stream('Counter', [5, 10]), [0, 1, 2, 3, 4], 'Counter(5, 10)')
    expect_equal(connection().stream('Counter', [0, 10]), [], 'Counter(0, 10)')


def check_auth() -> None:
    alice = Connection(token='alice')
    try:
        expect_equal(alice.invoke('Whoami', []), 'alice', 'Whoami with a token')
    finally:
        alice.stop()
    expect_equal(connection().invoke('Whoami', []), None, 'Whoami without a token')


def check_upload() -> None:
    weather = Connection(WEATHERHUB_URL)
    try:
        sums = received(weather, 'UploadComplete')
        subject = Subject()
        weather.hub.send('UploadStream', subject)
        for number in range(1, 11):
            subject.next(number)
        subject.complete()
        expect_equal(next_call(sums, 'UploadComplete'), [55], 'UploadComplete after uploading 1..10')
    finally:
        weather.stop()


def check_stop() -> None:
    connection().stop()


if __name__ == '__main__':
    if TRANSPORT == 'LongPolling':
        tolerate_long_polling_framing()
        print('tolerated: signalrcore Long Polling hands on one record per poll response (patched)', flush=True)
    run({
        'connect': check_connect,
        'echo': check_echo,
        'add': check_add,
        'error': check_error,
        'receive': check_receive,
        'broadcast': check_broadcast,
        'stream': check_stream,
        'auth': check_auth,
        'upload': check_upload,
        'stop': check_stop,
    })
