"""Images from providers behind one interface: Runware, then any OpenAI-compatible images API.

`ImageService.image_for` asks each configured provider in turn and returns the first usable image,
or None (no provider, no prompt, or every provider failed): it never raises, so a caller decides
what a missing picture means. Whatever a provider returns is size-capped while it streams in and
must really be a PNG, JPEG or WebP before a caller gets it. Requests are retried by the policy in
`llm.retries`: 408, 429, 5xx, timeouts and dropped connections, waiting as a provider's
`Retry-After` asks.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
import json
import math
import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import httpx
from PIL import Image
from tenacity.wait import wait_base

from paperworks.kit.logging import get_logger
from paperworks.llm.retries import (
    TransientStatus,
    default_wait,
    describe,
    is_transient_status,
    retrying,
)

if TYPE_CHECKING:
    from paperworks.settings import Settings

log = get_logger(__name__)

MAX_RETRIES = 2  # per request, on 408, 429, 5xx, timeouts and dropped connections
# A provider's JSON answer carries a URL or one base64 image; anything far bigger is not one.
_JSON_OVERHEAD_BYTES = 64 * 1024
# Decoded later by whoever uses it: refuse what would cost far more memory than a picture needs.
_MAX_PIXELS = 4096 * 4096
_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
_UNSAFE_CODE = re.compile(r"[^A-Za-z0-9_.:-]")


class ImageError(Exception):
    """A provider could not deliver a usable image; the message is a short reason, never a key."""


class ImageProvider(Protocol):
    name: str

    async def generate(self, prompt: str, *, width: int, height: int) -> bytes:
        """The image's bytes (PNG, JPEG or WebP); `ImageError` when there is none."""
        ...


@dataclass(frozen=True)
class GeneratedImage:
    data: bytes
    content_type: str
    provider: str  # the provider's name (decks name their placeholder "placeholder")
    width: int  # as read from the bytes, which may differ from what was asked for
    height: int


