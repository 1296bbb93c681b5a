"""What the benchmarks share: percentiles, a local server for fakes, timing and the report table.

The benchmarks run as scripts (`python bench/x.py`), so this is imported as `support`.
"""

from __future__ import annotations

import socket
import statistics
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from starlette.types import ASGIApp


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serving(app: ASGIApp) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", log_config=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


async def timed(rounds: int, call: Callable[[int], Awaitable[Any]]) -> list[float]:
    await call(-1)  # warm-up: connections, schema, imports
    samples = []
    for n in range(rounds):
        started = time.perf_counter()
        await call(n)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def report(title: str, rows: list[tuple[str, list[float]]], anchor: int) -> None:
    print(f"\n{title}")
    print(f"{'scenario':<44}{'p50 ms':>9}{'p95 ms':>9}{'vs anchor p50':>15}")
    base = statistics.median(rows[anchor][1])
    for name, samples in rows:
        ratio = statistics.median(samples) / base if base else float("nan")
        print(
            f"{name:<44}{statistics.median(samples):>9.1f}{percentile(samples, 95):>9.1f}"
            f"{ratio:>14.2f}x"
        )
