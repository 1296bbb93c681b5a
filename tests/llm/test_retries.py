"""The retry policy shared by model and image calls: which failures are retried, how many times,
how long each wait is (the provider's Retry-After, capped, else backoff), one log line per retry."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
import respx
import structlog
from PIL import Image
from pydantic import BaseModel
from structlog.testing import capture_logs
from tenacity import RetryCallState, wait_fixed, wait_none
from tenacity.wait import wait_base

from paperworks.llm.client import LLMClient
from paperworks.llm.exceptions import LLMRejected, LLMUnavailable
from paperworks.llm.images import MAX_RETRIES, ImageError, OpenAIImagesProvider, RunwareProvider
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
RUNWARE_URL = "https://api.runware.ai/v1"
IMAGES_BASE = "https://images.example.com/v1"
IMAGES_URL = f"{IMAGES_BASE}/images/generations"
PICTURE_URL = "https://im.runware.ai/image/ws/2/ii/0b6c.png"
IMAGE_ATTEMPTS = MAX_RETRIES + 1
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


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 80, 40)).save(out, "PNG")
    return out.getvalue()


def runware_ok(request: httpx.Request) -> httpx.Response:
    task = json.loads(request.content)[1]
    inference = {"taskType": "imageInference", "taskUUID": task["taskUUID"]}
    return httpx.Response(200, json={"data": [{**inference, "imageURL": PICTURE_URL}]})


def images_ok() -> httpx.Response:
    return httpx.Response(200, json={"data": [{"b64_json": base64.b64encode(png()).decode()}]})


@pytest.fixture
def images_api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def runware(http: httpx.AsyncClient, wait: wait_base) -> RunwareProvider:
    return RunwareProvider(
        "rw-key",
        url=RUNWARE_URL,
        model="runware:100@1",
        http=http,
        max_bytes=1 << 20,
        timeout=5,
        wait=wait,
    )


def openai_images(http: httpx.AsyncClient, wait: wait_base) -> OpenAIImagesProvider:
    return OpenAIImagesProvider(
        IMAGES_BASE,
        "sk-img",
        model="gpt-image-1",
        http=http,
        max_bytes=1 << 20,
        timeout=5,
        wait=wait,
    )


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


@pytest.mark.parametrize("status", TRANSIENT)
async def test_image_calls_retry_408_429_and_5xx_until_the_attempts_run_out(
    http: httpx.AsyncClient, images_api: respx.MockRouter, status: int
) -> None:
    api = images_api.post(IMAGES_URL).respond(status, json={})

    with pytest.raises(ImageError, match=f"HTTP {status} \\({IMAGE_ATTEMPTS} attempts\\)"):
        await openai_images(http, wait_none()).generate("a lighthouse", width=512, height=512)

    assert api.call_count == IMAGE_ATTEMPTS


@pytest.mark.parametrize("status", FINAL)
async def test_image_calls_do_not_retry_other_client_errors(
    http: httpx.AsyncClient, images_api: respx.MockRouter, status: int
) -> None:
    api = images_api.post(IMAGES_URL).respond(status, json={"error": {"code": "no"}})

    with pytest.raises(ImageError, match=f"HTTP {status}"):
        await openai_images(http, wait_none()).generate("a lighthouse", width=512, height=512)

    assert api.call_count == 1


async def test_image_calls_retry_a_timeout_and_a_dropped_connection(
    http: httpx.AsyncClient, images_api: respx.MockRouter
) -> None:
    api = images_api.post(IMAGES_URL)
    api.side_effect = [httpx.ReadTimeout("slow"), httpx.ConnectError("refused"), images_ok()]

    assert await openai_images(http, wait_none()).generate("a", width=512, height=512) == png()
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


async def test_image_calls_wait_as_the_provider_asks_within_the_cap(
    http: httpx.AsyncClient, images_api: respx.MockRouter
) -> None:
    wait = Recorded(default_wait())
    api = images_api.post(IMAGES_URL)
    api.side_effect = [
        httpx.Response(429, headers={"Retry-After": "3600"}, json={}),
        httpx.Response(503, headers={"retry-after-ms": "1500"}, json={}),
        images_ok(),
    ]

    assert await openai_images(http, wait).generate("a", width=512, height=512) == png()
    assert wait.waits == [MAX_RETRY_AFTER_SECONDS, 1.5]
    assert api.call_count == 3


async def test_runware_and_the_image_download_wait_as_their_servers_ask(
    http: httpx.AsyncClient, images_api: respx.MockRouter
) -> None:
    wait = Recorded(default_wait())
    images_api.post(RUNWARE_URL).mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "3"}, json={}), runware_ok]
    )
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=8), usegmt=True)
    images_api.get(PICTURE_URL).mock(
        side_effect=[
            httpx.Response(503, headers={"Retry-After": soon}),
            httpx.Response(200, content=png()),
        ]
    )

    assert await runware(http, wait).generate("a", width=512, height=512) == png()
    asked, downloaded = wait.waits
    assert asked == 3.0
    assert 6 < downloaded <= 8  # an HTTP date, a moment ago 8 seconds ahead


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
