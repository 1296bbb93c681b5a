"""Tasks, as the platform serves them: each user's private to-do list, over REST and MCP."""

from paperworks.product import Product
from paperworks.tasks.console import TASKS_CONSOLE
from paperworks.tasks.router import router
from paperworks.tasks.tools import TASK_TOOLS

TASKS = Product(name="tasks", routers=(router,), tools=TASK_TOOLS, console=TASKS_CONSOLE)
