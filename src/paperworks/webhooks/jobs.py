"""The job that sends one attempt at a delivery (`webhooks.deliver`).

A platform handler, not a product's: `paperworks.product.job_handlers` adds
`PLATFORM_JOB_HANDLERS` to every process's handlers (the API's local runner and the Celery
worker alike), as webhooks serve every product's events.

Three steps, and no transaction is open while the endpoint is waited for (10 s at most): read
and sign; send; record the attempt and what follows (a retry queued, the endpoint disabled). The
owners of a disabled endpoint are mailed once that is committed.
"""

from __future__ import annotations

from typing import Any

from paperworks.jobs.handlers import JobContext, job_handler
from paperworks.kit.db import utcnow
from paperworks.kit.logging import get_logger
from paperworks.kit.mail import Mail
from paperworks.webhooks import sending, service

log = get_logger(__name__)


@job_handler(service.DELIVER_KIND, max_attempts=2)  # 2: once more if its worker vanished
async def deliver(ctx: JobContext) -> dict[str, Any]:
    delivery_id = str(ctx.payload["deliveryId"])
    manual = bool(ctx.payload.get("manual"))
    retry = None if manual else int(ctx.payload.get("retry", 1))
    rules = service.WebhookRules.from_settings(ctx.services.settings)
    async with ctx.db.session_scope() as session:
        prepared = await service.prepare_attempt(session, delivery_id, manual=manual)
    if prepared is None:
        ctx.summary = "Nothing to send."
        return {"deliveryId": delivery_id, "sent": False}
    started_at = utcnow()
    outcome = await sending.send(
        prepared.url,
        prepared.body,
        prepared.headers,
        time_limit=rules.timeout_seconds,
        allow_private=rules.allow_private,
    )
    async with ctx.db.session_scope() as session:
        disabled = await service.record_attempt(
            session,
            ctx.services.jobs,
            prepared,
            outcome,
            started_at=started_at,
            retry=retry,
            rules=rules,
        )
    log.info(
        "webhook_attempt",
        delivery_id=delivery_id,
        attempt=prepared.attempt,
        status_code=outcome.status_code,
        succeeded=outcome.succeeded,
        duration_ms=outcome.duration_ms,
    )
    if disabled is not None:
        await _tell_owners(ctx, disabled)
    ctx.summary = (
        f"Delivered (answered {outcome.status_code})."
        if outcome.succeeded
        else f"Attempt {prepared.attempt} failed: {outcome.error or outcome.status_code}"
    )
    return {
        "deliveryId": delivery_id,
        "attempt": prepared.attempt,
        "statusCode": outcome.status_code,
        "succeeded": outcome.succeeded,
    }


async def _tell_owners(ctx: JobContext, disabled: service.Disabled) -> None:
    log.warning("webhook_disabled", webhook_id=disabled.webhook_id, reason=disabled.reason)
    text = (
        f"Paperworks stopped sending webhooks to {disabled.url} (webhook {disabled.webhook_id} "
        f"of workspace {disabled.workspace_id}).\n\n{disabled.reason}\n\n"
        "Fix the endpoint, then turn the webhook on again (PUT /api/v1/webhooks/"
        f'{disabled.webhook_id} with "active": true); failed deliveries can be sent again from '
        "its delivery log.\n"
    )
    mailer = ctx.services.identity.mailer
    for email in disabled.owner_emails:
        try:
            await mailer.send(
                Mail(to=email, subject="A Paperworks webhook was disabled", text=text)
            )
        except Exception:  # the endpoint is disabled either way; a lost mail is only logged
            log.exception("webhook_disabled_mail_failed", webhook_id=disabled.webhook_id)


PLATFORM_JOB_HANDLERS = (deliver,)
