"""Prometheus metrics: the prometheus-fastapi-instrumentator HTTP metrics, one registry per app.

Under several worker processes (`PROMETHEUS_MULTIPROC_DIR` set by `paperworks serve --workers N`)
every process writes its samples to that directory and `/metrics` aggregates them, so a scrape
sees the whole service whichever worker answers it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from prometheus_client import CollectorRegistry
from prometheus_fastapi_instrumentator import Instrumentator

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare_multiprocess_dir(path: Path) -> None:
    """Empty the samples directory before workers start; stale files would be summed in."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(path)


def mark_process_dead() -> None:
    if MULTIPROC_ENV in os.environ:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


def instrument(app: FastAPI) -> CollectorRegistry:
    """Add the HTTP metrics middleware and `GET /metrics`; return the registry for more metrics."""
    registry = CollectorRegistry()
    instrumentator = Instrumentator(
        registry=registry,
        excluded_handlers=["/metrics"],
        should_instrument_requests_inprogress=False,
    )
    instrumentator.instrument(app).expose(
        app,
        endpoint="/metrics",
        tags=["operations"],
        summary="Prometheus metrics",
        response_class=PlainTextResponse,
        description="Prometheus text exposition format, aggregated over all worker processes.",
    )
    return registry
