"""The one check every test uses on an error: a problem+json answer with this status and code."""

from __future__ import annotations

from typing import Any

import httpx

from paperworks.kit.errors import PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_PREFIX

PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "instance"}


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body: dict[str, Any] = response.json()
    assert body.keys() >= PROBLEM_KEYS
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == PROBLEM_TYPE_PREFIX + code
    return body
