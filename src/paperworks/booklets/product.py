"""Booklets, as the platform serves them: per-customer PDF booklets made from a book of pages,
generated as live jobs."""

from paperworks.booklets.console import BOOKLETS_CONSOLE
from paperworks.booklets.jobs import generate_booklet_job
from paperworks.booklets.router import router
from paperworks.booklets.tools import BOOKLET_TOOLS
from paperworks.product import Product

BOOKLETS = Product(
    name="booklets",
    routers=(router,),
    job_handlers=(generate_booklet_job,),
    tools=BOOKLET_TOOLS,
    live_events=("booklet:progress", "booklet:completed", "error"),
    settings=("max_upload_bytes", "excel_renderer"),
    console=BOOKLETS_CONSOLE,
)
