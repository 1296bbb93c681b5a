"""The products this service serves: one line each. `create_app`, `paperworks worker` and the CLI
read this list (see `paperworks.product.Product`)."""

from paperworks.assistant.product import ASSISTANT
from paperworks.decks.product import DECKS
from paperworks.product import Product
from paperworks.tasks.product import TASKS

PRODUCTS: tuple[Product, ...] = (TASKS, DECKS, ASSISTANT)
