"""Files' dependencies: a file of the active workspace."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from paperworks.files import service
from paperworks.files.models import StoredFile
from paperworks.identity.dependencies import CurrentCaller
from paperworks.services import SessionDep


async def valid_file(file_id: str, caller: CurrentCaller, session: SessionDep) -> StoredFile:
    return await service.get_file(session, caller, file_id)


WorkspaceFile = Annotated[StoredFile, Depends(valid_file)]
