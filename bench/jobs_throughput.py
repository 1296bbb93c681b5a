"""How fast jobs move: throughput and enqueue-to-start latency of trivial jobs through the local
runner and through Celery on Redis, against the bare row work a durable job cannot avoid.

Anchor, measured first in the same run on the same database: per job, one INSERT of a `jobs` row
and two UPDATEs (to `running`, to `succeeded`), each its own transaction, one after another on one
connection: what any durable queue on this table must write, with no runner, no events, no broker.
Its latency anchor is one INSERT commit followed by one claiming UPDATE commit.

Scenarios (the handler returns at once, so the machinery is all that is measured):
- local runner: `LocalRunner` with N slots in this process, woken by each commit (as in `serve`);
- celery/redis: `paperworks worker` (--pool prefork: N processes, or threads: N threads sharing
  one event loop) consuming Redis, fed by `JobQueue` here.

Throughput: JOBS jobs enqueued one per transaction as fast as the producer can, from the first
enqueue to the last finish (database timestamps). Latency: LATENCY_JOBS jobs enqueued one every
PACE ms (far below capacity), `started_at - created_at` per job, p50 and p99.

Reading the table: "vs anchor" is jobs/s over the anchor's rows/s (how much of the raw write rate
survives the runner's claims, events and dispatch), and start latency over the anchor's handoff.
Absolute numbers are machine-bound; the ratios are what to compare over time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry
from sqlalchemy import delete, func, insert, select, update

from paperworks import migrations
from paperworks.identity import service as identity
from paperworks.identity.caller import SYSTEM
from paperworks.jobs.handlers import JobContext, JobHandlers, job_handler
from paperworks.jobs.metrics import JobMetrics
from paperworks.jobs.models import Job, JobStatus
from paperworks.jobs.queue import JobQueue
from paperworks.jobs.runner import LocalRunner
from paperworks.kit.db import Database, create_engine
from paperworks.kit.ids import new_id
from paperworks.kit.logging import configure_logging
from paperworks.settings import Settings

BENCH_DIR = Path(__file__).resolve().parent
KIND = "bench.noop"
FINISH_SECONDS = 120.0


@job_handler(KIND, max_attempts=1)
async def noop(ctx: JobContext) -> None:
    """Nothing: the machinery around it is what is measured."""


# What this process's runner runs; the Celery worker finds `noop` through PAPERWORKS_JOB_MODULES.
HANDLERS = JobHandlers([noop])


@dataclass
class Result:
    name: str
    jobs_per_second: float
    latencies: list[float]

    def p(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


async def new_workspace(db: Database) -> str:
    async with db.session_scope() as session:
        user = await identity.create_user(
            session, email=f"bench-{uuid.uuid4().hex[:8]}@example.com", password_hash=None
        )
        return (await identity.personal_workspace(session, user)).id


# --- anchor -----------------------------------------------------------------------------------


async def anchor(db: Database, jobs: int, latency_jobs: int) -> Result:
    workspace_id = await new_workspace(db)

    def row() -> dict[str, Any]:
        now = datetime.now(UTC)
        return {
            "id": new_id(),
            "workspace_id": workspace_id,
            "kind": KIND,
            "status": JobStatus.queued,
            "progress": 0,
            "payload": {},
            "attempts": 0,
            "max_attempts": 1,
            "cancel_requested": False,
            "run_after": now,
            "created_at": now,
            "updated_at": now,
        }

    async def lifecycle() -> tuple[float, float]:
        started = time.perf_counter()
        values = row()
        async with db.session_scope() as session:
            await session.execute(insert(Job).values(**values))
        async with db.session_scope() as session:
            await session.execute(
                update(Job)
                .where(Job.id == values["id"], Job.status == JobStatus.queued)
                .values(status=JobStatus.running, attempts=1, started_at=datetime.now(UTC))
            )
        handoff = time.perf_counter() - started
        async with db.session_scope() as session:
            await session.execute(
                update(Job)
                .where(Job.id == values["id"], Job.status == JobStatus.running)
                .values(status=JobStatus.succeeded, finished_at=datetime.now(UTC))
            )
        return handoff, time.perf_counter() - started

    started = time.perf_counter()
    for _ in range(jobs):
        await lifecycle()
    rate = jobs / (time.perf_counter() - started)
    handoffs = [(await lifecycle())[0] for _ in range(latency_jobs)]
    return Result("anchor: raw rows", rate, handoffs)


# --- through a queue --------------------------------------------------------------------------


async def enqueue_burst(db: Database, queue: JobQueue, workspace_id: str, jobs: int) -> None:
    caller = SYSTEM.within(workspace_id)
    for _ in range(jobs):
        async with db.session_scope() as session:
            await queue.enqueue(session, caller, kind=KIND)


async def enqueue_paced(
    db: Database, queue: JobQueue, workspace_id: str, jobs: int, pace: float
) -> None:
    caller = SYSTEM.within(workspace_id)
    for _ in range(jobs):
        async with db.session_scope() as session:
            await queue.enqueue(session, caller, kind=KIND)
        await asyncio.sleep(pace)


async def wait_finished(db: Database, workspace_id: str, jobs: int) -> None:
    deadline = time.monotonic() + FINISH_SECONDS
    while True:
        async with db.sessionmaker() as session:
            done = await session.scalar(
                select(func.count()).where(
                    Job.workspace_id == workspace_id, Job.finished_at.is_not(None)
                )
            )
        if done == jobs:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {done} of {jobs} jobs finished in {FINISH_SECONDS:g} s")
        await asyncio.sleep(0.02)


async def measured(db: Database, workspace_id: str) -> tuple[float, list[float]]:
    """Jobs/s from the first enqueue to the last finish, and each job's start latency."""
    async with db.sessionmaker() as session:
        rows = (
            await session.execute(
                select(Job.created_at, Job.started_at, Job.finished_at, Job.status).where(
                    Job.workspace_id == workspace_id
                )
            )
        ).all()
    failed = [row for row in rows if row.status != JobStatus.succeeded]
    if failed:
        raise RuntimeError(f"{len(failed)} jobs did not succeed: {failed[:3]}")
    span = max(r.finished_at for r in rows) - min(r.created_at for r in rows)
    latencies = [(r.started_at - r.created_at).total_seconds() for r in rows]
    return len(rows) / span.total_seconds(), latencies


