"""Extraction, as the platform serves it: documents, configurations, the `extraction.run` job,
its tables and their exports, and its MCP tools."""

from paperworks.extraction.console import EXTRACTION_CONSOLE
from paperworks.extraction.jobs import extract_job
from paperworks.extraction.router import router
from paperworks.extraction.tools import EXTRACTION_TOOLS
from paperworks.product import Product

EXTRACTION = Product(
    name="extraction",
    routers=(router,),
    job_handlers=(extract_job,),
    live_events=("extraction:progress", "extraction:completed"),
    settings=(
        "max_upload_bytes",
        "extraction_max_pages",
        "extraction_page_seconds",
        "llm_api_key",
        "llm_base_url",
        "llm_model",
        "llm_cache_seconds",
    ),
    tools=EXTRACTION_TOOLS,
    console=EXTRACTION_CONSOLE,
)
