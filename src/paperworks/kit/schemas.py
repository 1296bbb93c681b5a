"""The base of every request and response model: camelCase on the wire, snake_case in Python."""

import re
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, PlainSerializer
from pydantic.alias_generators import to_camel

# C0 controls but tab, newline and carriage return, and DEL: invisible, refused by PostgreSQL
# (NUL) and by XML (so by .pptx and .docx), and some of them whitespace to Python but not to
# Pydantic (U+001C-U+001F), which let a prompt pass validation blank and fail later.
_CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _no_control_characters(value: str) -> str:
    if found := _CONTROL_CHARACTER.search(value):
        raise ValueError(f"control character U+{ord(found.group()):04X} is not allowed")
    return value


def _stripped_not_blank(value: str) -> str:
    value = _no_control_characters(value).strip()
    if not value:
        raise ValueError("must not be blank")
    return value


PlainText = AfterValidator(_no_control_characters)
"""Put after a `str`'s constraints: text with no control characters but tab, newline and
carriage return, the same on SQLite and PostgreSQL."""

NotBlank = AfterValidator(_stripped_not_blank)
"""Put after `StringConstraints(strip_whitespace=True, min_length=1, max_length=...)`: what
`PlainText` refuses, then stripped as Python strips and refused if nothing is left."""


def _utc_iso(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _as_utc(value: datetime) -> datetime:
    # A timestamp without an offset is taken as UTC, the only zone we speak.
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59-05:00 is in year 10000 in UTC
        raise ValueError("the timestamp is outside the years 1 to 9999 in UTC") from None


UtcDateTime = Annotated[
    datetime,
    AfterValidator(_as_utc),
    PlainSerializer(_utc_iso, return_type=str, when_used="json"),
]
"""A timestamp that is always aware UTC inside and leaves as ISO-8601 with a `Z`."""


class ApiModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        from_attributes=True,
        serialize_by_alias=True,
    )


class DefaultResponse(ApiModel):
    """A generic acknowledgement (a deletion, an archive) where an answer has a body at all."""

    ok: bool = True
    message: str