async def through(name: str, db: Database, queue: JobQueue, args: argparse.Namespace) -> Result:
    burst = await new_workspace(db)
    await enqueue_burst(db, queue, burst, args.jobs)
    await wait_finished(db, burst, args.jobs)
    rate, _ = await measured(db, burst)
    paced = await new_workspace(db)
    await enqueue_paced(db, queue, paced, args.latency_jobs, args.pace / 1000)
    await wait_finished(db, paced, args.latency_jobs)
    _, latencies = await measured(db, paced)
    return Result(name, rate, latencies)


async def local(db: Database, args: argparse.Namespace) -> Result:
    runner = LocalRunner(
        db,
        slots=args.concurrency,
        lease_seconds=60,
        metrics=JobMetrics(CollectorRegistry()),
        handlers=HANDLERS,
    )
    queue = JobQueue(runner, runner.metrics, handlers=HANDLERS)
    await runner.start()
    try:
        return await through(f"local runner ({args.concurrency} slots)", db, queue, args)
    finally:
        await runner.stop()


def start_worker(
    environment: dict[str, str], pool: str, concurrency: int, log: Path
) -> subprocess.Popen[bytes]:
    argv = ["worker", f"--pool={pool}", f"--concurrency={concurrency}"]
    with log.open("wb") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "paperworks", *argv],
            env=environment,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    worker.terminate()
    try:
        worker.wait(timeout=15)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]


