"""Webhooks in the web console, under Settings: the workspace's endpoints, a new one with its
secret shown once, changing, pausing, rotating the secret of and deleting one, and its latest
deliveries with their attempts, sent again on request. Owners and admins only, as in the API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from paperworks.console.dependencies import CheckedForm, SignedInConsole
from paperworks.console.pages import Console, ResourceMissing, Templates, refusal_lines
from paperworks.kit.errors import AppError
from paperworks.services import ServicesDep, SessionDep
from paperworks.webhooks import schemas, service
from paperworks.webhooks.event_types import EVENT_TYPES
from paperworks.webhooks.exceptions import WebhookNotFound
from paperworks.webhooks.models import Webhook

router = APIRouter(include_in_schema=False)
templates = Templates(Path(__file__).parent / "templates")
SHOWN = 100  # webhooks, and deliveries of one, a page lists


def _sent(form: FormData) -> dict[str, Any]:
    """A webhook as its form sends it: the event types ticked, and others typed (`job.*`)."""
    typed = str(form.get("otherEvents") or "").replace("\n", ",").split(",")
    events = [str(e) for e in form.getlist("events")] + [e.strip() for e in typed if e.strip()]
    return {
        "url": str(form.get("url") or "").strip(),
        "events": events,
        "description": str(form.get("description") or "").strip() or None,
        "active": form.get("active") == "on",
    }


async def _list_page(
    request: Request,
    console: Console,
    session: SessionDep,
    *,
    status_code: int = 200,
    problems: list[str] | None = None,
    sent: dict[str, Any] | None = None,
    secret: str | None = None,
) -> Response:
    webhooks, _ = await service.list_webhooks(session, console.caller, limit=SHOWN, cursor=None)
    return templates.render(
        request,
        "webhooks.html",
        console,
        status_code=status_code,
        webhooks=webhooks,
        event_types=EVENT_TYPES,
        sent=sent or {"events": [], "active": True},
        problems=problems or [],
        secret=secret,
    )


async def _webhook_page(
    request: Request,
    console: Console,
    session: SessionDep,
    webhook: Webhook,
    *,
    status_code: int = 200,
    problems: list[str] | None = None,
    sent: dict[str, Any] | None = None,
    secret: str | None = None,
    notice: str | None = None,
) -> Response:
    deliveries = await service.latest_deliveries(session, console.caller, webhook.id, limit=SHOWN)
    shown = sent or {
        "url": webhook.url,
        "events": webhook.events,
        "description": webhook.description,
        "active": webhook.active,
    }
    return templates.render(
        request,
        "webhook.html",
        console,
        status_code=status_code,
        webhook=webhook,
        deliveries=deliveries,
        event_types=EVENT_TYPES,
        sent=shown,
        problems=problems or [],
        secret=secret,
        notice=notice,
    )


@router.get("/settings/webhooks")
async def webhooks(request: Request, console: SignedInConsole, session: SessionDep) -> Response:
    try:
        return await _list_page(request, console, session)
    except AppError as error:  # a member: webhooks are for owners and admins
        return templates.render(
            request, "webhooks_refused.html", console, status_code=403, reason=error.detail
        )


@router.post("/settings/webhooks")
async def create_webhook(
    request: Request,
    console: SignedInConsole,
    session: SessionDep,
    services: ServicesDep,
    form: CheckedForm,
) -> Response:
    sent = _sent(form)
    try:
        body = schemas.WebhookIn.model_validate(sent)
        rules = service.WebhookRules.from_settings(services.settings)
        webhook = await service.create_webhook(session, console.caller, body, rules)
    except (ValidationError, AppError) as error:
        problems = refusal_lines(error)
    else:
        # Shown on this answer only (the page is not cached), never again.
        return await _webhook_page(
            request, console, session, webhook, status_code=201, secret=webhook.secret
        )
    return await _list_page(
        request, console, session, status_code=422, problems=problems, sent=sent
    )


@router.get("/settings/webhooks/{webhook_id}")
async def webhook_page(
    webhook_id: str, request: Request, console: SignedInConsole, session: SessionDep
) -> Response:
    try:
        webhook = await service.get_webhook(session, console.caller, webhook_id)
    except WebhookNotFound:
        raise ResourceMissing(
            request, console, "webhook", "/settings/webhooks", "All webhooks"
        ) from None
    except AppError as error:
        return templates.render(
            request, "webhooks_refused.html", console, status_code=403, reason=error.detail
        )
    return await _webhook_page(request, console, session, webhook)


@router.post("/settings/webhooks/{webhook_id}")
async def change_webhook(
    webhook_id: str,
    request: Request,
    console: SignedInConsole,
    session: SessionDep,
    services: ServicesDep,
    form: CheckedForm,
) -> Response:
    """Save the webhook (`action=save`), rotate its secret, delete it, or send a delivery again
    (`action=redeliver:<delivery id>`)."""
    try:
        webhook = await service.get_webhook(session, console.caller, webhook_id)
    except WebhookNotFound:
        raise ResourceMissing(
            request, console, "webhook", "/settings/webhooks", "All webhooks"
        ) from None
    except AppError as error:
        return templates.render(
            request, "webhooks_refused.html", console, status_code=403, reason=error.detail
        )
    action, _, delivery_id = str(form.get("action") or "save").partition(":")
    sent = None
    try:
        if action == "delete":
            await service.delete_webhook(session, console.caller, webhook_id)
            return RedirectResponse("/settings/webhooks", status_code=303)
        if action == "rotate":
            await service.rotate_secret(session, console.caller, webhook_id)
            return await _webhook_page(
                request, console, session, webhook, secret=webhook.secret, notice=None
            )
        if action == "redeliver":
            await service.redeliver(session, console.caller, services.jobs, webhook_id, delivery_id)
            return await _webhook_page(
                request, console, session, webhook, notice="The delivery is being sent again."
            )
        sent = _sent(form)
        body = schemas.WebhookIn.model_validate(sent)
        rules = service.WebhookRules.from_settings(services.settings)
        await service.replace_webhook(session, console.caller, webhook_id, body, rules)
    except (ValidationError, AppError) as error:
        problems = refusal_lines(error)
    else:
        return RedirectResponse(f"/settings/webhooks/{webhook_id}", status_code=303)
    return await _webhook_page(
        request, console, session, webhook, status_code=422, problems=problems, sent=sent
    )
