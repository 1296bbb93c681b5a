"""The assistant in the web console: the user's conversations, one conversation's messages with
the tools each reply called, a message box whose reply is written out as it streams (the API's
SSE turn, when the page's script asks for it), and the task list beside it (the Tasks screen's
panel, refreshed as the assistant changes tasks)."""

from __future__ import annotations

import functools
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from pydantic import ValidationError

from paperworks.assistant import flows, service
from paperworks.assistant.dependencies import AssistantDep
from paperworks.assistant.exceptions import ConversationBusy, ConversationNotFound, TooManySteps
from paperworks.assistant.models import Conversation
from paperworks.assistant.schemas import ChatRequest, MessageOut
from paperworks.console.dependencies import CheckedForm, SignedInConsole
from paperworks.console.pages import ConsolePages, Templates
from paperworks.kit.pagination import DEFAULT_LIMIT
from paperworks.kit.sse import SSE_HEADERS
from paperworks.llm.exceptions import LLMError
from paperworks.services import ServicesDep, SessionDep

router = APIRouter(include_in_schema=False)
templates = Templates(Path(__file__).parent / "templates")
TASK_PANEL = "/tasks/panel"  # the Tasks screen's list, shown beside the chat


async def _page(
    request: Request,
    console: SignedInConsole,
    session: SessionDep,
    conversation: Conversation | None,
    *,
    status_code: int = 200,
    error: str | None = None,
    message: str = "",
) -> Response:
    conversations, _ = await service.list_conversations(
        session, console.caller, limit=DEFAULT_LIMIT, cursor=None
    )
    messages = (
        [MessageOut.model_validate(m) for m in await service.messages_of(session, conversation)]
        if conversation is not None
        else []
    )
    return templates.render(
        request,
        "assistant.html",
        console,
        status_code=status_code,
        conversations=list(reversed(conversations)),
        conversation=conversation,
        messages=messages,
        task_panel=TASK_PANEL,
        error=error,
        message=message,
    )


@router.get("/assistant")
async def new_conversation(
    request: Request, console: SignedInConsole, session: SessionDep
) -> Response:
    return await _page(request, console, session, None)


@router.get("/assistant/{conversation_id}")
async def conversation_page(
    conversation_id: str, request: Request, console: SignedInConsole, session: SessionDep
) -> Response:
    try:
        conversation = await service.get_conversation(session, console.caller, conversation_id)
    except ConversationNotFound:
        return await _page(
            request, console, session, None, status_code=404, error="No such conversation."
        )
    return await _page(request, console, session, conversation)


@router.post("/assistant")
async def say(
    request: Request,
    console: SignedInConsole,
    session: SessionDep,
    services: ServicesDep,
    assistant: AssistantDep,
    form: CheckedForm,
) -> Response:
    """One turn: the same as the API's chat, then back to the conversation. Asked for as
    `text/event-stream` (the page's script), the reply streams as the API's does."""
    conversation_id = str(form.get("conversation") or "") or None
    text = str(form.get("message") or "")
    try:
        body = ChatRequest(message=text, conversation_id=conversation_id)
        history = await flows.history_of(session, console.caller, body.conversation_id)
        turn = functools.partial(
            flows.take_turn, services.db, assistant, console.caller, body, history
        )
        if "text/event-stream" in request.headers.get("accept", ""):
            return StreamingResponse(
                flows.streamed(turn, instance=request.url.path),
                media_type="text/event-stream",
                headers=SSE_HEADERS,
            )
        reply = await turn(None)
    except (ValidationError, ConversationNotFound, ConversationBusy, TooManySteps, LLMError) as e:
        said = "Write a message first." if isinstance(e, ValidationError) else e.detail or e.title
        conversation = None
        if conversation_id:
            try:
                conversation = await service.get_conversation(
                    session, console.caller, conversation_id
                )
            except ConversationNotFound:
                conversation = None
        return await _page(
            request, console, session, conversation, status_code=422, error=said, message=text
        )
    return RedirectResponse(f"/assistant/{reply.conversation_id}#latest", status_code=303)


ASSISTANT_CONSOLE = ConsolePages(
    label="Assistant",
    path="/assistant",
    router=router,
    summary="Say what to do with your tasks in plain words.",
)
