"""The assistant's errors: each knows its status and stable code."""

from paperworks.kit.errors import Conflict, NotFound
from paperworks.llm.exceptions import LLMError


class ConversationNotFound(NotFound):
    code = "assistant.conversation_not_found"
    title = "Conversation not found"


class TooManySteps(LLMError):
    """The model kept calling tools past the turn's step budget."""

    code = "assistant.too_many_steps"
    title = "The assistant did not finish its turn"


class ConversationBusy(Conflict):
    code = "assistant.conversation_busy"
    title = "The conversation changed meanwhile"
