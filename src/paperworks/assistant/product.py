"""The assistant, as the platform serves it: chat turns over every product's MCP tools."""

from paperworks.assistant.console import ASSISTANT_CONSOLE
from paperworks.assistant.router import router
from paperworks.product import Product

ASSISTANT = Product(
    name="assistant",
    routers=(router,),
    console=ASSISTANT_CONSOLE,
    settings=(
        "llm_api_key",
        "llm_model",
        "assistant_history_turns",
        "assistant_max_steps",
        "assistant_tracing",
    ),
)
