"""Products store their outputs through the service, under the same checks as uploads."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from paperworks.files import exceptions as errors
from paperworks.files import service, sniffing
from paperworks.files.purposes import Purpose
from paperworks.files.storage import LocalStorage
from paperworks.identity import service as identity
from paperworks.identity.caller import SYSTEM, Caller
from paperworks.identity.models import User, Workspace
from paperworks.kit.db import Database
from paperworks.kit.ids import new_id
from tests.files import samples


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "files")


async def make_user(db: Database) -> tuple[User, Workspace]:
    async with db.session_scope() as session:
        user = await identity.create_user(session, email="maker@example.com", password_hash=None)
        return user, await identity.personal_workspace(session, user)


async def read(storage: LocalStorage, key: str) -> bytes:
    return b"".join([chunk async for chunk in await storage.open(key)])


async def test_a_products_output_is_stored_as_a_file_of_the_workspace(
    db: Database, storage: LocalStorage
) -> None:
    user, workspace = await make_user(db)
    deck = samples.pptx()
    async with db.session_scope() as session:
        record = await service.store_bytes(
            session,
            storage,
            Caller(workspace_id=workspace.id, user_id=user.id),
            filename="Quarterly review.pptx",
            data=deck,
        )
    assert record.purpose == Purpose.output
    assert record.content_type == sniffing.PPTX
    assert record.size == len(deck)
    assert record.sha256 == hashlib.sha256(deck).hexdigest()
    assert storage.path(record.storage_key) == storage.root / workspace.id / record.id
    assert await read(storage, record.storage_key) == deck
    async with db.session_scope() as session:
        found = await service.get_file(session, SYSTEM.within(workspace.id), record.id)
        assert found.filename == "Quarterly review.pptx"


async def test_outputs_may_be_any_type_we_can_recognise(
    db: Database, storage: LocalStorage
) -> None:
    _, workspace = await make_user(db)
    async with db.session_scope() as session:
        export = await service.store_bytes(
            session,
            storage,
            SYSTEM.within(workspace.id),
            filename="export.zip",
            data=samples.plain_zip(),
        )
        assert export.content_type == sniffing.ZIP
        assert export.user_id is None
        with pytest.raises(errors.UnsupportedFileType):
            await service.store_bytes(
                session, storage, SYSTEM.within(workspace.id), filename="x.bin", data=b"\x00\x01"
            )
        with pytest.raises(errors.FileEmpty):
            await service.store_bytes(
                session, storage, SYSTEM.within(workspace.id), filename="x.pdf", data=b""
            )
    assert [path.name for path in storage.root.rglob("*") if path.is_file()] == [export.id]


async def test_bytes_are_removed_when_their_row_cannot_be_written(
    db: Database, storage: LocalStorage
) -> None:
    with pytest.raises(IntegrityError):
        async with db.session_scope() as session:
            await service.store_bytes(
                session, storage, SYSTEM.within(new_id()), filename="x.pdf", data=samples.pdf()
            )
    assert [path for path in storage.root.rglob("*") if path.is_file()] == []
