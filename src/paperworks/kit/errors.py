"""Every error leaves as RFC 9457 `application/problem+json` with a stable machine `code`.

Domains raise subclasses of `AppError`; the handlers here turn those, validation errors and
Starlette's HTTP errors into problems. Nothing here ever returns a stack trace.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

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
    elif status == 405:
        detail = f"{request.scope['method']} is not allowed on {request.scope['path']}"
    return problem_response(
        status=status,
        code=HTTP_STATUS_CODES.get(status, f"http.{status}"),
        title=title,
        detail=detail or title,
        instance=request.scope["path"],
        headers=exc.headers,
    )


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


def problem_responses(*errors: type[AppError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the problems a route can answer with."""
    return {
        error.status_code: {"description": f"{error.title} (`{error.code}`)"} for error in errors
    }


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(OperationalError, _database_error)


INTERNAL_ERROR_BODY = problem_body(
    status=500,
    code="internal.error",
    title="Internal server error",
    detail="Something went wrong on our side. The request id identifies it in our logs.",
    instance=None,
)
