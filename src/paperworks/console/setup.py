"""`install_console(app, pages)`: the console's pages, each product's screens, its static files,
and the redirect to the sign-in page for a page asked for without a console session."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from paperworks.console.dependencies import SignInRequired
from paperworks.console.pages import STATIC, STATIC_PATH, ConsolePages, ResourceMissing
from paperworks.console.router import router
from paperworks.console.settings import router as settings_router
from paperworks.webhooks.console import router as webhooks_router


async def _to_sign_in(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    return RedirectResponse(exc.location, status_code=303)


async def _missing_page(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ResourceMissing)
    return exc.response


def install_console(app: FastAPI, pages: Sequence[ConsolePages]) -> None:
    app.include_router(router)
    app.include_router(settings_router)
    app.include_router(webhooks_router)
    for product_pages in pages:
        app.include_router(product_pages.router)
    # The products' screens, then the platform's own.
    app.state.console_menu = (
        *((p.label, p.path) for p in pages),
        ("Jobs", "/jobs"),
        ("Settings", "/settings"),
    )
    app.state.console_summaries = {
        **{p.path: p.summary for p in pages},
        "/jobs": "Everything running or done in this workspace, live.",
        "/settings": "Members, API keys and webhooks.",
    }
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC), name="console-static")
    app.add_exception_handler(SignInRequired, _to_sign_in)
    app.add_exception_handler(ResourceMissing, _missing_page)
