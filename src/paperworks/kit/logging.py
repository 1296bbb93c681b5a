"""Structured logs: one JSON object a line, the same pipeline for our logs and uvicorn's.

Context bound with `structlog.contextvars` (request id, later job and workspace ids) lands on
every line. Values that look like secrets are masked before anything is rendered.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Callable, Mapping
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

MASK = "***"
_SECRET_KEY = re.compile(r"authorization|cookie|passw|secret|token|key|dsn", re.IGNORECASE)
_SECRET_IN_TEXT = (
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 " + MASK),
    (re.compile(r"(\w+://[^:/@\s]*:)[^@\s]+@"), r"\1" + MASK + "@"),  # user:password@host
    (re.compile(r"\bpwk_[A-Za-z0-9_-]+"), "pwk_" + MASK),  # Paperworks API keys
    (re.compile(r"(/downloads/)[^/?#\s]+"), r"\1" + MASK),  # signed download links
)
# Keys the structlog pipeline itself owns; never masked even if the pattern matches.
_STRUCTURAL_KEYS = frozenset({"event", "level", "logger", "timestamp", "exception"})


# What every pattern above needs to match, in one search: most strings (every access line's
# method, path, level, logger and timestamp) hold none of it and skip the four substitutions.
_MAYBE_SECRET_IN_TEXT = re.compile(r"(?i)bearer|basic|://|pwk_|/downloads/")


def _mask_text(value: str) -> str:
    if _MAYBE_SECRET_IN_TEXT.search(value) is None:
        return value
    for pattern, replacement in _SECRET_IN_TEXT:
        value = pattern.sub(replacement, value)
    return value


def _mask(value: Any) -> Any:
    if isinstance(value, str):
        return _mask_text(value)
    if isinstance(value, Mapping):
        return {
            k: MASK if isinstance(k, str) and _SECRET_KEY.search(k) else _mask(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_mask(item) for item in value]
    return value


def mask_secrets(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Mask values whose key names a secret, and secrets that hide inside text."""
    for key, value in list(event_dict.items()):
        if key in _STRUCTURAL_KEYS:
            if isinstance(value, str):
                event_dict[key] = _mask_text(value)
            continue
        event_dict[key] = MASK if _SECRET_KEY.search(key) else _mask(value)
    return event_dict


def _drop_color_message(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    # uvicorn attaches an ANSI-coloured copy of its message; the plain one is enough.
    event_dict.pop("color_message", None)
    return event_dict


def _add_pid(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    # Several worker processes write to one stream; the pid tells their lines apart.
    event_dict["pid"] = os.getpid()
    return event_dict


# What gives the span a line is written in; set by kit.tracing once a process traces. Until then
# `add_trace_ids` costs one global lookup and OpenTelemetry is never imported.
_current_span: Callable[[], Any] | None = None


def log_trace_ids(current_span: Callable[[], Any]) -> None:
    """From now on, lines written inside a span carry its ids (`opentelemetry.trace`'s
    `get_current_span`)."""
    global _current_span
    _current_span = current_span


def add_trace_ids(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """`trace_id` and `span_id`, in hex as tracing backends show them, when a span is active."""
    if _current_span is not None:
        context = _current_span().get_span_context()
        if context.is_valid:
            event_dict["trace_id"] = format(context.trace_id, "032x")
            event_dict["span_id"] = format(context.span_id, "016x")
    return event_dict


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        add_trace_ids,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        _drop_color_message,
        _add_pid,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]


class _PaperworksHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Ours, so reconfiguring replaces it and leaves handlers others installed alone."""


def configure_logging(
    level: str = "INFO", log_format: str = "json", stream: TextIO | None = None
) -> None:
    """Route structlog and the standard library (uvicorn included) through one renderer."""
    stream = stream or sys.stderr
    if log_format == "console":
        renderer = structlog.dev.ConsoleRenderer(colors=stream.isatty())
        final: list[Processor] = [mask_secrets, renderer]
    else:
        final = [
            structlog.processors.format_exc_info,
            mask_secrets,
            structlog.processors.JSONRenderer(),
        ]

    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *final],
    )
    handler = _PaperworksHandler(stream)
    handler.setFormatter(formatter)

    root = logging.getLogger()
    root.handlers[:] = [h for h in root.handlers if not isinstance(h, _PaperworksHandler)]
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
        # Our level decides; a level uvicorn left behind from an earlier Config would not.
        logger.setLevel(logging.NOTSET)
    # Our middleware writes the access line, with the request id; uvicorn's would repeat it.
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False
    access.disabled = True


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger
