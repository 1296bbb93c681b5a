"""Extraction, as the platform serves it so far: documents and configurations. The extraction
job (`extraction.run`), its tables, exports and MCP tools come next."""

from paperworks.extraction.router import router
from paperworks.product import Product

EXTRACTION = Product(
    name="extraction",
    routers=(router,),
    settings=("max_upload_bytes",),
)
