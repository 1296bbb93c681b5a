"""LLMClient against a mocked OpenAI-compatible endpoint: retries, typed errors, structured
answers with one repair round, the json_object fallback, and a key that never leaks."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import BaseModel, Field
from tenacity import wait_fixed

from paperworks.kit.logging import configure_logging
from paperworks.llm.client import LLMClient
from paperworks.llm.exceptions import (
    LLMError,
    LLMInvalidOutput,
    LLMRejected,
    LLMTruncated,
    LLMUnavailable,
)
from paperworks.llm.retries import RetryAfterOr
from tests.conftest import make_settings
from tests.fake_model import (
    API_KEY,
    BASE_URL,
    MODEL,
    SERVED_MODEL,
    FakeModel,
    RecordedWaits,
    completion,
    model_client,
)


class Answer(BaseModel):
    headline: str = Field(min_length=1)
    points: list[str]
    image_prompt: str | None = Field(default=None, alias="imagePrompt")


GOOD = {"headline": "Solar power", "points": ["Cheap", "Clean"], "imagePrompt": "panels"}
MESSAGES: list[dict[str, Any]] = [
    {"role": "system", "content": "You write slides."},
    {"role": "user", "content": "Solar power, two points."},
]


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging("DEBUG", "json", stream=stream)
    yield stream
    configure_logging("WARNING", "json")


async def test_a_valid_answer_comes_back_validated_with_what_the_api_reported(
    llm: LLMClient, fake_model: FakeModel
) -> None:
    fake_model.answers(GOOD)

    reply = await llm.complete_json(MESSAGES, Answer, schema_name="answer", max_tokens=300)

    assert reply.value == Answer.model_validate(GOOD)
    assert reply.model == SERVED_MODEL
    assert reply.finish_reason == "stop"
    assert reply.usage is not None
    assert reply.usage.total_tokens == 60
    assert not reply.repaired
    assert fake_model.headers()["authorization"] == f"Bearer {API_KEY}"
    body = fake_model.sent()
    assert body["model"] == MODEL
    assert body["messages"] == MESSAGES
    assert body["max_tokens"] == 300
    assert body["temperature"] == 0.4
    response_format = body["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["name"] == "answer"
    assert response_format["json_schema"]["strict"] is False
    # The schema speaks the wire's names, as the model must write them.
    assert "imagePrompt" in response_format["json_schema"]["schema"]["properties"]


async def test_a_provider_that_reports_no_usage_gives_none_even_after_a_repair(
    llm: LLMClient, fake_model: FakeModel
) -> None:
    fake_model.responds(200, json=completion("not json", usage=None))
    fake_model.responds(200, json=completion(json.dumps(GOOD), usage=None))

    reply = await llm.complete_json(MESSAGES, Answer, schema_name="answer")

    assert reply.repaired
    assert reply.usage is None


async def test_json_in_a_code_fence_or_with_prose_around_it_is_accepted(
    llm: LLMClient, fake_model: FakeModel
) -> None:
    fake_model.says(f"```json\n{json.dumps(GOOD)}\n```")
    fake_model.says(f"Here it is:\n{json.dumps(GOOD)}\nHope this helps.")

    first = await llm.complete_json(MESSAGES, Answer, schema_name="answer")
    second = await llm.complete_json(MESSAGES, Answer, schema_name="answer")

    assert first.value.headline == second.value.headline == "Solar power"
    assert fake_model.call_count == 2  # neither needed a repair round


async def test_a_rate_limit_is_retried_and_then_succeeds(
    llm: LLMClient, fake_model: FakeModel
) -> None:
    fake_model.fails(429, "Rate limit reached").answers(GOOD)

    reply = await llm.complete_json(MESSAGES, Answer, schema_name="answer")

    assert reply.value.headline == "Solar power"
    assert fake_model.call_count == 2


async def test_server_errors_until_retries_run_out_are_llm_unavailable(
    llm: LLMClient, fake_model: FakeModel
) -> None:
    fake_model.fails(500, "upstream exploded", times=None)

    with pytest.raises(LLMUnavailable) as caught:
        await llm.complete_json(MESSAGES, Answer, schema_name="answer")

    assert fake_model.call_count == 3  # the first try and max_retries=2 more
    assert caught.value.code == "llm.unavailable"
    assert caught.value.status_code == 503
    assert "3 attempts" in caught.value.detail
    assert "HTTP 500" in caught.value.detail


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_every_5xx_is_retried(llm: LLMClient, fake_model: FakeModel, status: int) -> None:
    fake_model.fails(status, "busy").answers(GOOD)

    await llm.complete_json(MESSAGES, Answer, schema_name="answer")

    assert fake_model.call_count == 2


async def test_a_timeout_is_retried_and_then_succeeds(
    llm: LLMClient, fake_model: FakeModel
) -> None:
    fake_model.raises(httpx.ReadTimeout("read timed out")).answers(GOOD)

    reply = await llm.complete_json(MESSAGES, Answer, schema_name="answer")

    assert reply.value.headline == "Solar power"
    assert fake_model.call_count == 2


async def test_a_provider_that_cannot_be_reached_is_llm_unavailable(
    llm: LLMClient, fake_model: FakeModel
) -> None:
    fake_model.raises(httpx.ConnectError("connection refused"), times=None)

    with pytest.raises(LLMUnavailable, match="connection error"):
        await llm.complete_json(MESSAGES, Answer, schema_name="answer")

    assert fake_model.call_count == 3


async def test_no_retries_when_max_retries_is_zero(fake_model: FakeModel) -> None:
    fake_model.fails(503, "busy", times=None)
    async with model_client(max_retries=0) as llm:
        with pytest.raises(LLMUnavailable, match="1 attempt "):
            await llm.complete_json(MESSAGES, Answer, schema_name="answer")
    assert fake_model.call_count == 1


@pytest.mark.parametrize("status", [401, 403])
async def test_a_refused_key_is_llm_rejected_at_once(
    llm: LLMClient, fake_model: FakeModel, status: int
) -> None:
    fake_model.fails(status, f"Incorrect API key provided: {API_KEY}", times=None)

    with pytest.raises(LLMRejected) as caught:
        await llm.complete_json(MESSAGES, Answer, schema_name="answer")

    assert fake_model.call_count == 1
    assert caught.value.code == "llm.rejected"
    assert caught.value.status_code == 502
    assert f"HTTP {status}" in caught.value.detail
    assert API_KEY not in str(caught.value)
    assert caught.value.__cause__ is None  # the SDK's error, with the provider's text, is gone


@pytest.mark.parametrize("status", [400, 404, 422])
async def test_other_client_errors_are_rejected_without_retry_and_without_the_key(
    llm: LLMClient, fake_model: FakeModel, status: int
) -> None:
    fake_model.fails(status, f"model not found for key {API_KEY}", times=None)

    with pytest.raises(LLMRejected) as caught:
        await llm.complete_json(MESSAGES, Answer, schema_name="answer")

    assert fake_model.call_count == 1
    assert "model not found for key ***" in caught.value.detail
    assert API_KEY not in caught.value.detail


async def test_an_answer_that_is_not_json_gets_one_repair_round(
    llm: LLMClient, fake_model: FakeModel
) -> None:
    fake_model.says("Sure! Solar power is great.").answers(GOOD)

    reply = await llm.complete_json(MESSAGES, Answer, schema_name="answer")

    assert reply.value.headline == "Solar power"
    assert reply.repaired
    assert reply.usage is not None
    assert reply.usage.total_tokens == 120
    repair = fake_model.sent(1)["messages"]
    assert repair[: len(MESSAGES)] == MESSAGES
    assert repair[-2] == {"role": "assistant", "content": "Sure! Solar power is great."}
    assert repair[-1]["role"] == "user"
    assert "not valid JSON" in repair[-1]["content"]
    assert "JSON object only" in repair[-1]["content"]


async def test_json_that_misses_fields_is_repaired_with_the_validation_errors(
    llm: LLMClient, fake_model: FakeModel
) -> None:
    fake_model.answers({"headline": ""}).answers(GOOD)

    reply = await llm.complete_json(MESSAGES, Answer, schema_name="answer")

    assert reply.value.points == ["Cheap", "Clean"]
    correction = fake_model.sent(1)["messages"][-1]["content"]
    assert "headline" in correction
    assert "points" in correction


async def test_garbage_twice_is_llm_invalid_output(llm: LLMClient, fake_model: FakeModel) -> None:
    fake_model.says("not json").says('{"headline": "x"')

    with pytest.raises(LLMInvalidOutput) as caught:
        await llm.complete_json(MESSAGES, Answer, schema_name="answer")

    assert fake_model.call_count == 2
    assert caught.value.code == "llm.invalid_output"
    assert caught.value.status_code == 502
    assert caught.value.errors


async def test_an_empty_answer_is_repaired_like_an_invalid_one(
    llm: LLMClient, fake_model: FakeModel
) -> None:
    fake_model.says("").answers(GOOD)

    reply = await llm.complete_json(MESSAGES, Answer, schema_name="answer")

    assert reply.repaired


async def test_a_truncated_answer_is_llm_truncated_without_a_repair(
    llm: LLMClient, fake_model: FakeModel
) -> None:
    fake_model.says('{"headline": "Solar', finish_reason="length", times=None)

    with pytest.raises(LLMTruncated) as caught:
        await llm.complete_json(MESSAGES, Answer, schema_name="answer")

    assert fake_model.call_count == 1
    assert caught.value.code == "llm.truncated"


async def test_a_provider_without_json_schema_gets_json_object_from_then_on(
    llm: LLMClient, fake_model: FakeModel
) -> None:
    fake_model.fails(
        400, "response_format json_schema is not supported by this model", param="response_format"
    )
    fake_model.answers(GOOD, times=2)

    reply = await llm.complete_json(MESSAGES, Answer, schema_name="answer")

    assert reply.value.headline == "Solar power"
    fallback = fake_model.sent(1)
    assert fallback["response_format"] == {"type": "json_object"}
    system = fallback["messages"][0]
    assert system["role"] == "system"
    assert system["content"].startswith("You write slides.")
    assert '"imagePrompt"' in system["content"]  # the schema, in the prompt instead
    assert fallback["messages"][1:] == MESSAGES[1:]
    assert not llm.json_schema_supported

    await llm.complete_json(MESSAGES, Answer, schema_name="answer")

    assert fake_model.call_count == 3  # remembered: no second refusal
    assert fake_model.sent()["response_format"] == {"type": "json_object"}


async def test_the_fallback_adds_a_system_message_when_there_is_none(
    llm: LLMClient, fake_model: FakeModel
) -> None:
    llm.json_schema_supported = False
    fake_model.answers(GOOD)

    await llm.complete_json(MESSAGES[1:], Answer, schema_name="answer")

    messages = fake_model.sent()["messages"]
    assert messages[0]["role"] == "system"
    assert "JSON schema" in messages[0]["content"]
    assert messages[1:] == MESSAGES[1:]


async def test_an_answer_without_choices_is_an_llm_error_in_the_providers_words(
    llm: LLMClient, fake_model: FakeModel
) -> None:
    # OpenRouter reports some upstream failures as a 200 with an `error` and no choices.
    fake_model.responds(
        200, json={"error": {"message": f"upstream failed for {API_KEY}", "code": 502}}
    )

    with pytest.raises(LLMError) as caught:
        await llm.complete_json(MESSAGES, Answer, schema_name="answer")

    assert caught.value.code == "llm.failed"
    assert caught.value.detail.endswith("upstream failed for ***")


@pytest.mark.parametrize(
    "response",
    [
        {"text": "<html>Bad gateway</html>", "headers": {"content-type": "text/html"}},
        {"text": "{not json", "headers": {"content-type": "application/json"}},
    ],
    ids=["html", "broken-json"],
)
async def test_a_body_that_is_no_completion_is_an_llm_error(
    llm: LLMClient, fake_model: FakeModel, response: dict[str, Any]
) -> None:
    fake_model.responds(200, times=None, **response)

    with pytest.raises(LLMError) as caught:
        await llm.complete_json(MESSAGES, Answer, schema_name="answer")

    assert caught.value.code == "llm.failed"
    assert fake_model.call_count == 1


async def test_the_key_never_reaches_the_logs(
    llm: LLMClient, fake_model: FakeModel, log_output: io.StringIO
) -> None:
    fake_model.fails(429, f"slow down, {API_KEY}")
    fake_model.fails(500, f"oops {API_KEY}")
    fake_model.fails(503, f"still {API_KEY}")
    with pytest.raises(LLMUnavailable) as unavailable:
        await llm.complete_json(MESSAGES, Answer, schema_name="answer")
    fake_model.fails(401, f"bad key {API_KEY}")
    with pytest.raises(LLMRejected) as rejected:
        await llm.complete_json(MESSAGES, Answer, schema_name="answer")

    logged = log_output.getvalue()
    assert "llm_retry" in logged  # the retries were logged...
    assert API_KEY not in logged  # ...without the key
    assert API_KEY not in repr(llm)
    for caught in (unavailable, rejected):
        assert API_KEY not in str(caught.value)
        assert API_KEY not in caught.value.detail


async def test_retries_wait_as_the_provider_asks_within_a_cap(
    llm: LLMClient, fake_model: FakeModel
) -> None:
    llm.wait = wait = RecordedWaits(RetryAfterOr(wait_fixed(0), cap=0.01))
    fake_model.fails(429, headers={"Retry-After": "30"})
    fake_model.fails(503, headers={"Retry-After": "0"})
    fake_model.answers(GOOD)

    await llm.complete_json(MESSAGES, Answer, schema_name="answer")

    assert wait.waits == [0.01, 0.0]  # 30 seconds asked for, capped; then none


async def test_unavailable_passes_the_providers_retry_after_on(
    llm: LLMClient, fake_model: FakeModel
) -> None:
    llm.max_retries = 0
    fake_model.fails(429, headers={"Retry-After": "7"})

    with pytest.raises(LLMUnavailable) as caught:
        await llm.complete_json(MESSAGES, Answer, schema_name="answer")

    assert caught.value.headers == {"Retry-After": "7"}


def test_from_settings_needs_a_key(tmp_path: Path) -> None:
    assert LLMClient.from_settings(make_settings(tmp_path)) is None
    assert LLMClient.from_settings(make_settings(tmp_path, llm_api_key="")) is None


async def test_from_settings_takes_url_model_and_retries(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        llm_api_key=API_KEY,
        llm_base_url=BASE_URL,
        llm_model=MODEL,
        llm_max_retries=5,
        llm_timeout_seconds=12,
    )

    llm = LLMClient.from_settings(settings)

    assert llm is not None
    assert (llm.model, llm.base_url, llm.max_retries) == (MODEL, BASE_URL, 5)
    await llm.aclose()


async def test_the_key_is_read_from_openrouter_api_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENROUTER_API_KEY", API_KEY)

    llm = LLMClient.from_settings(make_settings(tmp_path))

    assert llm is not None
    await llm.aclose()


async def test_aclose_closes_the_connection_pool() -> None:
    http = httpx.AsyncClient()
    llm = LLMClient(base_url=BASE_URL, api_key=API_KEY, model=MODEL, http_client=http)

    await llm.aclose()

    assert http.is_closed
