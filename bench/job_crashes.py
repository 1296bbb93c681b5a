"""Kill the process running jobs with `kill -9` mid-job, N times, and count what was lost.

Each run starts the runner - `paperworks serve` (local backend) or `paperworks worker` (Celery on
Redis) - on a fresh SQLite file, enqueues JOBS jobs of a couple of seconds each, waits until they
all run, kills the whole process group with SIGKILL (no shutdown, no acknowledgement, leases left
behind), starts it again and waits until every job has ended.

A job is *lost* if it ended `failed` (a crash must cost an attempt, not the job), *stuck* if it had
not ended after --deadline seconds, and *doubled* if it needed more than the one extra attempt the
crash explains. The goal is zero of each in every run.

Anchor, measured first in the same invocation: the same jobs run once with no crash, from enqueue
to the last finish (for `worker`, whose start is not awaited, its start-up included). "recovery
vs clean" is the time from the kill to the last finish over that: what a crash costs, the restart
and the lease (--lease seconds) running out included.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CollectorRegistry
from sqlalchemy import select

from paperworks import migrations
from paperworks.identity import service as identity
from paperworks.identity.caller import SYSTEM
from paperworks.jobs.handlers import JobContext, JobHandlers, job_handler
from paperworks.jobs.metrics import JobMetrics
from paperworks.jobs.models import Job
from paperworks.jobs.queue import JobQueue
from paperworks.kit.db import Database, create_engine
from paperworks.kit.logging import configure_logging
from paperworks.settings import Settings

BENCH_DIR = Path(__file__).resolve().parent
KIND = "bench.steady"
HOST = "127.0.0.1"


@job_handler(KIND, max_attempts=3)
async def steady(ctx: JobContext) -> dict[str, int]:
    """A couple of seconds of work with progress: long enough to be killed in the middle."""
    steps = int(ctx.payload.get("steps", 20))
    for step in range(steps):
        await ctx.report(int(100 * step / steps), f"step {step + 1} of {steps}")
        await asyncio.sleep(0.1)
    return {"attempt": ctx.attempt}


# The runners are other processes, which find `steady` through PAPERWORKS_JOB_MODULES; this one
# only enqueues, and needs the handler for its max_attempts.
HANDLERS = JobHandlers([steady])


@dataclass
class Run:
    states: dict[str, tuple[str, int]]
    seconds: float  # enqueue (clean run) or kill (crash run) to the last finish

    def count(self, what: str) -> int:
        if what == "lost":
            return sum(1 for status, _ in self.states.values() if status == "failed")
        if what == "stuck":
            return sum(1 for status, _ in self.states.values() if status in {"queued", "running"})
        return sum(1 for _, attempts in self.states.values() if attempts > 2)  # doubled


class Runner:
    """`paperworks serve` or `paperworks worker` on one database, started and killed at will."""

    def __init__(self, args: argparse.Namespace, tmp: Path, url: str) -> None:
        self.backend = args.backend
        self.tmp = tmp
        self.log = tmp / f"{self.backend}.log"
        self.queue_name = f"paperworks-crash-{uuid.uuid4().hex[:8]}"
        self.port = free_port()
        self.environment = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PAPERWORKS_")},
            "PAPERWORKS_DATA_DIR": str(tmp / "var"),
            "PAPERWORKS_DATABASE_URL": url,
            "PAPERWORKS_JOB_LEASE_SECONDS": str(args.lease),
            "PAPERWORKS_JOB_MODULES": "job_crashes",
            "PAPERWORKS_LOG_LEVEL": "WARNING",
            "PAPERWORKS_PORT": str(self.port),
            "PYTHONPATH": str(BENCH_DIR),
        }
        if self.backend == "celery":
            self.environment |= {
                "PAPERWORKS_JOBS_BACKEND": "celery",
                "PAPERWORKS_CELERY_BROKER_URL": args.broker_url,
                "PAPERWORKS_CELERY_QUEUE": self.queue_name,
            }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        argv = ["serve"] if self.backend == "local" else ["worker", "--concurrency=4"]
        with self.log.open("ab") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "paperworks", *argv],
                env=self.environment,
                cwd=self.tmp,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if self.backend == "local":
            self._wait_for_health()

    def _wait_for_health(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited:\n{self.tail()}")
            try:
                connection = http.client.HTTPConnection(HOST, self.port, timeout=1)
                connection.request("GET", "/health")
                if connection.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"serve did not come up:\n{self.tail()}")

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


async def enqueue(db: Database, queue: JobQueue, jobs: int, steps: int) -> list[str]:
    async with db.session_scope() as session:
        user = await identity.create_user(
            session, email=f"crash-{uuid.uuid4().hex[:8]}@example.com", password_hash=None
        )
        workspace = await identity.personal_workspace(session, user)
    caller = SYSTEM.within(workspace.id)
    ids = []
    for _ in range(jobs):
        async with db.session_scope() as session:
            job = await queue.enqueue(session, caller, kind=KIND, payload={"steps": steps})
            ids.append(job.id)
    return ids


async def states(db: Database, ids: list[str]) -> dict[str, tuple[str, int]]:
    async with db.sessionmaker() as session:
        rows = await session.execute(
            select(Job.id, Job.status, Job.attempts).where(Job.id.in_(ids))
        )
        return {row.id: (row.status, row.attempts) for row in rows}


async def wait(db: Database, ids: list[str], done: set[str], deadline: float) -> float:
    """Seconds until every job's status is in `done`; inf if the deadline passes first."""
    started = time.monotonic()
    while time.monotonic() - started < deadline:
        if all(status in done for status, _ in (await states(db, ids)).values()):
            return time.monotonic() - started
        await asyncio.sleep(0.05)
    return float("inf")


