"""The Celery runner: `paperworks worker` processes run jobs sent through a broker (Redis or AMQP).

With `PAPERWORKS_JOBS_BACKEND=celery`, `JobQueue` sends a message after the enqueueing request
commits, and `serve` runs no job slots. A message carries only the job id: the row stays the
truth. The task claims the row exactly as a local slot does (a conditional UPDATE from `queued`),
so a message delivered twice - an `acks_late` redelivery, a re-send after recovery - runs the job
at most once; the copy that loses the claim does nothing.

Handlers are async. Each worker process keeps one event loop in a background thread, with its own
database engine, created after the fork; the task (sync, as Celery runs it) hands the job to that
loop and waits. Beside the jobs, the loop keeps a heartbeat that

- renews the leases of the jobs running in this process,
- sweeps expired leases (`service.recover_expired`) and sends the jobs it queued again to the
  broker: a worker that died with a job is noticed by the others, or by itself once restarted;
- sends again the due queued jobs when the broker has nothing waiting, which catches a message
  lost before it reached the broker (the broker was down at enqueue, the API died after commit).

A retry scheduled after a `RetryableError` is sent with an ETA at the row's `run_after`; a copy
that arrives before then is sent again for that time, never run early.

Messages are acknowledged only after the job ends (`acks_late`) and given back if the process
running them dies (`task_reject_on_worker_lost`); each process takes one message at a time
(prefetch multiplier 1).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import threading
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from celery import Celery, Task
from celery import signals as celery_signals
from kombu import Exchange, Queue
from kombu.exceptions import ChannelError
from prometheus_client import CollectorRegistry
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from paperworks.events import hub as event_hub
from paperworks.events.hub import EventHub
from paperworks.events.socket_server import emitter, redis_manager
from paperworks.jobs import service
from paperworks.jobs.execution import JobExecutor
from paperworks.jobs.handlers import JobHandlers
from paperworks.jobs.metrics import JobMetrics
from paperworks.jobs.models import Job, JobStatus
from paperworks.kit.db import Database
from paperworks.kit.logging import configure_logging, get_logger
from paperworks.settings import LogFormat, Settings

if TYPE_CHECKING:
    from paperworks.services import Services

log = get_logger(__name__)

T = TypeVar("T")

TASK_NAME = "paperworks.jobs.run"
EARLY_TOLERANCE = timedelta(seconds=1)  # clocks differ a little between hosts
REDISPATCH_BATCH = 100  # due queued jobs sent again per sweep, at most
DB_RETRY_LIMIT = 10  # a task that could not reach the database is tried again this often


PREFORK = "prefork"  # Celery's default pool: a process per concurrent job


def _now() -> datetime:
    return datetime.now(UTC)


def create_celery(settings: Settings) -> Celery:
    """A Celery app for our broker and queue; no result backend: results live in the job row."""
    app = Celery("paperworks", broker=settings.celery_broker_url, set_as_current=False)
    app.conf.update(
        task_default_queue=settings.celery_queue,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        enable_utc=True,
        timezone="UTC",
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        worker_send_task_events=False,
    )
    return app


class CeleryDispatcher:
    """Sends job ids to the broker."""

    def __init__(self, celery: Celery, queue: str) -> None:
        self.celery = celery
        self.queue = queue
        self._pending: set[asyncio.Future[None]] = set()

    def send(self, job_id: str, *, eta: datetime | None = None) -> None:
        """Publish now (blocking: call it off the event loop)."""
        self.celery.send_task(TASK_NAME, args=[job_id], queue=self.queue, eta=eta)

    def send_soon(self, job_id: str) -> None:
        """After a commit, on the event loop: publish from a thread so the loop never waits on the
        broker. If it fails the job stays queued, and a worker's sweep sends it again."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._send_logged(job_id)
            return
        future = loop.run_in_executor(None, self._send_logged, job_id)
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)

    def _send_logged(self, job_id: str) -> None:
        try:
            self.send(job_id)
        except Exception:
            log.exception("job_dispatch_failed", job_id=job_id)

    async def drain(self) -> None:
        """Wait for the messages still being published."""
        await asyncio.gather(*self._pending, return_exceptions=True)

    def waiting(self) -> int | None:
        """Messages ready in the broker's queue; None if the broker cannot tell us now."""
        try:
            with self.celery.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1)
                with connection.channel() as channel:
                    # Every transport's channel declares queues; the stubs' base class does not.
                    declared = channel.queue_declare(queue=self.queue, passive=True)  # type: ignore[attr-defined]
                    _, count, _ = declared
                    return int(count)
        except ChannelError:  # no such queue yet: nothing was ever sent to it
            return 0
        except Exception as exc:
            log.warning("job_broker_unreadable", error=str(exc))
            return None

    def delete_queue(self) -> None:
        """Remove the queue, its exchange and, on Redis, the messages delivered from it but never
        acknowledged (a killed worker's), which Redis keeps apart and would put back in an hour:
        for throwaway queues (tests, benchmarks)."""
        with self.celery.connection_for_write() as connection, connection.channel() as channel:
            # Declared first, as Celery declares it, so that every transport knows what to remove
            # (kombu's Redis transport forgets bindings it did not declare on this connection).
            queue = Queue(self.queue, Exchange(self.queue), routing_key=self.queue)(channel)
            queue.declare()
            queue.delete()
            queue.exchange.delete()
            client = getattr(channel, "client", None)  # kombu's Redis channel has one
            if client is None:
                return
            unacked, index = channel.unacked_key, channel.unacked_index_key  # type: ignore[attr-defined]
            for tag, raw in client.hscan_iter(unacked):
                if json.loads(raw)[-1] == self.queue:  # [message, exchange, routing key]
                    client.hdel(unacked, tag)
                    client.zrem(index, tag)

    def close(self) -> None:
        self.celery.close()


