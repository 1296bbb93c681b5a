"""`LLMClient`: one async client for any OpenAI-compatible Chat Completions API.

It owns what every caller would otherwise repeat: retries with backoff on transient failures
(ours, not the SDK's, so they are logged and testable; the policy is `retries.py`, shared with the
image providers), typed errors that never carry the API key,
and structured answers (`complete_json`) validated by a Pydantic model, with one repair round.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import httpx
import httpx2
import openai
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletion
from pydantic import BaseModel, ValidationError
from tenacity.wait import wait_base

from paperworks.kit.logging import get_logger
from paperworks.llm.exceptions import (
    LLMError,
    LLMInvalidOutput,
    LLMRejected,
    LLMTruncated,
    LLMUnavailable,
)
from paperworks.llm.retries import default_wait, describe, is_transient, retry_after_of, retrying

if TYPE_CHECKING:
    from paperworks.settings import Settings

log = get_logger(__name__)

T = TypeVar("T", bound=BaseModel)

_PROVIDER_TEXT_LIMIT = 300
_MAX_ERRORS_SHOWN = 20
_FENCE = re.compile(r"^```[a-zA-Z0-9_-]*\s*\n?(.*?)\n?```$", re.DOTALL)
_SCHEMA_REJECTION = re.compile(
    r"response_format|response format|json_schema|structured output", re.I
)


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


@dataclass(frozen=True)
class StructuredReply(Generic[T]):
    value: T
    model: str  # what the API said answered, which may differ from what we asked for
    finish_reason: str | None
    usage: Usage | None  # summed over the first answer and the repair round, if any
    repaired: bool = False


class _InvalidAnswer(Exception):
    def __init__(self, reason: str, errors: list[dict[str, Any]]) -> None:
        self.reason = reason
        self.errors = errors
        super().__init__(reason)


def _strip_fences(content: str) -> str:
    text = content.strip()
    if match := _FENCE.match(text):
        return match.group(1).strip()
    if text and text[0] not in "{[":
        # Prose around the object ("Here is the JSON: {...}"): keep the outermost braces.
        start, end = text.find("{"), text.rfind("}")
        if start != -1 and end > start:
            return text[start : end + 1]
    return text


def _parse(content: str | None, schema: type[T]) -> T:
    if not content or not content.strip():
        raise _InvalidAnswer("the answer was empty", [])
    try:
        return schema.model_validate_json(_strip_fences(content))
    except ValidationError as exc:
        errors = [
            {
                "field": ".".join(str(part) for part in error["loc"]),
                "message": error["msg"],
                "type": error["type"],
            }
            for error in exc.errors(include_url=False, include_input=False)
        ]
        if any(error["type"] == "json_invalid" for error in errors):
            reason = "the answer was not valid JSON"
        else:
            reason = "the JSON did not match the schema"
        raise _InvalidAnswer(reason, errors[:_MAX_ERRORS_SHOWN]) from None


def _repair_request(problem: _InvalidAnswer) -> str:
    lines = [f"- {e['field'] or '(root)'}: {e['message']}" for e in problem.errors]
    listed = "\n".join(lines) if lines else "- " + problem.reason
    return (
        f"Your previous answer could not be used: {problem.reason}.\n{listed}\n\n"
        "Answer again with the corrected JSON object only: no explanation, no code fences, "
        "and every field the schema requires."
    )


def _with_schema_in_system_prompt(
    messages: list[dict[str, Any]], schema_text: str
) -> list[dict[str, Any]]:
    instruction = (
        "Answer with one JSON object only, no prose and no code fences, "
        f"that validates against this JSON schema:\n{schema_text}"
    )
    if messages and messages[0].get("role") == "system":
        first = messages[0]
        return [{**first, "content": f"{first.get('content', '')}\n\n{instruction}"}, *messages[1:]]
    return [{"role": "system", "content": instruction}, *messages]


@dataclass(frozen=True)
class _SchemaFormat:
    """What one schema costs to describe, computed once per schema class."""

    json_schema_format: dict[str, Any]
    schema_text: str


_formats: dict[tuple[type[BaseModel], str], _SchemaFormat] = {}


def _format_for(schema: type[BaseModel], name: str) -> _SchemaFormat:
    key = (schema, name)
    found = _formats.get(key)
    if found is None:
        json_schema = schema.model_json_schema(by_alias=True)
        found = _SchemaFormat(
            json_schema_format={
                "type": "json_schema",
                "json_schema": {"name": name, "schema": json_schema, "strict": False},
            },
            schema_text=json.dumps(json_schema, separators=(",", ":")),
        )
        _formats[key] = found
    return found


class LLMClient:
    """Chat Completions over the `openai` SDK, with our retries, errors and structured answers."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        model: str,
        timeout_seconds: float = 60.0,
        max_retries: int = 3,
        wait: wait_base | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        if not api_key:
            raise ValueError("an API key is required; without one, use the offline engine")
        self.model = model
        self.base_url = base_url
        self.max_retries = max_retries
        # The whole backoff strategy; tests set it to `wait_none()`.
        self.wait: wait_base = wait if wait is not None else default_wait()
        self._api_key = api_key
        # Providers that refuse `json_schema` answer a 400; after one, ask this client's provider
        # for `json_object` with the schema in the prompt instead.
        self.json_schema_supported = True
        connect = min(10.0, timeout_seconds)
        # openai 3 is built on httpx2 and still takes an httpx client, as its own checks allow;
        # ours stays httpx, the stack respx fakes the providers on in the tests.
        pool: Any = http_client or httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_seconds, connect=connect),
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
        )
        self._openai = AsyncOpenAI(
            base_url=base_url,
            api_key=api_key,
            timeout=httpx2.Timeout(timeout_seconds, connect=connect),
            max_retries=0,
            http_client=pool,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> LLMClient | None:
        """None without an API key: callers then use their offline engine."""
        if settings.llm_api_key is None or not settings.llm_api_key.get_secret_value():
            return None
        return cls(
            base_url=settings.llm_base_url,
            api_key=settings.llm_api_key.get_secret_value(),
            model=settings.llm_model,
            timeout_seconds=settings.llm_timeout_seconds,
            max_retries=settings.llm_max_retries,
        )

    def __repr__(self) -> str:
        return f"LLMClient(base_url={self.base_url!r}, model={self.model!r})"

    @property
    def openai_client(self) -> AsyncOpenAI:
        """The SDK client for runtimes that drive the model themselves (the assistant's agent):
        the same connection pool, with the SDK's own backoff on 429, 5xx and timeouts, as many
        retries as ours."""
        return self._openai.with_options(max_retries=self.max_retries)

    def problem_for(self, exc: openai.OpenAIError) -> LLMError:
        """What a failed call made through `openai_client` means to our client."""
        if isinstance(exc, openai.APIStatusError) and not is_transient(exc):
            return self._rejected(exc)
        return self._unavailable(exc)

    async def aclose(self) -> None:
        await self._openai.close()

    async def __aenter__(self) -> LLMClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def complete_json(
        self,
        messages: list[dict[str, Any]],
        schema: type[T],
        *,
        schema_name: str,
        max_tokens: int | None = None,
        temperature: float = 0.4,
    ) -> StructuredReply[T]:
        """Ask for a JSON answer shaped like `schema` and return it validated.

        An answer that is not valid JSON or does not validate gets one repair round (the bad
        answer and its errors go back to the model); a second failure is `llm.invalid_output`.
        A truncated answer is `llm.truncated` at once: a repair would be cut off as well.
        """
        described = _format_for(schema, schema_name)
        completion = await self._ask_json(messages, described, max_tokens, temperature)
        content = _content_of(completion)
        try:
            value = _parse(content, schema)
        except _InvalidAnswer as problem:
            log.info(
                "llm_answer_repair", model=self.model, schema=schema_name, reason=problem.reason
            )
            repair = [
                *messages,
                {"role": "assistant", "content": content or ""},
                {"role": "user", "content": _repair_request(problem)},
            ]
            first_usage = _usage_of(completion)
            completion = await self._ask_json(repair, described, max_tokens, temperature)
            try:
                value = _parse(_content_of(completion), schema)
            except _InvalidAnswer as again:
                raise LLMInvalidOutput(
                    f"The model's answer did not match the expected shape ({again.reason}), "
                    "even after it was asked to correct it.",
                    errors=again.errors,
                ) from None
            return StructuredReply(
                value=value,
                model=completion.model or self.model,
                finish_reason=completion.choices[0].finish_reason,
                usage=_add_usage(first_usage, _usage_of(completion)),
                repaired=True,
            )
        return StructuredReply(
            value=value,
            model=completion.model or self.model,
            finish_reason=completion.choices[0].finish_reason,
            usage=_usage_of(completion),
        )

    async def _ask_json(
        self,
        messages: list[dict[str, Any]],
        described: _SchemaFormat,
        max_tokens: int | None,
        temperature: float,
    ) -> ChatCompletion:
        if self.json_schema_supported:
            try:
                return await self._complete(
                    messages, described.json_schema_format, max_tokens, temperature
                )
            except openai.BadRequestError as exc:
                if not _rejects_json_schema(exc):
                    raise self._rejected(exc) from None
                self.json_schema_supported = False
                log.info("llm_json_schema_unsupported", model=self.model, base_url=self.base_url)
        try:
            return await self._complete(
                _with_schema_in_system_prompt(messages, described.schema_text),
                {"type": "json_object"},
                max_tokens,
                temperature,
            )
        except openai.BadRequestError as exc:
            raise self._rejected(exc) from None

    async def _complete(
        self,
        messages: list[dict[str, Any]],
        response_format: dict[str, Any],
        max_tokens: int | None,
        temperature: float,
    ) -> ChatCompletion:
        options: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "response_format": response_format,
            "temperature": temperature,
        }
        if max_tokens is not None:
            options["max_tokens"] = max_tokens
        policy = retrying(
            attempts=self.max_retries + 1,
            wait=self.wait,
            log=log,
            event="llm_retry",
            model=self.model,
            max_retries=self.max_retries,
        )
        started = time.perf_counter()

        async def create() -> ChatCompletion:
            # Our own coroutine function: tenacity cannot tell that the SDK's decorated
            # `create` is one, and would not await it.
            return cast(ChatCompletion, await self._openai.chat.completions.create(**options))

        try:
            completion: ChatCompletion = await policy(create)
        except openai.BadRequestError:
            raise  # the caller decides whether this is a refused `json_schema`
        except openai.APIStatusError as exc:
            if is_transient(exc):
                raise self._unavailable(exc) from None
            raise self._rejected(exc) from None
        except openai.APIConnectionError as exc:
            raise self._unavailable(exc) from None
        except openai.OpenAIError as exc:
            raise LLMError(f"The language model call failed ({type(exc).__name__}).") from None
        except ValueError:
            # A 200 whose body is not JSON: a proxy or gateway page, not the API.
            raise LLMError(
                "The language model API answered with something other than JSON."
            ) from None
        if not isinstance(completion, ChatCompletion):
            raise LLMError(
                "The language model API answered with something other than a completion."
            )
        if not completion.choices:
            # Some gateways (OpenRouter) report an upstream failure as a 200 with an `error`.
            said = _error_message(getattr(completion, "error", None))
            raise LLMError(
                "The language model answered without a message"
                + (f": {self._redact(said)}" if said else ".")
            )
        finish_reason = completion.choices[0].finish_reason
        usage = completion.usage
        log.info(
            "llm_completion",
            model=completion.model or self.model,
            finish_reason=finish_reason,
            prompt_tokens=usage.prompt_tokens if usage else None,
            completion_tokens=usage.completion_tokens if usage else None,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        if finish_reason == "length":
            raise LLMTruncated(
                "The model's answer was cut off at its length limit; "
                "ask for less (fewer slides, shorter text) or raise the limit."
            )
        return completion

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text

    def _unavailable(self, exc: openai.OpenAIError) -> LLMUnavailable:
        attempts = self.max_retries + 1
        headers: dict[str, str] = {}
        seconds = retry_after_of(exc)
        if seconds is not None:
            headers["Retry-After"] = str(max(1, round(seconds)))
        return LLMUnavailable(
            f"The language model did not answer after {attempts} "
            f"attempt{'s' if attempts != 1 else ''} (last: {describe(exc)}).",
            headers=headers,
        )

    def _rejected(self, exc: openai.APIStatusError) -> LLMRejected:
        if exc.status_code in (401, 403):
            return LLMRejected(
                f"The language model provider refused the API key (HTTP {exc.status_code}); "
                "check the configured key and its permissions."
            )
        said = self._redact(_provider_message(exc))
        return LLMRejected(
            f"The language model provider rejected the request (HTTP {exc.status_code})"
            + (f": {said}" if said else ".")
        )


def _rejects_json_schema(exc: openai.BadRequestError) -> bool:
    return exc.param == "response_format" or bool(_SCHEMA_REJECTION.search(str(exc.message)))


def _provider_message(exc: openai.APIStatusError) -> str:
    return _error_message(exc.body)


def _error_message(body: object) -> str:
    """The provider's own words from an error body, in one short line."""
    message: object = None
    if isinstance(body, dict):
        message = body.get("message")
        nested = body.get("error")
        if message is None and isinstance(nested, dict):
            message = nested.get("message")
    elif isinstance(body, str):
        message = body
    text = " ".join(str(message).split()) if message else ""
    return text[:_PROVIDER_TEXT_LIMIT]


def _content_of(completion: ChatCompletion) -> str | None:
    message = completion.choices[0].message
    return message.content


def _usage_of(completion: ChatCompletion) -> Usage | None:
    usage = completion.usage
    if usage is None:
        return None
    return Usage(
        prompt_tokens=usage.prompt_tokens or 0,
        completion_tokens=usage.completion_tokens or 0,
        total_tokens=usage.total_tokens or 0,
    )


def _add_usage(first: Usage | None, second: Usage | None) -> Usage | None:
    if first is None or second is None:
        return second or first
    return Usage(
        prompt_tokens=first.prompt_tokens + second.prompt_tokens,
        completion_tokens=first.completion_tokens + second.completion_tokens,
        total_tokens=first.total_tokens + second.total_tokens,
    )
