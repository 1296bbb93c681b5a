"""Headers that tell browsers how little to trust what we send.

Every answer: `X-Content-Type-Options: nosniff`, so a file served as text is never run as script.
An HTML page that names no `Content-Security-Policy` gets one that at least forbids framing it
(clickjacking) and plugins; a page that runs inline script names its own with `page_csp`, which
allows exactly its inline blocks by hash. Downloads carry `DOWNLOAD_CSP`: an uploaded HTML file or
a PDF with JavaScript opened from our origin runs nothing there. Answers carrying credentials
(tokens, a new API key) take the `no_store` dependency, so no cache keeps them.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable

from fastapi import Response
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DOWNLOAD_CSP = "default-src 'none'; sandbox"
HTML_FALLBACK_CSP = "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
_INLINE_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)


def _hashes(blocks: Iterable[str]) -> list[str]:
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(block.encode()).digest()).decode() + "'"
        for block in blocks
    ]


def page_csp(
    html: str,
    *,
    scripts: Iterable[str] = (),
    styles: Iterable[str] = (),
    images: Iterable[str] = (),
    fonts: Iterable[str] = (),
    workers: Iterable[str] = (),
    inline_styles: bool = False,
) -> str:
    """A policy for one page: its own inline `<script>` and `<style>` blocks by hash, the origins
    named for each kind, `connect-src 'self'` (it may call the API), and never in a frame.
    `inline_styles` allows styles a script injects (Redoc does); a hash would then be ignored."""
    style_sources = ["'unsafe-inline'"] if inline_styles else _hashes(_INLINE_STYLE.findall(html))
    directives = {
        "default-src": ["'none'"],
        "script-src": [*_hashes(_INLINE_SCRIPT.findall(html)), *scripts],
        "style-src": [*style_sources, *styles],
        "img-src": ["'self'", "data:", *images],
        "font-src": list(fonts),
        "worker-src": list(workers),
        "connect-src": ["'self'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items() if values)


def no_store(response: Response) -> None:
    """A route dependency for answers that carry credentials: no cache may keep them."""
    response.headers["Cache-Control"] = "no-store"


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                if headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("Content-Security-Policy", HTML_FALLBACK_CSP)
            await send(message)

        await self.app(scope, receive, send_with_headers)
