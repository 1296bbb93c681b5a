"""Extraction as MCP tools: any MCP client (the assistant included) can list the workspace's
documents, have one's tables extracted, find the tables a job found and read one, acting as the
caller in their workspace.

Extraction is a job: `extract_tables` answers at once with its jobId, and `list_tables` says how
the job is going and, once it has succeeded, which tables it found. Answers use the REST API's
shapes (camelCase).
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from paperworks.extraction import jobs, results, service
from paperworks.extraction.models import ExtractedTable
from paperworks.jobs.models import Job
from paperworks.mcp.family import ToolFamily
from paperworks.mcp.server import ToolScope, tool_session

LIST_LIMIT = 50
ROW_LIMIT = 200

DocumentId = Annotated[
    str, Field(max_length=64, description="The document's id, from list_documents")
]
JobId = Annotated[
    str, Field(max_length=64, description="The extraction's jobId, from extract_tables")
]


async def _job(scope: ToolScope, job_id: str) -> dict[str, Any]:
    job = await scope.session.get(Job, job_id)
    assert job is not None  # an extraction job is a job
    shown: dict[str, Any] = {"jobId": job.id, "status": job.status}
    if job.error_message:
        shown["error"] = job.error_message
    return shown


def _summary(table: ExtractedTable) -> dict[str, Any]:
    return {
        "id": table.id,
        "page": table.page,
        "index": table.index,
        "sheet": table.sheet,
        "nRows": table.n_rows,
        "nCols": table.n_cols,
    }


def register(server: MCPServer) -> None:
    @server.tool()
    async def list_documents(ctx: Context) -> dict[str, Any]:
        """The workspace's uploaded documents, oldest first (up to 50, `more` true if there are
        others): id, name, kind (pdf, xlsx, csv), pageCount (PDFs only) and status (uploaded,
        extracting, extracted, failed)."""
        async with tool_session(ctx) as scope:
            documents, next_cursor = await service.list_documents(
                scope.session, scope.caller, kind=None, limit=LIST_LIMIT, cursor=None
            )
            shown = [
                {
                    "id": d.id,
                    "name": d.name,
                    "kind": d.kind,
                    "pageCount": d.page_count,
                    "status": d.status,
                }
                for d in documents
            ]
            return {"documents": shown, "more": next_cursor is not None}

    @server.tool()
    async def extract_tables(
        document_id: DocumentId,
        ctx: Context,
        configuration_id: Annotated[
            str | None,
            Field(
                max_length=64,
                description="A configuration saying which columns are wanted; default settings "
                "without",
            ),
        ] = None,
    ) -> dict[str, Any]:
        """Extract the document's tables in the background, shaped by the configuration if one
        is given. Answers at once with the jobId and its status ("queued"); ask list_tables with
        the jobId for how it went and the tables it found."""
        async with tool_session(ctx) as scope:
            extraction = await jobs.start_extraction(
                scope.session, scope.services, scope.caller, document_id, configuration_id
            )
            return {"documentId": extraction.document_id, **(await _job(scope, extraction.id))}

    @server.tool()
    async def list_tables(
        ctx: Context,
        job_id: Annotated[
            str | None, Field(max_length=64, description="An extraction's jobId")
        ] = None,
        document_id: Annotated[
            str | None,
            Field(
                max_length=64,
                description="A document's id: the tables of its latest succeeded extraction",
            ),
        ] = None,
    ) -> dict[str, Any]:
        """The tables an extraction found (up to 50, `more` true if there are others), in page
        then position order: id, page, index, sheet (workbooks), nRows, nCols. Give job_id (the
        answer then says the job's status, and its error if it failed) or document_id."""
        if (job_id is None) == (document_id is None):
            raise ToolError("Give exactly one of job_id and document_id.")
        async with tool_session(ctx) as scope:
            answer: dict[str, Any] = {}
            if job_id is not None:
                found, next_cursor = await results.job_tables(
                    scope.session, scope.caller, job_id, limit=LIST_LIMIT, cursor=None
                )
                answer.update(await _job(scope, job_id))
            else:
                assert document_id is not None
                found, next_cursor = await results.document_tables(
                    scope.session, scope.caller, document_id, limit=LIST_LIMIT, cursor=None
                )
            answer["tables"] = [_summary(t) for t in found]
            answer["more"] = next_cursor is not None
            return answer

    @server.tool()
    async def get_table(
        table_id: Annotated[str, Field(max_length=64, description="From list_tables")],
        ctx: Context,
    ) -> dict[str, Any]:
        """One extracted table as shaped by its configuration: header (the columns), rows (one
        record per row, at most 200, `truncated` true if the table has more; the REST API or an
        export has them all), issues (values missing or not parsed, pages needing OCR), and where
        it was found (documentId, jobId, page, sheet)."""
        async with tool_session(ctx) as scope:
            table = await results.get_table(scope.session, scope.caller, table_id)
            return {
                **_summary(table),
                "jobId": table.job_id,
                "documentId": table.document_id,
                "header": table.header,
                "rows": table.rows[:ROW_LIMIT],
                "truncated": len(table.rows) > ROW_LIMIT,
                "issues": table.issues,
            }


EXTRACTION_TOOLS = ToolFamily(
    name="extraction",
    register=register,
    instructions="""Table extraction from uploaded PDF, XLSX and CSV documents: list_documents finds
document ids; extract_tables starts a background job (optionally shaped by a configuration's
columns) and answers at once with its jobId; list_tables with that jobId says whether it has
succeeded and lists the tables found (or with a document_id, its latest succeeded extraction's
tables); get_table reads one table's header, rows and issues. Do not guess ids: find them first.""",
)
