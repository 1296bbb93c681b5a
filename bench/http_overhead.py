"""How much throughput the service's stack costs over a bare FastAPI app on the same server.

Starts `paperworks serve` and bench/bare_app.py (same uvicorn settings, one worker each) on free
loopback ports, then drives each with C keep-alive HTTP/1.1 connections from a cheap raw-socket
asyncio client: GET /health (expect 200, exempt from the rate limiter) and GET /no-such-route
(expect 404, passes through the rate limiter). The service runs as in production behind a proxy:
default rate limits, 127.0.0.1 a trusted proxy, and every request forwarded for one of 65,536
client addresses in turn, so each client's moving window stays as short as real traffic keeps it
and no request is refused. The bare app gets the same header and ignores it. Scenarios are
interleaved (bare, paperworks, bare, paperworks) in every round to share the machine's drift.

Reading the table: requests/s is the median over rounds; p50/p99 latency pool all rounds; errors
count responses with an unexpected status (listed below the table). "paperworks/bare" is the share
of the bare app's throughput the service keeps; the goal is >= 60 %. With two or more cores both
servers run on the first and the client on the rest, so the scheduler cannot put client and
server on one core in one scenario and apart in the next. Absolute numbers are machine-bound;
the ratio is what to compare over time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import itertools
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import cast

HOST = "127.0.0.1"
BENCH_DIR = Path(__file__).resolve().parent
GOAL = 0.60
CLIENT_ADDRESSES = 65536
WARMUP_SECONDS = 1.0
Server = subprocess.Popen[bytes]
# name, server, path, expected status; run in this order in every round.
SCENARIOS = [
    ("bare /health", "bare", "/health", 200),
    ("paperworks /health", "paperworks", "/health", 200),
    ("bare 404", "bare", "/no-such-route", 404),
    ("paperworks 404", "paperworks", "/no-such-route", 404),
]


@dataclass
class Run:
    """What one scenario saw during its measured window."""

    recording: bool = False
    client_cpu: float = 0.0
    stopping: bool = False
    latencies: list[float] = field(default_factory=list)
    unexpected: Counter[str] = field(default_factory=Counter)


class Connection(asyncio.Protocol):
    """One keep-alive connection sending the same GET back to back, one request in flight."""

    def __init__(
        self, requests: Iterator[bytes], expected: int, run: Run, done: asyncio.Future[None]
    ) -> None:
        self.requests, self.expected, self.run, self.done = requests, expected, run, done
        self.buffer = b""
        self.sent = 0.0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self._send()

    def _send(self) -> None:
        assert self.transport is not None
        if self.run.stopping:
            self.transport.close()
            return
        self.sent = time.perf_counter()
        self.transport.write(next(self.requests))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        head_end = self.buffer.find(b"\r\n\r\n")
        if head_end < 0:
            return
        head = self.buffer[:head_end].lower()
        length = 0
        start = head.find(b"\r\ncontent-length:")
        if start >= 0:
            stop = head.find(b"\r\n", start + 2)
            length = int(head[start + 17 : stop if stop >= 0 else None])
        if len(self.buffer) < head_end + 4 + length:
            return
        self.buffer = self.buffer[head_end + 4 + length :]
        if self.run.recording:
            self.run.latencies.append(time.perf_counter() - self.sent)
            status = int(head[9:12])
            if status != self.expected:
                self.run.unexpected[str(status)] += 1
        self._send()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.run.stopping and self.run.recording:
            self.run.unexpected["connection lost"] += 1
        if not self.done.done():
            self.done.set_result(None)


async def measure(port: int, path: str, expected: int, connections: int, seconds: float) -> Run:
    loop = asyncio.get_running_loop()
    requests = itertools.cycle(
        f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\n"
        f"X-Forwarded-For: 10.{i >> 16}.{(i >> 8) & 255}.{i & 255}\r\n\r\n".encode()
        for i in range(CLIENT_ADDRESSES)
    )
    run = Run()
    done: list[asyncio.Future[None]] = [loop.create_future() for _ in range(connections)]
    transports: list[asyncio.Transport] = []
    for future in done:
        factory = partial(Connection, requests, expected, run, future)
        transports.append((await loop.create_connection(factory, HOST, port))[0])
    try:
        await asyncio.sleep(WARMUP_SECONDS)
        run.recording, cpu_start = True, time.process_time()
        await asyncio.sleep(seconds)
        run.recording, run.stopping = False, True
        run.client_cpu = (time.process_time() - cpu_start) / seconds
        await asyncio.wait(done, timeout=10)
    finally:
        for transport in transports:
            transport.abort()
    return run


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=2)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def start(
    name: str,
    argv: list[str],
    env: dict[str, str],
    port: int,
    logs: Path,
    cpus: set[int] | None = None,
) -> Server:
    with (logs / f"{name}.log").open("wb") as log:
        proc = subprocess.Popen(argv, env={**os.environ, **env}, stdout=log, stderr=log)
    if cpus:  # before the interpreter has started a thread: every thread it starts inherits it
        os.sched_setaffinity(proc.pid, cpus)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and proc.poll() is None:
        with contextlib.suppress(OSError, http.client.HTTPException):
            if get(port, "/health")[0] == 200:
                return proc
        time.sleep(0.1)
    why = (
        "did not answer /health within 20 s" if proc.poll() is None else f"exited {proc.returncode}"
    )
    stop(proc)
    tail = (logs / f"{name}.log").read_text(errors="replace")[-2000:]
    raise RuntimeError(f"{name} {why}:\n{tail}")


def stop(proc: Server) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def split_cpus() -> tuple[set[int] | None, set[int] | None]:
    """The servers on one core, the client on the others, where there are two or more: sharing
    cores, the scheduler's placement of client and server varied the ratio by 20 points from
    one round to the next."""
    available = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if len(available) < 2:
        return None, None
    return {available[0]}, set(available[1:])


def cpu_note(server_cpus: set[int] | None, client_cpus: set[int] | None) -> str:
    if not server_cpus or not client_cpus:
        return f"{os.cpu_count()} CPUs shared by client and servers"
    return f"servers pinned to CPU {sorted(server_cpus)}, client to CPU {sorted(client_cpus)}"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per scenario")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds (median rps)")
    args = parser.parse_args()
    server_cpus, client_cpus = split_cpus()
    if client_cpus:
        os.sched_setaffinity(0, client_cpus)

    procs: list[Server] = []
    ports = {"paperworks": free_port(), "bare": free_port()}
    with tempfile.TemporaryDirectory(prefix="paperworks-bench-") as tmp:
        try:
            service_env = {
                "PAPERWORKS_DATA_DIR": str(Path(tmp) / "data"),
                "PAPERWORKS_ENVIRONMENT": "development",
                "PAPERWORKS_HOST": HOST,
                "PAPERWORKS_LOG_LEVEL": "WARNING",
                "PAPERWORKS_TRUSTED_PROXIES": HOST,
            }
            port = ports["paperworks"]
            serve = [sys.executable, "-m", "paperworks", "serve", "--port", str(port)]
            procs.append(start("paperworks", serve, service_env, port, Path(tmp), server_cpus))
            health = get(port, "/health")[1]
            not_found = get(port, "/no-such-route")[1]
            port = ports["bare"]
            bare = [sys.executable, str(BENCH_DIR / "bare_app.py"), "--port", str(port)]
            procs.append(
                start(
                    "bare",
                    bare,
                    {
                        "BENCH_HEALTH_JSON": health.decode(),
                        "BENCH_NOT_FOUND_JSON": not_found.decode(),
                    },
                    port,
                    Path(tmp),
                    server_cpus,
                )
            )
            print(
                f"paperworks HTTP overhead: {args.connections} keep-alive connections, "
                f"{args.seconds:g} s per scenario after {WARMUP_SECONDS:g} s warm-up, "
                f"{args.rounds} round(s)\nservice log level WARNING (access log filtered, "
                f"not written); default rate limits, {CLIENT_ADDRESSES} forwarded clients; "
                f"{cpu_note(server_cpus, client_cpus)}; Python {platform.python_version()}\n"
                f"/health bodies identical: {get(ports['bare'], '/health')[1] == health}; "
                f"404 bodies identical: {get(ports['bare'], '/no-such-route')[1] == not_found}\n"
            )
            runs: dict[str, list[Run]] = {name: [] for name, _, _, _ in SCENARIOS}
            for _ in range(args.rounds):
                for name, server, path, status in SCENARIOS:
                    run = measure(ports[server], path, status, args.connections, args.seconds)
                    runs[name].append(asyncio.run(run))
            report(runs, args.seconds)
        except RuntimeError as exc:
            print(exc, file=sys.stderr)
            return 1
        finally:
            for proc in procs:
                stop(proc)
    return 0


def report(runs: dict[str, list[Run]], seconds: float) -> None:
    rps: dict[str, float] = {}
    print(f"{'scenario':<20}{'requests/s':>12}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for name, rounds in runs.items():
        rps[name] = statistics.median(len(r.latencies) / seconds for r in rounds)
        pooled = [lat for r in rounds for lat in r.latencies]
        errors = sum(sum(r.unexpected.values()) for r in rounds)
        print(
            f"{name:<20}{rps[name]:>12.0f}{percentile(pooled, 0.50):>10.2f}"
            f"{percentile(pooled, 0.99):>10.2f}{errors:>8}"
        )
    for name, rounds in runs.items():
        for what, count in sum((r.unexpected for r in rounds), Counter[str]()).items():
            print(f"  {name}: {what} x {count}")
    busiest = max(r.client_cpu for rounds in runs.values() for r in rounds)
    print(f"client CPU, busiest scenario: {busiest:.0%} of a core (near 100 %: client-bound)\n")
    for label in ("/health", "404"):
        bare = rps[f"bare {label}"]
        ratio = rps[f"paperworks {label}"] / bare if bare else 0.0
        verdict = "PASS" if ratio >= GOAL else "BELOW"
        print(f"paperworks/bare {label:<8}{ratio:>7.1%}  {verdict}")
    print(f"goal: >= {GOAL:.0%} of bare throughput")


if __name__ == "__main__":
    sys.exit(main())
