"""FastAPI dependencies every domain uses, as `Annotated` aliases that read well in a route."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from paperworks.kit.db import Database
from paperworks.settings import Settings


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: committed once when the route returns, rolled back on error."""
    db: Database = request.app.state.db
    async with db.session_scope() as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
# scope="function": commit before the response is sent, so a client never sees a success that
# the database then refuses.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
