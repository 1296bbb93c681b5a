"""Prometheus metrics: HTTP request counts and latencies, and `GET /metrics`.

The series carry prometheus-fastapi-instrumentator's names and labels (`http_requests_total`,
`http_request_duration_seconds`, `http_request_duration_highr_seconds`), so its dashboards work,
but are recorded by our own request middleware (`kit/observability.py`): the instrumentator builds
a Request and a Response and matches the route a second time on every request, which cost a third
of our throughput.

Under several worker processes (`PROMETHEUS_MULTIPROC_DIR` set by `paperworks serve --workers N`)
every process writes its samples to that directory and `/metrics` sums them, so a scrape sees the
whole service whichever worker answers it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED = "none"  # the handler label of requests no route matched, as the instrumentator has it
LATENCY_BUCKETS = (0.1, 0.5, 1.0)
HIGH_RESOLUTION_BUCKETS = (
    0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0,
    7.5, 10.0, 30.0, 60.0,
)  # fmt: skip


def prepare_multiprocess_dir(path: Path) -> None:
    """Empty the samples directory before workers start; stale files would be summed in."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(path)


def mark_process_dead() -> None:
    if MULTIPROC_ENV in os.environ:
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "http_requests_total",
            "Total number of requests by method, status and handler.",
            ["handler", "method", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Latency with only few buckets by handler.",
            ["handler", "method"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.latency_high_resolution = Histogram(
            "http_request_duration_highr_seconds",
            "Latency with many buckets but no labels.",
            buckets=HIGH_RESOLUTION_BUCKETS,
            registry=registry,
        )

        # Label lookups take a lock each; the set of (method, handler, status class) is small.
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe(self, method: str, handler: str, status: int, seconds: float) -> None:
        key = (method, handler, status // 100)
        children = self._children.get(key)
        if children is None:
            children = (
                self.requests.labels(handler, method, f"{key[2]}xx"),
                self.latency.labels(handler, method),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)
        self.latency_high_resolution.observe(seconds)


def render_metrics(registry: CollectorRegistry) -> bytes:
    """The text exposition of `registry`, or of every worker's samples under several workers."""
    if MULTIPROC_ENV in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry)
