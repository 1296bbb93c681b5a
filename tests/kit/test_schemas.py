import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated

from pydantic import StringConstraints

from paperworks.kit.schemas import ApiModel, NotBlank, PlainText, UtcDateTime


class Sample(ApiModel):
    workspace_id: str
    created_at: UtcDateTime


def test_wire_format_is_camel_case_with_utc_z_timestamps() -> None:
    plus_two = timezone(timedelta(hours=2))
    sample = Sample(workspace_id="w1", created_at=datetime(2026, 1, 1, 12, tzinfo=plus_two))
    assert sample.model_dump(mode="json") == {
        "workspaceId": "w1",
        "createdAt": "2026-01-01T10:00:00Z",
    }


def test_accepts_camel_case_and_snake_case_input() -> None:
    naive = datetime(2026, 1, 1, 12)  # noqa: DTZ001 - stored naive values are UTC
    assert Sample.model_validate({"workspaceId": "a", "createdAt": naive}).workspace_id == "a"
    sample = Sample(workspace_id="b", created_at=naive)
    assert sample.model_dump(mode="json")["createdAt"] == "2026-01-01T12:00:00Z"
    assert sample.created_at.replace(tzinfo=UTC).hour == 12


def test_the_text_rules_are_patterns_in_the_json_schema_that_agree_with_them() -> None:
    class Text(ApiModel):
        plain: Annotated[str, PlainText]
        name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1), NotBlank]

    properties = Text.model_json_schema()["properties"]
    for value in ["ok", "tab\tnew\nline\r", "", "  ", "nul\x00", "\x1c\x1d", "del\x7f", " é "]:
        for field, rule in (("plain", PlainText), ("name", NotBlank)):
            try:
                rule.check(value)
                accepted = True
            except ValueError:
                accepted = False
            assert bool(re.fullmatch(properties[field]["pattern"], value)) == accepted, (
                field,
                value,
            )