async def celery(db: Database, url: str, args: argparse.Namespace, tmp: Path) -> Result:
    from paperworks.jobs.celery_runner import CeleryDispatcher, create_celery

    queue_name = f"paperworks-bench-{uuid.uuid4().hex[:8]}"
    settings = Settings(
        data_dir=tmp,
        database_url=url,
        jobs_backend="celery",
        celery_broker_url=args.broker_url,
        celery_queue=queue_name,
    )
    dispatcher = CeleryDispatcher(create_celery(settings), queue_name)
    queue = JobQueue(
        None, JobMetrics(CollectorRegistry()), handlers=HANDLERS, dispatcher=dispatcher
    )
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PAPERWORKS_")},
        "PAPERWORKS_DATA_DIR": str(tmp),
        "PAPERWORKS_DATABASE_URL": url,
        "PAPERWORKS_JOBS_BACKEND": "celery",
        "PAPERWORKS_CELERY_BROKER_URL": args.broker_url,
        "PAPERWORKS_CELERY_QUEUE": queue_name,
        "PAPERWORKS_JOB_MODULES": "jobs_throughput",
        "PAPERWORKS_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(BENCH_DIR),
    }
    worker = start_worker(environment, args.pool, args.concurrency, tmp / "worker.log")
    try:
        warm = await new_workspace(db)  # the worker is up once its first job is done
        await enqueue_burst(db, queue, warm, args.concurrency)
        await wait_finished(db, warm, args.concurrency)
        name = f"celery/redis ({args.pool} {args.concurrency})"
        return await through(name, db, queue, args)
    except RuntimeError as exc:
        raise RuntimeError(f"{exc}\nworker log:\n{tail(tmp / 'worker.log')}") from exc
    finally:
        stop_worker(worker)
        with contextlib.suppress(Exception):
            dispatcher.delete_queue()
        await queue.stop()


async def run(args: argparse.Namespace, tmp: Path) -> list[Result]:
    url = args.database_url or f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    engine = create_engine(url)
    await migrations.upgrade(engine)
    await engine.dispose()
    db = Database.from_url(url)
    try:
        results = [await anchor(db, args.jobs, args.latency_jobs)]
        results.append(await local(db, args))
        if not args.no_celery:
            results.append(await celery(db, url, args, tmp))
        return results
    finally:
        if args.database_url:  # leave a shared database as it was
            async with db.session_scope() as session:
                await session.execute(delete(Job).where(Job.kind == KIND))
        await db.dispose()


def report(results: list[Result]) -> None:
    base = results[0]
    print(
        f"{'scenario':<30}{'jobs/s':>9}{'vs anchor':>11}"
        f"{'start p50 ms':>14}{'p99 ms':>9}{'p50 vs anchor':>15}"
    )
    for result in results:
        ratio = result.jobs_per_second / base.jobs_per_second
        latency_ratio = result.p(0.5) / base.p(0.5) if base.p(0.5) else 0.0
        print(
            f"{result.name:<30}{result.jobs_per_second:>9.0f}{ratio:>11.1%}"
            f"{result.p(0.5):>14.2f}{result.p(0.99):>9.2f}{latency_ratio:>14.1f}x"
        )
    print(
        "\nanchor: per job one INSERT and two UPDATEs of a jobs row, each committed, in sequence"
        " on one connection; start latency anchor: the INSERT commit then the claiming UPDATE."
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=500, help="jobs per throughput run")
    parser.add_argument("--latency-jobs", type=int, default=100, help="jobs per latency run")
    parser.add_argument("--pace", type=float, default=20.0, help="ms between paced enqueues")
    parser.add_argument("--concurrency", type=int, default=4, help="local slots / worker procs")
    parser.add_argument(
        "--database-url", help="default: a fresh SQLite file; a PostgreSQL URL to use that"
    )
    parser.add_argument("--broker-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--pool", choices=["prefork", "threads"], default="prefork")
    parser.add_argument("--no-celery", action="store_true", help="skip the Celery scenario")
    args = parser.parse_args()
    configure_logging("WARNING", "console")
    with tempfile.TemporaryDirectory(prefix="paperworks-bench-") as tmp:
        print(
            f"paperworks jobs throughput: {args.jobs} jobs per throughput run, "
            f"{args.latency_jobs} paced every {args.pace:g} ms for latency; "
            f"concurrency {args.concurrency}; database "
            f"{'PostgreSQL' if args.database_url else 'SQLite (WAL, fresh file)'}; "
            f"{os.cpu_count()} CPUs; Python {platform.python_version()}\n"
        )
        try:
            results = asyncio.run(run(args, Path(tmp)))
        except RuntimeError as exc:
            print(exc, file=sys.stderr)
            return 1
    report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
