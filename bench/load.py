"""100 signed-in users against the service and against a bare FastAPI anchor, in the same run.

Each user does about one request a second (the next one 0.5-1.5 s after the last one started,
drawn per user, so users never act in lockstep) of a to-do-and-documents mix:

    tasks: create 14 %, list (10 a page, following `nextCursor` half the time) 20 %, read 10 %,
           change or complete 10 %, delete 5 %;  GET /auth/me 10 %;  GET /jobs 10 %;
    GET /events (20 a page, paginated) 12 %;  upload a 4 KB CSV 3 %;  download one 6 %.

Every user signs up before the clock (not measured) and signs in once as its first request, in
the warm-up; `--decks` adds one deck build a minute (the offline engine, its job run by the
service; reported on its own line, the anchor has no such route). One shared `httpx.AsyncClient`
per server, with a connection per user opened and used before the clock starts.

Targets (`--targets`, default all three): `sqlite` (the embedded default: one `paperworks serve`,
SQLite in a scratch data dir), `postgres` (PostgreSQL + Redis: two scratch databases created on
the server `--database-url` names, and dropped; Redis for the rate limiter and live events),
`workers2` (SQLite with `--workers N`, default 2); `workers2-postgres` on request. Each target's
anchor is bench/load_anchor.py on the same database kind with the same worker count: the same
tables, the same queries a plain app would make, bearer JWTs; no middleware, no event hub.

Per target, phases alternate anchor and service so both share the machine's drift: load (think
time, `--seconds`) for the anchor then the service, then saturation (no think time, every user
back to back, `--saturate-seconds`) for the anchor then the service. Both sides hash passwords
with bcrypt at cost 4 (sign-up is setup, and bcrypt's cost is a choice, not overhead).

Reading the table: latencies pool every request of the measured window (warm-up left out);
errors are unexpected statuses or failed requests; CPU columns are cores used during the window:
the server's processes, its PostgreSQL backends (db), this load generator, and everything else on
the machine (other work sharing it; high values make every figure noisier). "ms CPU/req" (server
and db) is the steadiest figure on a shared machine: when it times the offered rate nears the
cores the server can get, latency turns into queueing. `--before SRC` serves a second copy of the
service from another source tree (a `git worktree` of the last commit's src/) in the same phases.
Goals (issue 15): under load p95 < 100 ms,
within 2x the anchor's p95, 0 errors; at saturation at least half the anchor's requests/s.

    python bench/load.py                       # all targets, ~2-3 min
    python bench/load.py --seconds 30 --rounds 2   # tighter percentiles
    python bench/load.py --targets sqlite --seconds 30 --profile /tmp/prof
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from http_overhead import free_port, get, stop

HOST = "127.0.0.1"
START_SECONDS = 60.0
Popen = subprocess.Popen[bytes]
BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
PASSWORD = "load-test-password"  # noqa: S105 - the bench users' password
HASH_ROUNDS = "4"
P95_GOAL_MS = 100.0
P95_RATIO_GOAL = 2.0
SATURATION_GOAL = 0.5
CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
CSV = (
    "date,description,amount\n" + "2026-01-01,coffee beans and a long note,12.50\n" * 90
).encode()

# name, weight: the share of requests.
MIX = [
    ("task.create", 14),
    ("task.list", 20),
    ("task.get", 10),
    ("task.update", 10),
    ("task.delete", 5),
    ("auth.me", 10),
    ("job.list", 10),
    ("event.list", 12),
    ("file.upload", 3),
    ("file.download", 6),
]
OP_NAMES = [name for name, _ in MIX]
OP_WEIGHTS = [weight for _, weight in MIX]
EXCLUDED_FROM_TOTALS = {"auth.login", "deck.build"}


# --- the machine's CPU, from /proc ----------------------------------------------------------------


def machine_busy_ticks() -> int:
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return 0
    values = [int(v) for v in fields]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values[:8]) - idle


def tree_ticks(root: int) -> int:
    """CPU ticks of `root` and its descendants (uvicorn's worker processes)."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        rest = stat[stat.rfind(")") + 2 :].split()
        parents[int(entry.name)] = int(rest[1])
        ticks[int(entry.name)] = int(rest[11]) + int(rest[12])
    wanted, total = {root}, 0
    changed = True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in wanted and pid not in wanted:
                wanted.add(pid)
                changed = True
    for pid in wanted:
        total += ticks.get(pid, 0)
    return total


def database_ticks(name: str | None) -> int:
    """CPU ticks of the PostgreSQL backends serving database `name` (their titles name it)."""
    if name is None:
        return 0
    total, needle = 0, f" {name} ".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle not in (entry / "cmdline").read_bytes():
                continue
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        rest = stat[stat.rfind(")") + 2 :].split()
        total += int(rest[11]) + int(rest[12])
    return total


@dataclass
class CpuWindow:
    server_pid: int
    database: str | None = None
    started: float = 0.0
    machine: int = 0
    server: int = 0
    db: int = 0
    client: float = 0.0

    def begin(self) -> None:
        self.started = time.perf_counter()
        self.machine = machine_busy_ticks()
        self.server = tree_ticks(self.server_pid)
        self.db = database_ticks(self.database)
        self.client = time.process_time()

    def end(self) -> tuple[float, float, float, float]:
        """Cores used by the server, its database backends, this client and everything else."""
        seconds = time.perf_counter() - self.started
        machine = (machine_busy_ticks() - self.machine) / CLK_TCK / seconds
        server = (tree_ticks(self.server_pid) - self.server) / CLK_TCK / seconds
        db = (database_ticks(self.database) - self.db) / CLK_TCK / seconds
        client = (time.process_time() - self.client) / seconds
        return server, db, client, max(0.0, machine - server - db - client)


# --- users and their requests ---------------------------------------------------------------------


@dataclass
class User:
    n: int
    email: str
    forwarded_for: str
    rng: random.Random
    token: str = ""
    tasks: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    task_cursor: str | None = None
    event_cursor: str | None = None
    made: int = 0
    client: httpx.AsyncClient | None = None

    @property
    def http(self) -> httpx.AsyncClient:
        assert self.client is not None
        return self.client

    def headers(self) -> dict[str, str]:
        headers = {"X-Forwarded-For": self.forwarded_for}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers


@dataclass
class Phase:
    name: str
    measure_from: float
    until: float
    think: bool
    samples: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    cpu: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    rounds: int = 1

    def merge(self, other: Phase) -> None:
        """Pool another round of the same phase into this one (CPU: the rounds' mean)."""
        for op, values in other.samples.items():
            self.samples[op].extend(values)
        self.errors.update(other.errors)
        n = self.rounds
        self.cpu = tuple((a * n + b) / (n + 1) for a, b in zip(self.cpu, other.cpu, strict=True))  # type: ignore[assignment]
        self.rounds += 1

    def record(self, op: str, started: float, ms: float, error: str | None) -> None:
        if started < self.measure_from and op != "auth.login":
            return
        if error is None:
            self.samples[op].append(ms)
        else:
            self.errors[f"{op}: {error}"] += 1

    def totals(self) -> list[float]:
        return [
            ms
            for op, values in self.samples.items()
            if op not in EXCLUDED_FROM_TOTALS
            for ms in values
        ]

    @property
    def error_count(self) -> int:
        return sum(n for what, n in self.errors.items() if not what.startswith("deck.build"))


Request = Callable[[httpx.AsyncClient, User], Awaitable[tuple[str, httpx.Response, int]]]


async def _create_task(client: httpx.AsyncClient, user: User) -> tuple[str, httpx.Response, int]:
    user.made += 1
    body: dict[str, Any] = {
        "title": f"Task {user.made} of user {user.n}",
        "priority": user.rng.choice(["low", "medium", "high"]),
    }
    if user.rng.random() < 0.5:
        body["description"] = "Call the printer about the quarterly booklets. " * 3
    if user.rng.random() < 0.3:
        body["dueDate"] = "2026-12-24"
    response = await client.post("/api/v1/tasks", json=body, headers=user.headers())
    if response.status_code == 201:
        user.tasks.append(response.json()["id"])
        del user.tasks[:-200]
    return "task.create", response, 201


async def _list_tasks(client: httpx.AsyncClient, user: User) -> tuple[str, httpx.Response, int]:
    params = {"limit": "10"}
    if user.task_cursor and user.rng.random() < 0.5:
        params["cursor"] = user.task_cursor
    response = await client.get("/api/v1/tasks", params=params, headers=user.headers())
    if response.status_code == 200:
        user.task_cursor = response.json()["nextCursor"]
    return "task.list", response, 200


async def _get_task(client: httpx.AsyncClient, user: User) -> tuple[str, httpx.Response, int]:
    if not user.tasks:
        return await _create_task(client, user)
    task_id = user.rng.choice(user.tasks)
    return "task.get", await client.get(f"/api/v1/tasks/{task_id}", headers=user.headers()), 200


async def _update_task(client: httpx.AsyncClient, user: User) -> tuple[str, httpx.Response, int]:
    if not user.tasks:
        return await _create_task(client, user)
    task_id = user.rng.choice(user.tasks)
    body: dict[str, Any] = (
        {"completed": user.rng.random() < 0.7}
        if user.rng.random() < 0.5
        else {"title": f"Renamed {user.rng.randrange(10**6)}", "priority": "high"}
    )
    response = await client.patch(f"/api/v1/tasks/{task_id}", json=body, headers=user.headers())
    return "task.update", response, 200


async def _delete_task(client: httpx.AsyncClient, user: User) -> tuple[str, httpx.Response, int]:
    if not user.tasks:
        return await _create_task(client, user)
    task_id = user.tasks.pop(user.rng.randrange(len(user.tasks)))
    return (
        "task.delete",
        await client.delete(f"/api/v1/tasks/{task_id}", headers=user.headers()),
        204,
    )


async def _me(client: httpx.AsyncClient, user: User) -> tuple[str, httpx.Response, int]:
    return "auth.me", await client.get("/api/v1/auth/me", headers=user.headers()), 200


async def _list_jobs(client: httpx.AsyncClient, user: User) -> tuple[str, httpx.Response, int]:
    response = await client.get("/api/v1/jobs", params={"limit": "10"}, headers=user.headers())
    return "job.list", response, 200


async def _list_events(client: httpx.AsyncClient, user: User) -> tuple[str, httpx.Response, int]:
    params = {"limit": "20"}
    if user.event_cursor and user.rng.random() < 0.5:
        params["cursor"] = user.event_cursor
    response = await client.get("/api/v1/events", params=params, headers=user.headers())
    if response.status_code == 200:
        user.event_cursor = response.json()["nextCursor"]
    return "event.list", response, 200


async def _upload(client: httpx.AsyncClient, user: User) -> tuple[str, httpx.Response, int]:
    user.made += 1
    files = {"file": (f"statement-{user.made}.csv", CSV, "text/csv")}
    response = await client.post(
        "/api/v1/files", files=files, data={"purpose": "document"}, headers=user.headers()
    )
    if response.status_code == 201:
        user.files.append(response.json()["id"])
    return "file.upload", response, 201


async def _download(client: httpx.AsyncClient, user: User) -> tuple[str, httpx.Response, int]:
    if not user.files:
        return await _upload(client, user)
    file_id = user.rng.choice(user.files)
    response = await client.get(f"/api/v1/files/{file_id}/content", headers=user.headers())
    return "file.download", response, 200


REQUESTS: dict[str, Request] = {
    "task.create": _create_task,
    "task.list": _list_tasks,
    "task.get": _get_task,
    "task.update": _update_task,
    "task.delete": _delete_task,
    "auth.me": _me,
    "job.list": _list_jobs,
    "event.list": _list_events,
    "file.upload": _upload,
    "file.download": _download,
}
assert set(REQUESTS) == set(OP_NAMES)


async def sign_up(client: httpx.AsyncClient, user: User) -> None:
    body = {"email": user.email, "password": PASSWORD, "name": f"Load user {user.n}"}
    response = await client.post("/api/v1/auth/register", json=body, headers=user.headers())
    if response.status_code != 201:
        raise RuntimeError(f"sign-up failed: {response.status_code} {response.text[:300]}")


async def sign_in(client: httpx.AsyncClient, user: User) -> tuple[str, httpx.Response, int]:
    user.token = ""
    body = {"email": user.email, "password": PASSWORD}
    response = await client.post("/api/v1/auth/login", json=body, headers=user.headers())
    if response.status_code == 200:
        user.token = response.json()["accessToken"]
    return "auth.login", response, 200


async def timed(
    phase: Phase, client: httpx.AsyncClient, user: User, name: str, request: Request
) -> None:
    started = time.perf_counter()
    try:
        op, response, expected = await request(client, user)
        error = None if response.status_code == expected else str(response.status_code)
    except httpx.HTTPError as exc:
        op, error = name, type(exc).__name__
    phase.record(op, started, (time.perf_counter() - started) * 1000, error)


async def user_loop(phase: Phase, client: httpx.AsyncClient, user: User) -> None:
    rng = user.rng
    next_at = time.perf_counter() + rng.uniform(0.0, 1.0)  # users start spread over a second
    if not user.token:
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        next_at = time.perf_counter() + rng.uniform(0.5, 1.5)
        await timed(phase, client, user, "auth.login", sign_in)
    while True:
        if phase.think:
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        now = time.perf_counter()
        if now >= phase.until:
            return
        next_at = now + rng.uniform(0.5, 1.5)
        op = rng.choices(OP_NAMES, OP_WEIGHTS)[0]
        await timed(phase, client, user, op, REQUESTS[op])


async def _build_deck(client: httpx.AsyncClient, user: User) -> tuple[str, httpx.Response, int]:
    body = {"prompt": "A quarterly review of the printing business", "slideCount": 4}
    response = await client.post("/api/v1/slides/build", json=body, headers=user.headers())
    return "deck.build", response, 202


async def deck_builds(
    phase: Phase, client: httpx.AsyncClient, users: list[User], per_minute: float
) -> None:
    """A deck build every 60/per_minute s by a random user, on a connection of its own."""
    rng = random.Random(7)
    interval = 60.0 / per_minute
    await asyncio.sleep(rng.uniform(0, min(interval, 5.0)))
    while time.perf_counter() < phase.until:
        await timed(phase, client, rng.choice(users), "deck.build", _build_deck)
        await asyncio.sleep(interval)


# --- one server under load ------------------------------------------------------------------------


@dataclass
class Server:
    label: str  # "anchor" or "paperworks"
    port: int
    proc: subprocess.Popen[bytes]
    users: list[User]
    database: str | None = None  # its PostgreSQL scratch database, whose backends it keeps busy

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"


async def prepare(server: Server) -> None:
    """Give every user its own client (one keep-alive connection; made now, not on the clock:
    a client builds an SSL context), sign every user up, and use every connection once.

    One client per user rather than one shared pool: httpx's pool looks through every
    connection for every request, which with a hundred connections made the generator, not
    the server, the bottleneck."""
    for user in server.users:
        user.client = httpx.AsyncClient(
            base_url=server.base_url,
            timeout=30.0,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        )
    gate = asyncio.Semaphore(16)

    async def one(user: User) -> None:
        async with gate:
            await sign_up(user.http, user)

    await asyncio.gather(*(one(user) for user in server.users))
    await warm(server)


async def warm(server: Server) -> None:
    """Every user's connection open and used, so no request in the window pays for it."""
    await asyncio.gather(*(user.http.get("/health") for user in server.users))


async def close(server: Server) -> None:
    await asyncio.gather(*(user.http.aclose() for user in server.users if user.client))


async def run_phase(
    server: Server,
    name: str,
    seconds: float,
    warmup: float,
    think: bool,
    decks: float,
    profile: Path | None,
) -> Phase:
    await warm(server)
    now = time.perf_counter()
    phase = Phase(name, measure_from=now + warmup, until=now + warmup + seconds, think=think)
    cpu = CpuWindow(server.proc.pid, server.database)
    tasks = [asyncio.create_task(user_loop(phase, user.http, user)) for user in server.users]
    decks_client = None
    if decks and server.label == "paperworks":
        decks_client = httpx.AsyncClient(base_url=server.base_url, timeout=30.0)
        await decks_client.get("/health")
        builds = deck_builds(phase, decks_client, server.users, decks)
        tasks.append(asyncio.create_task(builds))
    await asyncio.sleep(max(0.0, phase.measure_from - time.perf_counter()))
    cpu.begin()
    spy = start_profile(server, profile, f"{name}", seconds) if profile else None
    await asyncio.sleep(max(0.0, phase.until - time.perf_counter()))
    phase.cpu = cpu.end()
    await asyncio.gather(*tasks)
    if decks_client is not None:
        await decks_client.aclose()
    if spy is not None:
        spy.wait(timeout=seconds + 30)
    return phase


def start_profile(
    server: Server, directory: Path, name: str, seconds: float
) -> subprocess.Popen[bytes] | None:
    if server.label != "paperworks":
        return None
    spy = Path(sys.executable).parent / "py-spy"
    if not spy.exists():
        print("  (py-spy not in the venv: pip install py-spy to profile)")
        return None
    directory.mkdir(parents=True, exist_ok=True)
    stem = directory / name.replace(" ", "-")
    argv = [
        str(spy),
        "record",
        "--pid",
        str(server.proc.pid),
        "--subprocesses",
        "--nonblocking",
        "--gil",
        "--duration",
        str(int(seconds)),
        "--rate",
        "200",
        "--format",
        "raw",
        "-o",
        f"{stem}.txt",
    ]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start(name: str, argv: list[str], env: dict[str, str], port: int, logs: Path) -> Popen:
    """Start a server and wait for its /health: up to a minute, since on a loaded machine each
    of several worker processes takes seconds to import the service."""
    with (logs / f"{name}.log").open("wb") as log:
        proc = subprocess.Popen(argv, env={**os.environ, **env}, stdout=log, stderr=log)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline and proc.poll() is None:
        with contextlib.suppress(OSError, http.client.HTTPException):
            if get(port, "/health")[0] == 200:
                return proc
        time.sleep(0.2)
    why = (
        f"did not answer /health within {START_SECONDS:g} s"
        if proc.poll() is None
        else (f"exited {proc.returncode}")
    )
    stop(proc)
    tail = (logs / f"{name}.log").read_text(errors="replace")[-2000:]
    raise RuntimeError(f"{name} {why}:\n{tail}")


# --- targets --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    name: str
    postgres: bool
    workers: int


def make_users(count: int, seed: int) -> list[User]:
    run = uuid.uuid4().hex[:8]
    return [
        User(
            n=n,
            email=f"load-{run}-{n}@example.com",
            forwarded_for=f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}",
            rng=random.Random(seed * 100_003 + n),
        )
        for n in range(count)
    ]


