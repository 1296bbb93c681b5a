"""The anchor for bench/load.py: a bare FastAPI + SQLAlchemy app doing the load's operations.

Same tables as the service (its SQLAlchemy models, created with `create_all` in the anchor's own
scratch database), same routes and JSON shapes as far as the load generator reads them, bearer
JWTs (PyJWT, HS256) and bcrypt at the same cost. What it leaves out is what the service adds on
top: no middleware (no request id, access log, metrics, rate limit or body limit), no caller or
tenancy layer, no event hub or live fan-out, no idempotency or job runner. It still writes the
same rows a write leaves in the service (the task or file and its `events` row, a refresh token
on sign-in), in one transaction per request, and reads with the same keyset pagination.

Queries per request: decoding the token, then one primary-key read of the user and one join for
the personal workspace and its role; then the operation's own statements.

    BENCH_DATABASE_URL=sqlite+aiosqlite:///x.db python bench/load_anchor.py --port 8001
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Generic, Literal, TypeVar

import bcrypt
import jwt
import uvicorn
from fastapi import Depends, FastAPI, File, Header, HTTPException, Query, Response, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from sqlalchemy import event, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from paperworks.events.models import Event
from paperworks.files.models import StoredFile
from paperworks.identity.models import Membership, RefreshToken, User, Workspace
from paperworks.jobs.models import Job
from paperworks.kit.db import Base
from paperworks.kit.ids import new_id
from paperworks.tasks.models import Task

BENCH_DIR = Path(__file__).resolve().parent
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "sqlite+aiosqlite:///anchor.db")
SECRET = os.environ.get("BENCH_SECRET", "anchor-secret-" + "x" * 40)
FILES_DIR = Path(os.environ.get("BENCH_FILES_DIR", "anchor-files"))
HASH_ROUNDS = int(os.environ.get("BENCH_HASH_ROUNDS", "12"))
ACCESS_TTL = timedelta(minutes=15)
T = TypeVar("T")


def make_engine() -> Any:
    engine = create_async_engine(DATABASE_URL)
    if engine.dialect.name == "sqlite":
        # What any app on SQLite sets: WAL, a busy timeout, relaxed fsync, foreign keys.
        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            for pragma in ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=5000"):
                cursor.execute(f"PRAGMA {pragma}")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

    return engine


engine = make_engine()
sessions = async_sessionmaker(engine, expire_on_commit=False)
app = FastAPI()


# --- wire models --------------------------------------------------------------------------------


class Wire(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        from_attributes=True,
        serialize_by_alias=True,
    )


class Credentials(Wire):
    email: str = Field(max_length=320)
    password: str = Field(min_length=8, max_length=72)
    name: str | None = None


class UserOut(Wire):
    id: str
    email: str
    name: str | None
    is_admin: bool
    created_at: datetime


class SignedIn(Wire):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"  # noqa: S105 - a token kind
    expires_in: int
    user: UserOut


class WorkspaceRole(Wire):
    id: str
    name: str
    role: str


class Me(UserOut):
    workspaces: list[WorkspaceRole]


class TaskCreate(Wire):
    title: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    priority: Literal["low", "medium", "high"] = "medium"
    due_date: date | None = None


class TaskUpdate(Wire):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    priority: Literal["low", "medium", "high"] | None = None
    due_date: date | None = None
    completed: bool | None = None


class TaskOut(Wire):
    id: str
    title: str
    description: str | None
    completed: bool
    priority: str
    due_date: date | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None


class JobOut(Wire):
    id: str
    workspace_id: str
    kind: str
    status: str
    progress: int
    message: str | None
    payload: dict[str, Any]
    result: dict[str, Any] | None
    attempts: int
    max_attempts: int
    created_at: datetime
    updated_at: datetime


class EventOut(Wire):
    id: str
    type: str
    resource_type: str
    resource_id: str
    workspace_id: str
    actor_user_id: str | None
    payload: dict[str, Any]
    created_at: datetime


class FileOut(Wire):
    id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    purpose: str
    created_at: datetime


class Page(Wire, Generic[T]):
    items: list[T]
    next_cursor: str | None


# --- plumbing -----------------------------------------------------------------------------------


async def get_session() -> AsyncIterator[AsyncSession]:
    async with sessions() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


class Caller(BaseModel):
    user: Any
    workspace_id: str
    role: str


async def get_caller(
    session: SessionDep, authorization: Annotated[str | None, Header()] = None
) -> Caller:
    if not authorization or not authorization.startswith("Bearer "):
        raise HTTPException(401, "not signed in")
    try:
        claims = jwt.decode(authorization[7:], SECRET, algorithms=["HS256"])
    except jwt.PyJWTError as exc:
        raise HTTPException(401, "invalid token") from exc
    user = await session.get(User, claims["sub"])
    if user is None:
        raise HTTPException(401, "no such user")
    row = (
        await session.execute(
            select(Workspace.id, Membership.role)
            .join(Membership, Membership.workspace_id == Workspace.id)
            .where(Workspace.personal_for_user_id == user.id, Membership.user_id == user.id)
        )
    ).one()
    return Caller(user=user, workspace_id=row[0], role=row[1])


CallerDep = Annotated[Caller, Depends(get_caller)]
Limit = Annotated[int, Query(ge=1, le=100)]


async def page(session: AsyncSession, query: Any, column: Any, limit: int, cursor: str | None):  # type: ignore[no-untyped-def]
    if cursor:
        query = query.where(column > cursor)
    rows = list((await session.scalars(query.order_by(column).limit(limit + 1))).all())
    return rows[:limit], rows[limit - 1].id if len(rows) > limit else None


def add_event(
    session: AsyncSession, caller: Caller, type: str, kind: str, id: str, **data: Any
) -> None:
    session.add(
        Event(
            workspace_id=caller.workspace_id,
            type=type,
            resource_type=kind,
            resource_id=id,
            private_to_user_id=caller.user.id if kind == "task" else None,
            actor_user_id=caller.user.id,
            payload=data,
        )
    )


async def signed_in(session: AsyncSession, user: User) -> SignedIn:
    refresh = RefreshToken(
        id=new_id(), family_id=new_id(), user_id=user.id, expires_at=datetime.now(UTC) + ACCESS_TTL
    )
    session.add(refresh)
    await session.commit()
    now = datetime.now(UTC)
    access = jwt.encode(
        {"sub": user.id, "type": "access", "iat": now, "exp": now + ACCESS_TTL, "jti": new_id()},
        SECRET,
        algorithm="HS256",
    )
    refresh_token = jwt.encode(
        {"sub": user.id, "type": "refresh", "iat": now, "exp": now + ACCESS_TTL, "jti": refresh.id},
        SECRET,
        algorithm="HS256",
    )
    return SignedIn(
        access_token=access,
        refresh_token=refresh_token,
        expires_in=int(ACCESS_TTL.total_seconds()),
        user=UserOut.model_validate(user),
    )


# --- routes ---------------------------------------------------------------------------------------


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/api/v1/auth/register", status_code=201)
async def register(body: Credentials, session: SessionDep) -> SignedIn:
    hashed = await asyncio.to_thread(
        bcrypt.hashpw, body.password.encode(), bcrypt.gensalt(HASH_ROUNDS)
    )
    user = User(email=body.email.lower(), name=body.name, password_hash=hashed.decode())
    session.add(user)
    await session.flush()
    workspace = Workspace(name=body.name or body.email, personal_for_user_id=user.id)
    session.add(workspace)
    await session.flush()
    session.add(Membership(workspace_id=workspace.id, user_id=user.id, role="owner"))
    return await signed_in(session, user)


@app.post("/api/v1/auth/login")
async def login(body: Credentials, session: SessionDep) -> SignedIn:
    user = await session.scalar(select(User).where(User.email == body.email.lower()))
    ok = user is not None and await asyncio.to_thread(
        bcrypt.checkpw, body.password.encode(), (user.password_hash or "").encode()
    )
    if user is None or not ok:
        raise HTTPException(401, "wrong email or password")
    return await signed_in(session, user)


@app.get("/api/v1/auth/me")
async def me(caller: CallerDep, session: SessionDep) -> Me:
    rows = await session.execute(
        select(Workspace, Membership.role)
        .join(Membership, Membership.workspace_id == Workspace.id)
        .where(Membership.user_id == caller.user.id)
        .order_by(Workspace.id)
    )
    return Me(
        **UserOut.model_validate(caller.user).model_dump(),
        workspaces=[WorkspaceRole(id=w.id, name=w.name, role=role) for w, role in rows.all()],
    )


def tasks_of(caller: Caller) -> Any:
    return select(Task).where(
        Task.workspace_id == caller.workspace_id, Task.user_id == caller.user.id
    )


async def task_of(session: AsyncSession, caller: Caller, task_id: str) -> Task:
    task = await session.scalar(tasks_of(caller).where(Task.id == task_id))
    if task is None:
        raise HTTPException(404, "no such task")
    return task


@app.get("/api/v1/tasks")
async def list_tasks(
    caller: CallerDep, session: SessionDep, limit: Limit = 50, cursor: str | None = None
) -> Page[TaskOut]:
    tasks, next_cursor = await page(session, tasks_of(caller), Task.id, limit, cursor)
    return Page[TaskOut](items=[TaskOut.model_validate(t) for t in tasks], next_cursor=next_cursor)


@app.post("/api/v1/tasks", status_code=201)
async def create_task(body: TaskCreate, caller: CallerDep, session: SessionDep) -> TaskOut:
    task = Task(
        workspace_id=caller.workspace_id,
        user_id=caller.user.id,
        title=body.title,
        description=body.description,
        priority=body.priority,
        due_date=body.due_date,
        completed=False,
    )
    session.add(task)
    await session.flush()
    add_event(session, caller, "task.created", "task", task.id, title=task.title)
    await session.commit()
    return TaskOut.model_validate(task)


@app.get("/api/v1/tasks/{task_id}")
async def get_task(task_id: str, caller: CallerDep, session: SessionDep) -> TaskOut:
    return TaskOut.model_validate(await task_of(session, caller, task_id))


@app.patch("/api/v1/tasks/{task_id}")
async def update_task(
    task_id: str, body: TaskUpdate, caller: CallerDep, session: SessionDep
) -> TaskOut:
    task = await task_of(session, caller, task_id)
    changed = []
    for name in body.model_fields_set:
        value = getattr(body, name)
        if name == "completed":
            task.completed_at = datetime.now(UTC) if value else None
        if getattr(task, name) != value:
            setattr(task, name, value)
            changed.append(name)
    await session.flush()
    add_event(session, caller, "task.updated", "task", task.id, title=task.title, fields=changed)
    await session.commit()
    return TaskOut.model_validate(task)


@app.delete("/api/v1/tasks/{task_id}", status_code=204)
async def delete_task(task_id: str, caller: CallerDep, session: SessionDep) -> Response:
    task = await task_of(session, caller, task_id)
    await session.delete(task)
    add_event(session, caller, "task.deleted", "task", task.id, title=task.title)
    await session.commit()
    return Response(status_code=204)


@app.get("/api/v1/jobs")
async def list_jobs(
    caller: CallerDep, session: SessionDep, limit: Limit = 50, cursor: str | None = None
) -> Page[JobOut]:
    query = select(Job).where(Job.workspace_id == caller.workspace_id)
    jobs, next_cursor = await page(session, query, Job.id, limit, cursor)
    return Page[JobOut](items=[JobOut.model_validate(j) for j in jobs], next_cursor=next_cursor)


@app.get("/api/v1/events")
async def list_events(
    caller: CallerDep, session: SessionDep, limit: Limit = 50, cursor: str | None = None
) -> Page[EventOut]:
    query = select(Event).where(
        Event.workspace_id == caller.workspace_id,
        or_(Event.private_to_user_id.is_(None), Event.private_to_user_id == caller.user.id),
    )
    events, next_cursor = await page(session, query, Event.id, limit, cursor)
    return Page[EventOut](
        items=[EventOut.model_validate(e) for e in events], next_cursor=next_cursor
    )


@app.post("/api/v1/files", status_code=201)
async def upload_file(
    caller: CallerDep, session: SessionDep, file: Annotated[UploadFile, File()]
) -> FileOut:
    data = await file.read()
    file_id = new_id()
    key = f"{caller.workspace_id}/{file_id}"
    path = FILES_DIR / key
    await asyncio.to_thread(_write, path, data)
    record = StoredFile(
        id=file_id,
        workspace_id=caller.workspace_id,
        user_id=caller.user.id,
        filename=file.filename or "upload",
        content_type=file.content_type or "application/octet-stream",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        purpose="document",
        storage_key=key,
    )
    session.add(record)
    await session.flush()
    add_event(session, caller, "file.uploaded", "file", file_id, filename=record.filename)
    await session.commit()
    return FileOut.model_validate(record)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


@app.get("/api/v1/files/{file_id}/content")
async def file_content(file_id: str, caller: CallerDep, session: SessionDep) -> FileResponse:
    record = await session.scalar(
        select(StoredFile).where(
            StoredFile.workspace_id == caller.workspace_id, StoredFile.id == file_id
        )
    )
    if record is None:
        raise HTTPException(404, "no such file")
    return FileResponse(
        FILES_DIR / record.storage_key,
        media_type=record.content_type,
        filename=record.filename,
    )


async def create_tables() -> None:
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    asyncio.run(create_tables())
    sys.path.insert(0, str(BENCH_DIR))
    # Served as `paperworks serve` serves (uvloop and httptools where installed, as uvicorn picks).
    uvicorn.run(
        "load_anchor:app",
        host="127.0.0.1",
        port=args.port,
        workers=args.workers,
        proxy_headers=False,
        server_header=False,
        access_log=False,
        log_config=None,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
