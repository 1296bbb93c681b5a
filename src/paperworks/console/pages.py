"""What the console's pages are made of: who is looking (`Console`), the Jinja2 templates that
draw them, and the policy they are served with.

A product's screens live in the product (`<product>/console.py`, its templates beside it) and
extend this package's `base.html`; a product declares them in its `Product` as `ConsolePages`.
The pages run no inline script or style: `console.js` and `console.css` from `/console/static`
are all they load, so the Content-Security-Policy allows nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from pydantic import ValidationError

from paperworks.console.session import ConsoleSession
from paperworks.identity.caller import Caller
from paperworks.identity.models import User, Workspace
from paperworks.identity.roles import Role
from paperworks.kit.errors import AppError

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
STATIC_PATH = "/console/static"
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = {"Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-store"}


@dataclass(frozen=True)
class ConsolePages:
    """A product's screens: its entry in the console's menu and the routes that draw them."""

    label: str
    path: str
    router: APIRouter
    summary: str = ""  # what a user does there, one line on the home page


@dataclass(frozen=True)
class Console:
    """Who is looking at a console page, acting as whom, with the workspaces they can switch to."""

    user: User
    caller: Caller
    session: ConsoleSession
    workspaces: list[tuple[Workspace, Role]]

    @property
    def workspace(self) -> Workspace:
        return next(ws for ws, _ in self.workspaces if ws.id == self.caller.workspace_id)


class Templates:
    """Templates from a product's own directory, then the console's (`base.html`)."""

    def __init__(self, directory: Path | None = None) -> None:
        directories = [directory, TEMPLATES] if directory else [TEMPLATES]
        self._environment = Environment(
            loader=ChoiceLoader([FileSystemLoader(str(d)) for d in directories]),
            autoescape=select_autoescape(default=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def render(
        self,
        request: Request,
        name: str,
        console: Console | None = None,
        *,
        status_code: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        page = self._environment.get_template(name).render(
            request=request,
            console=console,
            menu=getattr(request.app.state, "console_menu", ()),
            static=STATIC_PATH,
            **context,
        )
        return HTMLResponse(page, status_code=status_code, headers=PAGE_HEADERS)


class ResourceMissing(Exception):
    """What a page would show is not in the workspace (another's, deleted, never made). A
    product's screen raises it; the console answers 404 with a page saying so and the way back.
    The page is drawn here, while the request's session still holds who is looking: the error
    rolls the session back before any handler runs."""

    def __init__(
        self, request: Request, console: Console, what: str, back: str, back_label: str
    ) -> None:
        super().__init__(what)
        self.response = Templates().render(
            request,
            "missing.html",
            console,
            status_code=404,
            what=what,
            back=back,
            back_label=back_label,
        )


def problem_lines(error: AppError) -> list[str]:
    """A service's refusal as the lines a page shows: what is wrong, then each row's problem or
    the choices there are (the API sends these as the problem's `errors`)."""
    lines = [error.detail]
    for item in error.errors or ():
        if "line" in item:
            where = f"line {item['line']}" + (f", {item['field']}" if item.get("field") else "")
            lines.append(f"{where}: {item.get('message', '')}")
        elif item.get("choices"):
            lines.append("Choose from: " + ", ".join(str(c) for c in item["choices"]) + ".")
    return lines


def validation_lines(error: ValidationError) -> list[str]:
    """A form's values the schema refused, one line each, named as the API names them."""
    return [
        f"{'.'.join(str(part) for part in e['loc']) or 'form'}: "
        + e["msg"].removeprefix("Value error, ")
        for e in error.errors()
    ]


def refusal_lines(error: ValidationError | AppError) -> list[str]:
    """What a page says when a form's values are refused: by the schema, or by the service."""
    return validation_lines(error) if isinstance(error, ValidationError) else problem_lines(error)
