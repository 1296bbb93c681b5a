"""Logs are one JSON object a line, carry the request id, and never show a secret."""

import io
import json
import logging
import os
import re
from typing import Any

import httpx
import pytest
import structlog

from paperworks.kit.logging import MASK, configure_logging, get_logger, mask_secrets


@pytest.fixture
def log_lines() -> Any:
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)

    def lines() -> list[dict[str, Any]]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield lines
    configure_logging("WARNING", "json")


def mask(**event: Any) -> dict[str, Any]:
    return dict(mask_secrets(None, "info", dict(event)))


def test_secret_fields_are_masked_at_any_depth() -> None:
    masked = mask(
        event="login",
        password="hunter2",
        api_key="pwk_abc",
        headers={"Authorization": "Bearer abc.def", "Accept": "json"},
        items=[{"refresh_token": "r1"}, {"name": "ok"}],
        user="anna",
    )
    assert masked["password"] == MASK
    assert masked["api_key"] == MASK
    assert masked["headers"] == {"Authorization": MASK, "Accept": "json"}
    assert masked["items"] == [{"refresh_token": MASK}, {"name": "ok"}]
    assert masked["user"] == "anna"


def test_secrets_inside_text_are_masked() -> None:
    masked = mask(
        event="calling with Bearer eyJhbGciOi.xyz and pwk_0123456789abcdef",
        url="postgresql+asyncpg://app:s3cret@db:5432/paperworks",
    )
    assert "eyJhbGciOi" not in masked["event"]
    assert "0123456789abcdef" not in masked["event"]
    assert masked["url"] == f"postgresql+asyncpg://app:{MASK}@db:5432/paperworks"


def test_lines_are_json_with_level_logger_and_utc_time(log_lines: Any) -> None:
    get_logger("paperworks.test").info("something_happened", count=3, token="abc")
    (line,) = log_lines()
    assert line["event"] == "something_happened"
    assert line["level"] == "info"
    assert line["logger"] == "paperworks.test"
    assert line["count"] == 3
    assert line["token"] == MASK
    assert line["timestamp"].endswith("Z")


def test_uvicorn_logs_go_through_the_same_pipeline(log_lines: Any) -> None:
    logging.getLogger("uvicorn.error").info("Started server process [%d]", 42)
    logging.getLogger("uvicorn.access").info("GET / 200")  # replaced by our access line
    (line,) = log_lines()
    assert line == {
        "event": "Started server process [42]",
        "level": "info",
        "logger": "uvicorn.error",
        "timestamp": line["timestamp"],
        "pid": os.getpid(),
    }


def test_exceptions_are_rendered_into_the_line(log_lines: Any) -> None:
    try:
        raise ValueError("bad thing with password=x")
    except ValueError:
        get_logger("paperworks.test").exception("failed")
    (line,) = log_lines()
    assert "ValueError: bad thing" in line["exception"]


def test_console_format_renders_plain_text() -> None:
    stream = io.StringIO()
    configure_logging("INFO", "console", stream=stream)
    try:
        get_logger("paperworks.test").info("hello", secret="s")
    finally:
        configure_logging("WARNING", "json")
    output = stream.getvalue()
    assert "hello" in output
    assert "secret=***" in output.replace("'", "")


async def test_every_line_of_a_request_carries_its_request_id(
    client: httpx.AsyncClient, log_lines: Any
) -> None:
    response = await client.get("/no-such-page", headers={"X-Request-ID": "req-42"})
    assert response.headers["x-request-id"] == "req-42"
    access = [line for line in log_lines() if line["logger"] == "paperworks.access"]
    assert access == [
        {
            "event": "request",
            "method": "GET",
            "path": "/no-such-page",
            "status": 404,
            "duration_ms": access[0]["duration_ms"],
            "request_id": "req-42",
            "level": "info",
            "logger": "paperworks.access",
            "timestamp": access[0]["timestamp"],
            "pid": os.getpid(),
        }
    ]
    assert structlog.contextvars.get_contextvars() == {}


@pytest.mark.parametrize(
    "sent", ["", "has spaces", "x" * 129, "line\nbreak", "<script>", "-starts-with-dash"]
)
async def test_an_insane_request_id_is_replaced(client: httpx.AsyncClient, sent: str) -> None:
    response = await client.get("/health", headers={"X-Request-ID": sent.replace("\n", " ")})
    generated = response.headers["x-request-id"]
    assert generated != sent
    assert re.fullmatch("[0-9a-f]{32}", generated)


async def test_a_request_id_is_generated_when_none_is_sent(client: httpx.AsyncClient) -> None:
    first = (await client.get("/health")).headers["x-request-id"]
    second = (await client.get("/health")).headers["x-request-id"]
    assert re.fullmatch("[0-9a-f]{32}", first)
    assert first != second
