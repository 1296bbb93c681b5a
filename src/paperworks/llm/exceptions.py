"""The language model's failures, as problems a client can act on.

No message here ever carries the API key: details are written by us, and any text quoted from the
provider is scrubbed of the key first.
"""

from __future__ import annotations

from paperworks.kit.errors import AppError


class LLMError(AppError):
    status_code = 502
    code = "llm.failed"
    title = "The language model failed"


class LLMUnavailable(LLMError):
    """Retries exhausted on 429/5xx/timeouts, or the provider could not be reached at all."""

    status_code = 503
    code = "llm.unavailable"
    title = "The language model is unavailable"


class LLMRejected(LLMError):
    """The provider refused the request: a bad key (401/403) or another 4xx."""

    code = "llm.rejected"
    title = "The language model provider rejected the request"


class LLMInvalidOutput(LLMError):
    """The model's answer did not validate against the schema, even after a repair round."""

    code = "llm.invalid_output"
    title = "The language model's answer was not valid"


class LLMTruncated(LLMError):
    """The model stopped at its token limit (finish_reason "length"): the answer is incomplete."""

    code = "llm.truncated"
    title = "The language model's answer was cut off"
