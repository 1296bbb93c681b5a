"""Operations endpoints: `/health` (the process runs), `/ready` (its dependencies answer) and
`/metrics` (Prometheus). One router, because every included router is one more step for FastAPI
to walk when it matches a request."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Response
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from paperworks.build_info import build_info
from paperworks.kit.errors import Unauthenticated, problem_responses
from paperworks.kit.logging import get_logger
from paperworks.kit.metrics import render_metrics
from paperworks.kit.schemas import ApiModel
from paperworks.services import Services, ServicesDep

CHECK_TIMEOUT_SECONDS = 2.0

router = APIRouter(tags=["operations"])
log = get_logger(__name__)

CheckState = Literal["ok", "down", "disabled"]


class Health(ApiModel):
    status: Literal["ok"] = "ok"
    version: str
    git_sha: str
    build_time: str | None
    environment: str


class Readiness(ApiModel):
    status: Literal["ready", "unavailable"]
    checks: dict[str, CheckState]


@router.get("/health", summary="Is the process up, and which build is it")
async def health(services: ServicesDep) -> Health:
    info = build_info()
    return Health(
        version=info.version,
        git_sha=info.git_sha,
        build_time=info.build_time,
        environment=services.settings.environment,
    )


async def _check(name: str, probe: Awaitable[object]) -> CheckState:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await probe
    except Exception as exc:  # any failure means "not ready"; say which and why in the log
        log.warning("readiness_check_failed", check=name, error=str(exc))
        return "down"
    return "ok"


async def _ping_database(services: Services) -> None:
    async with services.db.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


@router.get(
    "/ready",
    summary="Can the service take traffic: database and Redis reachable",
    responses={503: {"model": Readiness, "description": "A configured dependency is down"}},
)
async def ready(services: ServicesDep, response: Response) -> Readiness:
    redis = services.redis
    database, redis_state = await asyncio.gather(
        _check("database", _ping_database(services)),
        _check("redis", redis.ping()) if redis is not None else _disabled(),
    )
    checks: dict[str, CheckState] = {"database": database, "redis": redis_state}
    if "down" in checks.values():
        response.status_code = 503
        return Readiness(status="unavailable", checks=checks)
    return Readiness(status="ready", checks=checks)


async def _disabled() -> CheckState:
    return "disabled"


class MetricsTokenRequired(Unauthenticated):
    code = "metrics.unauthenticated"
    title = "Metrics need the metrics token"


async def _metrics_token(
    services: ServicesDep, authorization: Annotated[str | None, Header()] = None
) -> None:
    """With `METRICS_TOKEN` set, only a scraper that presents it reads the metrics."""
    expected = services.settings.metrics_token
    if expected is None:
        return
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), expected.get_secret_value().encode()
    ):
        raise MetricsTokenRequired("Send the metrics token as `Authorization: Bearer <token>`.")


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    description="Prometheus text exposition format, summed over all worker processes. With "
    "`PAPERWORKS_METRICS_TOKEN` set, send it as `Authorization: Bearer <token>`.",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Metrics"},
        **problem_responses(MetricsTokenRequired),
    },
    dependencies=[Depends(_metrics_token)],
)
def metrics(services: ServicesDep) -> Response:
    # A plain def: FastAPI runs it in a thread, as reading many workers' files can take a while.
    return Response(render_metrics(services.metrics), media_type=CONTENT_TYPE_LATEST)
