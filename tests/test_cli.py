"""The `paperworks` command: serve's start-up decisions, db subcommands, version."""

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from paperworks import cli, migrations
from tests.conftest import scratch_postgres_database

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PAPERWORKS_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("PAPERWORKS_LOG_LEVEL", "WARNING")
    return tmp_path / "var"


@pytest.fixture
def uvicorn_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Record what serve hands to uvicorn instead of binding a port (the e2e tests do that)."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(cli.uvicorn, "run", lambda app, **kw: calls.append({"app": app, **kw}))
    return calls


def invoke(*args: str) -> Any:
    return runner.invoke(cli.app, list(args), catch_exceptions=False)


def test_version_names_the_commit() -> None:
    result = invoke("version")
    assert result.exit_code == 0
    assert result.stdout.startswith("paperworks 0.1.0 (")


def test_serve_migrates_the_embedded_database_then_starts_uvicorn(
    data_dir: Path, uvicorn_calls: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERWORKS_PORT", "8765")
    result = invoke("serve")
    assert result.exit_code == 0, result.output
    assert (data_dir / "paperworks.db").exists()
    assert (data_dir / "secret_key").exists()
    (call,) = uvicorn_calls
    assert call["app"] == "paperworks.app:create_served_app"
    assert call["factory"] is True
    assert call["port"] == 8765
    assert call["host"] == "127.0.0.1"
    assert call["workers"] == 1
    # uvicorn must not trust X-Forwarded-For on its own; TRUSTED_PROXIES decides.
    assert call["proxy_headers"] is False
    assert call["access_log"] is False
    assert invoke("db", "current").stdout.strip() == f"{migrations.head_revision()} (up to date)"


def test_serve_with_workers_aggregates_metrics_across_processes(
    data_dir: Path, uvicorn_calls: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "environ", dict(os.environ))  # serve exports the metrics directory
    stale = data_dir / "prometheus" / "counter_1.db"
    stale.parent.mkdir(parents=True)
    stale.write_text("old samples")
    result = invoke("serve", "--workers", "3", "--host", "0.0.0.0", "--port", "9000")  # noqa: S104
    assert result.exit_code == 0, result.output
    assert uvicorn_calls[0]["workers"] == 3
    assert uvicorn_calls[0]["host"] == "0.0.0.0"  # noqa: S104
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(data_dir / "prometheus")
    assert not stale.exists()


def test_invalid_configuration_exits_with_the_reason(
    data_dir: Path, uvicorn_calls: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERWORKS_ENVIRONMENT", "production")
    result = runner.invoke(cli.app, ["serve"])
    assert result.exit_code == 2
    assert "SECRET_KEY is required in production" in result.output
    assert uvicorn_calls == []


def test_db_commands_walk_the_schema(data_dir: Path) -> None:
    assert invoke("db", "current").stdout.strip().startswith("base (behind head")
    assert invoke("db", "upgrade").stdout.strip() == f"database at {migrations.head_revision()}"
    assert invoke("db", "downgrade", "base").stdout.strip() == "database at base"


@pytest.fixture
def scratch_migrations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the migrations directory, so `db revision` does not write into the source tree."""
    copy = tmp_path / "migrations"
    shutil.copytree(migrations.MIGRATIONS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(migrations, "MIGRATIONS_DIR", copy)
    return copy


def test_db_revision_writes_a_new_migration(data_dir: Path, scratch_migrations: Path) -> None:
    invoke("db", "upgrade")
    head = migrations.head_revision()
    result = invoke("db", "revision", "-m", "add widgets")
    assert result.exit_code == 0, result.output
    (written,) = (scratch_migrations / "versions").glob("*_add_widgets.py")
    source = written.read_text()
    assert f"down_revision: str | Sequence[str] | None = '{head}'" in source
    assert "def upgrade() -> None:" in source


@pytest.fixture
async def empty_postgres(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    """A brand-new PostgreSQL database, dropped afterwards."""
    async with scratch_postgres_database() as url:
        monkeypatch.setenv("PAPERWORKS_DATABASE_URL", url)
        yield url


@pytest.mark.postgres
def test_serve_refuses_an_out_of_date_postgres_schema(
    data_dir: Path, empty_postgres: str, uvicorn_calls: list[dict[str, Any]]
) -> None:
    result = runner.invoke(cli.app, ["serve"])
    assert result.exit_code == 1
    assert "run `paperworks db upgrade`" in result.output
    assert uvicorn_calls == []

    assert invoke("db", "upgrade").exit_code == 0
    assert invoke("serve").exit_code == 0
    assert len(uvicorn_calls) == 1


def test_users_create_and_list(data_dir: Path) -> None:
    invoke("db", "upgrade")
    created = runner.invoke(
        cli.app,
        ["users", "create", "Root@Example.com", "--password", "--admin", "--name", "Root"],
        input="long enough pw\nlong enough pw\n",
    )
    assert created.exit_code == 0, created.output
    assert "created root@example.com" in created.output
    assert "as admin" in created.output
    assert invoke("users", "create", "magic@example.com").exit_code == 0
    listing = invoke("users", "list").stdout.splitlines()
    assert [line.split()[1:4] for line in listing] == [
        ["root@example.com", "admin", "password"],
        ["magic@example.com", "user", "magic"],
    ]


def test_users_create_refuses_duplicates_bad_emails_and_weak_passwords(data_dir: Path) -> None:
    invoke("db", "upgrade")
    assert invoke("users", "create", "a@example.com").exit_code == 0
    duplicate = runner.invoke(cli.app, ["users", "create", "A@example.com"])
    assert duplicate.exit_code == 1
    assert "already exists" in duplicate.output
    assert runner.invoke(cli.app, ["users", "create", "not-an-email"]).exit_code == 2
    weak = runner.invoke(
        cli.app, ["users", "create", "b@example.com", "--password"], input="short\nshort\n"
    )
    assert weak.exit_code == 2
    assert "at least 8 bytes" in weak.output
