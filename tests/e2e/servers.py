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


def start(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None, port_flag: bool = False
) -> Iterator[Server]:
    """`paperworks serve` in a subprocess on a free port, its data under tmp_path/var. The port
    is given as PAPERWORKS_PORT, or with `port_flag` as `--port` on the command line."""
    port = free_port()
    log = tmp_path / "server.log"
    extra_env = env or {}
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
    server = Server(process, port, log)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"{server.url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not come up:\n" + log.read_text()
            time.sleep(0.1)
        yield server
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - only if shutdown hangs
            process.kill()
