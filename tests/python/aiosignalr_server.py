"""A SignalR server this project did not write: aiosignalr's (PyPI), with a
hub offering part of the test hub's contract (shared/docs/test-hub.md), for
the Rust client's tests (tests/tests/aiosignalr_server.rs).

Prints `listening on http://HOST:PORT` once it serves `/hubs/test`, and
stops when its standard input closes (the test ended, however it ended).

aiosignalr matches method names by the Python name, lowercased, so the
methods carry their wire names.
"""

from __future__ import annotations

import asyncio
import sys

from aiosignalr.errors import HubException
from aiosignalr.server import Hub, IncomingStream, ServerOptions, SignalRServer


class TestHub(Hub):
    async def Echo(self, message: str) -> str:  # noqa: N802 (wire names)
        return message

    async def Add(self, a: int, b: int) -> int:  # noqa: N802
        return a + b

    async def GetConnectionId(self) -> str:  # noqa: N802
        return self.context.connection_id

    async def SendToCaller(self, message: str):  # noqa: N802 (no annotation: a void method)
        await self.clients.caller.send("Receive", message)

    async def SendToAll(self, message: str):  # noqa: N802
        await self.clients.all_.send("Receive", message)

    async def JoinGroup(self, group: str):  # noqa: N802
        await self.groups.add(group)

    async def SendToGroup(self, group: str, message: str):  # noqa: N802
        await self.clients.group(group).send("Receive", message)

    async def Throw(self, message: str):  # noqa: N802
        raise HubException(message)

    async def Counter(self, count: int, delayMs: int):  # noqa: N802, N803
        for n in range(count):
            if n > 0:
                await asyncio.sleep(delayMs / 1000)
            yield n

    async def Sum(self, numbers: IncomingStream) -> int:  # noqa: N802
        total = 0
        async for number in numbers:
            total += number
        return total

    async def AskClient(self, question: str) -> str:  # noqa: N802
        return await self.clients.caller.invoke("Answer", question)


async def main() -> None:
    server = SignalRServer(TestHub, options=ServerOptions(keep_alive_interval=1.0))
    host, port = await server.serve("127.0.0.1", 0, path="/hubs/test")
    print(f"listening on http://{host}:{port}", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    await server.close()


if __name__ == "__main__":
    asyncio.run(main())