async def scratch_database(server_url: str, name: str, *, create: bool) -> str:
    import asyncpg  # the machine's PostgreSQL: only when that target runs

    url = make_url(server_url)
    connection = await asyncpg.connect(
        user=url.username or "postgres",
        password=url.password,
        host=url.host or HOST,
        port=url.port or 5432,
        database="postgres",
    )
    try:
        if create:
            await connection.execute(f'CREATE DATABASE "{name}"')
        else:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()
    return url.set(database=name).render_as_string(hide_password=False)


@dataclass
class Outcome:
    target: Target
    phases: dict[tuple[str, str], Phase] = field(default_factory=dict)  # (label, phase name)


async def run_target(target: Target, args: argparse.Namespace, tmp: Path) -> Outcome:
    outcome = Outcome(target)
    procs: list[subprocess.Popen[bytes]] = []
    databases: list[str] = []
    logs = tmp / target.name
    logs.mkdir()
    stem = f"paperworks_load_{uuid.uuid4().hex[:8]}"
    labels = ["anchor", "paperworks"] + (["before"] if args.before else [])
    try:
        envs: dict[str, dict[str, str]] = {}
        for label in labels:
            if label == "anchor":
                envs[label] = {
                    "BENCH_DATABASE_URL": f"sqlite+aiosqlite:///{logs / 'anchor.db'}",
                    "BENCH_FILES_DIR": str(logs / "anchor-files"),
                    "BENCH_HASH_ROUNDS": HASH_ROUNDS,
                }
            else:
                envs[label] = {
                    "PAPERWORKS_DATA_DIR": str(logs / label),
                    "PAPERWORKS_ENVIRONMENT": "development",
                    "PAPERWORKS_HOST": HOST,
                    "PAPERWORKS_TRUSTED_PROXIES": HOST,
                    "PAPERWORKS_PASSWORD_HASH_ROUNDS": HASH_ROUNDS,
                    "PAPERWORKS_LOG_LEVEL": args.log_level,
                }
            if label == "before":  # the service as another source tree has it
                envs[label]["PYTHONPATH"] = str(args.before.resolve())
        if target.postgres:
            for label in labels:
                databases.append(f"{stem}_{label}")
                url = await scratch_database(args.database_url, databases[-1], create=True)
                if label == "anchor":
                    envs[label]["BENCH_DATABASE_URL"] = url
                    continue
                envs[label]["PAPERWORKS_DATABASE_URL"] = url
                envs[label]["PAPERWORKS_REDIS_URL"] = args.redis_url
                await upgrade_schema(envs[label])
        servers = []
        for label in labels:
            port = free_port()
            argv = (
                [sys.executable, str(BENCH_DIR / "load_anchor.py"), "--port", str(port)]
                if label == "anchor"
                else [sys.executable, "-m", "paperworks", "serve", "--port", str(port)]
            )
            argv += ["--workers", str(target.workers)]
            procs.append(start(label, argv, envs[label], port, logs))
            database = f"{stem}_{label}" if target.postgres else None
            servers.append(Server(label, port, procs[-1], make_users(args.users, 1), database))
        for server in servers:
            await prepare(server)
        plan = [("load", args.seconds, True)]
        if args.saturate_seconds > 0:
            plan.append(("saturation", args.saturate_seconds, False))
        plan *= args.rounds
        for phase_name, seconds, think in plan:
            for server in servers:
                profile = args.profile / target.name if args.profile and think else None
                phase = await run_phase(
                    server, phase_name, seconds, args.warmup, think, args.decks, profile
                )
                key = (server.label, phase_name)
                if key in outcome.phases:
                    outcome.phases[key].merge(phase)
                else:
                    outcome.phases[key] = phase
                print(
                    f"  {target.name:<18}{server.label:<11}{phase_name:<11}"
                    f"{len(phase.totals()) / seconds:>8.0f} req/s  "
                    f"p95 {_p(phase.totals(), 95):.1f} ms  errors {phase.error_count}"
                )
        for server in servers:
            await close(server)
    finally:
        for proc in procs:
            stop(proc)
        for name in databases:
            with contextlib.suppress(Exception):
                await scratch_database(args.database_url, name, create=False)
    return outcome


