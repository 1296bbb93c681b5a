"""A configuration's `settings`: which pages, how to find tables, which columns a user wants and
how to read their values. Validated on save (a typo is a 422, not a silent default), camelCase on
the wire like every API model.

Date formats are written with tokens (`DD.MM.YYYY`, `MM/DD/YY`, `D MMM YYYY`; `MMM` is `Jan`,
`MMMM` is `January`) or as Python `strptime` patterns (`%d.%m.%Y`); ISO dates (`2026-03-31`) are
always understood on top of them.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StrictBool, field_validator, model_validator

from paperworks.kit.schemas import ApiModel, PlainText

MAX_COLUMNS = 200
MAX_PAGE = 100_000

_TOKENS = re.compile(r"YYYY|YY|MMMM|MMM|MM|M|DD|D")
_TOKEN_TO_STRPTIME = {
    "YYYY": "%Y",
    "YY": "%y",
    "MMMM": "%B",
    "MMM": "%b",
    "MM": "%m",
    "M": "%m",
    "DD": "%d",
    "D": "%d",
}
_STRPTIME_ALLOWED = re.compile(r"(?:%[dmyYbB]|[ ./,\-])+")
_TOKEN_SEPARATORS = re.compile(r"[ ./,\-]*")
_PAGE_PART = re.compile(r"^(\d+)(?:-(\d+))?$")


class ColumnType(StrEnum):
    text = "text"
    integer = "integer"
    decimal = "decimal"
    percent = "percent"
    currency = "currency"
    date = "date"


NumberLocale = Literal["1,234.56", "1.234,56"]
DetectionMode = Literal["auto", "ruled", "unruled"]


class ColumnSpec(ApiModel):
    """One column a user wants: found by its `name` or one of its `aliases` among the table's
    headers (fuzzy matching catches small differences), read as `type`."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=100), PlainText]
    aliases: list[Annotated[str, PlainText]] = Field(default_factory=list, max_length=50)
    type: ColumnType = ColumnType.text
    required: StrictBool = False

    @field_validator("name")
    @classmethod
    def _name_has_text(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("a column needs a name")
        return value

    @field_validator("aliases")
    @classmethod
    def _aliases_have_text(cls, values: list[str]) -> list[str]:
        cleaned = [value.strip() for value in values]
        if any(not value or len(value) > 100 for value in cleaned):
            raise ValueError("an alias must have 1 to 100 characters")
        return cleaned


class ExtractionSettings(ApiModel):
    """A configuration's settings (see the module's docstring)."""

    model_config = ConfigDict(extra="forbid")

    pages: str = Field(default="all", description='"all" or a list like "1-3,7"')
    detection_mode: DetectionMode = "auto"
    columns: list[ColumnSpec] = Field(default_factory=list, max_length=MAX_COLUMNS)
    # Strict booleans: 0 and "yes" are no booleans in JSON (Pydantic's lax mode took them).
    detect_header: StrictBool = True
    number_locale: NumberLocale = "1,234.56"
    date_formats: list[str] = Field(default_factory=list, max_length=20)
    drop_empty_rows: StrictBool = True
    drop_repeated_headers: StrictBool = True
    keep_unmapped_columns: StrictBool = False

    @field_validator("pages")
    @classmethod
    def _pages_are_a_list(cls, value: str) -> str:
        value = value.strip().lower() or "all"
        if value != "all":
            parse_pages(value)
        return value

    @field_validator("date_formats")
    @classmethod
    def _formats_are_known(cls, values: list[str]) -> list[str]:
        for value in values:
            strptime_format(value)
        return [value.strip() for value in values]

    @model_validator(mode="after")
    def _column_names_unique(self) -> ExtractionSettings:
        seen: set[str] = set()
        for column in self.columns:
            key = column.name.casefold()
            if key in seen:
                raise ValueError(f"the column name {column.name!r} is used twice")
            seen.add(key)
        return self

    def includes_page(self, page: int) -> bool:
        """Whether `page` (1-based) is among the pages to extract."""
        if self.pages == "all":
            return True
        return any(first <= page <= last for first, last in parse_pages(self.pages))

    def strptime_formats(self) -> list[str]:
        return [strptime_format(value) for value in self.date_formats]


def parse_pages(value: str) -> list[tuple[int, int]]:
    """`"1-3,7"` as inclusive ranges `[(1, 3), (7, 7)]`; raises ValueError on anything else."""
    ranges = []
    for part in value.replace(" ", "").split(","):
        match = _PAGE_PART.match(part)
        if not match:
            raise ValueError(f'pages must be "all" or like "1-3,7", not {value!r}')
        first = int(match.group(1))
        last = int(match.group(2) or first)
        if not 1 <= first <= last <= MAX_PAGE:
            raise ValueError(f"the page range {part!r} must go up from page 1")
        ranges.append((first, last))
    return ranges


def strptime_format(value: str) -> str:
    """A date format (tokens or strptime) as a strptime pattern; ValueError when unknown."""
    value = value.strip()
    if "%" in value:
        if not _STRPTIME_ALLOWED.fullmatch(value):
            raise ValueError(f"the date format {value!r} may use only %d %m %y %Y %b %B")
        return value
    rest = _TOKENS.sub("", value)
    if not value or not _TOKEN_SEPARATORS.fullmatch(rest) or "D" not in value:
        raise ValueError(f"the date format {value!r} is not like DD.MM.YYYY")
    return _TOKENS.sub(lambda m: _TOKEN_TO_STRPTIME[m.group(0)], value)
