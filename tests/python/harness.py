"""What the client scripts share: the environment they are run with, and a
runner for named checks that prints one line per check and exits non-zero on
the first failure.

Environment (set by tests/tests/python_clients.rs):
  HUB_URL         the test hub (`http://127.0.0.1:PORT/hubs/test`)
  WEATHERHUB_URL  the weather hub (`http://127.0.0.1:PORT/weatherHub`)
  HUB_TRANSPORT   WebSockets | ServerSentEvents | LongPolling
  HUB_PROTOCOL    json | messagepack
Arguments: the names of the checks to run, in order.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from collections.abc import Callable

# Every wait for the server is bounded by this (seconds).
WAIT_S = 10.0

HUB_URL = os.environ.get('HUB_URL', 'http://127.0.0.1:5000/hubs/test')
WEATHERHUB_URL = os.environ.get('WEATHERHUB_URL', 'http://127.0.0.1:5001/weatherHub')
TRANSPORT = os.environ.get('HUB_TRANSPORT', 'WebSockets')
PROTOCOL = os.environ.get('HUB_PROTOCOL', 'json')


class CheckFailed(Exception):
    """A check saw the wrong thing (or nothing, in time)."""


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def expect_equal(actual: object, expected: object, what: str) -> None:
    if actual != expected:
        raise CheckFailed(f'{what}: expected {expected!r}, got {actual!r}')


def run(checks: dict[str, Callable[[], None]]) -> None:
    """Runs the checks named on the command line, in order; exits 1 on the
    first failure (or an unknown name), 0 when all passed."""
    names = sys.argv[1:]
    unknown = [name for name in names if name not in checks]
    if unknown or not names:
        print(f'unknown or no checks {unknown}; known: {sorted(checks)}', flush=True)
        sys.exit(2)
    client = os.path.basename(sys.argv[0])
    print(f'{client}: {TRANSPORT} x {PROTOCOL} against {HUB_URL}', flush=True)
    for index, name in enumerate(names):
        started = time.monotonic()
        try:
            checks[name]()
        except Exception as error:
            traceback.print_exc()
            print(f'FAILED {name}: {error}', flush=True)
            print(f'{index} passed, 1 failed', flush=True)
            # Client threads may still run (signalrcore's are daemons, but a
            # stuck join would keep us here): leave at once.
            sys.stdout.flush()
            os._exit(1)
        print(f'ok {name} ({time.monotonic() - started:.2f} s)', flush=True)
    print(f'{len(names)} passed, 0 failed', flush=True)
