"""The retry policy shared by model and image calls: which failures are retried, how many times,
how long each wait is (the provider's Retry-After, capped, else backoff), one log line per retry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
import structlog
from pydantic import BaseModel
from structlog.testing import capture_logs
from tenacity import wait_fixed, wait_none

from paperworks.llm.client import LLMClient
from paperworks.llm.exceptions import LLMRejected, LLMUnavailable
from paperworks.llm.images import MAX_RETRIES, ImageError
from paperworks.llm.retries import (
    MAX_RETRY_AFTER_SECONDS,
    RetryAfterOr,
    TransientStatus,
    default_wait,
    is_transient,
    retry_after_seconds,
    retrying,
)
from tests.fake_model import (
    FakeImages,
    FakeModel,
    RecordedWaits,
    images_b64,
    images_provider,
    model_client,
    picture,
    runware_paints,
    runware_provider,
)

MESSAGES: list[dict[str, Any]] = [{"role": "user", "content": "One word."}]
IMAGE_ATTEMPTS = MAX_RETRIES + 1
PNG = picture(size=(8, 8))
TRANSIENT = [408, 429, 500, 502, 503, 504]
FINAL = [400, 401, 403, 404, 409, 422]


class Word(BaseModel):
    word: str


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
    llm: LLMClient, fake_model: FakeModel, status: int
) -> None:
    fake_model.fails(status, times=None)

    with pytest.raises(LLMUnavailable, match=f"after 3 attempts \\(last: HTTP {status}\\)"):
        await llm.complete_json(MESSAGES, Word, schema_name="word")

    assert fake_model.call_count == 3  # max_retries=2: the first attempt and two retries


@pytest.mark.parametrize("status", FINAL)
async def test_model_calls_do_not_retry_other_client_errors(
    llm: LLMClient, fake_model: FakeModel, status: int
) -> None:
    fake_model.fails(status, "no", times=None)

    with pytest.raises(LLMRejected):
        await llm.complete_json(MESSAGES, Word, schema_name="word")

    assert fake_model.call_count == 1


async def test_model_calls_retry_a_timeout_and_a_dropped_connection(
    llm: LLMClient, fake_model: FakeModel
) -> None:
    fake_model.raises(httpx.ReadTimeout("slow")).raises(httpx.ConnectError("refused"))
    fake_model.answers({"word": "yes"})

    reply = await llm.complete_json(MESSAGES, Word, schema_name="word")

    assert reply.value == Word(word="yes")
    assert fake_model.call_count == 3


@pytest.mark.parametrize("status", TRANSIENT)
async def test_image_calls_retry_408_429_and_5xx_until_the_attempts_run_out(
    http: httpx.AsyncClient, fake_images: FakeImages, status: int
) -> None:
    fake_images.openai.respond(status, json={})

    with pytest.raises(ImageError, match=f"HTTP {status} \\({IMAGE_ATTEMPTS} attempts\\)"):
        await images_provider(http).generate("a lighthouse", width=512, height=512)

    assert fake_images.openai.call_count == IMAGE_ATTEMPTS


@pytest.mark.parametrize("status", FINAL)
async def test_image_calls_do_not_retry_other_client_errors(
    http: httpx.AsyncClient, fake_images: FakeImages, status: int
) -> None:
    fake_images.openai.respond(status, json={"error": {"code": "no"}})

    with pytest.raises(ImageError, match=f"HTTP {status}"):
        await images_provider(http).generate("a lighthouse", width=512, height=512)

    assert fake_images.openai.call_count == 1


async def test_image_calls_retry_a_timeout_and_a_dropped_connection(
    http: httpx.AsyncClient, fake_images: FakeImages
) -> None:
    api = fake_images.openai
    api.side_effect = [httpx.ReadTimeout("slow"), httpx.ConnectError("refused"), images_b64(PNG)]

    assert await images_provider(http).generate("a", width=512, height=512) == PNG
    assert api.call_count == IMAGE_ATTEMPTS


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


async def test_model_calls_wait_as_the_provider_asks_within_the_cap(
    fake_model: FakeModel,
) -> None:
    wait = RecordedWaits(default_wait())
    fake_model.fails(429, headers={"Retry-After": "3"})
    fake_model.fails(503, headers={"retry-after-ms": "1500"})
    fake_model.fails(429, headers={"Retry-After": "3600"})
    fake_model.answers({"word": "yes"})

    async with model_client(wait=wait, max_retries=3) as llm:
        await llm.complete_json(MESSAGES, Word, schema_name="word")

    assert wait.waits == [3.0, 1.5, MAX_RETRY_AFTER_SECONDS]
    assert MAX_RETRY_AFTER_SECONDS == 20.0


async def test_image_calls_wait_as_the_provider_asks_within_the_cap(
    http: httpx.AsyncClient, fake_images: FakeImages
) -> None:
    wait = RecordedWaits(default_wait())
    api = fake_images.openai
    api.side_effect = [
        httpx.Response(429, headers={"Retry-After": "3600"}, json={}),
        httpx.Response(503, headers={"retry-after-ms": "1500"}, json={}),
        images_b64(PNG),
    ]

    assert await images_provider(http, wait=wait).generate("a", width=512, height=512) == PNG
    assert wait.waits == [MAX_RETRY_AFTER_SECONDS, 1.5]
    assert api.call_count == 3


async def test_runware_and_the_image_download_wait_as_their_servers_ask(
    http: httpx.AsyncClient, fake_images: FakeImages
) -> None:
    wait = RecordedWaits(default_wait())
    fake_images.runware.mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "3"}, json={}), runware_paints]
    )
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=8), usegmt=True)
    fake_images.download.mock(
        side_effect=[
            httpx.Response(503, headers={"Retry-After": soon}),
            httpx.Response(200, content=PNG),
        ]
    )

    assert await runware_provider(http, wait=wait).generate("a", width=512, height=512) == PNG
    asked, downloaded = wait.waits
    assert asked == 3.0
    assert 6 < downloaded <= 8  # an HTTP date, a moment ago 8 seconds ahead


async def test_without_retry_after_the_waits_back_off_exponentially_with_jitter(
    fake_model: FakeModel,
) -> None:
    wait = RecordedWaits(default_wait())
    fake_model.fails(503, times=3).answers({"word": "yes"})

    async with model_client(wait=wait, max_retries=3) as llm:
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
