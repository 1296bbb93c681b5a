"""A fake OpenAI-compatible model and fake image providers for every test package (a pytest plugin).

Both are faked with respx at the HTTP layer the real clients use, so what is tested is what the
code sends and how it reads what comes back.

    async def test_a_plan(fake_model: FakeModel, llm: LLMClient) -> None:
        fake_model.fails(429, headers={"Retry-After": "0"}).answers({"title": "Solar"})
        ...
        assert fake_model.sent()["model"] == MODEL

`fake_model` answers each Chat Completions request with the next queued answer (`answers`,
`says`, `tool_calls`, `stream`, `fails`, `raises`, `responds`; each may be queued `times=n`
times, or `times=None` for every request from then on) and keeps what was asked (`requests`). A
request with nothing left to answer fails the test. `fake_images` holds the routes of the image
providers (Runware, an OpenAI-compatible images API, the download of a generated picture).
"""

from __future__ import annotations

import base64
import io
import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Self

import httpx
import pytest
import respx
from PIL import Image
from tenacity import RetryCallState, wait_none
from tenacity.wait import wait_base

from paperworks.llm.client import LLMClient
from paperworks.llm.images import OpenAIImagesProvider, RunwareProvider

# --- the model ------------------------------------------------------------------------------------

BASE_URL = "https://llm.test/v1"
API_KEY = "sk-test-SECRET-0123456789abcdef"
MODEL = "acme/writer-1"  # what the client asks for
SERVED_MODEL = "acme/writer-1-2025-06-01"  # what the fake says answered
USAGE = {"prompt_tokens": 40, "completion_tokens": 20, "total_tokens": 60}

Answer = Callable[[httpx.Request], httpx.Response]


def completion(
    content: str | None = None,
    *,
    tool_calls: list[dict[str, Any]] | None = None,
    finish_reason: str | None = None,
    model: str = SERVED_MODEL,
    usage: dict[str, int] | None = USAGE,
) -> dict[str, Any]:
    """A chat.completion body as OpenAI-compatible APIs send it (some send no `usage`)."""
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
    if tool_calls:
        message["tool_calls"] = tool_calls
    body: dict[str, Any] = {
        "id": "chatcmpl-123",
        "object": "chat.completion",
        "created": 1_750_000_000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": finish_reason or ("tool_calls" if tool_calls else "stop"),
            }
        ],
    }
    if usage is not None:
        body["usage"] = dict(usage)
    return body


def tool_call(
    name: str, arguments: dict[str, Any] | str, call_id: str = "call_1"
) -> dict[str, Any]:
    """One function call in an assistant message; `arguments` as given if already a string."""
    return {
        "id": call_id,
        "type": "function",
        "function": {
            "name": name,
            "arguments": arguments if isinstance(arguments, str) else json.dumps(arguments),
        },
    }


def error_body(message: str, **fields: Any) -> dict[str, Any]:
    """An error as OpenAI-compatible APIs send it (`fields`: `param`, `code`...)."""
    return {"error": {"message": message, "type": "error", "code": None, **fields}}


def stream_body(texts: tuple[str, ...], *, model: str = SERVED_MODEL) -> str:
    """A streamed chat completion: one chunk per text, then the finish and `[DONE]`."""
    deltas: list[dict[str, Any]] = [
        {"role": "assistant", "content": text} if n == 0 else {"content": text}
        for n, text in enumerate(texts)
    ]
    choices = [{"index": 0, "delta": delta} for delta in deltas]
    choices.append({"index": 0, "delta": {}, "finish_reason": "stop"})
    chunks = [
        {
            "id": "c1",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": model,
            "choices": [c],
        }
        for c in choices
    ]
    return "".join(f"data: {json.dumps(chunk)}\n\n" for chunk in chunks) + "data: [DONE]\n\n"


@dataclass
class _Queued:
    answer: Answer
    times: int | None  # answers left to give, or None: every request from now on


