"""The `paperworks` command (also `python -m paperworks`)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Annotated, TypeVar

import typer
import uvicorn
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from paperworks import migrations
from paperworks.build_info import build_info
from paperworks.events.hub import EventHub
from paperworks.identity import service as identity
from paperworks.identity.exceptions import EmailTaken
from paperworks.identity.models import User
from paperworks.identity.schemas import Email
from paperworks.kit.db import Database, create_engine
from paperworks.kit.logging import configure_logging
from paperworks.kit.metrics import prepare_multiprocess_dir
from paperworks.kit.security import PasswordHasher, password_problem
from paperworks.product import job_handlers
from paperworks.products import PRODUCTS
from paperworks.services import Services
from paperworks.settings import ENV_PREFIX, JobsBackend, Settings

app = typer.Typer(
    help="Paperworks: a self-hostable document-automation backend.", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")
users_app = typer.Typer(help="Accounts.", no_args_is_help=True)
app.add_typer(users_app, name="users")

T = TypeVar("T")


class WorkerPool(StrEnum):
    """How `paperworks worker` runs jobs side by side (Celery's pool)."""

    prefork = "prefork"
    threads = "threads"
    solo = "solo"


def load_settings() -> Settings:
    try:
        return Settings()
    except (ValidationError, ValueError) as exc:
        typer.secho(f"Invalid configuration:\n{exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from exc


def _with_engine(settings: Settings, work: Callable[..., Awaitable[T]], *args: object) -> T:
    async def run() -> T:
        engine = create_engine(settings.database_url, **settings.engine_options)
        try:
            return await work(engine, *args)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _prepare_schema(settings: Settings) -> None:
    """Upgrade the embedded SQLite database; refuse to serve any other database on an old schema."""
    if settings.is_sqlite:
        _with_engine(settings, migrations.upgrade)
        return
    try:
        _with_engine(settings, migrations.ensure_up_to_date)
    except migrations.SchemaOutOfDate as exc:
        typer.secho(f"Refusing to start: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from exc


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Interface to bind [default: PAPERWORKS_HOST]")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port [default: PAPERWORKS_PORT or 8000]")
    ] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Worker processes")] = None,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development)")] = False,
) -> None:
    """Serve the API (migrating the embedded SQLite database first)."""
    # The flags are settings like any other: the app (in every worker process) reads them from
    # the environment, so links it signs point where it really serves.
    if host is not None:
        os.environ[f"{ENV_PREFIX}HOST"] = host
    if port is not None:
        os.environ[f"{ENV_PREFIX}PORT"] = str(port)
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    _prepare_schema(settings)
    worker_count = workers or settings.workers
    if worker_count > 1 and not reload:
        prepare_multiprocess_dir(settings.data_dir / "prometheus")
    uvicorn.run(
        "paperworks.app:create_served_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=None if reload else worker_count,
        reload=reload,
        # We resolve client addresses ourselves, only through TRUSTED_PROXIES (kit/client_ip.py).
        proxy_headers=False,
        server_header=False,
        access_log=False,
        log_config=None,
        log_level=settings.log_level.lower(),
    )


