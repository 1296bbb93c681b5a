"""Which value a customer has for a period, which rule chooses a page, and in what order."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from paperworks.booklets.resolution import (
    attributes_for,
    choose,
    matches,
    period_label,
    resolve_pages,
)


@dataclass
class Attr:
    key: str
    value: str
    year: int | None = None
    quarter: int | None = None


@dataclass
class Rule:
    attribute_key: str
    operator: str
    attribute_value: Any
    target_file_id: str | None = "chosen"
    priority: int = 0
    id: str = "01"


@dataclass
class PageRow:
    id: str
    type: str
    position: int
    title: str = "page"
    file_id: str | None = None
    config: dict[str, Any] = field(default_factory=dict)


def test_the_most_specific_value_for_the_period_wins() -> None:
    rows = [
        Attr("tier", "basic"),
        Attr("tier", "silver", 2026),
        Attr("tier", "gold", 2026, 2),
        Attr("region", "north"),
        Attr("revenue", "10", 2025),
    ]
    assert attributes_for(rows, 2026, 2) == {"tier": "gold", "region": "north"}
    assert attributes_for(rows, 2026, 1) == {"tier": "silver", "region": "north"}
    assert attributes_for(rows, 2025, None) == {"tier": "basic", "region": "north", "revenue": "10"}
    assert attributes_for(rows, None, None) == {"tier": "basic", "region": "north"}


@pytest.mark.parametrize(
    ("operator", "expected", "actual", "matched"),
    [
        ("eq", "gold", "gold", True),
        ("eq", "gold", " gold ", True),
        ("eq", "gold", "Gold", False),
        ("ne", "gold", "silver", True),
        ("ne", "gold", None, False),
        ("in", ["gold", "platinum"], "platinum", True),
        ("in", ["gold", "platinum"], "silver", False),
        ("gte", "100", "250", True),
        ("gte", "100", "99.5", False),
        ("gte", "100", "1,000", True),  # thousands separators are still numbers
        ("lte", "9", "10", False),  # as numbers, not as text ("10" < "9")
        ("gte", "2026-01-01", "2026-03-31", True),
        ("lte", "2026-01-01", "2026-03-31", False),
        ("gte", "100", "high", False),  # a word is neither above nor below a number
        ("exists", None, "anything", True),
        ("exists", None, "  ", False),
        ("exists", None, None, False),
    ],
)
def test_operators(operator: str, expected: Any, actual: str | None, matched: bool) -> None:
    attributes = {} if actual is None else {"k": actual}
    assert matches(Rule("k", operator, expected), attributes) is matched


def test_the_first_matching_rule_by_priority_chooses() -> None:
    rules = [
        Rule("tier", "eq", "gold", "late", priority=5, id="01"),
        Rule("tier", "exists", None, "early", priority=1, id="02"),
        Rule("tier", "eq", "gold", "tie-newer", priority=1, id="03"),
    ]
    choice = choose(rules, {"tier": "gold"}, None)
    assert choice.file_id == "early"
    assert choice.condition is rules[1]
    assert "tier is set" in choice.reason


def test_no_match_takes_the_default_or_skips() -> None:
    rules = [Rule("tier", "eq", "gold")]
    assert choose(rules, {"tier": "silver"}, "fallback").file_id == "fallback"
    skipped = choose(rules, {}, None)
    assert skipped.file_id is None
    assert "skipped" in skipped.reason


def test_pages_resolve_in_order_with_their_sources() -> None:
    pages = [
        PageRow("b", "choosable", 2, config={"defaultFileId": "default"}),
        PageRow("a", "static", 1, file_id="cover", config={"pages": "1"}),
        PageRow("c", "excel", 3, file_id="book.xlsx", config={"sheet": "S"}),
        PageRow("d", "choosable", 4),
        PageRow("e", "pdf_form", 5, config={"fields": {"Name": "{{ customer.name }}"}}),
    ]
    resolved = resolve_pages(
        pages,
        {"b": [Rule("tier", "eq", "gold", "gold.pdf")]},
        {"tier": "gold"},
        spreadsheet_file_id="given.xlsx",
    )
    assert [r.page.id for r in resolved] == ["a", "b", "c", "d", "e"]
    assert [r.source_file_id for r in resolved] == ["cover", "gold.pdf", "given.xlsx", None, None]
    assert resolved[0].pages == "1"
    assert [r.skipped for r in resolved] == [False, False, False, True, False]
    assert [r.missing_file for r in resolved] == [False, False, False, False, True]
    assert resolved[4].fields == {"Name": "{{ customer.name }}"}


def test_period_labels() -> None:
    assert period_label(2026, 1) == "2026 Q1"
    assert period_label(2026, None) == "2026"
    assert period_label(None, None) == ""
