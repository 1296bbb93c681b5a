"""Every error leaves as RFC 9457 `application/problem+json` with a stable machine `code`.

Domains raise subclasses of `AppError`; the handlers here turn those, validation errors and
Starlette's HTTP errors into problems. Nothing here ever returns a stack trace.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse
from starlette.routing import Match

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:paperworks:problem:"

# Stable codes for the errors Starlette raises on its own.
HTTP_STATUS_CODES: Mapping[int, str] = {
    400: "request.bad_request",
    401: "auth.unauthenticated",
    403: "auth.forbidden",
    404: "http.not_found",
    405: "http.method_not_allowed",
    406: "http.not_acceptable",
    413: "request.body_too_large",
    415: "request.unsupported_media_type",
    429: "rate_limit.exceeded",
}


class AppError(Exception):
    """A failure a client should hear about. Subclasses fix `status_code`, `code` and `title`."""

    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "request.bad_request"
    title: ClassVar[str] = "Bad request"
    # True: the request's unit of work is committed although this error answers it.
    keeps_changes: ClassVar[bool] = False
    default_headers: ClassVar[Mapping[str, str]] = {}

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        errors: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        self.detail = detail or self.title
        self.headers = {**self.default_headers, **(headers or {})}
        self.errors = list(errors) if errors is not None else None
        super().__init__(self.detail)


class NotFound(AppError):
    status_code = 404
    code = "resource.not_found"
    title = "Not found"


class Conflict(AppError):
    status_code = 409
    code = "resource.conflict"
    title = "Conflict"


class Unauthenticated(AppError):
    status_code = 401
    code = "auth.unauthenticated"
    title = "Authentication required"
    # RFC 9110: every 401 names a scheme.
    default_headers: ClassVar[Mapping[str, str]] = {"WWW-Authenticate": "Bearer"}


class PermissionDenied(AppError):
    status_code = 403
    code = "auth.forbidden"
    title = "Not allowed"


class RateLimited(AppError):
    status_code = 429
    code = "rate_limit.exceeded"
    title = "Too many requests"


class ServiceUnavailable(AppError):
    status_code = 503
    code = "service.unavailable"
    title = "Service unavailable"


def problem_body(
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    instance: str | None,
    errors: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_PREFIX + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "instance": instance,
    }
    if errors is not None:
        body["errors"] = list(errors)
    return body


def problem_response(
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    instance: str | None,
    errors: Sequence[Mapping[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = problem_body(
        status=status, code=code, title=title, detail=detail, instance=instance, errors=errors
    )
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def _status_title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return problem_response(
        status=exc.status_code,
        code=exc.code,
        title=exc.title,
        detail=exc.detail,
        instance=request.scope["path"],
        errors=exc.errors,
        headers=exc.headers,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    title = _status_title(status)
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else None
    if status == 404 and detail in (None, "Not Found"):
        detail = f"No route matches {request.scope['method']} {request.scope['path']}"
    headers = exc.headers
    if status == 405:
        detail = f"{request.scope['method']} is not allowed on {request.scope['path']}"
        # The router's 405 names the methods of the first route on this path only.
        headers = {**(headers or {}), "Allow": ", ".join(_allowed_methods(request))}
    return problem_response(
        status=status,
        code=HTTP_STATUS_CODES.get(status, f"http.{status}"),
        title=title,
        detail=detail or title,
        instance=request.scope["path"],
        headers=headers,
    )


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route answers at the request's path."""
    routes = request.app.router.routes
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes
        )
    ]