class FakeModel:
    """The Chat Completions endpoint under `base_url`, answering from a queue."""

    def __init__(self, router: respx.MockRouter, base_url: str = BASE_URL) -> None:
        self.route = router.post(f"{base_url}/chat/completions").mock(side_effect=self._answer)
        self.served_model = SERVED_MODEL
        self.requests: list[dict[str, Any]] = []  # each request's JSON body, in order
        self.unscripted = 0  # requests that found nothing queued
        self._queue: list[_Queued] = []

    # -- what it answers, in order --

    def then(self, answer: Answer, *, times: int | None = 1) -> Self:
        """Queue any answer: a function of the request returning a response (or raising)."""
        if self._queue and self._queue[-1].times is None:
            raise ValueError("an answer queued for every request is the last one")
        if times is None or times > 0:
            self._queue.append(_Queued(answer, times))
        return self

    def answers(self, value: Any, *, times: int | None = 1) -> Self:
        """A completion whose content is `value` as JSON (a structured answer)."""
        return self.says(json.dumps(value), times=times)

    def says(
        self, content: str | None, *, finish_reason: str = "stop", times: int | None = 1
    ) -> Self:
        """A completion whose content is `content` as it is (prose, broken JSON, nothing)."""
        return self.then(
            lambda _: httpx.Response(
                200,
                json=completion(content, finish_reason=finish_reason, model=self.served_model),
            ),
            times=times,
        )

    def tool_calls(self, *calls: dict[str, Any], times: int | None = 1) -> Self:
        """A completion that calls tools (see `tool_call`) instead of answering."""
        return self.then(
            lambda _: httpx.Response(
                200, json=completion(tool_calls=list(calls), model=self.served_model)
            ),
            times=times,
        )

    def stream(self, *texts: str, times: int | None = 1) -> Self:
        """A streamed completion (server-sent events) of `texts`, one chunk each."""
        return self.then(
            lambda _: httpx.Response(
                200,
                text=stream_body(texts, model=self.served_model),
                headers={"content-type": "text/event-stream"},
            ),
            times=times,
        )

    def fails(
        self,
        status: int,
        message: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        times: int | None = 1,
        **fields: Any,
    ) -> Self:
        """An HTTP error: `error_body(message, **fields)`, or `{}` without a message."""
        body = {} if message is None else error_body(message, **fields)
        return self.then(lambda _: httpx.Response(status, json=body, headers=headers), times=times)

    def raises(self, error: Exception, *, times: int | None = 1) -> Self:
        """No answer: the request fails with `error` (a timeout, a refused connection)."""

        def fail(_: httpx.Request) -> httpx.Response:
            raise error

        return self.then(fail, times=times)

    def responds(self, status: int = 200, *, times: int | None = 1, **content: Any) -> Self:
        """Any other response, built as `httpx.Response(status, **content)`."""
        return self.then(lambda _: httpx.Response(status, **content), times=times)

    def _answer(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(json.loads(request.content))
        if not self._queue:
            self.unscripted += 1
            body = error_body("the fake model was asked more often than scripted")
            return httpx.Response(500, json=body)
        queued = self._queue[0]
        if queued.times is not None:
            queued.times -= 1
            if queued.times == 0:
                self._queue.pop(0)
        return queued.answer(request)

    # -- what it was asked --

    @property
    def call_count(self) -> int:
        return len(self.requests)

    def sent(self, call: int = -1) -> dict[str, Any]:
        """The JSON body of request `call` (the last by default)."""
        return self.requests[call]

    def headers(self, call: int = -1) -> httpx.Headers:
        request: httpx.Request = self.route.calls[call].request
        return request.headers

    def tool_results(self, call: int) -> list[str]:
        """What the tools answered, as request `call` showed the model."""
        messages = self.requests[call]["messages"]
        return [json.dumps(m["content"]) for m in messages if m["role"] == "tool"]


def model_client(
    *, max_retries: int = 2, wait: wait_base | None = None, **options: Any
) -> LLMClient:
    """An `LLMClient` of the fake model that retries without waiting."""
    values: dict[str, Any] = {"base_url": BASE_URL, "api_key": API_KEY, "model": MODEL}
    values.update(options)
    return LLMClient(**values, max_retries=max_retries, wait=wait or wait_none())


def model_settings() -> dict[str, Any]:
    """Settings (for `make_settings`) of a process whose model is the fake one."""
    return {"llm_base_url": BASE_URL, "llm_api_key": API_KEY, "llm_model": MODEL}


class RecordedWaits(wait_base):
    """What `policy` would wait before each retry, kept; the retry itself waits nothing."""

    def __init__(self, policy: wait_base) -> None:
        self.policy = policy
        self.waits: list[float] = []

    def __call__(self, retry_state: RetryCallState) -> float:
        self.waits.append(self.policy(retry_state))
        return 0.0


@pytest.fixture
def fake_http() -> Iterator[respx.MockRouter]:
    """Every outgoing httpx request of the test, faked: one that no route expects fails."""
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
def fake_model(fake_http: respx.MockRouter) -> Iterator[FakeModel]:
    model = FakeModel(fake_http)
    yield model
    assert not model.unscripted, (
        f"the model was asked {model.unscripted} time(s) more than its answers were queued"
    )


@pytest.fixture
async def llm() -> AsyncIterator[LLMClient]:
    client = model_client()
    yield client
    await client.aclose()


# --- image providers ------------------------------------------------------------------------------

RUNWARE_URL = "https://api.runware.ai/v1"
RUNWARE_KEY = "rw-secret-4f1c9a7e2b"
IMAGES_BASE = "https://images.example.com/v1"
IMAGES_URL = f"{IMAGES_BASE}/images/generations"
IMAGES_KEY = "sk-img-secret-8d2e6b0c"
PICTURE_URL = "https://im.runware.ai/image/ws/2/ii/0b6c.png"  # where Runware's picture is
MAX_BYTES = 256 * 1024


def picture(
    fmt: str = "PNG", size: tuple[int, int] = (64, 48), colour: tuple[int, int, int] = (200, 80, 40)
) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, fmt)
    return out.getvalue()


