"""The real `paperworks serve` process, over real sockets."""

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.e2e.servers import Server, start

pytestmark = pytest.mark.e2e


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    yield from start(tmp_path)


def test_serve_answers_health_with_its_build(server: Server) -> None:
    response = httpx.get(f"{server.url}/health", headers={"X-Request-ID": "e2e-1"})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["environment"] == "development"
    assert len(body["gitSha"]) == 40
    assert response.headers["x-request-id"] == "e2e-1"
    assert "server" not in response.headers
    ready = httpx.get(f"{server.url}/ready").json()
    assert ready == {"status": "ready", "checks": {"database": "ok", "redis": "disabled"}}


def test_serve_logs_json_with_request_ids_and_no_duplicate_access_lines(server: Server) -> None:
    httpx.get(f"{server.url}/missing", headers={"X-Request-ID": "e2e-2"})
    time.sleep(0.2)
    lines = server.log_lines()
    mine = [line for line in lines if line.get("request_id") == "e2e-2"]
    assert [(line["logger"], line["status"]) for line in mine] == [("paperworks.access", 404)]
    assert any(line["logger"] == "uvicorn.error" for line in lines)
    assert not any(line["logger"] == "uvicorn.access" for line in lines)


def test_links_point_at_the_port_given_on_the_command_line(tmp_path: Path) -> None:
    """`paperworks serve --port N` (the README's flag) serves on N and signs links for N."""
    for server in start(tmp_path, port_flag=True):
        account = httpx.post(
            f"{server.url}/api/v1/auth/register",
            json={"email": "anna@example.com", "password": "correct horse battery"},
        ).json()
        headers = {"Authorization": f"Bearer {account['accessToken']}"}
        uploaded = httpx.post(
            f"{server.url}/api/v1/files",
            files={"file": ("notes.txt", b"plain text notes", "text/plain")},
            headers=headers,
        ).json()
        link = httpx.get(
            f"{server.url}/api/v1/files/{uploaded['id']}/download-url", headers=headers
        ).json()
        assert link["url"].startswith(f"{server.url}/api/v1/downloads/"), link
        assert httpx.get(link["url"]).content == b"plain text notes"


def health_on_new_connection(url: str) -> int:
    return httpx.get(f"{url}/health", headers={"Connection": "close"}).status_code


def health_pids(server: Server) -> list[object]:
    return [
        line["pid"]
        for line in server.log_lines()
        if line.get("path") == "/health" and line["logger"] == "paperworks.access"
    ]


@pytest.mark.slow
def test_metrics_add_up_across_worker_processes(tmp_path: Path) -> None:
    for server in start(tmp_path, "--workers", "2"):
        # Concurrent fresh connections until both workers have answered some (the kernel hands
        # each connection to whichever worker accepts first).
        with ThreadPoolExecutor(8) as pool:
            for _ in range(20):
                statuses = pool.map(health_on_new_connection, [server.url] * 16)
                assert set(statuses) == {200}
                time.sleep(0.1)
                if len(set(health_pids(server))) == 2:
                    break
        metrics = httpx.get(f"{server.url}/metrics").text
        time.sleep(0.2)
        served = health_pids(server)
    (count,) = [
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith('http_request_duration_seconds_count{handler="/health",method="GET"}')
    ]
    assert len(set(served)) == 2, "both workers should have served some requests"
    # Whichever worker answered /metrics, it counted every worker's requests.
    assert count == len(served)


def test_a_user_signs_up_invites_scripts_and_signs_out(server: Server) -> None:
    """The identity journey over real HTTP, against the server's own database and outbox."""
    with httpx.Client(base_url=f"{server.url}/api/v1") as api:
        signed_up = api.post(
            "/auth/register", json={"email": "anna@example.com", "password": "correct horse"}
        )
        assert signed_up.status_code == 201, signed_up.text
        tokens = signed_up.json()
        auth = {"Authorization": f"Bearer {tokens['accessToken']}"}

        team = api.post("/workspaces", json={"name": "Team"}, headers=auth).json()
        invited = api.post(
            f"/workspaces/{team['id']}/invitations", json={"email": "bob@example.com"}, headers=auth
        )
        assert invited.status_code == 201
        assert invited.json()["status"] == "pending"
        outbox = (server.log.parent / "var" / "outbox.jsonl").read_text().splitlines()
        (mail,) = [json.loads(line) for line in outbox if "bob@example.com" in line]
        token = mail["text"].split("token=", 1)[1].split()[0]
        bob = api.post(
            "/auth/register", json={"email": "bob@example.com", "password": "correct horse"}
        ).json()
        bob_auth = {"Authorization": f"Bearer {bob['accessToken']}"}
        joined = api.post("/invitations/accept", json={"token": token}, headers=bob_auth)
        assert joined.status_code == 200, joined.text
        assert joined.json()["role"] == "member"

        key = api.post(
            "/api-keys", json={"name": "ci"}, headers={**auth, "X-Workspace-ID": team["id"]}
        ).json()["key"]
        me = api.get("/auth/me", headers={"X-API-Key": key})
        assert me.json()["email"] == "anna@example.com"

        renewed = api.post("/auth/refresh", json={"refreshToken": tokens["refreshToken"]})
        assert renewed.status_code == 200
        signed_out = api.post("/auth/logout", json={"refreshToken": renewed.json()["refreshToken"]})
        assert signed_out.status_code == 204
        again = api.post("/auth/refresh", json={"refreshToken": renewed.json()["refreshToken"]})
        assert again.status_code == 401
