"""LocalStorage's own layout: an object is a file under the root, one folder per workspace,
written beside its target and renamed over it. (What every storage promises is in
test_storage_contract.py, run on this backend too.)"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import pytest

from paperworks.files.storage import LocalStorage
from tests.files.conftest import chunks_of


def files_under(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "files")


async def test_an_object_is_a_file_under_the_root_one_folder_per_workspace(
    storage: LocalStorage, tmp_path: Path
) -> None:
    await storage.write("ws1/a", chunks_of(b"one"))
    await storage.write("ws2/a", chunks_of(b"two"))
    assert storage.path("ws1/a") == tmp_path / "files" / "ws1" / "a"
    assert (tmp_path / "files" / "ws1" / "a").read_bytes() == b"one"
    assert files_under(storage.root) == ["ws1/a", "ws2/a"]


async def test_a_write_is_a_hidden_file_beside_its_target_until_it_is_renamed_over_it(
    storage: LocalStorage,
) -> None:
    await storage.write("ws/a", chunks_of(b"old"))
    during: list[list[str]] = []

    def look(file: BinaryIO) -> None:
        during.append(files_under(storage.root))

    await storage.write("ws/a", chunks_of(b"new"), check=look)
    (seen,) = during
    assert "ws/a" in seen  # the old object, readable all along
    (temporary,) = [name for name in seen if name != "ws/a"]
    assert temporary.startswith("ws/.a.")
    assert temporary.endswith(".part")
    assert storage.path("ws/a").read_bytes() == b"new"
    assert files_under(storage.root) == ["ws/a"]


def test_a_relative_root_is_made_absolute(tmp_path: Path) -> None:
    # The tests run in tmp_path; a server's working directory may change after start.
    assert LocalStorage(Path("files")).root == tmp_path / "files"