def _field_path(loc: Sequence[int | str]) -> str:
    # ("body", "user", "email") -> "user.email"; ("query", "limit") -> "limit"
    parts = [str(part) for part in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        parts = parts[1:]
    return ".".join(parts)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    raw = list(exc.errors())
    if any(error.get("type") == "json_invalid" for error in raw):
        return problem_response(
            status=400,
            code="request.malformed_json",
            title="Malformed JSON",
            detail="The request body is not valid JSON.",
            instance=request.scope["path"],
        )
    errors = [
        {
            "field": _field_path(error.get("loc", ())),
            "location": str(error["loc"][0]) if error.get("loc") else None,
            "message": error.get("msg", "Invalid value"),
            "type": error.get("type", "value_error"),
        }
        for error in raw
    ]
    fields = ", ".join(sorted({e["field"] or "(body)" for e in errors}))
    return problem_response(
        status=422,
        code="request.validation_failed",
        title="Validation failed",
        detail=f"Invalid input: {fields}",
        instance=request.scope["path"],
        errors=errors,
    )


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    # SQLite has one writer: a transaction that read before another committed cannot write and
    # must start over. That is the client's cue to retry, not a bug; anything else still is.
    assert isinstance(exc, OperationalError)
    if "database is locked" not in str(exc.orig):
        raise exc
    return problem_response(
        status=503,
        code="database.busy",
        title="Database busy",
        detail="Another write got there first; nothing was saved. Retry the request.",
        instance=request.scope["path"],
        headers={"Retry-After": "1"},
    )


# --- documentation -----------------------------------------------------------------------------

PROBLEM_SCHEMA_NAME = "Problem"
PROBLEM_SCHEMA: Mapping[str, Any] = {
    "title": PROBLEM_SCHEMA_NAME,
    "type": "object",
    "description": "An RFC 9457 problem. `code` is stable and machine-readable; `title` is the "
    "same for every occurrence of a code, `detail` says what happened this time.",
    "required": ["type", "title", "status", "detail", "code", "instance"],
    "properties": {
        "type": {"type": "string", "description": f"`{PROBLEM_TYPE_PREFIX}` and the code"},
        "title": {"type": "string"},
        "status": {"type": "integer", "description": "The HTTP status code"},
        "detail": {"type": "string"},
        "code": {"type": "string", "examples": ["request.validation_failed"]},
        "instance": {
            "anyOf": [{"type": "string"}, {"type": "null"}],
            "description": "The request's path",
        },
        "errors": {
            "type": "array",
            "description": "Each wrong part of the request. A validation failure gives "
            "`{field, location, message, type}` for each invalid field.",
            "items": {"type": "object"},
        },
    },
}
# Where a documented response keeps its problems (code, title) until the document is finished
# (kit.openapi merges them per status and drops the key).
PROBLEMS_KEY = "x-problems"

# Problems that routes depending on a dependency can answer with, by dependency.
_dependency_problems: dict[Callable[..., Any], tuple[type[AppError], ...]] = {}


def problem_response_doc(problems: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """One OpenAPI response for problems given as (code, title), in that order, each once."""
    unique = list(dict.fromkeys(problems))
    return {
        "description": "; ".join(f"{title} (`{code}`)" for code, title in unique),
        "content": {
            PROBLEM_MEDIA_TYPE: {"schema": {"$ref": f"#/components/schemas/{PROBLEM_SCHEMA_NAME}"}}
        },
        PROBLEMS_KEY: [list(problem) for problem in unique],
    }


def problem_responses(*errors: type[AppError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the problems a route can answer with: one response a status, which
    names every problem that can give it."""
    by_status: dict[int, list[tuple[str, str]]] = {}
    for error in errors:
        by_status.setdefault(error.status_code, []).append((error.code, error.title))
    return {status: problem_response_doc(problems) for status, problems in by_status.items()}


def declare_problems(dependency: Callable[..., Any], *errors: type[AppError]) -> None:
    """Every route that depends on `dependency`, directly or through other dependencies, can
    answer with `errors`: its OpenAPI operation says so."""
    _dependency_problems[dependency] = (*_dependency_problems.get(dependency, ()), *errors)


def dependency_problems(dependency: Callable[..., Any]) -> tuple[type[AppError], ...]:
    return _dependency_problems.get(dependency, ())


def install_error_handlers(app: FastAPI) -> None:
    # Here, not at the top: kit.openapi documents the rate limiter's 429, and the rate limiter
    # answers with this module's problems.
    from paperworks.kit.openapi import document_problems

    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(OperationalError, _database_error)
    document_problems(app)


INTERNAL_ERROR_BODY = problem_body(
    status=500,
    code="internal.error",
    title="Internal server error",
    detail="Something went wrong on our side. The request id identifies it in our logs.",
    instance=None,
)