def runware_paints(request: httpx.Request) -> httpx.Response:
    """Runware's answer to an image inference task: the picture is at `PICTURE_URL`."""
    (task,) = [task for task in json.loads(request.content) if task["taskType"] == "imageInference"]
    return httpx.Response(
        200,
        json={
            "data": [
                {
                    "taskType": "imageInference",
                    "taskUUID": task["taskUUID"],
                    "imageUUID": str(uuid.uuid4()),
                    "imageURL": PICTURE_URL,
                }
            ]
        },
    )


def runware_refused(code: str, message: str = "refused", status: int = 400) -> httpx.Response:
    error = {"code": code, "message": message, "taskType": "imageInference"}
    return httpx.Response(status, json={"errors": [error]})


def images_b64(data: bytes) -> httpx.Response:
    """An OpenAI-compatible images API's answer with the picture inline."""
    return httpx.Response(
        200, json={"created": 1, "data": [{"b64_json": base64.b64encode(data).decode()}]}
    )


def runware_provider(
    http: httpx.AsyncClient, *, wait: wait_base | None = None, max_bytes: int = MAX_BYTES
) -> RunwareProvider:
    return RunwareProvider(
        RUNWARE_KEY,
        url=RUNWARE_URL,
        model="runware:100@1",
        http=http,
        max_bytes=max_bytes,
        timeout=5,
        wait=wait or wait_none(),
    )


def images_provider(
    http: httpx.AsyncClient, *, wait: wait_base | None = None, max_bytes: int = MAX_BYTES
) -> OpenAIImagesProvider:
    return OpenAIImagesProvider(
        IMAGES_BASE,
        IMAGES_KEY,
        model="gpt-image-1",
        http=http,
        max_bytes=max_bytes,
        timeout=5,
        wait=wait or wait_none(),
    )


def image_settings() -> dict[str, Any]:
    """Settings (for `make_settings`) of a process that paints with the fake Runware."""
    return {"runware_api_key": RUNWARE_KEY, "runware_url": RUNWARE_URL}


class FakeImages:
    """The image providers' routes, made when first used."""

    def __init__(self, router: respx.MockRouter) -> None:
        self.router = router

    @cached_property
    def runware(self) -> respx.Route:
        return self.router.post(RUNWARE_URL)

    @cached_property
    def openai(self) -> respx.Route:
        return self.router.post(IMAGES_URL)

    @cached_property
    def download(self) -> respx.Route:
        """The GET of the picture Runware made."""
        return self.router.get(PICTURE_URL)

    def paints(self, data: bytes | None = None, content_type: str = "image/png") -> Self:
        """Runware makes a picture, and it downloads as `data`."""
        self.runware.mock(side_effect=runware_paints)
        self.download.respond(
            200, content=picture() if data is None else data, headers={"content-type": content_type}
        )
        return self


class FakeImageProvider:
    """An image provider that returns (or raises) `result`, and keeps the prompts it got."""

    def __init__(self, name: str, result: bytes | Exception) -> None:
        self.name = name
        self.result = result
        self.prompts: list[str] = []

    async def generate(self, prompt: str, *, width: int, height: int) -> bytes:
        self.prompts.append(prompt)
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


@pytest.fixture
def fake_images(fake_http: respx.MockRouter) -> FakeImages:
    return FakeImages(fake_http)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """A plain client, as the process's services share one with the image providers."""
    async with httpx.AsyncClient() as client:
        yield client
