"""Identifiers: ULIDs as 26-character strings, sortable by creation time."""

from ulid import ULID

ID_LENGTH = 26


def new_id() -> str:
    return str(ULID())
