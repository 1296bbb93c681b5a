"""OpenTelemetry tracing: off, and untouched, without OTEL_EXPORTER_OTLP_ENDPOINT; with it, a
request's spans (server, database) reach an OTLP/HTTP collector and its log lines carry the trace
id. The collector here is a tiny HTTP server on a free loopback port that keeps what is posted to
/v1/traces."""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from opentelemetry.instrumentation.celery import CeleryInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from paperworks.app import create_app
from paperworks.events.hub import EventHub
from paperworks.jobs.celery_runner import TASK_NAME, CeleryRunner
from paperworks.kit.db import Database
from paperworks.kit.logging import configure_logging, get_logger
from paperworks.kit.tracing import Tracing, traces_endpoint
from paperworks.product import job_handlers
from paperworks.services import Services
from tests.conftest import make_settings


@dataclass
class Collector:
    url: str
    requests: list[ExportTraceServiceRequest] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)

    def spans(self) -> list[tuple[str, Span]]:
        """Every span received, with its resource's service.name."""
        found = []
        for request in self.requests:
            for resource_spans in request.resource_spans:
                attributes = {
                    a.key: a.value.string_value for a in resource_spans.resource.attributes
                }
                for scope_spans in resource_spans.scope_spans:
                    found += [(attributes["service.name"], s) for s in scope_spans.spans]
        return found


@pytest.fixture
def collector() -> Iterator[Collector]:
    """An OTLP/HTTP collector on a free loopback port."""
    received = Collector(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            received.paths.append(self.path)
            if self.path == "/v1/traces":
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                received.requests.append(request)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    received.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield received
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _instrumented() -> dict[str, bool]:
    return {
        "sqlalchemy": SQLAlchemyInstrumentor().is_instrumented_by_opentelemetry,
        "httpx": HTTPXClientInstrumentor().is_instrumented_by_opentelemetry,
        "celery": CeleryInstrumentor().is_instrumented_by_opentelemetry,
    }


NOTHING_INSTRUMENTED = {"sqlalchemy": False, "httpx": False, "celery": False}


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """Log lines as JSON, for the test to read (after create_app has configured logging)."""
    stream = io.StringIO()
    yield stream
    configure_logging("WARNING", "json")


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_without_an_endpoint_nothing_is_traced(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    assert app.state.services.tracing is None
    assert not getattr(app, "_is_instrumented_by_opentelemetry", False)
    assert _instrumented() == NOTHING_INSTRUMENTED
    assert Tracing.start(None) is None
    assert Tracing.start("") is None

    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    try:
        assert (await client.get("/health")).status_code == 200
    finally:
        configure_logging("WARNING", "json")
    [access] = [line for line in _lines(stream) if line["event"] == "request"]
    assert "trace_id" not in access
    assert "span_id" not in access


async def test_a_request_is_exported_with_its_database_spans_and_its_logs_carry_the_trace_id(
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    collector: Collector,
    log_stream: io.StringIO,
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url)
    # The app's own database (not the test's transaction), so its engine is instrumented as in
    # production; /ready only reads.
    settings = make_settings(tmp_path / "data", database_url=database_url, log_level="INFO")
    assert settings.otel_exporter_otlp_endpoint == collector.url
    app = create_app(settings)
    configure_logging("INFO", "json", stream=log_stream)
    assert app.state.services.tracing is not None
    assert _instrumented() == {"sqlalchemy": True, "httpx": True, "celery": False}

    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await client.get("/ready")
            assert response.status_code == 200, response.text
            get_logger("paperworks.test").info("outside_any_request")
    # Shutting the app down flushed the batch to the collector and undid the instrumentation.
    assert _instrumented() == NOTHING_INSTRUMENTED
    assert not getattr(app, "_is_instrumented_by_opentelemetry", False)

    assert set(collector.paths) == {"/v1/traces"}
    spans = collector.spans()
    assert {service for service, _ in spans} == {"paperworks"}
    [server] = [s for _, s in spans if s.kind == Span.SPAN_KIND_SERVER and "/ready" in s.name]
    assert server.name == "GET /ready"
    queries = [
        s
        for _, s in spans
        if s.kind == Span.SPAN_KIND_CLIENT
        and s.trace_id == server.trace_id
        and s.name.upper().startswith("SELECT")
    ]
    assert queries, [s.name for _, s in spans]
    by_id = {s.span_id: s for _, s in spans}
    for query in queries:  # each a descendant of the server span
        parent = query
        while parent.parent_span_id and parent.span_id != server.span_id:
            parent = by_id[parent.parent_span_id]
        assert parent.span_id == server.span_id

    lines = _lines(log_stream)
    [access] = [line for line in lines if line["event"] == "request" and line["path"] == "/ready"]
    assert access["trace_id"] == server.trace_id.hex()
    assert len(access["span_id"]) == 16
    [outside] = [line for line in lines if line["event"] == "outside_any_request"]
    assert "trace_id" not in outside


def test_the_service_name_and_endpoint_follow_opentelemetrys_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert traces_endpoint("http://collector:4318/") == "http://collector:4318/v1/traces"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://other:4318/custom")
    assert traces_endpoint("http://collector:4318") == "http://other:4318/custom"

    tracing = Tracing.start("http://127.0.0.1:9", service_version="1.2.3")
    assert tracing is not None
    try:
        attributes = tracing.provider.resource.attributes
        assert (attributes["service.name"], attributes["service.version"]) == (
            "paperworks",
            "1.2.3",
        )
    finally:
        tracing.shutdown()

    monkeypatch.setenv("OTEL_SERVICE_NAME", "paperworks-eu")
    tracing = Tracing.start("http://127.0.0.1:9")
    assert tracing is not None
    try:
        assert tracing.provider.resource.attributes["service.name"] == "paperworks-eu"
    finally:
        tracing.shutdown()


async def test_a_worker_traces_the_tasks_it_runs_with_their_database_spans(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, collector: Collector
) -> None:
    """A worker process sets tracing up with its services, when it starts; its task spans hold
    the queries the job made (on the process's event loop thread) and end when it stops."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url)
    settings = make_settings(
        tmp_path / "data",
        database_url=database_url,
        jobs_backend="celery",
        celery_broker_url="memory://",
        celery_queue=f"paperworks-tracing-{uuid.uuid4().hex[:8]}",
    )

    def build_services(db: Database, hub: EventHub) -> Services:
        return Services.build(settings, (), db=db, hub=hub)

    runner = CeleryRunner(settings, job_handlers((), settings), build_services=build_services)
    try:
        runner.runtime()  # what `paperworks worker` does as each process starts
        # Eagerly, as a worker runs a message: for a job that is not there, which it drops.
        assert runner.task.apply(args=["no-such-job"]).get() is None
        assert _instrumented() == {"sqlalchemy": True, "httpx": True, "celery": True}
    finally:
        await asyncio.to_thread(runner.stop_runtime)
    assert _instrumented() == NOTHING_INSTRUMENTED

    spans = [s for _, s in collector.spans()]
    [task] = [s for s in spans if s.name == f"run/{TASK_NAME}"]
    assert task.kind == Span.SPAN_KIND_CONSUMER
    queries = [s for s in spans if s.trace_id == task.trace_id and s.kind == Span.SPAN_KIND_CLIENT]
    assert any(q.name.upper().startswith(("UPDATE", "SELECT")) for q in queries), queries
