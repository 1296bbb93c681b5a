"""The base of every request and response model: camelCase on the wire, snake_case in Python."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PlainSerializer,
)
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

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


@dataclass(frozen=True, slots=True)
class _TextRule:
    """A check after a `str`'s own, and the `pattern` that says it in the JSON schema."""

    check: Callable[[str], str]
    pattern: str

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema.setdefault("pattern", self.pattern)
        return json_schema


_ALLOWED = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
_VISIBLE = r"[^\s\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"

PlainText = _TextRule(_no_control_characters, f"^{_ALLOWED}*$")
"""Put after a `str`'s constraints: text with no control characters but tab, newline and
carriage return, the same on SQLite and PostgreSQL."""

NotBlank = _TextRule(_stripped_not_blank, f"^{_ALLOWED}*{_VISIBLE}{_ALLOWED}*$")
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