async def upgrade_schema(env: dict[str, str]) -> None:
    """`paperworks serve` migrates only SQLite; PostgreSQL is the operator's to migrate."""
    upgrade = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "paperworks", "db", "upgrade"],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    output, _ = await upgrade.communicate()
    if upgrade.returncode:
        raise RuntimeError(f"paperworks db upgrade failed:\n{output.decode()[-2000:]}")


# --- the report -----------------------------------------------------------------------------------


def _p(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def report(outcomes: list[Outcome], args: argparse.Namespace) -> bool:
    print(
        f"\n{'target':<18}{'server':<11}{'phase':<11}{'req/s':>7}{'p50':>8}{'p95':>8}{'p99':>8}"
        f"{'errors':>7}{'ms CPU/req':>11}  {'cores: server   db  client others':>33}"
    )
    for outcome in outcomes:
        for (label, phase_name), phase in outcome.phases.items():
            values = phase.totals()
            seconds = args.seconds if phase_name == "load" else args.saturate_seconds
            seconds *= phase.rounds
            server, db, client, others = phase.cpu
            rate = len(values) / seconds
            per_request = (server + db) * 1000 / rate if rate else float("nan")
            print(
                f"{outcome.target.name:<18}{label:<11}{phase_name:<11}{rate:>7.0f}"
                f"{_p(values, 50):>8.1f}{_p(values, 95):>8.1f}{_p(values, 99):>8.1f}"
                f"{phase.error_count:>7}{per_request:>11.1f}  "
                f"{server:>13.2f}{db:>6.2f}{client:>8.2f}{others:>7.2f}"
            )
    print(
        "(latencies in ms; ms CPU/req: the server's and its database backends' CPU per request; "
        f"cores: CPU used during the measured window, of {os.cpu_count()} on this machine; "
        "db: PostgreSQL backends of that server's database)"
    )

    print("\nper request, load phase: p50 / p95 ms, service vs anchor")
    for outcome in outcomes:
        ours, anchor = (
            outcome.phases.get(("paperworks", "load")),
            outcome.phases.get(("anchor", "load")),
        )
        if ours is None or anchor is None:
            continue
        print(f"  {outcome.target.name}")
        for op in ["auth.login", *OP_NAMES, "deck.build"]:
            a, o = anchor.samples.get(op, []), ours.samples.get(op, [])
            if not a and not o:
                continue
            print(
                f"    {op:<14}{len(o):>6} x  {_p(o, 50):>7.1f} / {_p(o, 95):>7.1f}    "
                f"anchor {len(a):>6} x  {_p(a, 50):>7.1f} / {_p(a, 95):>7.1f}"
            )
        for (label, phase_name), phase in outcome.phases.items():
            for what, count in sorted(phase.errors.items()):
                print(f"    error ({label}, {phase_name}) {what} x {count}")

    print("\ngoals")
    passed = True
    for outcome in outcomes:
        name = outcome.target.name
        ours, anchor = (
            outcome.phases.get(("paperworks", "load")),
            outcome.phases.get(("anchor", "load")),
        )
        if ours is not None and anchor is not None:
            o95, a95 = _p(ours.totals(), 95), _p(anchor.totals(), 95)
            o50, a50 = _p(ours.totals(), 50), _p(anchor.totals(), 50)
            checks = [
                (f"p95 {o95:.1f} ms < {P95_GOAL_MS:.0f} ms", o95 < P95_GOAL_MS),
                (
                    f"p95 {o95 / a95:.2f}x anchor (p50 {o50 / a50:.2f}x) <= {P95_RATIO_GOAL:g}x",
                    o95 <= P95_RATIO_GOAL * a95,
                ),
                (f"errors {ours.error_count} == 0", ours.error_count == 0),
            ]
            for text, ok in checks:
                passed &= ok
                print(f"  {name:<18}load        {text:<56}{'PASS' if ok else 'BELOW'}")
        ours = outcome.phases.get(("paperworks", "saturation"))
        anchor = outcome.phases.get(("anchor", "saturation"))
        if ours is not None and anchor is not None:
            share = len(ours.totals()) / max(1, len(anchor.totals()))
            ok = share >= SATURATION_GOAL and ours.error_count == 0
            passed &= ok
            text = f"{share:.0%} of the anchor's req/s (>= 50 %), errors {ours.error_count}"
            print(f"  {name:<18}saturation  {text:<56}{'PASS' if ok else 'BELOW'}")
    return passed


def machine_load(seconds: float = 1.0) -> float:
    before = machine_busy_ticks()
    time.sleep(seconds)
    return (machine_busy_ticks() - before) / CLK_TCK / seconds


async def run(args: argparse.Namespace) -> int:
    targets = {
        "sqlite": Target("sqlite", postgres=False, workers=1),
        "postgres": Target("postgres", postgres=True, workers=1),
        "workers2": Target(f"workers{args.workers}", postgres=False, workers=args.workers),
        "workers2-postgres": Target(
            f"workers{args.workers}-postgres", postgres=True, workers=args.workers
        ),
    }
    chosen = [targets[name] for name in args.targets.split(",")]
    busy = machine_load()
    print(
        f"paperworks under load: {args.users} users, ~1 request/s each (0.5-1.5 s apart), "
        f"{args.warmup:g} s warm-up + {args.seconds:g} s measured; saturation "
        f"{args.saturate_seconds:g} s with no think time\n"
        f"{os.cpu_count()} CPUs shared by client, servers and whatever else runs; before start "
        f"{busy:.2f} cores busy, load average {os.getloadavg()[0]:.2f}; "
        f"Python {platform.python_version()}"
    )
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="paperworks-load-") as tmp:
        for target in chosen:
            try:
                outcomes.append(await run_target(target, args, Path(tmp)))
            except (RuntimeError, OSError) as exc:
                print(f"  {target.name}: skipped: {exc}", file=sys.stderr)
    passed = report(outcomes, args)
    print(f"\nmachine after: load average {os.getloadavg()[0]:.2f}")
    return 0 if passed or not args.strict else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100, help="concurrent users")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds of load")
    parser.add_argument(
        "--rounds", type=int, default=1, help="run the phases this many times, interleaved"
    )
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before the clock")
    parser.add_argument(
        "--saturate-seconds",
        type=float,
        default=5.0,
        help="measured seconds with no think time (0: no saturation phase)",
    )
    parser.add_argument(
        "--targets",
        default="sqlite,postgres,workers2",
        help="comma-separated: sqlite, postgres, workers2, workers2-postgres",
    )
    parser.add_argument("--workers", type=int, default=2, help="processes for the workers targets")
    parser.add_argument(
        "--database-url",
        default=DEFAULT_DATABASE_URL,
        help="PostgreSQL server for the postgres targets (scratch databases are "
        "created there and dropped)",
    )
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument(
        "--decks",
        type=float,
        nargs="?",
        const=1.0,
        default=0.0,
        help="deck builds a minute against the service (--decks: one)",
    )
    parser.add_argument("--log-level", default="INFO", help="the service's log level")
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="py-spy the service during each load phase into this directory",
    )
    parser.add_argument(
        "--before",
        type=Path,
        default=None,
        help="also serve the service from this source tree (e.g. a `git worktree` of the last "
        "commit's src/) in the same phases, to measure a change before and after",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    args = parser.parse_args()
    try:
        import uvloop

        return uvloop.run(run(args))
    except ImportError:
        return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
