"""Files' dependencies: a file of the active workspace, and an upload read as a stream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends
from starlette.datastructures import UploadFile as StarletteUploadFile

from paperworks.files import service
from paperworks.files.models import StoredFile
from paperworks.files.storage import CHUNK_SIZE
from paperworks.identity.dependencies import CurrentCaller
from paperworks.services import SessionDep


async def valid_file(file_id: str, caller: CurrentCaller, session: SessionDep) -> StoredFile:
    return await service.get_file(session, caller, file_id)


WorkspaceFile = Annotated[StoredFile, Depends(valid_file)]


async def upload_chunks(upload: StarletteUploadFile) -> AsyncIterator[bytes]:
    """An uploaded file's bytes in storage-sized chunks, for `service.store_stream`."""
    while chunk := await upload.read(CHUNK_SIZE):
        yield chunk
