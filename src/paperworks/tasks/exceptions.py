"""Tasks' errors: each knows its status and stable code."""

from paperworks.kit.errors import NotFound


class TaskNotFound(NotFound):
    code = "task.not_found"
    title = "Task not found"