async def one_run(
    db: Database, queue: JobQueue, runner: Runner, args: argparse.Namespace, crash: bool
) -> Run:
    ended = {"succeeded", "failed", "cancelled"}
    runner.start()
    try:
        ids = await enqueue(db, queue, args.jobs, args.steps)
        if not crash:
            seconds = await wait(db, ids, ended, args.deadline)
            return Run(await states(db, ids), seconds)
        if await wait(db, ids, {"running"}, 30) == float("inf"):
            raise RuntimeError(f"the jobs never all ran: {await states(db, ids)}\n{runner.tail()}")
        await asyncio.sleep(args.steps * 0.1 / 3)  # a third of the way in
        killed = time.monotonic()
        runner.kill()
        runner.start()
        await wait(db, ids, ended, args.deadline)
        return Run(await states(db, ids), time.monotonic() - killed)
    finally:
        runner.stop()


async def crash_runs(args: argparse.Namespace, tmp: Path) -> tuple[Run, list[Run]]:
    url = f"sqlite+aiosqlite:///{tmp / 'crash.db'}"
    engine = create_engine(url)
    await migrations.upgrade(engine)
    await engine.dispose()
    db = Database.from_url(url)
    runner = Runner(args, tmp, url)
    dispatcher = None
    if args.backend == "celery":
        from paperworks.jobs.celery_runner import CeleryDispatcher, create_celery

        settings = Settings(
            data_dir=tmp / "var",
            database_url=url,
            jobs_backend="celery",
            celery_broker_url=args.broker_url,
            celery_queue=runner.queue_name,
        )
        dispatcher = CeleryDispatcher(create_celery(settings), runner.queue_name)
    # Locally `serve` finds new rows within a second; with Celery the queue sends each one.
    queue = JobQueue(
        None, JobMetrics(CollectorRegistry()), handlers=HANDLERS, dispatcher=dispatcher
    )
    try:
        clean = await one_run(db, queue, runner, args, crash=False)
        runs = []
        for number in range(1, args.runs + 1):
            run = await one_run(db, queue, runner, args, crash=True)
            runs.append(run)
            print(
                f"run {number:>3}: {sum(s == 'succeeded' for s, _ in run.states.values())}/"
                f"{len(run.states)} succeeded, attempts "
                f"{sorted(a for _, a in run.states.values())}, recovered in {run.seconds:.1f} s",
                flush=True,
            )
        return clean, runs
    finally:
        if dispatcher is not None:  # with the messages the killed workers never acknowledged
            try:
                dispatcher.delete_queue()
            except Exception as exc:
                print(f"(could not delete the broker queue: {exc})", file=sys.stderr)
        await queue.stop()
        await db.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="crashes to survive")
    parser.add_argument("--jobs", type=int, default=4, help="jobs running at each crash")
    parser.add_argument("--steps", type=int, default=20, help="a job's length, in 0.1 s steps")
    parser.add_argument("--lease", type=float, default=2.0, help="PAPERWORKS_JOB_LEASE_SECONDS")
    parser.add_argument("--deadline", type=float, default=60.0, help="seconds to end, or stuck")
    parser.add_argument("--backend", choices=["local", "celery"], default="local")
    parser.add_argument("--broker-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    configure_logging("WARNING", "console")
    print(
        f"paperworks job crashes: {args.runs} kill -9 of `paperworks "
        f"{'serve' if args.backend == 'local' else 'worker'}` with {args.jobs} jobs of "
        f"{args.steps * 0.1:g} s running, lease {args.lease:g} s, SQLite; "
        f"{os.cpu_count()} CPUs; Python {platform.python_version()}\n"
    )
    with tempfile.TemporaryDirectory(prefix="paperworks-crash-") as tmp:
        try:
            clean, runs = asyncio.run(crash_runs(args, Path(tmp)))
        except RuntimeError as exc:
            print(exc, file=sys.stderr)
            return 1
    jobs = sum(len(run.states) for run in runs)
    lost, stuck, doubled = (
        sum(run.count(what) for run in runs) for what in ("lost", "stuck", "doubled")
    )
    recovery = [run.seconds for run in runs]
    median, worst = statistics.median(recovery), max(recovery)
    print(
        f"\njobs killed mid-run: {jobs}; lost: {lost}; stuck: {stuck}; run more than twice: "
        f"{doubled}"
    )
    print(f"clean run (anchor): {clean.seconds:.2f} s from enqueue to the last finish")
    print(
        f"recovery, kill to the last finish (restart included): median {median:.2f} s, max "
        f"{worst:.2f} s; vs clean: median {median / clean.seconds:.2f}x, max "
        f"{worst / clean.seconds:.2f}x"
    )
    verdict = "PASS" if lost == stuck == doubled == 0 else "FAIL"
    print(f"{verdict}: goal zero jobs lost, stuck or run more than twice")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