@app.command()
def worker(
    concurrency: Annotated[
        int | None, typer.Option(min=1, help="Jobs run at once [default: the CPU count]")
    ] = None,
    pool: Annotated[
        WorkerPool,
        typer.Option(
            help="prefork: a process per job (CPU-bound work in parallel); threads: one "
            "process whose event loop runs them all (I/O-bound work); solo: one at a time"
        ),
    ] = WorkerPool.prefork,
) -> None:
    """Run jobs from the Celery broker (PAPERWORKS_JOBS_BACKEND=celery) until stopped."""
    settings = load_settings()
    if settings.jobs_backend is not JobsBackend.celery:
        typer.secho(
            "paperworks worker runs jobs sent through a broker: set PAPERWORKS_JOBS_BACKEND=celery "
            "and PAPERWORKS_CELERY_BROKER_URL (with the local backend, `serve` runs the jobs).",
            err=True,
            fg=typer.colors.RED,
        )
        raise typer.Exit(2)
    configure_logging(settings.log_level, settings.log_format)
    try:  # the worker never migrates: `paperworks db upgrade` (or `serve` on SQLite) does
        _with_engine(settings, migrations.ensure_up_to_date)
    except migrations.SchemaOutOfDate as exc:
        typer.secho(f"Refusing to start: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from exc
    from paperworks.jobs.celery_runner import CeleryRunner  # Celery only where it is used

    def build_services(db: Database, hub: EventHub) -> Services:
        return Services.build(settings, PRODUCTS, db=db, hub=hub)

    runner = CeleryRunner(settings, job_handlers(PRODUCTS, settings), build_services=build_services)
    runner.run_worker(concurrency=concurrency, pool=pool.value)


@app.command()
def version() -> None:
    """Print the version and the git commit."""
    info = build_info()
    typer.echo(f"paperworks {info.version} ({info.git_sha})")


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply migrations up to REVISION."""
    settings = load_settings()
    _with_engine(settings, migrations.upgrade, revision)
    typer.echo(f"database at {_with_engine(settings, migrations.current_revision) or 'base'}")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument()] = "-1") -> None:
    """Revert migrations down to REVISION (default: one step)."""
    settings = load_settings()
    _with_engine(settings, migrations.downgrade, revision)
    typer.echo(f"database at {_with_engine(settings, migrations.current_revision) or 'base'}")


@db_app.command("current")
def db_current() -> None:
    """Show the database's revision and whether it is the newest."""
    settings = load_settings()
    current = _with_engine(settings, migrations.current_revision)
    head = migrations.head_revision()
    state = "up to date" if current == head else f"behind head {head}"
    typer.echo(f"{current or 'base'} ({state})")


@db_app.command("revision")
def db_revision(
    message: Annotated[str, typer.Option("--message", "-m", help="What the migration does")],
    autogenerate: Annotated[bool, typer.Option(help="Diff the models against the database")] = True,
) -> None:
    """Write a new migration file under src/paperworks/migrations/versions."""
    settings = load_settings()
    path = _with_engine(settings, migrations.new_revision, message, autogenerate)
    typer.echo(f"wrote {path}")


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Argument(help="The account's email address")],
    password: Annotated[
        bool, typer.Option("--password", help="Ask for a password (else: magic links only)")
    ] = False,
    admin: Annotated[bool, typer.Option("--admin", help="May manage every workspace")] = False,
    name: Annotated[str | None, typer.Option(help="Display name")] = None,
) -> None:
    """Create an account (with its personal workspace)."""
    settings = load_settings()
    try:
        address = TypeAdapter(Email).validate_python(email)
    except ValidationError as exc:
        typer.secho(f"Not an email address: {email}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from exc
    secret: str | None = None
    if password:
        secret = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        if problem := password_problem(secret):
            typer.secho(f"The password {problem}.", err=True, fg=typer.colors.RED)
            raise typer.Exit(2)

    async def create(engine: AsyncEngine) -> User:
        hashed = (
            await PasswordHasher(settings.password_hash_rounds).hash(secret) if secret else None
        )
        async with Database(engine).session_scope() as session:
            return await identity.create_user(
                session, email=address, password_hash=hashed, name=name, is_admin=admin
            )

    try:
        user = _with_engine(settings, create)
    except EmailTaken as exc:
        typer.secho(exc.detail, err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from exc
    typer.echo(f"created {user.email} ({user.id}){' as admin' if user.is_admin else ''}")


@users_app.command("list")
def users_list() -> None:
    """List accounts, oldest first."""
    settings = load_settings()

    async def fetch(engine: AsyncEngine) -> list[User]:
        async with Database(engine).session_scope() as session:
            return list(await session.scalars(select(User).order_by(User.id)))

    for user in _with_engine(settings, fetch):
        role = "admin" if user.is_admin else "user"
        login = "password" if user.password_hash else "magic link"
        typer.echo(
            f"{user.id}  {user.email:<40} {role:<5}  {login:<10}  {user.created_at:%Y-%m-%d}"
        )


def main() -> None:
    app()
