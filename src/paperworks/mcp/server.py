"""The MCP server at `/mcp`: every product's tools for any MCP client, the assistant included.

Streamable HTTP, stateless, JSON answers: no session lives in a process, so any API process can
answer any call. Callers authenticate as on the REST API (`Authorization: Bearer <access token>`
or `X-API-Key`, optionally `X-Workspace-ID`) and each tool acts as that caller. A client in this
process (the assistant) connects over the SDK's in-memory transport instead, within
`acting_as(caller, services)`: no HTTP, no second authentication. Products bring their tools as a
`ToolFamily`; a tool body runs inside `tool_session`:

    @server.tool()
    async def add_task(title: str, ctx: Context) -> dict[str, Any]:
        async with tool_session(ctx) as (session, caller, services):
            ...
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, NamedTuple

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
from paperworks.identity.caller import Caller, Credentials
from paperworks.identity.credential_cache import CallerCache
from paperworks.kit.errors import AppError
from paperworks.mcp.family import ToolFamily

if TYPE_CHECKING:
    from paperworks.services import Services

MCP_PATH = "/mcp"
# Where the endpoint leaves the authenticated caller for the tools (the request's state).
CALLER_STATE = "mcp_caller"

INSTRUCTIONS = """Paperworks' tools act on the signed-in user's data in their active workspace.
Ids come from earlier tool results; a tool error explains what to change and try again."""


class ToolScope(NamedTuple):
    """What a tool call works with: its unit of work, who it acts for, the process's services."""

    session: AsyncSession
    caller: Caller
    services: Services


# Who a client in this process acts as: read by tool calls that came without an HTTP request.
_ACTING: ContextVar[tuple[Caller, Services] | None] = ContextVar("mcp_acting", default=None)


@contextmanager
def acting_as(caller: Caller, services: Services) -> Iterator[None]:
    """Tool calls of an in-memory MCP session opened within this block act as `caller` (the
    session's server task, started here, carries the context)."""
    token = _ACTING.set((caller, services))
    try:
        yield
    finally:
        _ACTING.reset(token)


def create_mcp_server(families: Sequence[ToolFamily]) -> MCPServer:
    server: MCPServer = MCPServer(
        "paperworks", instructions=INSTRUCTIONS, version=build_info().version
    )
    for family in families:
        family.register(server)
    return server


@asynccontextmanager
async def tool_session(ctx: Context) -> AsyncIterator[ToolScope]:
    """A tool call's unit of work, as its caller. Committed when the tool returns; a domain
    error or invalid argument becomes a tool error the model can read and act on."""
    caller, services = _acting(ctx)
    try:
        async with services.db.session_scope() as session:
            yield ToolScope(session, caller, services)
    except AppError as exc:
        raise ToolError(f"{exc.detail} ({exc.code})") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'input'}: {error['msg']}"
            for error in exc.errors()
        )
        raise ToolError(f"Invalid arguments: {problems}") from exc


def _acting(ctx: Context) -> tuple[Caller, Services]:
    request: Any = ctx.request_context.request
    if request is not None:
        return request.scope["state"][CALLER_STATE], request.app.state.services
    acting = _ACTING.get()
    if acting is None:
        raise ToolError("This session has no caller: open it within acting_as().")
    return acting


class McpEndpoint:
    """ASGI endpoint: authenticates like the REST API, then hands over to the SDK's transport.
    An unauthenticated call raises before any byte is sent, so the app's handlers answer it
    with the usual problem+json 401. A client's session is several requests in a row, so the
    caller comes from the process's credential cache."""

    def __init__(self, server: MCPServer, callers: CallerCache) -> None:
        self.transport = StreamableHTTPASGIApp(server.session_manager)
        self.callers = callers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        caller = await self.callers.caller(Credentials.from_headers(scope["headers"]))
        scope.setdefault("state", {})[CALLER_STATE] = caller
        await self.transport(scope, receive, send)


def mount_mcp(app: FastAPI, server: MCPServer, callers: CallerCache) -> None:
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
    # First in the routing table: an MCP session is many small requests, and FastAPI tries the
    # routes in order.
    app.router.routes.insert(
        0, Route(MCP_PATH, McpEndpoint(server, callers), methods=["GET", "POST", "DELETE"])
    )
