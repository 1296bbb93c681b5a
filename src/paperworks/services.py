"""`Services`: what a process works with, built once from the settings and the products it serves,
in the API process and in a worker process alike.

Routes reach it through one dependency (`ServicesDep`), job handlers as `ctx.services`, MCP tools
through `tool_session`. Each piece is built here and nowhere else: the database, the identity
configuration and the credential cache, file storage, the LLM client and its response cache, the
image providers, the event hub, Redis, the products' job handlers and MCP tool families, and the job
queue.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Annotated

import httpx
from fastapi import Depends, Request
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from paperworks.build_info import build_info
from paperworks.events import hub as event_hub
from paperworks.events.hub import EventHub
from paperworks.files.service import FilesConfig
from paperworks.files.storage import Storage, storage_from_settings
from paperworks.identity import access
from paperworks.identity.credential_cache import CallerCache
from paperworks.identity.service import IdentityConfig
from paperworks.jobs.handlers import JobHandlers
from paperworks.jobs.queue import JobQueue
from paperworks.kit.db import Database
from paperworks.kit.tracing import Tracing
from paperworks.llm.cache import ResponseCache, cache_from_settings
from paperworks.llm.client import LLMClient
from paperworks.llm.images import ImageService, image_service_from_settings
from paperworks.mcp.family import ToolFamily
from paperworks.product import Product, job_handlers
from paperworks.settings import JobsBackend, Settings
from paperworks.webhooks import service as webhooks


@dataclass(eq=False)
class Services:
    settings: Settings
    db: Database
    identity: IdentityConfig
    callers: CallerCache  # who credentials stand for, remembered a few seconds (MCP, rate limits)
    storage: Storage
    files: FilesConfig
    llm: LLMClient | None  # None without an API key: products use their offline engines
    llm_cache: ResponseCache | None
    images: ImageService  # no provider configured: products draw their own placeholders
    http: httpx.AsyncClient  # the connection pool image providers share
    hub: EventHub
    redis: Redis | None
    metrics: CollectorRegistry
    handlers: JobHandlers  # the products' (and JOB_MODULES') job handlers
    tools: Sequence[ToolFamily]  # the products' MCP tools, in the order they are listed
    tracing: Tracing | None = None  # OpenTelemetry, with OTEL_EXPORTER_OTLP_ENDPOINT only
    jobs: JobQueue = field(init=False)  # its local runner hands these services to handlers

    @classmethod
    def build(
        cls,
        settings: Settings,
        products: Sequence[Product],
        *,
        db: Database | None = None,
        hub: EventHub | None = None,
    ) -> Services:
        """`db`: tests hand in one bound to their transaction. `hub`: a worker's emits through
        Redis instead of serving clients itself."""
        db = db or Database.from_url(settings.database_url, **settings.engine_options)
        hub = hub or EventHub()
        # Events published in any session of this database reach this process's hub after commit.
        db.share(event_hub.SESSION_KEY, hub)
        identity = IdentityConfig.from_settings(settings)
        callers = CallerCache(db, identity)

        def access_taken(change: access.AccessChange) -> None:
            callers.forget()  # no remembered caller outlives it in this process
            hub.announce_access_change(change)  # and live connections are checked again

        # ...and so do changes that take access away.
        db.share(access.LISTENER, access_taken)
        metrics = CollectorRegistry()
        http = httpx.AsyncClient(timeout=settings.image_timeout_seconds)
        services = cls(
            settings=settings,
            db=db,
            identity=identity,
            callers=callers,
            storage=storage_from_settings(settings),
            files=FilesConfig.from_settings(settings),
            llm=LLMClient.from_settings(settings),
            llm_cache=cache_from_settings(settings),
            images=image_service_from_settings(settings, http),
            http=http,
            hub=hub,
            redis=Redis.from_url(settings.redis_url) if settings.redis_url else None,
            metrics=metrics,
            handlers=job_handlers(products, settings),
            tools=[product.tools for product in products if product.tools is not None],
            tracing=_start_tracing(settings, db),
        )
        # Local job slots in this process, or (JOBS_BACKEND=celery) a broker to send to.
        services.jobs = JobQueue.from_settings(settings, db, metrics, services.handlers, services)
        # Events published in this database's sessions become webhook deliveries, queued here.
        webhooks.subscribe(services)
        return services

    async def start(self) -> None:
        await self.hub.start()
        await self.jobs.start()

    async def aclose(self) -> None:
        await self.jobs.stop()
        if self.llm is not None:
            await self.llm.aclose()
        await self.http.aclose()
        await self.hub.stop()
        if self.redis is not None:
            await self.redis.aclose()
        await self.db.dispose()
        if self.tracing is not None:
            self.tracing.shutdown()  # last: the spans of closing are exported too


def _start_tracing(settings: Settings, db: Database) -> Tracing | None:
    """This process's tracing (None without an OTLP endpoint): its database, its HTTP clients,
    and Celery where jobs go through a broker. A worker process builds its services when it
    starts (Celery's worker_process_init), so its tasks are traced there. The API instruments its
    FastAPI app with it in `create_app`."""
    tracing = Tracing.start(
        settings.otel_exporter_otlp_endpoint, service_version=build_info().version
    )
    if tracing is not None:
        tracing.instrument_engines(db.engine)
        tracing.instrument_httpx()
        if settings.jobs_backend is JobsBackend.celery:
            tracing.instrument_celery()
    return tracing


# Dependencies are `async def` though they never wait: FastAPI runs a plain `def` in a worker
# thread, a hand-off every request would pay for (a third of /health's throughput).
async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_session(services: ServicesDep) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: committed once when the route returns, rolled back on error."""
    async with services.db.session_scope() as session:
        yield session


# scope="function": commit before the response is sent, so a client never sees a success that
# the database then refuses.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
