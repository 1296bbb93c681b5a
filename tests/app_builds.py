"""What building a service reads of the code, read once per test process instead of once per app.

The tests build an app per test (their own database transaction, data folder and settings), and
`create_app` is cheap in itself, but FastAPI reads every route again for each app: each
endpoint's and dependency's signature (our modules' annotations are strings, evaluated again each
time) with a pydantic field per parameter, and a pydantic field per response model. Most of an
API test's time went there: a fifth of a second each, more under coverage; the suite's wall
time fell from 19 to under 8 minutes on two cores.

The routes, their endpoints, their dependencies and their response models are the modules' own,
the same objects in every app; only the app around them changes. What FastAPI makes of them (a
`Dependant`, a `ModelField`) describes that code and nothing of an app: dependency overrides,
settings and state are looked up when a request is served. So each is kept for the same objects
and every later app is handed it; an endpoint, dependency or model made anew for an app (a
closure, say) is another object and is read anew. The first reading of each is FastAPI's own,
with whatever of ours it calls.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Callable, Sequence
from typing import Any

import httpx._transports.default as httpx_transports
from fastapi import params, routing

_Dependant = tuple[Any, list[Any], bool]
_read_dependant: Callable[..., _Dependant] = (
    routing._build_dependant_with_parameterless_dependencies
)
_read_field: Callable[..., Any] = routing.create_model_field

# Keyed by the objects' identities; each entry keeps its objects, so no identity is reused.
_dependants: dict[tuple[str, int, tuple[int, ...]], tuple[object, list[object], _Dependant]] = {}
# Keyed by the type itself: a return annotation (`list[Deck]`) is evaluated anew for each app,
# an equal but other object.
_fields: dict[tuple[str, Any, str], Any] = {}


def _dependant_once(
    *, path: str, call: Callable[..., Any], dependencies: Sequence[params.Depends]
) -> _Dependant:
    key = (path, id(call), tuple(id(depends) for depends in dependencies))
    entry = _dependants.get(key)
    if entry is None:
        read = _read_dependant(path=path, call=call, dependencies=dependencies)
        entry = _dependants[key] = (call, list(dependencies), read)
    return entry[2]


def _response_field_once(name: str, type_: Any, mode: str = "validation", **more: Any) -> Any:
    if more:  # a default, field info or alias: not how routes ask for response fields
        return _read_field(name, type_, mode=mode, **more)
    key = (name, type_, mode)
    try:
        field = _fields.get(key)
    except TypeError:  # a type that cannot be a key (Annotated with unhashable metadata)
        return _read_field(name=name, type_=type_, mode=mode)
    if field is None:
        field = _fields[key] = _read_field(name=name, type_=type_, mode=mode)
    return field


_read_ssl_context: Callable[..., ssl.SSLContext] = httpx_transports.create_ssl_context
_ssl_contexts: dict[tuple[str | None, str | None], ssl.SSLContext] = {}


def _ssl_context_once(
    verify: Any = True, cert: Any = None, trust_env: bool = True
) -> ssl.SSLContext:
    """Every app's HTTP client (for images) made a TLS context of its own, loading the CA bundle
    each time (a few hundredths of a second); the default one, which no client changes, is made
    once for the CA bundle the environment names and shared, as one client's connections share
    it."""
    if verify is not True or cert is not None or not trust_env:
        return _read_ssl_context(verify=verify, cert=cert, trust_env=trust_env)
    key = (os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
    context = _ssl_contexts.get(key)
    if context is None:
        context = _ssl_contexts[key] = _read_ssl_context(verify=True, trust_env=True)
    return context


def install() -> None:
    routing._build_dependant_with_parameterless_dependencies = _dependant_once  # type: ignore[assignment]
    routing.create_model_field = _response_field_once  # type: ignore[assignment]
    httpx_transports.create_ssl_context = _ssl_context_once  # type: ignore[assignment]
