"""Runs pysignalr's own integration tests against our `weatherhub` sample.

pysignalr's source distribution ships `tests/test_pysignalr/test_pysignalr.py`,
which expects the ASP.NET Core app of its `AspNetAuthExample` folder, built and
run in Docker by the module-scoped fixture `aspnet_server`. That fixture gets
its Docker client from the module's `get_docker_client()`, runs a container and
returns the container's IP address, which every test puts into
`http://{ip}/weatherHub` and `http://{ip}/api/auth/login`.

This conftest (copied next to their test file by tests/tests/pysignalr_suite.rs;
their files stay as published) replaces only `get_docker_client`: the stand-in's
`containers.run` starts our `weatherhub` binary on a free port of 127.0.0.1 and
reports `127.0.0.1:PORT` as the container's IP address. The rest of their
fixture runs as written, including its wait for `/api/auth/login` to answer.

The binary is `$WEATHERHUB_BIN` when set (the Rust test builds it), else
`cargo run -p samples --bin weatherhub` in the repository (`$REPO_ROOT`).
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
from typing import Any

import pytest

# How long the binary may take to print `listening on http://HOST:PORT`
# (`cargo run` may have to build it first).
STARTUP_LIMIT_S = float(os.environ.get('WEATHERHUB_STARTUP_LIMIT_S', '600'))


class WeatherHubContainer:
    """The stand-in for a running container: our weatherhub process."""

    def __init__(self) -> None:
        binary = os.environ.get('WEATHERHUB_BIN')
        if binary:
            command = [binary, '--addr', '127.0.0.1:0']
            cwd = None
        else:
            command = ['cargo', 'run', '--quiet', '-p', 'samples', '--bin', 'weatherhub', '--']
            command += ['--addr', '127.0.0.1:0']
            cwd = os.environ.get('REPO_ROOT')
        # Logs go to stderr (ours, so they show with the test output); the
        # only line on stdout is `listening on http://HOST:PORT`.
        self.process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, text=True)
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: lines.put(self.process.stdout.readline()), daemon=True).start()
        try:
            line = lines.get(timeout=STARTUP_LIMIT_S)
        except queue.Empty:
            self.stop()
            raise RuntimeError(f'weatherhub did not print its address within {STARTUP_LIMIT_S} s') from None
        prefix = 'listening on http://'
        if not line.startswith(prefix):
            self.stop()
            raise RuntimeError(f'weatherhub did not start: first line {line!r}')
        self.address = line[len(prefix) :].strip()
        # What their fixture reads to build `http://{ip}/...`.
        self.attrs = {'NetworkSettings': {'IPAddress': self.address}}

    def reload(self) -> None:
        """Nothing to refresh: `attrs` is known from the start."""

    def stop(self) -> None:
        """Stops weatherhub (SIGTERM, a graceful shutdown; SIGKILL after 15 s)."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)


class Images:
    """Images need no building or loading: the sample is a local binary."""

    def build(self, **_: Any) -> None:
        return None

    def get(self, _name: str) -> None:
        return None


class Containers:
    """`run` starts the weatherhub process (the arguments name their image)."""

    def __init__(self) -> None:
        self.started: list[WeatherHubContainer] = []

    def run(self, **_: Any) -> WeatherHubContainer:
        container = WeatherHubContainer()
        self.started.append(container)
        return container


class WeatherHubDocker:
    """What `get_docker_client()` returns instead of a `docker.DockerClient`."""

    def __init__(self) -> None:
        self.images = Images()
        self.containers = Containers()


def get_weatherhub_docker() -> WeatherHubDocker:
    return WeatherHubDocker()


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Points the Docker fixture of every collected pysignalr test module at weatherhub."""
    patched = set()
    for item in items:
        module = getattr(item, 'module', None)
        if module is not None and hasattr(module, 'get_docker_client'):
            module.get_docker_client = get_weatherhub_docker
            patched.add(module.__name__)
    if items and not patched:
        raise pytest.UsageError(
            'no collected module has get_docker_client(): pysignalr tests changed, update tests/python/pysignalr_suite'
        )