class WorkerRuntime:
    """What one worker process runs on its event loop: the jobs its tasks hand it, and the
    heartbeat that renews their leases and recovers (and sends again) lost jobs."""

    def __init__(
        self,
        db: Database,
        dispatcher: CeleryDispatcher,
        *,
        lease_seconds: float,
        metrics: JobMetrics,
        handlers: JobHandlers,
        hub: EventHub | None = None,
        services: Services | None = None,
    ) -> None:
        self.db = db
        self.dispatcher = dispatcher
        self.hub = hub
        self.lease = timedelta(seconds=lease_seconds)
        self.services = services
        self.executor = JobExecutor(db, metrics, handlers, services)
        self._heartbeat: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        if self.hub is not None:
            await self.hub.start()
        self._stopping.clear()
        self._heartbeat = asyncio.create_task(self._beat(), name="job-heartbeat")

    async def stop(self) -> None:
        """Stop the heartbeat once its current round is done (never in the middle of a query)."""
        self._stopping.set()
        if self._heartbeat is not None:
            await self._heartbeat
            self._heartbeat = None

    async def close(self) -> None:
        await self.stop()
        if self.services is not None:
            await self.services.aclose()  # its hub and database are ours
            return
        if self.hub is not None:
            await self.hub.stop()  # what the last job said still reaches its listeners
        await self.db.dispose()

    async def run_job(self, job_id: str) -> JobStatus | None:
        """What a message asks: claim the job and run it. None if the message was not the one to
        run it (the job is running elsewhere, or ended, or is not due yet)."""
        # Read, then claim in a transaction of its own: on SQLite a transaction that reads
        # before it writes fails at once if another process wrote in between.
        async with self.db.sessionmaker() as session:
            found = (
                await session.execute(select(Job.status, Job.run_after).where(Job.id == job_id))
            ).first()
        if found is None:
            log.warning("job_message_for_no_job", job_id=job_id)
            return None
        status, due = found
        if status == JobStatus.queued and due > _now() + EARLY_TOLERANCE:
            await self._send(job_id, eta=due)  # a copy ahead of its retry's backoff: come back
            return None
        async with self.db.session_scope() as session:
            job = await service.claim(session, job_id, lease=self.lease)
        if job is None:
            log.info("job_message_skipped", job_id=job_id, status=status)
            return None
        outcome = await self.executor.run(job)
        if outcome is JobStatus.queued:
            await self._send_when_due(job_id)
        return outcome

    async def sweep(self) -> None:
        """Queue again the jobs whose runner vanished, and send the broker what it lacks."""
        requeued, failed = await self._recover()
        if requeued or failed:
            log.warning("jobs_recovered", requeued=len(requeued), failed=len(failed))
        waiting = await asyncio.to_thread(self.dispatcher.waiting)
        if waiting == 0:
            # Nothing waits in the broker, so no message is on its way to a due job: send them.
            # (A copy of one that is just being claimed elsewhere does nothing.)
            async with self.db.sessionmaker() as session:
                job_ids = await service.due_job_ids(session, limit=REDISPATCH_BATCH)
        else:
            job_ids = requeued  # due now, and their old messages are gone with their worker
        for job_id in job_ids:
            await self._send(job_id)
        if job_ids:
            log.info("jobs_sent_again", count=len(job_ids))

    async def _recover(self) -> service.Recovered:
        async with self.db.sessionmaker() as session:
            if not await service.has_expired_leases(session):
                return service.Recovered([], [])
        async with self.db.session_scope() as session:
            return await service.recover_expired(session)

    async def _beat(self) -> None:
        interval = self.lease.total_seconds() / 3
        while not self._stopping.is_set():
            try:
                await self.executor.renew_leases(self.lease)
                await self.sweep()
            except Exception:
                log.exception("job_heartbeat_failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), interval)

    async def _send_when_due(self, job_id: str) -> None:
        """A retry was scheduled: send it for when its backoff ends."""
        async with self.db.sessionmaker() as session:
            due = await service.queued_until(session, job_id)
        if due is not None:
            await self._send(job_id, eta=due)

    async def _send(self, job_id: str, *, eta: datetime | None = None) -> None:
        try:
            await asyncio.to_thread(self.dispatcher.send, job_id, eta=eta)
        except Exception:
            log.exception("job_dispatch_failed", job_id=job_id)


class BackgroundLoop:
    """An event loop running in a daemon thread, for sync code (a Celery task) to run coroutines
    on one long-lived loop instead of a new one (and a new database pool) per call."""

    def __init__(self, name: str = "paperworks-jobs-loop") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def start(self) -> None:
        self._thread.start()

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run `coroutine` on the loop and wait for its result (from any other thread)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self.loop.close()


class CeleryRunner:
    """Jobs over Celery for one configuration: the app and its one task, the dispatcher, and in
    each process that runs tasks the loop and runtime they use (created there, after any fork)."""

    def __init__(
        self,
        settings: Settings,
        handlers: JobHandlers,
        *,
        build_services: Callable[[Database, EventHub], Services] | None = None,
    ) -> None:
        """`handlers`: what the worker runs. `build_services(db, hub)`: the services each worker
        process hands them, built there after the fork (the CLI passes `Services.build`)."""
        self.settings = settings
        self.handlers = handlers
        self.build_services = build_services
        self.celery = create_celery(settings)
        self.dispatcher = CeleryDispatcher(self.celery, settings.celery_queue)
        self._process: tuple[int, BackgroundLoop, WorkerRuntime] | None = None
        self._lock = threading.Lock()
        runner = self

        @self.celery.task(
            name=TASK_NAME,
            shared=False,  # this app's own: another runner (a test's) has its own settings
            bind=True,
            acks_late=True,
            reject_on_worker_lost=True,
            ignore_result=True,
            autoretry_for=(SQLAlchemyError,),  # the database is away: try the message later
            retry_backoff=True,
            retry_backoff_max=300,
            max_retries=DB_RETRY_LIMIT,
        )
        def run_job(task: Task[Any, Any], job_id: str) -> str | None:
            outcome = runner.call(lambda runtime: runtime.run_job(job_id))
            return str(outcome) if outcome else None

        self.task = run_job

    # -- this process's runtime --

    def runtime(self) -> tuple[BackgroundLoop, WorkerRuntime]:
        """This process's loop and runtime, started on first use."""
        with self._lock:
            if self._process is None or self._process[0] != os.getpid():
                loop = BackgroundLoop()
                loop.start()
                db = Database.from_url(self.settings.database_url, **self.settings.engine_options)
                hub = self._live_hub()
                db.share(event_hub.SESSION_KEY, hub)
                services = self.build_services(db, hub) if self.build_services else None
                runtime = WorkerRuntime(
                    db,
                    self.dispatcher,
                    lease_seconds=self.settings.job_lease_seconds,
                    metrics=JobMetrics(CollectorRegistry()),
                    handlers=self.handlers,
                    hub=hub,
                    services=services,
                )
                loop.call(runtime.start())
                self._process = (os.getpid(), loop, runtime)
            return self._process[1], self._process[2]

    def _live_hub(self) -> EventHub:
        """A worker serves no client; with Redis it emits through a write-only socket.io manager
        so the clients of every API process hear its jobs. Without Redis, live clients hear of
        a worker's jobs only through what is stored (SSE polls the row)."""
        redis_url = self.settings.redis_url
        manager = redis_manager(redis_url, write_only=True) if redis_url else None
        return EventHub(transports=[emitter(manager)] if manager else [])

    def call(self, work: Callable[[WorkerRuntime], Coroutine[Any, Any, T]]) -> T:
        """Run `work(runtime)` (a coroutine) on this process's loop; return its result."""
        loop, runtime = self.runtime()
        return loop.call(work(runtime))

    def stop_runtime(self) -> None:
        with self._lock:
            if self._process is not None and self._process[0] == os.getpid():
                _, loop, runtime = self._process
                loop.call(runtime.close())
                loop.stop()
            self._process = None

    # -- `paperworks worker` --

    def worker_argv(self, *, concurrency: int | None, pool: str) -> list[str]:
        argv = [
            "worker",
            f"--loglevel={self.settings.log_level}",
            f"--queues={self.settings.celery_queue}",
            f"--pool={pool}",
            # One name per worker process: two workers on one host under one name share a
            # control (pidbox) queue, which RabbitMQ refuses the second (RESOURCE_LOCKED).
            f"--hostname=paperworks-{os.getpid()}@%h",
            # Neither is needed by jobs whose truth is the database; both slow start-up.
            "--without-mingle",
            "--without-gossip",
        ]
        if concurrency is not None:
            argv.append(f"--concurrency={concurrency}")
        if self.settings.log_format is LogFormat.json:
            argv.insert(0, "--quiet")  # no banner: every line on the stream is one JSON object
        return argv

    def run_worker(self, *, concurrency: int | None, pool: str) -> None:
        """Consume jobs until stopped (SIGTERM: finish what runs, then exit). `pool`: prefork,
        threads or solo; every process that runs tasks gets its own loop and runtime."""
        settings = self.settings

        def keep_our_logging(**_: Any) -> None:
            configure_logging(settings.log_level, settings.log_format)

        def start_in_pool_process(**_: Any) -> None:
            self.runtime()  # forked: a loop and a database of its own, sweeping from now on

        def stop_in_pool_process(**_: Any) -> None:
            self.stop_runtime()

        hooks = [(celery_signals.setup_logging, keep_our_logging)]
        if pool == PREFORK:
            hooks += [
                (celery_signals.worker_process_init, start_in_pool_process),
                (celery_signals.worker_process_shutdown, stop_in_pool_process),
            ]
        for signal, receiver in hooks:
            signal.connect(receiver, weak=False)
        try:
            if pool != PREFORK:
                self.runtime()  # tasks run in this process
            self.celery.worker_main(self.worker_argv(concurrency=concurrency, pool=pool))
        finally:
            for signal, receiver in hooks:
                signal.disconnect(receiver)
            self.stop_runtime()
