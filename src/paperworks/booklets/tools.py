"""Booklets as MCP tools: any MCP client (the assistant included) can list books and customers,
see what a customer would get, and generate a booklet, acting as the caller in their workspace.

Generation is a job: `generate_booklet` answers at once with the booklet and its job, and
`get_booklet` says when it is made, with a signed download link. Answers use the REST API's
shapes (camelCase).
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from paperworks.booklets import generation, schemas, service
from paperworks.mcp.family import ToolFamily
from paperworks.mcp.server import ToolScope, tool_session

LIST_LIMIT = 50

BookId = Annotated[str, Field(description="The book's id, from list_books")]
CustomerId = Annotated[str, Field(description="The customer's id, from list_customers")]
Year = Annotated[int | None, Field(ge=1900, le=2999, description="The period's year")]
Quarter = Annotated[int | None, Field(ge=1, le=4, description="The period's quarter, 1-4")]


def _dumped(model: Any) -> dict[str, Any]:
    dumped: dict[str, Any] = model.model_dump(mode="json", by_alias=True)
    return dumped


async def _booklet(scope: ToolScope, booklet_id: str) -> dict[str, Any]:
    booklet = await generation.get_booklet(scope.session, scope.caller, booklet_id)
    (view,) = await generation.booklet_views(scope.session, scope.services, scope.caller, [booklet])
    return _dumped(view)


def register(server: MCPServer) -> None:
    @server.tool()
    async def list_books(ctx: Context) -> dict[str, Any]:
        """The workspace's books (up to 50, `more` true if there are others): id, name and the
        titles and types of their pages in order."""
        async with tool_session(ctx) as scope:
            books, next_cursor = await service.list_books(
                scope.session, scope.caller, limit=LIST_LIMIT
            )
            pages = await service.pages_of(scope.session, scope.caller, [b.id for b in books])
            shown = [
                {
                    "id": book.id,
                    "name": book.name,
                    "pages": [
                        {"title": p.title, "type": p.type} for p in pages if p.book_id == book.id
                    ],
                }
                for book in books
            ]
            return {"books": shown, "more": next_cursor is not None}

    @server.tool()
    async def list_customers(
        ctx: Context,
        q: Annotated[str | None, Field(description="Part of a name or reference")] = None,
    ) -> dict[str, Any]:
        """The workspace's customers (up to 50, `more` true if there are others), optionally
        those whose name or reference contains `q`: id, name, externalRef."""
        async with tool_session(ctx) as scope:
            customers, next_cursor = await service.list_customers(
                scope.session, scope.caller, q=q, limit=LIST_LIMIT
            )
            shown = [{"id": c.id, "name": c.name, "externalRef": c.external_ref} for c in customers]
            return {"customers": shown, "more": next_cursor is not None}

    @server.tool()
    async def resolve_booklet(
        book_id: BookId,
        customer_id: CustomerId,
        ctx: Context,
        year: Year = None,
        quarter: Quarter = None,
    ) -> dict[str, Any]:
        """What the customer's booklet would contain for the period, without making it: each
        page's source file and why (the rule that chose it), the form values it would get, and
        the attributes the customer lacks (`missingAttributes`: generating would be refused)."""
        async with tool_session(ctx) as scope:
            request = schemas.ResolveRequest(customer_id=customer_id, year=year, quarter=quarter)
            plan = await generation.plan_booklet(
                scope.session, scope.caller, book_id, request.customer_id, year, quarter
            )
            return _dumped(generation.resolution_out(plan))

    @server.tool()
    async def generate_booklet(
        book_id: BookId,
        customer_id: CustomerId,
        ctx: Context,
        year: Year = None,
        quarter: Quarter = None,
    ) -> dict[str, Any]:
        """Make the customer's booklet for the period as a PDF, in the background. Answers at
        once with the booklet (status "queued") and its jobId; ask get_booklet later for the
        download link."""
        async with tool_session(ctx) as scope:
            body = schemas.GenerateRequest(customer_id=customer_id, year=year, quarter=quarter)
            booklet = await generation.generate(
                scope.session, scope.services, scope.caller, book_id, body
            )
            return await _booklet(scope, booklet.id)

    @server.tool()
    async def get_booklet(
        booklet_id: Annotated[str, Field(description="From generate_booklet")], ctx: Context
    ) -> dict[str, Any]:
        """A booklet: its status (queued, running, succeeded, failed), page count, where each
        page came from, and once made a downloadUrl, a signed link to the PDF."""
        async with tool_session(ctx) as scope:
            return await _booklet(scope, booklet_id)


BOOKLET_TOOLS = ToolFamily(
    name="booklets",
    register=register,
    instructions="""PDF booklets: a book is an ordered list of pages; a customer has attributes
per year and quarter. list_books and list_customers find ids; resolve_booklet shows what a
customer would get for a period (and which attributes are missing) without making anything;
generate_booklet makes the PDF as a background job and answers at once; get_booklet tells when it
is ready and gives its downloadUrl. Name the period the user means (year, quarter) explicitly.""",
)
