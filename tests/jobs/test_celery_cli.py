"""`paperworks worker`: what it refuses, and what it hands to Celery (the real thing runs in
test_celery_worker.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from celery import signals as celery_signals
from typer.testing import CliRunner

from paperworks import cli, migrations
from paperworks.jobs.celery_runner import CeleryRunner
from paperworks.kit.db import create_engine
from tests.conftest import make_settings
from tests.e2e.job_handlers import HANDLERS

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PAPERWORKS_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("PAPERWORKS_LOG_LEVEL", "WARNING")
    return tmp_path / "var"


@pytest.fixture
async def migrated(data_dir: Path) -> str:
    url = f"sqlite+aiosqlite:///{data_dir / 'paperworks.db'}"
    engine = create_engine(url)
    await migrations.upgrade(engine)
    await engine.dispose()
    return url


@pytest.fixture
def celery_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERWORKS_JOBS_BACKEND", "celery")
    monkeypatch.setenv("PAPERWORKS_CELERY_BROKER_URL", "memory://")
    monkeypatch.setenv("PAPERWORKS_CELERY_QUEUE", "paperworks-cli-test")


@pytest.fixture
def worker_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Record what the command hands to the Celery runner instead of consuming a queue."""
    calls: list[dict[str, Any]] = []

    def run_worker(self: CeleryRunner, **options: Any) -> None:
        calls.append({"settings": self.settings, "handlers": self.handlers, **options})

    monkeypatch.setattr(CeleryRunner, "run_worker", run_worker)
    return calls


def invoke(*args: str) -> Any:
    return runner.invoke(cli.app, list(args), catch_exceptions=False)


def test_the_worker_needs_the_celery_backend(data_dir: Path) -> None:
    result = invoke("worker")
    assert result.exit_code == 2
    assert "PAPERWORKS_JOBS_BACKEND=celery" in result.output


def test_the_worker_needs_a_broker(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERWORKS_JOBS_BACKEND", "celery")
    result = invoke("worker")
    assert result.exit_code == 2
    assert "PAPERWORKS_CELERY_BROKER_URL is required" in result.output


@pytest.mark.usefixtures("celery_env")
def test_the_worker_refuses_an_old_schema_and_never_migrates(
    data_dir: Path, worker_calls: list[dict[str, Any]]
) -> None:
    result = invoke("worker")
    assert result.exit_code == 1
    assert "Refusing to start" in result.output
    assert worker_calls == []


@pytest.mark.usefixtures("celery_env", "migrated")
def test_the_worker_loads_the_handlers_and_starts_celery(
    worker_calls: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERWORKS_JOB_MODULES", "tests.e2e.job_handlers")
    result = invoke("worker", "--concurrency", "3", "--pool", "threads")
    assert result.exit_code == 0, result.output
    (call,) = worker_calls
    assert (call["concurrency"], call["pool"]) == (3, "threads")
    assert call["settings"].celery_queue == "paperworks-cli-test"
    assert call["handlers"].get("e2e.slow") is not None  # the deployment's own kinds
    assert call["handlers"].get("decks.build") is not None  # and every product's
    assert invoke("worker").exit_code == 0
    assert (worker_calls[1]["concurrency"], worker_calls[1]["pool"]) == (None, "prefork")


async def test_each_pool_process_gets_its_own_runtime(migrated: str, tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        database_url=migrated,
        jobs_backend="celery",
        celery_broker_url="memory://",
        celery_queue="paperworks-cli-test",
    )
    celery_runner = CeleryRunner(settings, HANDLERS)
    seen: list[object] = []

    def worker_main(argv: list[str]) -> None:
        # What Celery does: set up logging, fork pool processes, shut them down.
        seen.append(argv)
        celery_signals.setup_logging.send(sender=None)
        celery_signals.worker_process_init.send(sender=None)
        seen.append(celery_runner._process)
        celery_signals.worker_process_shutdown.send(sender=None)
        seen.append(celery_runner._process)

    celery_runner.celery.worker_main = worker_main  # type: ignore[method-assign]
    celery_runner.run_worker(concurrency=2, pool="prefork")
    argv, started, stopped = seen
    assert "--pool=prefork" in argv  # type: ignore[operator]
    assert started is not None
    assert stopped is None
    # Hooks are removed with the worker: nothing of it is left in this process.
    assert not celery_signals.worker_process_init.receivers

    seen.clear()
    celery_runner.run_worker(concurrency=1, pool="threads")  # tasks in this very process
    assert seen[1] is not None
    assert celery_runner._process is None
