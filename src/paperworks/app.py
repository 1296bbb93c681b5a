"""`create_app(settings)`: the one place the service is assembled."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import sentry_sdk
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from paperworks import migrations
from paperworks.api_docs import add_docs
from paperworks.build_info import build_info
from paperworks.console.session import RateLimitPrincipal as ConsoleRateLimitPrincipal
from paperworks.console.setup import install_console
from paperworks.events.router import router as events_router
from paperworks.events.socket_server import MOUNT_PATH, SocketServer
from paperworks.files.router import router as files_router
from paperworks.identity.dependencies import RateLimitPrincipal
from paperworks.identity.router import pages as identity_pages
from paperworks.identity.router import router as identity_router
from paperworks.identity.sso_router import router as sso_router
from paperworks.jobs.live import FollowedJobs
from paperworks.jobs.router import router as jobs_router
from paperworks.kit.body_limit import BodySizeLimitMiddleware
from paperworks.kit.db import Database
from paperworks.kit.errors import install_error_handlers
from paperworks.kit.logging import configure_logging, get_logger
from paperworks.kit.metrics import HttpMetrics, mark_process_dead
from paperworks.kit.observability import ObservabilityMiddleware
from paperworks.kit.rate_limit import RateLimiter, RateLimitMiddleware
from paperworks.kit.security_headers import SecurityHeadersMiddleware
from paperworks.kit.tracing import instrument_app
from paperworks.kit.unroutable import UnroutablePaths
from paperworks.mcp.server import create_mcp_server, mount_mcp
from paperworks.operations import router as operations_router
from paperworks.product import Product
from paperworks.products import PRODUCTS
from paperworks.services import Services
from paperworks.settings import Settings
from paperworks.webhooks.router import router as webhooks_router

log = get_logger(__name__)

DESCRIPTION = """
Paperworks turns prompts, spreadsheets and uploads into documents: AI slide decks, a task
assistant reachable over MCP, per-customer PDF booklets and table extraction.

Every error is `application/problem+json` (RFC 9457) with a stable `code`.

Live progress: socket.io at `/ws` (client path `/ws/socket.io`), `auth={"token": ...}` or
`{"apiKey": ...}` on connect, then `subscribe {"jobId": ...}` (acked with the job's state; a job
that already ended has its end sent at once) for `job:progress`, `job:completed` and `job:failed`;
or Server-Sent Events from `GET /api/v1/jobs/{id}/stream`.
"""


def _description(products: Sequence[Product]) -> str:
    """The API's description, with the live events each product's jobs add."""
    added = [
        f"- {product.name}: " + ", ".join(f"`{name}`" for name in product.live_events)
        for product in products
        if product.live_events
    ]
    if not added:
        return DESCRIPTION
    return DESCRIPTION + "\nWhat products' jobs add to their room:\n\n" + "\n".join(added) + "\n"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    services: Services = app.state.services
    settings = services.settings
    # `paperworks serve` upgrades the embedded SQLite database before it starts workers; any
    # other database is the operator's to migrate, and serving an old schema would corrupt data.
    await migrations.ensure_up_to_date(services.db.engine)
    await services.start()
    log.info(
        "started",
        version=build_info().version,
        environment=settings.environment,
        database=services.db.engine.dialect.name,
        redis=bool(settings.redis_url),
        jobs=settings.jobs_backend,
    )
    try:
        async with app.state.mcp.session_manager.run():
            yield
    finally:
        await app.state.live.close()
        await services.aclose()
        mark_process_dead()


def _init_sentry(settings: Settings) -> None:
    if settings.sentry_dsn:
        sentry_sdk.init(
            dsn=settings.sentry_dsn,
            environment=settings.environment,
            release=f"paperworks@{build_info().version}",
            # Sentry's Starlette integration would otherwise read every request's body and parse
            # its form with no limits before the route does: an upload buffered whole in memory,
            # and the route's form limits (one file per upload) never applied.
            max_request_body_size="never",
        )


def create_app(
    settings: Settings | None = None,
    *,
    db: Database | None = None,
    products: Sequence[Product] = PRODUCTS,
) -> FastAPI:
    """Build the service for `products`. `db` lets tests hand in a database bound to their own
    transaction."""
    settings = settings or Settings()
    configure_logging(settings.log_level, settings.log_format)
    _init_sentry(settings)

    docs = bool(settings.expose_docs)
    app = FastAPI(
        title="Paperworks",
        version=build_info().version,
        description=_description(products),
        lifespan=lifespan,
        # Served by add_docs below, each page with its Content-Security-Policy.
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        # Tracing is kit/tracing's: a provider of our own, off unless an OTLP endpoint is set.
        # FastAPI's native telemetry would ask OpenTelemetry's global providers (environment
        # lookups) on every request to find them unset: a quarter of a 404's time.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    if docs:
        add_docs(app, "/openapi.json")
    services = Services.build(settings, products, db=db)
    app.state.services = services
    rate_limiter = RateLimiter(
        settings.redis_url,
        anonymous=settings.anonymous_limit,
        authenticated=settings.authenticated_limit,
        trusted_proxies=settings.trusted_proxies,
    )
    rate_limiter.principal_resolvers += [
        RateLimitPrincipal(services.identity, services.callers),
        ConsoleRateLimitPrincipal(services.identity.secret_key),
    ]
    app.state.rate_limiter = rate_limiter

    # The live clients of every API process hear what this process's hub announces.
    app.state.live = SocketServer(
        db=services.db,
        identity_config=services.identity,
        redis_url=settings.redis_url,
        cors_origins=settings.cors_origins,
        followable={"jobId": FollowedJobs(services.handlers, services).followable()},
    )
    services.hub.transports.append(app.state.live.send)

    install_error_handlers(app)
    app.include_router(operations_router)
    app.include_router(identity_router)
    app.include_router(identity_pages)
    app.include_router(sso_router)
    app.include_router(files_router)
    app.include_router(jobs_router)
    app.include_router(events_router)
    app.include_router(webhooks_router)
    for product in products:
        for router in product.routers:
            app.include_router(router)
    install_console(app, [product.console for product in products if product.console])
    app.mount(MOUNT_PATH, app.state.live.asgi_app)
    # After logging is configured: the SDK sets up its own logging only when nothing else has.
    app.state.mcp = create_mcp_server(services.tools)
    mount_mcp(app, app.state.mcp, services.callers)
    app.router.middleware_stack = UnroutablePaths(app.router.middleware_stack, app.router.routes)

    # Innermost first: each add_middleware wraps everything added before it.
    app.add_middleware(RateLimitMiddleware, limiter=rate_limiter)
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
    app.add_middleware(ObservabilityMiddleware, metrics=HttpMetrics(services.metrics))
    # Outermost: even an answer the layers above make themselves (a 413, a 429, a 500) gets them.
    app.add_middleware(SecurityHeadersMiddleware)
    instrument_app(app, services.tracing)  # OpenTelemetry, around all of it (when configured)
    return app


def create_served_app() -> FastAPI:
    """The app as `paperworks serve` runs it, in each of its processes: with everything built so
    far (modules, classes, the routes and their schemas: ~400k long-lived objects) moved out of
    the garbage collector's sight. A full collection walked all of them, a pause of 100-250 ms
    that every request in flight waited out; it was the p95 of bench/load.py."""
    app = create_app()
    gc.collect()
    gc.freeze()
    return app
