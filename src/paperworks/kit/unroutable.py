"""A path no route can serve is a 404 at once, not after every route has been tried.

FastAPI (0.137 on) keeps included routers as a tree and tries their routes one by one, with no
pruning by prefix (fastapi/fastapi#16159), at a few microseconds each: a path nothing serves - a
scanner's /wp-login.php, a typo - was tried against all ~200 routes, 650 µs, before its 404.
Every route path starts with a literal part (up to its first parameter); a path that starts with
none of them cannot match, so the router's own 404 is raised straight away and answered by the
same handler. Anything the check cannot be sure of goes on to the router.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send


def literal_prefixes(routes: Iterable[Any]) -> tuple[str, ...] | None:
    """What every path some route may match starts with ("" for a route at "/" alone); None when
    a route could match any path, or its path cannot be read. A trailing slash is dropped: the
    router redirects `/x` to a route at `/x/` and back."""
    prefixes = set()
    for path in _paths(routes):
        if path is None:
            return None
        prefix = path.split("{", 1)[0].rstrip("/")
        if not prefix and path != "/":  # a parameter first: it matches anything
            return None
        prefixes.add(prefix)
    return tuple(sorted(prefixes))


def _paths(routes: Iterable[Any]) -> Iterator[str | None]:
    """Each route's full path, included routers' routes too; None for one without a path, or
    with an empty one (a mount at the root, which serves every path)."""
    for context in iter_route_contexts(list(routes)):
        path = context.path
        yield path if isinstance(path, str) and path else None


class UnroutablePaths:
    """Wraps the app's router (inside its exception handling, so the 404 is the usual problem).
    The prefixes are read on first use and again whenever routes are added to the app."""

    def __init__(self, app: ASGIApp, routes: list[Any]) -> None:
        self.app = app
        self.routes = routes  # the router's own list: routes added later show in its length
        self._known = -1
        self._prefixes: tuple[str, ...] | None = None
        self._root = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if self._known != len(self.routes):
                self._read_prefixes()
            if self._prefixes is not None and not self._servable(_route_path(scope)):
                raise HTTPException(404)
        await self.app(scope, receive, send)

    def _read_prefixes(self) -> None:
        self._known = len(self.routes)
        prefixes = literal_prefixes(self.routes)
        self._root = prefixes is not None and "" in prefixes
        self._prefixes = prefixes and tuple(prefix for prefix in prefixes if prefix)

    def _servable(self, path: str) -> bool:
        if path.rstrip("/") == "":
            return self._root
        return path.startswith(self._prefixes or ())


def _route_path(scope: Scope) -> str:
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    if root_path and path.startswith(root_path):
        return path[len(root_path) :] or "/"
    return path
