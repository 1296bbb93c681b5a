"""Which source each page of a book gets for one customer and period, and why: the pure rules
behind both `resolve` (a dry run) and a generation job.

- A customer's value for a period is the most specific row: (year, quarter), then (year), then the
  undated one.
- A choosable page's rules are tried lowest `priority` first (ties: oldest first); the first that
  matches chooses the file; none matching means `config.defaultFileId`, or the page is skipped.
- `gte`/`lte` compare numbers as numbers and ISO dates as dates, else text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from paperworks.booklets.models import Operator, PageType


class AttributeRow(Protocol):
    key: str
    value: str
    year: int | None
    quarter: int | None


class ConditionRow(Protocol):
    id: str
    attribute_key: str
    operator: str
    attribute_value: Any
    target_file_id: str | None
    priority: int


class PageRow(Protocol):
    id: str
    type: str
    position: int
    title: str
    file_id: str | None
    config: dict[str, Any]


def period_label(year: int | None, quarter: int | None) -> str:
    """ "2026 Q1", "2026", or "" for no period: what `{{ period }}` renders."""
    if year is None:
        return ""
    return f"{year} Q{quarter}" if quarter is not None else str(year)


def attributes_for(
    rows: Iterable[AttributeRow], year: int | None, quarter: int | None
) -> dict[str, str]:
    """Each key's value for the period: the most specific row that applies to it."""
    rank: dict[tuple[int | None, int | None], int] = {(None, None): 0}
    if year is not None:
        rank[(year, None)] = 1
        if quarter is not None:
            rank[(year, quarter)] = 2
    best: dict[str, tuple[int, str]] = {}
    for row in rows:
        score = rank.get((row.year, row.quarter))
        if score is not None and score >= best.get(row.key, (-1, ""))[0]:
            best[row.key] = (score, row.value)
    return {key: value for key, (_, value) in best.items()}


def _comparable(value: str) -> tuple[int, Any]:
    """Numbers before dates before text, so that values of one kind compare as that kind."""
    text = value.strip()
    try:
        return 0, Decimal(text.replace(",", "")) if text else Decimal("nan")
    except InvalidOperation:
        pass
    try:
        return 1, date.fromisoformat(text)
    except ValueError:
        return 2, text.casefold()


def _ordered(actual: str, expected: str, accept: Callable[[Any, Any], bool]) -> bool:
    (kind_a, a), (kind_e, e) = _comparable(actual), _comparable(expected)
    if kind_a != kind_e:
        return False  # "high" is neither above nor below 100
    try:
        return accept(a, e)
    except (InvalidOperation, TypeError):
        return False


def matches(condition: ConditionRow, attributes: Mapping[str, str]) -> bool:
    actual = attributes.get(condition.attribute_key)
    operator, expected = condition.operator, condition.attribute_value
    if operator == Operator.exists:
        return actual is not None and actual.strip() != ""
    if actual is None:
        return False
    if operator == Operator.in_:
        return actual.strip() in {str(option).strip() for option in expected or ()}
    if operator == Operator.eq:
        return actual.strip() == str(expected).strip()
    if operator == Operator.ne:
        return actual.strip() != str(expected).strip()
    if operator == Operator.gte:
        return _ordered(actual, str(expected), lambda a, e: a >= e)
    if operator == Operator.lte:
        return _ordered(actual, str(expected), lambda a, e: a <= e)
    raise ValueError(f"unknown operator {operator!r}")


@dataclass(frozen=True)
class Choice:
    file_id: str | None  # None: skip the page
    condition: ConditionRow | None
    reason: str


def choose(
    conditions: Sequence[ConditionRow],
    attributes: Mapping[str, str],
    default_file_id: str | None,
) -> Choice:
    ordered = sorted(conditions, key=lambda c: (c.priority, c.id))
    for condition in ordered:
        if condition.target_file_id is not None and matches(condition, attributes):
            return Choice(condition.target_file_id, condition, _explain(condition, attributes))
    tried = f"none of its {len(ordered)} rules matched" if ordered else "it has no rules"
    if default_file_id is not None:
        return Choice(default_file_id, None, f"{tried}: the default file")
    return Choice(None, None, f"{tried} and it has no default file: skipped")


def _explain(condition: ConditionRow, attributes: Mapping[str, str]) -> str:
    actual = attributes.get(condition.attribute_key)
    if condition.operator == Operator.exists:
        return f"{condition.attribute_key} is set ({actual!r})"
    return (
        f"{condition.attribute_key} = {actual!r} matched "
        f"{condition.operator} {condition.attribute_value!r} (priority {condition.priority})"
    )


@dataclass
class ResolvedPage:
    page: PageRow
    source_file_id: str | None
    condition: ConditionRow | None = None
    reason: str = ""
    fields: dict[str, str] = field(default_factory=dict)  # field name -> template
    flatten: bool = True
    pages: str | None = None  # which pages of the source

    @property
    def skipped(self) -> bool:
        """A choosable page no rule chose and that has no default: left out, as configured."""
        return self.source_file_id is None and self.type == PageType.choosable

    @property
    def missing_file(self) -> bool:
        """A page that needs a file and has none (never given, or deleted since)."""
        return self.source_file_id is None and self.type != PageType.choosable

    @property
    def type(self) -> PageType:
        return PageType(self.page.type)


def resolve_pages(
    pages: Sequence[PageRow],
    conditions: Mapping[str, Sequence[ConditionRow]],
    attributes: Mapping[str, str],
    *,
    spreadsheet_file_id: str | None = None,
) -> list[ResolvedPage]:
    """Every page in order with its source; `conditions` by page id."""
    resolved = []
    for page in sorted(pages, key=lambda p: p.position):
        config = page.config or {}
        kind = PageType(page.type)
        if kind == PageType.choosable:
            choice = choose(conditions.get(page.id, ()), attributes, config.get("defaultFileId"))
            resolved.append(
                ResolvedPage(
                    page,
                    choice.file_id,
                    choice.condition,
                    choice.reason,
                    dict(config.get("fields") or {}),
                    bool(config.get("flatten", True)),
                    config.get("pages"),
                )
            )
        elif kind == PageType.excel:
            source = spreadsheet_file_id or page.file_id
            reason = "the spreadsheet given" if spreadsheet_file_id else "the page's workbook"
            if source is None:
                reason = "the page has no workbook and none was given"
            resolved.append(ResolvedPage(page, source, reason=reason))
        else:
            resolved.append(
                ResolvedPage(
                    page,
                    page.file_id,
                    reason="the page's file" if page.file_id else "the page has no file",
                    fields=dict(config.get("fields") or {}) if kind == PageType.pdf_form else {},
                    flatten=bool(config.get("flatten", True)),
                    pages=config.get("pages"),
                )
            )
    return resolved
