"""The products this service serves: one line each. `create_app`, `paperworks worker` and the CLI
read this list (see `paperworks.product.Product`)."""

from paperworks.assistant.product import ASSISTANT
from paperworks.booklets.product import BOOKLETS
from paperworks.decks.product import DECKS
from paperworks.extraction.product import EXTRACTION
from paperworks.product import Product
from paperworks.tasks.product import TASKS

# In this order their MCP tools are listed and, without a model, their plain phrases are tried:
# a family whose phrases are narrower goes first (decks need a deck named; tasks read most lines).
PRODUCTS: tuple[Product, ...] = (DECKS, TASKS, BOOKLETS, EXTRACTION, ASSISTANT)
