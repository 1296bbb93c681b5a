"""The OpenAPI document names every problem an operation can answer with, in the body it has."""

from typing import Annotated, Any

import httpx
from fastapi import Depends, FastAPI, Header
from pydantic import BaseModel

from paperworks.kit.errors import (
    PROBLEM_MEDIA_TYPE,
    AppError,
    Conflict,
    NotFound,
    declare_problems,
    install_error_handlers,
    problem_responses,
)
from tests.problems import assert_problem


class WidgetNotFound(NotFound):
    code = "widget.not_found"
    title = "Widget not found"


class ShelfNotFound(NotFound):
    code = "shelf.not_found"
    title = "Shelf not found"


class WidgetTaken(Conflict):
    code = "widget.taken"
    title = "Widget taken"


class BadShelfHeader(AppError):
    status_code = 422
    code = "shelf.bad_header"
    title = "Bad shelf header"


class Widget(BaseModel):
    name: str


async def shelf(x_shelf: Annotated[str | None, Header()] = None) -> str | None:
    return x_shelf


async def shelved(name: Annotated[str | None, Depends(shelf)]) -> str | None:
    return name


declare_problems(shelf, ShelfNotFound, BadShelfHeader)


def make_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.put(
        "/widgets/{widget_id}",
        responses=problem_responses(WidgetNotFound, WidgetTaken, ShelfNotFound),
    )
    async def put_widget(
        widget_id: str, widget: Widget, _: Annotated[str | None, Depends(shelved)]
    ) -> Widget:
        return widget

    @app.get("/widgets/{widget_id}")
    async def get_widget(widget_id: str) -> Widget:
        raise WidgetNotFound

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def responses(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    result: dict[str, Any] = document["paths"][path][method]["responses"]
    return result


def test_problems_on_one_status_are_one_response_that_names_each() -> None:
    documented = problem_responses(WidgetNotFound, WidgetTaken, ShelfNotFound)
    assert set(documented) == {404, 409}
    assert "`widget.not_found`" in documented[404]["description"]
    assert "`shelf.not_found`" in documented[404]["description"]
    assert "`widget.taken`" in documented[409]["description"]


def test_every_problem_response_is_problem_json_with_the_problem_schema() -> None:
    document = make_app().openapi()
    problem = {"schema": {"$ref": "#/components/schemas/Problem"}}
    put = responses(document, "put", "/widgets/{widget_id}")
    assert set(put) == {"200", "400", "404", "409", "413", "422", "429"}
    for status, response in put.items():
        if status != "200":
            assert response["content"] == {PROBLEM_MEDIA_TYPE: problem}, status
    schema = document["components"]["schemas"]["Problem"]
    assert set(schema["required"]) == {"type", "title", "status", "detail", "code", "instance"}
    # FastAPI's own validation error body is not what the service sends.
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert "x-problems" not in repr(document)


def test_a_dependency_s_problems_join_the_route_s_on_their_status() -> None:
    put = responses(make_app().openapi(), "put", "/widgets/{widget_id}")
    not_found = put["404"]["description"]
    # Declared by both the route and its dependency's dependency: named once.
    assert not_found.count("`shelf.not_found`") == 1
    assert "`widget.not_found`" in not_found
    assert "`shelf.bad_header`" in put["422"]["description"]
    assert "`request.validation_failed`" in put["422"]["description"]


def test_the_layers_every_request_passes_are_documented_where_they_apply() -> None:
    document = make_app().openapi()
    put = responses(document, "put", "/widgets/{widget_id}")
    assert "`request.malformed_json`" in put["400"]["description"]
    assert "`request.body_too_large`" in put["413"]["description"]
    assert "`rate_limit.exceeded`" in put["429"]["description"]
    # No body: nothing to parse or to be too large; still rate limited.
    assert set(responses(document, "get", "/widgets/{widget_id}")) == {"200", "422", "429"}
    # Not rate limited, no parameters.
    assert set(responses(document, "get", "/health")) == {"200"}


async def test_wrong_method_names_every_method_of_the_path_in_allow() -> None:
    transport = httpx.ASGITransport(app=make_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.delete("/widgets/w1")
    assert_problem(response, 405, "http.method_not_allowed")
    # The router's own answer named only the first route's method (PUT).
    assert response.headers["allow"] == "GET, PUT"
