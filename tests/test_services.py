"""The process's services reach routes through one dependency; the request's unit of work commits
once when the route succeeds, nothing when it fails."""

from typing import Any, ClassVar

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import MetaData, String, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from paperworks.kit.db import NAMING_CONVENTION, Database, IdMixin
from paperworks.kit.errors import Conflict
from paperworks.services import ServicesDep, SessionDep


class ScratchBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {}


class Note(IdMixin, ScratchBase):
    __tablename__ = "scratch_notes"
    text: Mapped[str] = mapped_column(String(50), unique=True)


@pytest.fixture
async def app(app: FastAPI, db: Database) -> FastAPI:
    async with db.session_scope() as session:
        await (await session.connection()).run_sync(ScratchBase.metadata.create_all)

    @app.post("/test/notes/{text}", status_code=201)
    async def add_note(text: str, session: SessionDep, services: ServicesDep) -> dict[str, str]:
        session.add(Note(text=text))
        if text == "refuse":
            raise Conflict("refused after writing")
        return {"environment": services.settings.environment}

    return app


async def count_notes(db: Database) -> int:
    async with db.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(Note)) or 0)


async def test_a_successful_request_commits(client: httpx.AsyncClient, db: Database) -> None:
    response = await client.post("/test/notes/hello")
    assert response.status_code == 201
    assert response.json() == {"environment": "test"}
    assert await count_notes(db) == 1


async def test_a_failed_request_rolls_back(client: httpx.AsyncClient, db: Database) -> None:
    response = await client.post("/test/notes/refuse")
    assert response.status_code == 409
    assert await count_notes(db) == 0


async def test_a_commit_that_fails_is_a_problem_not_a_success(
    client: httpx.AsyncClient, db: Database
) -> None:
    assert (await client.post("/test/notes/same")).status_code == 201
    response = await client.post("/test/notes/same")  # unique violation at commit
    assert response.status_code == 500
    assert response.json()["code"] == "internal.error"
    assert await count_notes(db) == 1