def image_type(data: bytes) -> str | None:
    """The content type by magic bytes: a server's Content-Type header is not evidence."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _code(value: object) -> str:
    # Provider text goes into our messages and logs: keep an identifier, drop the prose.
    return _UNSAFE_CODE.sub("", str(value))[:60] or "unknown"


@dataclass(frozen=True)
class _Reply:
    status: int
    body: bytes


def _answer(reply: _Reply, what: str) -> dict[str, Any]:
    """The JSON object answered; an error page that is not JSON still reports its status."""
    try:
        answer = json.loads(reply.body)
    except ValueError:
        if 200 <= reply.status < 300:
            raise ImageError(f"{what}: the answer was not JSON") from None
        answer = None
    return answer if isinstance(answer, dict) else {}


class _HttpProvider:
    """What both providers share: capped streaming reads, retries (`llm.retries`: the provider's
    Retry-After honoured), and the download."""

    name = "http"

    def __init__(
        self, http: httpx.AsyncClient, max_bytes: int, timeout: float, wait: wait_base | None
    ) -> None:
        self.http = http
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.wait = wait if wait is not None else default_wait()  # tests pass `wait_none()`

    async def _fetch(self, method: str, url: str, *, limit: int, what: str, **kw: Any) -> _Reply:
        policy = retrying(
            attempts=MAX_RETRIES + 1,
            wait=self.wait,
            log=log,
            event="image_retry",
            provider=self.name,
        )
        try:
            return await policy(self._fetch_once, method, url, limit, what, kw)
        except (httpx.HTTPError, TimeoutError, TransientStatus) as exc:
            attempts = policy.statistics.get("attempt_number", 1)
            raise ImageError(f"{what}: {describe(exc)} ({attempts} attempts)") from None

    async def _fetch_once(
        self, method: str, url: str, limit: int, what: str, kw: dict[str, Any]
    ) -> _Reply:
        # httpx's timeout bounds each read; this bounds the whole answer, however slowly it drips.
        async with (
            asyncio.timeout(self.timeout),
            self.http.stream(method, url, timeout=self.timeout, **kw) as response,
        ):
            if is_transient_status(response.status_code):
                # Its Retry-After, if any, sets the wait before the next attempt.
                raise TransientStatus(response.status_code, response.headers)
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise ImageError(f"{what}: {declared} bytes is over the {limit}-byte limit")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > limit:  # leaving the block closes the stream: nothing more is read
                    raise ImageError(f"{what}: over the {limit}-byte limit")
            return _Reply(response.status_code, bytes(body))

    async def _download(self, url: object) -> bytes:
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise ImageError("the answer had no image URL")
        # No headers of ours: the image host is not the API and must not see its key.
        reply = await self._fetch(
            "GET", url, limit=self.max_bytes, what="image download", follow_redirects=True
        )
        if not 200 <= reply.status < 300:
            raise ImageError(f"image download: HTTP {reply.status}")
        return _checked(reply.body)


def _checked(data: bytes) -> bytes:
    if image_type(data) is None:
        raise ImageError("the content was not a PNG, JPEG or WebP image")
    return data


def runware_size(width: int, height: int) -> tuple[int, int]:
    """The nearest size Runware accepts (multiples of 64 in 128..2048), keeping the aspect."""
    scale = min(1.0, 2048 / max(width, height, 1))

    def snap(side: int) -> int:
        return min(2048, max(128, round(side * scale / 64) * 64))

    return snap(width), snap(height)


class RunwareProvider(_HttpProvider):
    """Runware's REST API: one POST of a task array (authentication, then imageInference)."""

    name = "runware"
    max_prompt_chars = 3000  # Runware refuses longer positive prompts

    def __init__(
        self,
        api_key: str,
        *,
        url: str,
        model: str,
        http: httpx.AsyncClient,
        max_bytes: int,
        timeout: float,
        wait: wait_base | None = None,
    ) -> None:
        super().__init__(http, max_bytes, timeout, wait)
        self._api_key = api_key
        self.url = url
        self.model = model

    def __repr__(self) -> str:
        return f"RunwareProvider(url={self.url!r}, model={self.model!r})"

    async def generate(self, prompt: str, *, width: int, height: int) -> bytes:
        task_uuid = str(uuid.uuid4())
        w, h = runware_size(width, height)
        tasks = [
            {"taskType": "authentication", "apiKey": self._api_key},
            {
                "taskType": "imageInference",
                "taskUUID": task_uuid,
                "positivePrompt": prompt[: self.max_prompt_chars],
                "width": w,
                "height": h,
                "model": self.model,
                "numberResults": 1,
                "outputType": "URL",
                "outputFormat": "PNG",
            },
        ]
        reply = await self._fetch(
            "POST", self.url, limit=_JSON_OVERHEAD_BYTES, what="runware", json=tasks
        )
        answer = _answer(reply, "runware")
        errors = answer.get("errors") or answer.get("error")
        if errors:
            first = errors[0] if isinstance(errors, list) else errors
            code = first.get("code") if isinstance(first, dict) else first
            raise ImageError(f"runware refused the task (HTTP {reply.status}): {_code(code)}")
        if not 200 <= reply.status < 300:
            raise ImageError(f"runware: HTTP {reply.status}")
        # Answers are matched by task, not position: the authentication task may answer too.
        for item in answer.get("data") or []:
            if (
                isinstance(item, dict)
                and item.get("taskType") == "imageInference"
                and item.get("taskUUID", task_uuid) == task_uuid
            ):
                return await self._download(item.get("imageURL"))
        raise ImageError("runware: no image in the answer")


_OPENAI_SIZES = ((1024, 1024), (1536, 1024), (1024, 1536))


def openai_size(width: int, height: int) -> str:
    """The supported size nearest in aspect ratio: square, landscape or portrait."""
    ratio = math.log(max(width, 1) / max(height, 1))
    w, h = min(_OPENAI_SIZES, key=lambda size: abs(math.log(size[0] / size[1]) - ratio))
    return f"{w}x{h}"


