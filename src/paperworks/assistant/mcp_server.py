"""The MCP server at `/mcp`: every product's tools for any MCP client, the assistant included.

Streamable HTTP, stateless, JSON answers: no session lives in a process, so any API process can
answer any call. Callers authenticate as on the REST API (`Authorization: Bearer <access token>`
or `X-API-Key`, optionally `X-Workspace-ID`) and each tool acts as that user in that workspace.
A product adds tools with a `register(server)` function in its `tools.py`, listed in
`PRODUCT_TOOL_MODULES`.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from paperworks.build_info import build_info
from paperworks.identity.dependencies import authenticate, workspace_access
from paperworks.identity.service import IdentityConfig
from paperworks.kit.db import Database
from paperworks.kit.errors import AppError

MCP_PATH = "/mcp"
PRODUCT_TOOL_MODULES = ("paperworks.tasks.tools",)
# Where the endpoint leaves the authenticated caller for the tools (the request's state).
CALLER_STATE = "mcp_caller"

CREDENTIAL_HEADERS = frozenset({b"authorization", b"x-api-key", b"x-workspace-id"})
CALLER_CACHE_SECONDS = 5.0
CALLER_CACHE_SIZE = 10_000

INSTRUCTIONS = """Paperworks' tools act on the signed-in user's data in their active workspace.
Ids come from earlier tool results; a tool error explains what to change and try again."""


@dataclass(frozen=True)
class ToolCaller:
    """Who a tool acts for: ids only, so nothing outlives the session that checked them."""

    user_id: str
    workspace_id: str
    api_key_id: str | None = None


def create_mcp_server() -> MCPServer:
    server: MCPServer = MCPServer(
        "paperworks", instructions=INSTRUCTIONS, version=build_info().version
    )
    for module in PRODUCT_TOOL_MODULES:
        importlib.import_module(module).register(server)
    return server


@asynccontextmanager
async def tool_session(ctx: Context) -> AsyncIterator[tuple[AsyncSession, ToolCaller]]:
    """A tool call's unit of work, as its caller. Committed when the tool returns; a domain
    error or invalid argument becomes a tool error the model can read and act on."""
    request: Any = ctx.request_context.request
    caller: ToolCaller = request.scope["state"][CALLER_STATE]
    db: Database = request.app.state.db
    try:
        async with db.session_scope() as session:
            yield session, caller
    except AppError as exc:
        raise ToolError(f"{exc.detail} ({exc.code})") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'input'}: {error['msg']}"
            for error in exc.errors()
        )
        raise ToolError(f"Invalid arguments: {problems}") from exc


class McpEndpoint:
    """ASGI endpoint: authenticates like the REST API, then hands over to the SDK's transport.
    An unauthenticated call raises before any byte is sent, so the app's handlers answer it
    with the usual problem+json 401.

    A client's session is several requests in a row (discover, list, call...), so who the
    credentials stand for is remembered for a few seconds: authenticating took three quarters of
    each request's time (see bench/assistant.py). Like the rate limiter's API-key cache, a
    revoked key or a removed membership is refused again within that time."""

    def __init__(
        self,
        server: MCPServer,
        db: Database,
        identity: IdentityConfig,
        *,
        remember_seconds: float = CALLER_CACHE_SECONDS,
    ) -> None:
        self.transport = StreamableHTTPASGIApp(server.session_manager)
        self.db = db
        self.identity = identity
        self.remember_seconds = remember_seconds
        self._callers: dict[bytes, tuple[ToolCaller, float]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope.setdefault("state", {})[CALLER_STATE] = await self._caller(scope)
        await self.transport(scope, receive, send)

    async def _caller(self, scope: Scope) -> ToolCaller:
        headers = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope["headers"]
            if name in CREDENTIAL_HEADERS
        }
        key = hashlib.sha256(json.dumps(headers, sort_keys=True).encode()).digest()
        now = time.monotonic()
        remembered = self._callers.get(key)
        if remembered is not None and remembered[1] > now:
            return remembered[0]
        caller = await self._authenticate(headers)
        if len(self._callers) >= CALLER_CACHE_SIZE:
            self._callers.clear()
        self._callers[key] = (caller, now + self.remember_seconds)
        return caller

    async def _authenticate(self, headers: dict[str, str]) -> ToolCaller:
        authorization = headers.get("authorization", "")
        bearer = authorization[7:].strip() if authorization[:7].lower() == "bearer " else None
        async with self.db.session_scope() as session:
            principal = await authenticate(
                session, self.identity, bearer=bearer, api_key=headers.get("x-api-key")
            )
            access = await workspace_access(session, principal, headers.get("x-workspace-id"))
        api_key = principal.api_key
        return ToolCaller(
            user_id=principal.user.id,
            workspace_id=access.workspace.id,
            api_key_id=api_key.id if api_key is not None else None,
        )


def mount_mcp(app: FastAPI, server: MCPServer) -> None:
    """Serve `server` at exactly `/mcp` (a Mount would answer `/mcp` with a 307 to `/mcp/`)."""
    server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        stateless_http=True,
        json_response=True,
        # The SDK's DNS-rebinding guard pins Host to localhost. It protects servers a browser
        # reaches with ambient credentials; ours takes only explicit tokens, and runs behind
        # real host names.
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    endpoint = McpEndpoint(server, app.state.db, app.state.identity)
    # First in the routing table: an MCP session is many small requests, and FastAPI tries the
    # routes in order.
    app.router.routes.insert(0, Route(MCP_PATH, endpoint, methods=["GET", "POST", "DELETE"]))
