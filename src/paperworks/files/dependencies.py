"""Files' dependencies: the storage, the configuration, and a file of the active workspace."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from paperworks.files import service
from paperworks.files.models import StoredFile
from paperworks.files.storage import Storage
from paperworks.identity.dependencies import ActiveWorkspace
from paperworks.kit.dependencies import SessionDep, SettingsDep


def get_storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


def get_files_config(settings: SettingsDep) -> service.FilesConfig:
    return service.FilesConfig.from_settings(settings)


StorageDep = Annotated[Storage, Depends(get_storage)]
FilesConfigDep = Annotated[service.FilesConfig, Depends(get_files_config)]


async def valid_file(file_id: str, ws: ActiveWorkspace, session: SessionDep) -> StoredFile:
    return await service.get_file(session, workspace_id=ws.workspace.id, file_id=file_id)


WorkspaceFile = Annotated[StoredFile, Depends(valid_file)]
