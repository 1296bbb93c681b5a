"""The OpenAPI document names every problem each operation can answer with.

Each status an operation can fail with is one `application/problem+json` response (the `Problem`
schema) that lists the code of every problem behind it. The problems come from:

- the route's own `responses=problem_responses(...)`;
- the dependencies it runs, however deep, that declared theirs (`declare_problems`);
- the layers every request passes: 422 for parameters or a body that fail validation, 400 for a
  body that cannot be parsed, 413 for a body over the size limit, 429 past the rate limit.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from paperworks.kit.errors import (
    HTTP_STATUS_CODES,
    PROBLEM_SCHEMA,
    PROBLEM_SCHEMA_NAME,
    PROBLEMS_KEY,
    dependency_problems,
    problem_response_doc,
)
from paperworks.kit.rate_limit import EXEMPT_PATHS

# (status, code, title) as the service's layers answer them.
VALIDATION_FAILED = (422, "request.validation_failed", "Validation failed")
MALFORMED_JSON = (400, "request.malformed_json", "Malformed JSON")
UNPARSABLE_BODY = (400, HTTP_STATUS_CODES[400], "Bad Request")
BODY_TOO_LARGE = (413, HTTP_STATUS_CODES[413], "Content Too Large")
RATE_LIMITED = (429, HTTP_STATUS_CODES[429], "Too many requests")

# FastAPI's own 422 response, whose body is not what the service sends.
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")

Problem = tuple[int, str, str]


def document_problems(app: FastAPI) -> None:
    """Make `app.openapi()` document the problems, as FastAPI's guide to extending it does."""
    generate = app.openapi
    finished: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        # FastAPI returns the document it made before until the routes change.
        document = generate()
        if not finished or finished[0] is not document:
            add_problems(app, document)
            finished[:] = [document]
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def add_problems(app: FastAPI, document: dict[str, Any]) -> None:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas[PROBLEM_SCHEMA_NAME] = dict(PROBLEM_SCHEMA)
    paths = document.get("paths", {})
    for context in iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute) or not context.include_in_schema:
            continue
        path = context.path_format or ""
        operations = paths.get(path, {})
        for method in sorted(context.methods or ()):
            operation = operations.get(method.lower())
            if operation is None:
                continue
            problems = [
                (error.status_code, error.code, error.title)
                for error in _dependencies_problems(context.dependant)
            ]
            _merge(operation, [*problems, *_layer_problems(path, operation)])
    for operations in paths.values():
        for operation in operations.values():
            for response in operation.get("responses", {}).values():
                response.pop(PROBLEMS_KEY, None)
    if not any(f"/{name}" in repr(paths) for name in _FASTAPI_VALIDATION_SCHEMAS):
        for name in _FASTAPI_VALIDATION_SCHEMAS:
            schemas.pop(name, None)


def _dependencies_problems(dependant: Dependant) -> Iterator[Any]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield from dependency_problems(dependency.call)
        yield from _dependencies_problems(dependency)


def _layer_problems(path: str, operation: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    body = operation.get("requestBody")
    if body is not None:
        if "application/json" in body.get("content", {}):
            problems.append(MALFORMED_JSON)
        problems += [UNPARSABLE_BODY, BODY_TOO_LARGE]
    if body is not None or operation.get("parameters"):
        problems.append(VALIDATION_FAILED)
    if path not in EXEMPT_PATHS:
        problems.append(RATE_LIMITED)
    return problems


def _merge(operation: dict[str, Any], more: list[Problem]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    by_status: dict[str, list[tuple[str, str]]] = {}
    for status, response in responses.items():
        if PROBLEMS_KEY in response:
            by_status[status] = [(code, title) for code, title in response[PROBLEMS_KEY]]
    for code_status, code, title in more:
        by_status.setdefault(str(code_status), []).append((code, title))
    for status, problems in by_status.items():
        documented = problem_response_doc(problems)
        previous = responses.get(status)
        if previous and PROBLEMS_KEY not in previous and not _is_fastapi_validation(previous):
            # A response documented by hand (a body of its own): it says so, and so do problems.
            previous.setdefault("content", {}).update(documented["content"])
            previous["description"] += "; " + documented["description"]
        else:
            responses[status] = documented
    operation["responses"] = dict(sorted(responses.items()))


def _is_fastapi_validation(response: dict[str, Any]) -> bool:
    return "HTTPValidationError" in repr(response.get("content", {}))
