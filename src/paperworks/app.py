"""`create_app(settings)`: the one place the service is assembled."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import sentry_sdk
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from paperworks import migrations
from paperworks.assistant.agent import Assistant
from paperworks.assistant.mcp_server import create_mcp_server, mount_mcp
from paperworks.assistant.router import router as assistant_router
from paperworks.build_info import build_info
from paperworks.decks.outline import OutlinePlanner
from paperworks.decks.router import router as decks_router
from paperworks.events import hub as event_hub
from paperworks.events.hub import EventHub
from paperworks.events.router import router as events_router
from paperworks.events.socket_server import MOUNT_PATH, Followable, SocketServer
from paperworks.files.router import router as files_router
from paperworks.files.storage import storage_from_settings
from paperworks.identity.dependencies import RateLimitPrincipal
from paperworks.identity.router import pages as identity_pages
from paperworks.identity.router import router as identity_router
from paperworks.identity.service import IdentityConfig
from paperworks.jobs import service as jobs_service
from paperworks.jobs.queue import JobQueue
from paperworks.jobs.router import router as jobs_router
from paperworks.kit.body_limit import BodySizeLimitMiddleware
from paperworks.kit.db import Database
from paperworks.kit.errors import install_error_handlers
from paperworks.kit.logging import configure_logging, get_logger
from paperworks.kit.metrics import HttpMetrics, mark_process_dead
from paperworks.kit.observability import ObservabilityMiddleware
from paperworks.kit.rate_limit import RateLimiter, RateLimitMiddleware
from paperworks.llm.cache import cache_from_settings
from paperworks.llm.client import LLMClient
from paperworks.operations import router as operations_router
from paperworks.settings import Settings
from paperworks.tasks.offline import TaskCommands
from paperworks.tasks.router import router as tasks_router

log = get_logger(__name__)

DESCRIPTION = """
Paperworks turns prompts, spreadsheets and uploads into documents: AI slide decks, a task
assistant reachable over MCP, per-customer PDF booklets and table extraction.

Every error is `application/problem+json` (RFC 9457) with a stable `code`.

Live progress: socket.io at `/ws` (client path `/ws/socket.io`), `auth={"token": ...}` or
`{"apiKey": ...}` on connect, then `subscribe {"jobId": ...}` for `job:progress`, `job:completed`
and `job:failed`; or Server-Sent Events from `GET /api/v1/jobs/{id}/stream`.
"""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    db: Database = app.state.db
    # `paperworks serve` upgrades the embedded SQLite database before it starts workers; any
    # other database is the operator's to migrate, and serving an old schema would corrupt data.
    await migrations.ensure_up_to_date(db.engine)
    load_job_handlers(settings)
    hub: EventHub = app.state.event_hub
    await hub.start()
    jobs: JobQueue = app.state.job_queue
    await jobs.start()
    log.info(
        "started",
        version=build_info().version,
        environment=settings.environment,
        database=db.engine.dialect.name,
        redis=bool(settings.redis_url),
        jobs=settings.jobs_backend,
    )
    try:
        async with app.state.mcp.session_manager.run():
            yield
    finally:
        await jobs.stop()
        if app.state.llm is not None:
            await app.state.llm.aclose()
        await hub.stop()
        await app.state.live.close()
        if app.state.redis is not None:
            await app.state.redis.aclose()
        await db.dispose()
        mark_process_dead()


# The products' job handlers: every process that runs jobs (serve, worker) loads them.
PRODUCT_JOB_MODULES = ("paperworks.decks.jobs",)


def load_job_handlers(settings: Settings) -> None:
    for module in (*PRODUCT_JOB_MODULES, *settings.job_modules):
        importlib.import_module(module)


def _init_sentry(settings: Settings) -> None:
    if settings.sentry_dsn:
        sentry_sdk.init(
            dsn=settings.sentry_dsn,
            environment=settings.environment,
            release=f"paperworks@{build_info().version}",
        )


def create_app(settings: Settings | None = None, *, db: Database | None = None) -> FastAPI:
    """Build the service. `db` lets tests hand in a database bound to their own transaction."""
    settings = settings or Settings()
    configure_logging(settings.log_level, settings.log_format)
    _init_sentry(settings)

    docs = bool(settings.expose_docs)
    app = FastAPI(
        title="Paperworks",
        version=build_info().version,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    app.state.db = db or Database.from_url(settings.database_url)
    app.state.redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    app.state.rate_limiter = RateLimiter(
        settings.redis_url,
        anonymous=settings.anonymous_limit,
        authenticated=settings.authenticated_limit,
        trusted_proxies=settings.trusted_proxies,
    )

    app.state.metrics_registry = CollectorRegistry()

    app.state.identity = IdentityConfig.from_settings(settings)
    app.state.rate_limiter.resolve_principal = RateLimitPrincipal(app.state.identity, app.state.db)

    # Events published in any session of this database reach this process's hub after commit,
    # and from it the live clients of every API process.
    app.state.event_hub = EventHub()
    app.state.db.share(event_hub.SESSION_KEY, app.state.event_hub)
    app.state.live = SocketServer(
        db=app.state.db,
        identity_config=app.state.identity,
        redis_url=settings.redis_url,
        cors_origins=settings.cors_origins,
        followable={"jobId": Followable("job", jobs_service.job_visible)},
    )
    app.state.event_hub.transports.append(app.state.live.send)
    app.state.storage = storage_from_settings(settings)
    app.state.llm = LLMClient.from_settings(settings)  # None without a key: the offline engine
    app.state.outline_planner = OutlinePlanner(
        app.state.llm, cache_from_settings(settings), settings.llm_cache_seconds
    )

    # Local job slots in this process, or (PAPERWORKS_JOBS_BACKEND=celery) a broker to send to.
    app.state.job_queue = JobQueue.from_settings(settings, app.state.db, app.state.metrics_registry)

    install_error_handlers(app)
    app.include_router(operations_router)
    app.include_router(identity_router)
    app.include_router(identity_pages)
    app.include_router(files_router)
    app.include_router(jobs_router)
    app.include_router(events_router)
    app.include_router(decks_router)
    app.include_router(tasks_router)
    app.include_router(assistant_router)
    app.mount(MOUNT_PATH, app.state.live.asgi_app)
    # After logging is configured: the SDK sets up its own logging only when nothing else has.
    app.state.mcp = create_mcp_server()
    mount_mcp(app, app.state.mcp)
    app.state.assistant = Assistant(
        app,
        app.state.llm,
        history_turns=settings.assistant_history_turns,
        max_steps=settings.assistant_max_steps,
        offline=[TaskCommands()],
        tracing=settings.assistant_tracing,
    )

    # Innermost first: each add_middleware wraps everything added before it.
    app.add_middleware(RateLimitMiddleware, limiter=app.state.rate_limiter)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    # With no origins allowed there is nothing to add: browsers refuse cross-origin calls alone.
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=[
                "X-Request-ID",
                "RateLimit-Limit",
                "RateLimit-Remaining",
                "RateLimit-Reset",
                "Retry-After",
            ],
        )
    app.add_middleware(ObservabilityMiddleware, metrics=HttpMetrics(app.state.metrics_registry))
    return app
