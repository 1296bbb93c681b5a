"""Adding a product is one package and one registration: its routes, its job handlers and its MCP
tools reach the app, the runners and the assistant from its `Product` declaration alone."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from mcp.server.mcpserver import Context, MCPServer

from paperworks.app import create_app
from paperworks.assistant.agent import instructions_for
from paperworks.identity.dependencies import CurrentCaller
from paperworks.jobs import service as jobs
from paperworks.jobs.handlers import JobContext, job_handler
from paperworks.jobs.models import JobStatus
from paperworks.kit.db import Database
from paperworks.mcp.family import ToolFamily
from paperworks.mcp.server import tool_session
from paperworks.product import Product
from paperworks.products import PRODUCTS
from paperworks.services import ServicesDep, SessionDep
from paperworks.settings import Settings
from tests.accounts import Account
from tests.mcp_sessions import McpClient, call

# --- a product of the test's own, declared the way a real one is ------------------------------

router = APIRouter(prefix="/api/v1/notes", tags=["notes"])


@router.post("", status_code=202)
async def count_later(
    body: dict[str, str], caller: CurrentCaller, session: SessionDep, services: ServicesDep
) -> dict[str, str]:
    job = await services.jobs.enqueue(session, caller, kind="notes.count", payload=body)
    return {"jobId": job.id}


@job_handler("notes.count", max_attempts=2)
async def count_words(ctx: JobContext) -> dict[str, Any]:
    ctx.summary = "Counted."
    return {
        "words": len(ctx.payload["text"].split()),
        "storage": type(ctx.services.storage).__name__,
    }


def register(server: MCPServer) -> None:
    @server.tool()
    async def words_in(text: str, ctx: Context) -> dict[str, Any]:
        """Count the words of a text."""
        async with tool_session(ctx) as (_, caller, _services):
            return {"words": len(text.split()), "workspace": caller.workspace_id}


NOTES = Product(
    name="notes",
    routers=(router,),
    job_handlers=(count_words,),
    tools=ToolFamily("notes", register, "Count words with words_in."),
    live_events=("notes:counted",),
    settings=("max_upload_bytes",),
)


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    return create_app(settings, db=db, products=(*PRODUCTS, NOTES))


# --- what the one declaration brings -----------------------------------------------------------


async def test_its_routes_and_job_handlers_serve_and_run(
    app: FastAPI, client: httpx.AsyncClient, db: Database, anna: Account
) -> None:
    started = await client.post(
        "/api/v1/notes", json={"text": "one two three"}, headers=anna.headers
    )
    assert started.status_code == 202, started.text
    services = app.state.services
    async with db.session_scope() as session:
        job = await jobs.claim_next(session, lease=timedelta(seconds=30))
    assert job is not None
    assert job.max_attempts == 2  # the handler's, given at enqueue
    assert await services.jobs.runner.run(job) == JobStatus.succeeded
    done = (await client.get(f"/api/v1/jobs/{job.id}", headers=anna.headers)).json()
    assert done["result"] == {"words": 3, "storage": "LocalStorage"}  # ctx.services reached
    assert done["message"] == "Counted."


async def test_its_tools_reach_any_mcp_client_as_the_caller(
    mcp_client: McpClient, anna: Account
) -> None:
    async with mcp_client(anna.headers) as mcp:
        names = {tool.name for tool in (await mcp.list_tools()).tools}
        assert {"words_in", "add_task"} <= names
        answer = await call(mcp, "words_in", text="a b c d")
    assert answer == {"words": 4, "workspace": anna.personal_workspace_id}


def test_the_assistant_learns_its_tools_from_its_declaration(app: FastAPI) -> None:
    instructions = instructions_for(app.state.services.tools, today=date(2026, 12, 3))
    assert "Count words with words_in." in instructions
    assert "list_tasks" in instructions  # every product's families, in the order listed


async def test_its_live_events_are_documented_with_the_api(client: httpx.AsyncClient) -> None:
    description = (await client.get("/openapi.json")).json()["info"]["description"]
    assert "- notes: `notes:counted`" in description
    assert "- decks: `slide:progress`, `slide:completed`, `error`" in description


def test_a_declaration_with_a_typo_fails_at_import() -> None:
    with pytest.raises(ValueError, match="unknown settings"):
        Product(name="notes", settings=("max_upload_byte",))
    with pytest.raises(ValueError, match=r"must start with 'notes\.'"):
        Product(name="notes", job_handlers=(job_handler("count")(count_words.run),))


def test_two_products_cannot_claim_one_job_kind(settings: Settings) -> None:
    twin = Product(name="notes", job_handlers=(job_handler("notes.count")(count_words.run),))
    with pytest.raises(ValueError, match=r"two handlers for jobs of kind 'notes\.count'"):
        create_app(settings, products=(*PRODUCTS, NOTES, twin))
