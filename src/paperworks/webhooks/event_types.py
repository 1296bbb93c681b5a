"""The event types a webhook may subscribe to: the one list of what the platform publishes.

`tests/webhooks/test_event_types.py` reads every `publish(...)` call in the source and fails
when a type is published that is neither listed here nor `PRIVATE_PREFIXES`, so this list cannot
fall behind the products.

A subscription entry is an exact type (`deck.built`), `*` (everything), or a family wildcard
(`job.*`: every type that starts with `job.`).
"""

from __future__ import annotations

from collections.abc import Iterable

EVENT_TYPES: dict[str, str] = {
    # jobs (every product's long work)
    "job.queued": "A job was queued",
    "job.created": "An extraction job was created with its inputs",
    "job.started": "A job started (an attempt)",
    "job.progress": "A job reached a step (every 10 points, or a new message)",
    "job.retry_scheduled": "A job's attempt failed; another is scheduled",
    "job.requeued": "A job whose worker stopped was queued again",
    "job.cancel_requested": "Cancelling a running job was asked",
    "job.cancelled": "A job was cancelled",
    "job.succeeded": "A job succeeded",
    "job.failed": "A job failed",
    "job.outputs.persisted": "An extraction job's tables were stored",
    # files
    "file.uploaded": "A file was uploaded",
    "file.created": "A file was made by a job (a deck, a booklet, an export)",
    "file.deleted": "A file was deleted",
    # decks
    "deck.created": "A deck was created",
    "deck.plan_updated": "A deck's outline changed",
    "deck.build_started": "A deck's build started",
    "deck.built": "A deck's .pptx was built",
    "deck.build_failed": "A deck's build failed",
    "deck.deleted": "A deck was deleted",
    # booklets
    "customer.created": "A customer was created",
    "customer.updated": "A customer or its attributes changed",
    "customer.deleted": "A customer was deleted",
    "book.created": "A book was created",
    "book.updated": "A book, its pages or their conditions changed",
    "book.deleted": "A book was deleted",
    "booklet.generated": "A customer's booklet PDF was generated",
    "booklet.failed": "A booklet could not be generated",
    # extraction
    "document.uploaded": "A document was uploaded for extraction",
    "document.extraction_queued": "A document's extraction was queued",
    "document.extracted": "A document's tables were extracted",
    "document.extraction_failed": "A document's extraction failed",
    "document.deleted": "A document was deleted",
    "configuration.created": "An extraction configuration was created",
    "configuration.updated": "An extraction configuration changed (a new version)",
    "configuration.archived": "An extraction configuration was archived",
    "export.created": "Extracted tables were exported",
}

# Events of private resources (a user's own tasks) are never delivered: a webhook belongs to the
# workspace and its admins, who must not read a member's private rows through it.
PRIVATE_PREFIXES = ("task.",)

EVERYTHING = "*"
FAMILIES = frozenset(name.split(".", 1)[0] for name in EVENT_TYPES)


def check_subscription(entry: str) -> str:
    """`entry` if it names published events; else a ValueError that says what would."""
    if entry == EVERYTHING or entry in EVENT_TYPES:
        return entry
    if entry.endswith(".*") and entry[:-2] in FAMILIES:
        return entry
    if entry.startswith(PRIVATE_PREFIXES) or entry[:-2] + "." in PRIVATE_PREFIXES:
        raise ValueError(f"{entry!r}: events of private tasks are not delivered to webhooks")
    families = ", ".join(f"{family}.*" for family in sorted(FAMILIES))
    raise ValueError(
        f"unknown event type {entry!r}: use '*', a family ({families}) "
        f"or one of the types GET /api/v1/webhook-event-types lists"
    )


def subscribes(entries: Iterable[str], event_type: str) -> bool:
    """Whether a webhook subscribed to `entries` wants events of `event_type`."""
    for entry in entries:
        if entry in (EVERYTHING, event_type):
            return True
        if entry.endswith(".*") and event_type.startswith(entry[:-1]):
            return True
    return False
