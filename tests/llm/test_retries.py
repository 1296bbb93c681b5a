"""The retry policy shared by model and image calls: which failures are retried, how many times,
how long each wait is (the provider's Retry-After, capped, else backoff), one log line per retry."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
import respx
import structlog
from pydantic import BaseModel
from structlog.testing import capture_logs
from tenacity import RetryCallState, wait_fixed, wait_none
from tenacity.wait import wait_base

from paperworks.llm.client import LLMClient
from paperworks.llm.exceptions import LLMRejected, LLMUnavailable
from paperworks.llm.retries import (
    MAX_RETRY_AFTER_SECONDS,
    RetryAfterOr,
    TransientStatus,
    default_wait,
    is_transient,
    retry_after_seconds,
    retrying,
)

LLM_URL = "https://llm.test/v1"
LLM_KEY = "sk-test-retries-0123456789"
MESSAGES: list[dict[str, Any]] = [{"role": "user", "content": "One word."}]
TRANSIENT = [408, 429, 500, 502, 503, 504]
FINAL = [400, 401, 403, 404, 409, 422]


class Word(BaseModel):
    word: str


class Recorded(wait_base):
    """What `policy` would wait before each retry, kept; the retry itself waits nothing."""

    def __init__(self, policy: wait_base) -> None:
        self.policy = policy
        self.waits: list[float] = []

    def __call__(self, retry_state: RetryCallState) -> float:
        self.waits.append(self.policy(retry_state))
        return 0.0


def completion() -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1_750_000_000,
            "model": "acme/writer-1",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": '{"word": "yes"}'},
                    "finish_reason": "stop",
                }
            ],
        },
    )


@pytest.fixture
def chat() -> Iterator[respx.Route]:
    with respx.mock(base_url=LLM_URL, assert_all_called=False) as router:
        yield router.post("/chat/completions")


def model(wait: wait_base, max_retries: int = 3) -> LLMClient:
    return LLMClient(
        base_url=LLM_URL, api_key=LLM_KEY, model="acme/writer-1", max_retries=max_retries, wait=wait
    )


@pytest.fixture
async def llm() -> AsyncIterator[LLMClient]:
    client = model(wait_none(), max_retries=2)
    yield client
    await client.aclose()


# -- what is retried -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (TransientStatus(429, {}), True),
        (httpx.ConnectError("refused"), True),
        (httpx.ReadTimeout("slow"), True),
        (httpx.RemoteProtocolError("dropped"), True),
        (TimeoutError(), True),
        (ValueError("not JSON"), False),
        (RuntimeError("a bug"), False),
        (httpx.TooManyRedirects("loop"), False),
    ],
)
def test_connection_failures_and_timeouts_are_transient_other_errors_are_not(
    exc: BaseException, transient: bool
) -> None:
    assert is_transient(exc) is transient


@pytest.mark.parametrize("status", TRANSIENT)
async def test_model_calls_retry_408_429_and_5xx_until_the_attempts_run_out(
    llm: LLMClient, chat: respx.Route, status: int
) -> None:
    chat.respond(status, json={})

    with pytest.raises(LLMUnavailable, match=f"after 3 attempts \\(last: HTTP {status}\\)"):
        await llm.complete_json(MESSAGES, Word, schema_name="word")

    assert chat.call_count == 3  # max_retries=2: the first attempt and two retries


@pytest.mark.parametrize("status", FINAL)
async def test_model_calls_do_not_retry_other_client_errors(
    llm: LLMClient, chat: respx.Route, status: int
) -> None:
    chat.respond(status, json={"error": {"message": "no"}})

    with pytest.raises(LLMRejected):
        await llm.complete_json(MESSAGES, Word, schema_name="word")

    assert chat.call_count == 1


async def test_model_calls_retry_a_timeout_and_a_dropped_connection(
    llm: LLMClient, chat: respx.Route
) -> None:
    chat.side_effect = [httpx.ReadTimeout("slow"), httpx.ConnectError("refused"), completion()]

    reply = await llm.complete_json(MESSAGES, Word, schema_name="word")

    assert reply.value == Word(word="yes")
    assert chat.call_count == 3


# -- how long to wait ------------------------------------------------------------------------------


def test_retry_after_reads_seconds_milliseconds_and_dates() -> None:
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    assert retry_after_seconds(httpx.Headers({"retry-after": "2.5"})) == 2.5
    assert retry_after_seconds(httpx.Headers({"retry-after-ms": "1500"})) == 1.5
    from_date = retry_after_seconds(httpx.Headers({"retry-after": soon}))
    assert from_date is not None
    assert 80 < from_date <= 90
    assert retry_after_seconds(httpx.Headers({"retry-after": "soon"})) is None
    assert retry_after_seconds(httpx.Headers({"retry-after": "-3"})) == 0.0
    assert retry_after_seconds(httpx.Headers()) is None


async def test_model_calls_wait_as_the_provider_asks_within_the_cap(chat: respx.Route) -> None:
    wait = Recorded(default_wait())
    chat.side_effect = [
        httpx.Response(429, headers={"Retry-After": "3"}, json={}),
        httpx.Response(503, headers={"retry-after-ms": "1500"}, json={}),
        httpx.Response(429, headers={"Retry-After": "3600"}, json={}),
        completion(),
    ]

    async with model(wait) as llm:
        await llm.complete_json(MESSAGES, Word, schema_name="word")

    assert wait.waits == [3.0, 1.5, MAX_RETRY_AFTER_SECONDS]
    assert MAX_RETRY_AFTER_SECONDS == 20.0


async def test_without_retry_after_the_waits_back_off_exponentially_with_jitter(
    chat: respx.Route,
) -> None:
    wait = Recorded(default_wait())
    chat.side_effect = [httpx.Response(503, json={})] * 3 + [completion()]

    async with model(wait) as llm:
        await llm.complete_json(MESSAGES, Word, schema_name="word")

    first, second, third = wait.waits
    assert 0.5 <= first <= 1.0
    assert 1.0 <= second <= 1.5
    assert 2.0 <= third <= 2.5


# -- the policy on its own: attempts, the error raised, the log line -------------------------------


class Flaky:
    """Fails with each of `failures` in turn, then answers "done"."""

    def __init__(self, *failures: BaseException) -> None:
        self.failures = list(failures)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "done"


async def test_each_retry_is_logged_with_the_attempt_the_error_and_the_wait() -> None:
    call = Flaky(TransientStatus(503, {"Retry-After": "30"}), httpx.ConnectError("refused"))
    policy = retrying(
        attempts=3,
        wait=RetryAfterOr(wait_fixed(0), cap=0.01),
        log=structlog.get_logger("test"),
        event="thing_retry",
        provider="acme",
    )

    with capture_logs() as logs:
        assert await policy(call) == "done"

    assert call.calls == 3
    assert logs == [
        {
            "event": "thing_retry",
            "log_level": "warning",
            "provider": "acme",
            "attempt": 1,
            "error": "HTTP 503",
            "wait_seconds": 0.01,  # 30 seconds asked for, capped
        },
        {
            "event": "thing_retry",
            "log_level": "warning",
            "provider": "acme",
            "attempt": 2,
            "error": "ConnectError",
            "wait_seconds": 0.0,
        },
    ]


async def test_the_last_failure_is_raised_as_it_is_once_the_attempts_run_out() -> None:
    last = TransientStatus(502, {})
    call = Flaky(TransientStatus(500, {}), TransientStatus(503, {}), last)
    policy = retrying(attempts=3, wait=wait_none(), log=structlog.get_logger("test"), event="x")

    with pytest.raises(TransientStatus) as raised:
        await policy(call)

    assert raised.value is last
    assert call.calls == 3


async def test_a_failure_that_is_not_transient_is_raised_at_once_and_not_logged() -> None:
    call = Flaky(ValueError("bad answer"))
    policy = retrying(attempts=3, wait=wait_none(), log=structlog.get_logger("test"), event="x")

    with capture_logs() as logs, pytest.raises(ValueError, match="bad answer"):
        await policy(call)

    assert call.calls == 1
    assert logs == []
