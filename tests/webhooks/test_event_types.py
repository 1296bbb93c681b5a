"""The list of event types webhooks offer is the list of what the source publishes."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import paperworks
from paperworks.webhooks.event_types import (
    EVENT_TYPES,
    PRIVATE_PREFIXES,
    check_subscription,
    subscribes,
)

EVENT_TYPE = re.compile(r"[a-z_]+(\.[a-z_]+)+")


def published_types() -> set[str]:
    """Every string literal that looks like an event type in the arguments of any call whose
    name says it publishes (`events.publish`, `_publish`, `_publish_customer`...)."""
    found: set[str] = set()
    for path in Path(paperworks.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", "")
            if "publish" not in name:
                continue
            for argument in node.args:
                for inner in ast.walk(argument):
                    value = getattr(inner, "value", None)
                    if isinstance(value, str) and EVENT_TYPE.fullmatch(value):
                        found.add(value)
    return found


def test_every_published_type_is_offered_or_private() -> None:
    published = published_types()
    assert {"booklet.generated", "deck.built", "document.extracted", "job.succeeded"} <= published
    unlisted = {name for name in published if name not in EVENT_TYPES}
    assert {name for name in unlisted if not name.startswith(PRIVATE_PREFIXES)} == set(), (
        "add these to paperworks/webhooks/event_types.py"
    )
    assert set(EVENT_TYPES) <= published, "listed but never published"


@pytest.mark.parametrize(
    ("entries", "event_type", "wanted"),
    [
        (["*"], "deck.built", True),
        (["deck.built"], "deck.built", True),
        (["deck.built"], "deck.build_failed", False),
        (["job.*"], "job.succeeded", True),
        (["job.*"], "job.outputs.persisted", True),
        (["job.*"], "jobs.x", False),
        (["deck.*", "booklet.generated"], "booklet.generated", True),
    ],
)
def test_subscriptions_match(entries: list[str], event_type: str, wanted: bool) -> None:
    assert subscribes(entries, event_type) is wanted


@pytest.mark.parametrize("entry", ["*", "job.*", "deck.built", "document.extracted"])
def test_valid_entries(entry: str) -> None:
    assert check_subscription(entry) == entry


@pytest.mark.parametrize("entry", ["deck", "deck.", "*.built", "deck.**", "task.created"])
def test_invalid_entries(entry: str) -> None:
    with pytest.raises(ValueError, match=entry.replace("*", r"\*").replace(".", r"\.")):
        check_subscription(entry)
