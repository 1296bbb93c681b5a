"""OpenTelemetry traces, only where an OTLP endpoint is configured.

With `OTEL_EXPORTER_OTLP_ENDPOINT` set, a process makes one `TracerProvider` that batches spans to
`ENDPOINT/v1/traces` over OTLP/HTTP (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, the full URL, wins, as
OpenTelemetry's other SDKs read it), and instruments with it the FastAPI app, the SQLAlchemy
engine, httpx (the LLM and image clients) and Celery (publishing in the API, running in a worker).
Every log line written inside a span then carries its `trace_id` and `span_id`. The service is
called `paperworks` unless `OTEL_SERVICE_NAME` (or `OTEL_RESOURCE_ATTRIBUTES`) says otherwise; the
exporter's other `OTEL_EXPORTER_OTLP_*` variables (headers, timeout, compression) apply as usual.

Without the endpoint nothing happens at all: this module imports nothing of OpenTelemetry, no
provider is made, nothing is instrumented, and the log processor stays a no-op.

The provider is ours and is never installed as OpenTelemetry's global one: the global can be set
only once per process, while a process may build and close its services more than once (tests, a
worker's runtime). Each instrumentor is handed it as `tracer_provider=` instead, and `shutdown`
undoes what this `Tracing` instrumented, then flushes what the batch still holds.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from paperworks.kit import logging as kit_logging

if TYPE_CHECKING:
    from fastapi import FastAPI
    from opentelemetry.sdk.trace import TracerProvider
    from sqlalchemy.ext.asyncio import AsyncEngine

ENDPOINT_VARIABLE = "OTEL_EXPORTER_OTLP_ENDPOINT"
TRACES_ENDPOINT_VARIABLE = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
DEFAULT_SERVICE_NAME = "paperworks"
TRACES_PATH = "/v1/traces"


def traces_endpoint(endpoint: str) -> str:
    """Where spans are posted: the signal's own URL if set, else ENDPOINT/v1/traces."""
    return os.environ.get(TRACES_ENDPOINT_VARIABLE) or endpoint.rstrip("/") + TRACES_PATH


class Tracing:
    """One process's tracer provider and what it instrumented."""

    def __init__(self, provider: TracerProvider) -> None:
        self.provider = provider
        self._undo: list[Callable[[], None]] = []

    @classmethod
    def start(cls, endpoint: str | None, *, service_version: str | None = None) -> Tracing | None:
        """A provider exporting to `endpoint` (OTLP/HTTP), or None without one: tracing off."""
        if not endpoint:
            return None
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import (
            SERVICE_NAME,
            SERVICE_VERSION,
            OTELResourceDetector,
            Resource,
        )
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        attributes: dict[str, str] = {SERVICE_NAME: DEFAULT_SERVICE_NAME}
        if service_version:
            attributes[SERVICE_VERSION] = service_version
        # Ours are defaults: what OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES say goes on top.
        resource = Resource.create(attributes).merge(OTELResourceDetector().detect())
        provider = TracerProvider(resource=resource)
        provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=traces_endpoint(endpoint)))
        )
        kit_logging.log_trace_ids(trace.get_current_span)
        return cls(provider)

    def _instrument(self, instrumentor: Any, **options: Any) -> None:
        """Instrument with our provider, unless this process already is (by another `Tracing`,
        which then also undoes it)."""
        if instrumentor.is_instrumented_by_opentelemetry:
            return
        # The versions are pinned (constraints.txt) and the tests see each one's spans; the
        # instrumentors' own check would refuse SQLAlchemy 2.1, newer than their declared range,
        # logging an error and instrumenting nothing.
        instrumentor.instrument(tracer_provider=self.provider, skip_dep_check=True, **options)
        self._undo.append(instrumentor.uninstrument)

    def instrument_app(self, app: FastAPI) -> None:
        """A server span per request (outermost, so the access log line carries its ids)."""
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        if getattr(app, "_is_instrumented_by_opentelemetry", False):
            return
        # No span per ASGI message sent or received: a streamed upload would make thousands.
        FastAPIInstrumentor.instrument_app(
            app, tracer_provider=self.provider, exclude_spans=["receive", "send"]
        )
        self._undo.append(lambda: FastAPIInstrumentor.uninstrument_app(app))

    def instrument_engines(self, *engines: AsyncEngine) -> None:
        """A span per statement (and per connect) on these engines."""
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

        self._instrument(
            SQLAlchemyInstrumentor(), engines=[engine.sync_engine for engine in engines]
        )

    def instrument_httpx(self) -> None:
        """A client span per request of every httpx client in the process (LLM, images)."""
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

        self._instrument(HTTPXClientInstrumentor())

    def instrument_celery(self) -> None:
        """Spans for sending a task and, in a worker process, for running it (continuing the
        trace of the request that sent it)."""
        from opentelemetry.instrumentation.celery import CeleryInstrumentor

        self._instrument(CeleryInstrumentor())  # type: ignore[no-untyped-call]

    def shutdown(self) -> None:
        """Undo the instrumentation, then export what is still batched and stop."""
        while self._undo:
            self._undo.pop()()
        self.provider.shutdown()


def instrument_app(app: FastAPI, tracing: Tracing | None) -> None:
    """`tracing.instrument_app(app)`, or nothing when tracing is off."""
    if tracing is not None:
        tracing.instrument_app(app)
