"""pysignalr (PyPI `pysignalr`) against the test hub and the weather hub.

Run by tests/tests/python_clients.rs with the environment and arguments that
harness.py describes. pysignalr is asyncio-based and has one transport,
WebSockets, with JSON or MessagePack. Each check is a coroutine; every wait is
bounded by WAIT_S.

Quirks of pysignalr 1.3.3 that the checks work around:
* `access_token_factory` is applied in the client's handshake step, after the
  first negotiate and WebSocket upgrade went out without it: a connection's
  first attempt is anonymous. The `auth` check passes the token as an
  `Authorization` header instead, which every request carries.
* Its client-to-server stream is a non-blocking Invocation (no invocationId),
  so the test hub's `Sum` result never comes back; the `upload` check uses
  the weather hub's `UploadStream`, which tells the caller
  `UploadComplete(sum)`, as the ASP.NET app of pysignalr's own tests does.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from typing import Any

from harness import HUB_URL, PROTOCOL, WAIT_S, WEATHERHUB_URL, CheckFailed, expect, expect_equal, run
from pysignalr.client import SignalRClient
from pysignalr.messages import CompletionMessage
from pysignalr.protocol.json import JSONProtocol
from pysignalr.protocol.messagepack import MessagepackProtocol


async def bounded(awaitable: Any, what: str) -> Any:
    try:
        return await asyncio.wait_for(awaitable, WAIT_S)
    except (TimeoutError, asyncio.TimeoutError):
        raise CheckFailed(f'{what}: nothing within {WAIT_S} s') from None


class Connection:
    """A running pysignalr client, with invoke/stream helpers that wait."""

    def __init__(self, url: str = HUB_URL, headers: dict[str, str] | None = None) -> None:
        protocol = MessagepackProtocol() if PROTOCOL == 'messagepack' else JSONProtocol()
        self.client = SignalRClient(url, protocol=protocol, headers=headers)
        self.errors: list[CompletionMessage] = []
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> Connection:
        opened = asyncio.Event()

        async def on_open() -> None:
            opened.set()

        async def on_error(message: CompletionMessage) -> None:
            # Without an error callback, pysignalr raises on any failed
            # invocation; the failing call's own callback gets it too.
            self.errors.append(message)

        self.client.on_open(on_open)
        self.client.on_error(on_error)
        self.task = asyncio.create_task(self.client.run())
        waiter = asyncio.create_task(opened.wait())
        done, _ = await asyncio.wait({self.task, waiter}, timeout=WAIT_S, return_when=asyncio.FIRST_COMPLETED)
        if waiter not in done:
            waiter.cancel()
            if self.task in done:
                raise CheckFailed(f'the client stopped before opening: {self.task.exception()!r}')
            raise CheckFailed(f'the connection did not open within {WAIT_S} s')
        return self

    async def call(self, method: str, arguments: list[Any]) -> CompletionMessage:
        """Invokes `method` and waits for its Completion."""
        completion: asyncio.Future[CompletionMessage] = asyncio.get_running_loop().create_future()

        async def on_invocation(message: Any) -> None:
            completion.set_result(message)

        await self.client.send(method, arguments, on_invocation=on_invocation)
        return await bounded(completion, f'the Completion of {method}{arguments}')

    async def invoke(self, method: str, arguments: list[Any]) -> Any:
        """Invokes `method` and returns its result (fails on a hub error)."""
        message = await self.call(method, arguments)
        expect(not message.error, f'{method}{arguments} failed: {message.error}')
        return message.result

    async def stream(self, method: str, arguments: list[Any]) -> list[Any]:
        """Streams `method` to its end and returns the items."""
        items: list[Any] = []
        ended: asyncio.Future[CompletionMessage] = asyncio.get_running_loop().create_future()

        async def on_next(item: Any) -> None:
            items.append(item)

        async def on_end(message: Any) -> None:
            if not ended.done():
                ended.set_result(message)

        await self.client.stream(method, arguments, on_next=on_next, on_complete=on_end, on_error=on_end)
        message = await bounded(ended, f'the end of {method}{arguments} (items so far {items})')
        expect(not message.error, f'{method}{arguments} failed: {message.error}')
        return items

    def received(self, target: str) -> asyncio.Queue[list[Any]]:
        """A queue of the arguments of every `target` call the server makes."""
        calls: asyncio.Queue[list[Any]] = asyncio.Queue()

        async def on_call(arguments: Any) -> None:
            calls.put_nowait(arguments)

        self.client.on(target, on_call)
        return calls

    async def stop(self) -> None:
        """pysignalr stops when its `run()` task is cancelled."""
        assert self.task is not None
        self.task.cancel()
        with suppress(asyncio.CancelledError):
            await bounded(self.task, 'the client stopping')


async def next_call(calls: asyncio.Queue[list[Any]], what: str) -> list[Any]:
    return await bounded(calls.get(), what)


async def check_connect(main: Connection) -> None:
    connection_id = await main.invoke('GetConnectionId', [])
    expect(isinstance(connection_id, str) and len(connection_id) > 0, f'bad connection id {connection_id!r}')


async def check_echo(main: Connection) -> None:
    for message in ['hello', 'héllo wörld ✓ "quoted" \\ back', 'x' * 5000, '']:
        expect_equal(await main.invoke('Echo', [message]), message, 'Echo')


async def check_add(main: Connection) -> None:
    expect_equal(await main.invoke('Add', [40, 2]), 42, 'Add(40, 2)')
    expect_equal(await main.invoke('Add', [-5, 2**40]), 2**40 - 5, 'Add(-5, 2^40)')


async def check_error(main: Connection) -> None:
    message = await main.call('Throw', ['boom from python'])
    expect(bool(message.error), f'Throw completes with an error, got {message!r}')
    expect('boom from python' in message.error, f'the error names the message: {message.error!r}')
    expect_equal(await main.invoke('Echo', ['still here']), 'still here', 'Echo after an error')


async def check_receive(main: Connection) -> None:
    calls = main.received('Receive')
    expect_equal(await main.invoke('SendToCaller', ['to the caller']), None, 'SendToCaller result')
    expect_equal(await next_call(calls, 'Receive from SendToCaller'), ['to the caller'], 'Receive arguments')


async def check_broadcast(main: Connection) -> None:
    other = Connection()
    there = other.received('Receive')
    await other.start()
    try:
        here = main.received('Receive')
        await main.invoke('SendToAll', ['to everyone'])
        expect_equal(await next_call(here, 'Receive on the caller'), ['to everyone'], 'Receive on the caller')
        expect_equal(await next_call(there, 'Receive elsewhere'), ['to everyone'], 'Receive elsewhere')
        other_id = await other.invoke('GetConnectionId', [])
        await main.invoke('SendToConnection', [other_id, 'just for you'])
        expect_equal(await next_call(there, 'Receive from SendToConnection'), ['just for you'], 'SendToConnection')
    finally:
        await other.stop()


async def check_stream(main: Connection) -> None:
    expect_equal(await main.stream('Counter', [5, 10]), [0, 1, 2, 3, 4], 'Counter(5, 10)')
    expect_equal(await main.stream('Counter', [0, 10]), [], 'Counter(0, 10)')


async def check_client_result(main: Connection) -> None:
    questions: list[str] = []

    async def answer(arguments: Any) -> str:
        questions.append(arguments[0])
        return f'answer to {arguments[0]}'

    main.client.on('Answer', answer)
    expect_equal(await main.invoke('AskClient', ['the question']), 'answer to the question', 'AskClient')
    expect_equal(questions, ['the question'], 'questions asked')


async def check_auth(main: Connection) -> None:
    alice = await Connection(headers={'Authorization': 'Bearer alice'}).start()
    try:
        expect_equal(await alice.invoke('Whoami', []), 'alice', 'Whoami with a token')
    finally:
        await alice.stop()
    expect_equal(await main.invoke('Whoami', []), None, 'Whoami without a token')


async def check_upload(main: Connection) -> None:
    weather = Connection(WEATHERHUB_URL)
    sums = weather.received('UploadComplete')
    await weather.start()
    try:
        async with weather.client.client_stream('UploadStream') as stream:
            for number in range(1, 11):
                await stream.send(number)
        expect_equal(await next_call(sums, 'UploadComplete'), [55], 'UploadComplete after uploading 1..10')
    finally:
        await weather.stop()


async def check_stop(main: Connection) -> None:
    await main.stop()
    expect(main.task is not None and main.task.cancelled(), 'the client ended by cancellation')


CHECKS = {
    'connect': check_connect,
    'echo': check_echo,
    'add': check_add,
    'error': check_error,
    'receive': check_receive,
    'broadcast': check_broadcast,
    'stream': check_stream,
    'client_result': check_client_result,
    'auth': check_auth,
    'upload': check_upload,
    'stop': check_stop,
}


def main() -> None:
    # One event loop and one main connection for all the checks (the harness
    # calls each check synchronously).
    loop = asyncio.new_event_loop()
    main_connection: list[Connection] = []

    def synchronous(check: Any) -> Any:
        def run_check() -> None:
            if not main_connection:
                main_connection.append(loop.run_until_complete(Connection().start()))
            loop.run_until_complete(check(main_connection[0]))

        return run_check

    run({name: synchronous(check) for name, check in CHECKS.items()})
    if main_connection and main_connection[0].task is not None and not main_connection[0].task.done():
        loop.run_until_complete(main_connection[0].stop())
    loop.run_until_complete(wind_down())
    loop.close()


async def wind_down() -> None:
    """Cancels what is left (websockets' keep-alive tasks, a client the
    checks did not stop) and lets it finish, so the loop closes cleanly."""
    tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await bounded(asyncio.gather(*tasks, return_exceptions=True), 'the remaining tasks ending')
    await asyncio.get_running_loop().shutdown_asyncgens()


if __name__ == '__main__':
    main()
