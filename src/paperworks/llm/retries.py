"""The retry policy of every call to a model or image provider.

- What is worth another attempt: HTTP 408, 429 and 5xx, connection errors and timeouts. Anything
  else (a refused key, a bad request) would get the same answer again, so it is not retried.
- How long to wait before it: what the provider asked for in `retry-after-ms` or `Retry-After`
  (capped at `MAX_RETRY_AFTER_SECONDS`), else exponential backoff with jitter. Callers take the
  strategy as a `wait` argument, so tests pass `wait_none()`.
- One log line per retry, under the caller's event name, with the attempt, the error and the wait.

The model's failures arrive as the `openai` SDK's errors; callers that speak HTTP themselves (the
image providers) raise `TransientStatus` for an answer worth retrying, with its headers.
"""

from __future__ import annotations

import email.utils
from collections.abc import Mapping
from datetime import UTC, datetime

import httpx
import openai
import structlog
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_base, wait_exponential_jitter

MAX_RETRY_AFTER_SECONDS = 20.0


class TransientStatus(Exception):
    """An HTTP answer worth another attempt, raised by a caller that reads responses itself."""

    def __init__(self, status: int, headers: Mapping[str, str]) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.headers = httpx.Headers(headers)  # read case-insensitively, as HTTP means them


def is_transient_status(status: int) -> bool:
    return status in (408, 429) or status >= 500


def is_transient(exc: BaseException) -> bool:
    # APITimeoutError is an APIConnectionError; RateLimitError and InternalServerError are
    # APIStatusErrors, as is a 5xx the SDK has no class for. httpx's timeouts are TransportErrors.
    if isinstance(exc, openai.APIConnectionError):
        return True
    if isinstance(exc, openai.APIStatusError):
        return is_transient_status(exc.status_code)
    return isinstance(exc, TransientStatus | httpx.TransportError | TimeoutError)


def describe(exc: BaseException | None) -> str:
    """A failure in a few words for logs and messages: never the provider's text."""
    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException | TimeoutError):
        return "timeout"
    if isinstance(exc, openai.APIConnectionError):
        return "connection error"
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}"
    if isinstance(exc, TransientStatus):
        return str(exc)
    return type(exc).__name__ if exc is not None else "unknown"


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Seconds from `retry-after-ms`, or `Retry-After` as seconds or an HTTP date."""
    if (millis := headers.get("retry-after-ms")) is not None:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def retry_after_of(exc: BaseException | None) -> float | None:
    """What the provider asked us to wait with the answer that failed, if it said."""
    if isinstance(exc, openai.APIStatusError):
        return retry_after_seconds(exc.response.headers)
    if isinstance(exc, TransientStatus):
        return retry_after_seconds(exc.headers)
    return None


class RetryAfterOr(wait_base):
    """The provider's `Retry-After` (capped) when it sent one, else the fallback strategy."""

    def __init__(self, fallback: wait_base, cap: float = MAX_RETRY_AFTER_SECONDS) -> None:
        self.fallback = fallback
        self.cap = cap

    def __call__(self, retry_state: RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        seconds = retry_after_of(exc)
        if seconds is not None:
            return min(self.cap, seconds)
        return self.fallback(retry_state)


def default_wait() -> wait_base:
    """0.5 s, 1 s, 2 s ... up to 8 s, each plus up to 0.5 s of jitter; or what the provider asks."""
    return RetryAfterOr(wait_exponential_jitter(multiplier=0.5, max=8, jitter=0.5))


def retrying(
    *,
    attempts: int,
    wait: wait_base,
    log: structlog.stdlib.BoundLogger,
    event: str,
    **context: object,
) -> AsyncRetrying:
    """Up to `attempts` calls while the failure is transient; the last failure is raised as it is.

    Before each retry, `event` is logged on `log` with `context`, the attempt that failed, the
    error and the seconds to wait."""

    def log_retry(state: RetryCallState) -> None:
        log.warning(
            event,
            **context,
            attempt=state.attempt_number,
            error=describe(state.outcome.exception() if state.outcome else None),
            wait_seconds=round(state.next_action.sleep, 3) if state.next_action else None,
        )

    return AsyncRetrying(
        retry=retry_if_exception(is_transient),
        stop=stop_after_attempt(attempts),
        wait=wait,
        before_sleep=log_retry,
        reraise=True,
    )