class OpenAIImagesProvider(_HttpProvider):
    """Any OpenAI-compatible `/images/generations`: a base64 image or a URL to fetch."""

    name = "openai"
    max_prompt_chars = 4000  # the strictest of the OpenAI image models

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        model: str,
        http: httpx.AsyncClient,
        max_bytes: int,
        timeout: float,
        wait: wait_base | None = None,
    ) -> None:
        super().__init__(http, max_bytes, timeout, wait)
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.model = model

    def __repr__(self) -> str:
        return f"OpenAIImagesProvider(base_url={self.base_url!r}, model={self.model!r})"

    async def generate(self, prompt: str, *, width: int, height: int) -> bytes:
        body = {
            "model": self.model,
            "prompt": prompt[: self.max_prompt_chars],
            "n": 1,
            "size": openai_size(width, height),
        }
        reply = await self._fetch(
            "POST",
            f"{self.base_url}/images/generations",
            # base64 is 4/3 of the bytes it carries
            limit=self.max_bytes * 4 // 3 + _JSON_OVERHEAD_BYTES,
            what="openai images",
            json=body,
            headers={"Authorization": f"Bearer {self._api_key}"},
        )
        answer = _answer(reply, "openai images")
        if not 200 <= reply.status < 300:
            error = answer.get("error")
            code = (error.get("code") or error.get("type")) if isinstance(error, dict) else None
            raise ImageError(f"openai images: HTTP {reply.status} ({_code(code)})")
        data = answer.get("data")
        first = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
        encoded = first.get("b64_json")
        if isinstance(encoded, str) and encoded:
            if len(encoded) * 3 // 4 > self.max_bytes:
                raise ImageError(f"openai images: over the {self.max_bytes}-byte limit")
            try:
                return _checked(base64.b64decode(encoded, validate=True))
            except binascii.Error:
                raise ImageError("openai images: b64_json was not base64") from None
        return await self._download(first.get("url"))


# -- the service -----------------------------------------------------------------------------------


def _inspect(data: bytes, provider: str) -> GeneratedImage:
    content_type = image_type(data)
    if content_type is None:
        raise ImageError("the content was not a PNG, JPEG or WebP image")
    with Image.open(io.BytesIO(data), formats=list(_FORMATS)) as image:
        width, height = image.size
        if _FORMATS.get(image.format or "") != content_type:
            raise ImageError("the image's format did not match its magic bytes")
        if width * height > _MAX_PIXELS:
            raise ImageError(f"the image is too large ({width}x{height})")
        image.verify()
    return GeneratedImage(data, content_type, provider, width, height)


class ImageService:
    """The configured providers, in order of preference."""

    def __init__(self, providers: list[ImageProvider]) -> None:
        self.providers = providers

    async def image_for(
        self, prompt: str | None, *, width: int, height: int
    ) -> GeneratedImage | None:
        """The first provider's usable image; None without a provider or a prompt, or when every
        provider failed. Never raises: a failing provider (logged) hands over to the next."""
        prompt = (prompt or "").strip()
        for provider in self.providers if prompt else []:
            try:
                data = await provider.generate(prompt, width=width, height=height)
                # Decoding is blocking work: off the event loop.
                image = await asyncio.to_thread(_inspect, data, provider.name)
            except Exception as exc:  # a picture is never worth failing the caller for
                reason = str(exc) if isinstance(exc, ImageError) else None
                log.warning(
                    "image_provider_failed",
                    provider=provider.name,
                    error=type(exc).__name__,
                    reason=reason,
                )
                continue
            log.info(
                "image_generated",
                provider=provider.name,
                width=image.width,
                height=image.height,
                bytes=len(image.data),
            )
            return image
        return None


def image_service_from_settings(settings: Settings, http: httpx.AsyncClient) -> ImageService:
    """Runware if its key is set, then the OpenAI-compatible API if configured; else none, the
    offline default."""
    providers: list[ImageProvider] = []
    max_bytes, timeout = settings.image_max_bytes, settings.image_timeout_seconds
    if settings.runware_api_key is not None and settings.runware_api_key.get_secret_value():
        providers.append(
            RunwareProvider(
                settings.runware_api_key.get_secret_value(),
                url=settings.runware_url,
                model=settings.runware_model,
                http=http,
                max_bytes=max_bytes,
                timeout=timeout,
            )
        )
    key = settings.image_api_key
    if settings.image_api_base_url and key is not None and key.get_secret_value():
        providers.append(
            OpenAIImagesProvider(
                settings.image_api_base_url,
                key.get_secret_value(),
                model=settings.image_model,
                http=http,
                max_bytes=max_bytes,
                timeout=timeout,
            )
        )
    return ImageService(providers)
