"""Real `paperworks serve` processes for end-to-end tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    def __init__(self, process: subprocess.Popen[str], port: int, log: Path) -> None:
        self.process = process
        self.url = f"http://127.0.0.1:{port}"
        self.log = log

    def log_lines(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]


PORT_TRIES = 3  # a free port can be taken by another process before the server binds it


def start(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None, port_flag: bool = False
) -> Iterator[Server]:
    """`paperworks serve` in a subprocess on a free port, its data under tmp_path/var. The port
    is given as PAPERWORKS_PORT, or with `port_flag` as `--port` on the command line. A port
    that another process (a parallel test, say) took before the server bound it is replaced by
    another one."""
    for attempt in range(1, PORT_TRIES + 1):
        server = _launch(tmp_path, args, env or {}, port_flag)
        try:
            if _came_up(server, retry_on_taken_port=attempt < PORT_TRIES):
                break
        except BaseException:
            _stop(server.process)
            raise
    try:
        yield server
    finally:
        _stop(server.process)


def _launch(
    tmp_path: Path, args: tuple[str, ...], extra_env: dict[str, str], port_flag: bool
) -> Server:
    port = free_port()
    log = tmp_path / "server.log"
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PAPERWORKS_") and key != "PROMETHEUS_MULTIPROC_DIR"
    }
    environment |= {
        "PAPERWORKS_DATA_DIR": str(tmp_path / "var"),
        "PAPERWORKS_PASSWORD_HASH_ROUNDS": "4",
        **extra_env,
    }
    if port_flag:
        args = (*args, "--port", str(port))
    else:
        environment["PAPERWORKS_PORT"] = str(port)
    with log.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "paperworks", "serve", *args],
            env=environment,
            cwd=tmp_path,
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
        )
    return Server(process, port, log)


def _came_up(server: Server, *, retry_on_taken_port: bool) -> bool:
    """True once the server says it listens on its port and answers /health there (so it is
    not some other process's server that answers); False if it exited because its port was
    taken (and another port may be tried); fails the test otherwise."""
    # Importing the service takes a few seconds on an idle machine; with the suite's other
    # processes busy on every core, and a server's own workers importing it too, several times
    # that. Only how long to wait for it to start, not a check of its speed.
    deadline = time.monotonic() + 90
    listening = f"Uvicorn running on {server.url} "
    while True:
        if server.process.poll() is not None:
            output = server.log.read_text()
            if retry_on_taken_port and "address already in use" in output.lower():
                return False
            raise AssertionError(output)
        try:
            if (
                listening in server.log.read_text()
                and httpx.get(f"{server.url}/health", timeout=1).status_code == 200
            ):
                return True
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "server did not come up:\n" + server.log.read_text()
        time.sleep(0.1)


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:  # pragma: no cover - only if shutdown hangs
        process.kill()
