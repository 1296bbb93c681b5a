"""Keyset pagination: `?limit=&cursor=` in, `{items, nextCursor}` out, ordered by id.

Ids are ULIDs, so id order is creation order and a cursor (the last id seen) stays valid while rows
are added or removed, unlike an offset.
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import Field
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from paperworks.kit.schemas import ApiModel

T = TypeVar("T")

Limit = Annotated[int, Query(ge=1, le=100, description="Items per page")]
Cursor = Annotated[
    str | None, Query(max_length=64, description="`nextCursor` of the previous page")
]
DEFAULT_LIMIT = 50


class Page(ApiModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end"
    )


async def fetch_page(
    session: AsyncSession,
    query: Select[*tuple[Any, ...]],
    id_column: InstrumentedAttribute[str],
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[Any], str | None]:
    """One page of `query` after `cursor`, and the cursor of the next page (None at the end).

    Rows come back as the query selects them: one entity per row gives the entities, several
    give tuples.
    """
    if cursor:
        query = query.where(id_column > cursor)
    query = query.add_columns(id_column.label("page_cursor")).order_by(id_column).limit(limit + 1)
    rows = (await session.execute(query)).all()
    next_cursor = str(rows[limit - 1].page_cursor) if len(rows) > limit else None
    items = [row[0] if len(row) == 2 else tuple(row[:-1]) for row in rows[:limit]]
    return items, next_cursor
