"""`/docs` (Swagger UI) and `/redoc`: FastAPI's pages, each with a Content-Security-Policy that
lets exactly what it loads run (its CDN scripts and styles, its one inline script by hash, the
spec from our origin) and forbids framing it."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse

from paperworks.kit.security_headers import page_csp

CDN = "https://cdn.jsdelivr.net"  # where FastAPI's pages load Swagger UI and Redoc from
FAVICON = "https://fastapi.tiangolo.com"
OAUTH2_REDIRECT = "/docs/oauth2-redirect"


def _with_csp(page: HTMLResponse, **sources: Any) -> HTMLResponse:
    html = bytes(page.body).decode()
    page.headers["Content-Security-Policy"] = page_csp(html, **sources)
    return page


def add_docs(app: FastAPI, openapi_url: str) -> None:
    title = app.title

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        page = get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{title} - Swagger UI",
            oauth2_redirect_url=root + OAUTH2_REDIRECT,
        )
        return _with_csp(page, scripts=[CDN], styles=[CDN], images=[FAVICON])

    @app.get(OAUTH2_REDIRECT, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return _with_csp(get_swagger_ui_oauth2_redirect_html())

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        page = get_redoc_html(openapi_url=root + openapi_url, title=f"{title} - ReDoc")
        return _with_csp(
            page,
            scripts=[CDN],
            styles=["https://fonts.googleapis.com"],
            fonts=["https://fonts.gstatic.com"],
            images=[FAVICON, "https:"],
            workers=["blob:"],
            inline_styles=True,
        )
