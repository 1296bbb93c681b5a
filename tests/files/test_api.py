"""Files over HTTP: upload, metadata, content, ranges, signed links, delete; on both databases."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from paperworks.files import sniffing
from paperworks.files.signing import sign_download
from paperworks.kit.db import Database
from paperworks.kit.logging import MASK, configure_logging
from paperworks.settings import Settings
from tests.accounts import Account, add_member
from tests.conftest import TEST_SECRET
from tests.files import samples
from tests.files.conftest import API, count_rows, stored_paths, upload, uploaded
from tests.problems import assert_problem


def names_under(root: Path) -> set[str]:
    return {path.name for path in root.rglob("*")}


ACCEPTED = [
    ("report.pdf", samples.pdf(), "document", sniffing.PDF),
    ("sheet.xlsx", samples.xlsx(), "document", sniffing.XLSX),
    ("letter.docx", samples.docx(), "document", sniffing.DOCX),
    ("slides.pptx", samples.pptx(), "document", sniffing.PPTX),
    ("amounts.csv", samples.CSV, "document", sniffing.CSV),
    ("umlaute.csv", samples.CSV_CP1252, "document", sniffing.CSV),  # Windows-1252 CSV
    ("notes.txt", samples.TEXT, "document", sniffing.TEXT),
    ("data.json", samples.JSON, "document", sniffing.JSON),
    ("pixel.png", samples.png(), "image", sniffing.PNG),
    ("photo.jpg", samples.jpeg(), "image", sniffing.JPEG),
    ("anim.gif", samples.gif(), "image", sniffing.GIF),
    ("modern.webp", samples.webp(), "image", sniffing.WEBP),
]


@pytest.mark.parametrize(("filename", "data", "purpose", "content_type"), ACCEPTED)
async def test_an_upload_is_typed_from_its_bytes_and_comes_back_unchanged(
    client: httpx.AsyncClient,
    anna: Account,
    filename: str,
    data: bytes,
    purpose: str,
    content_type: str,
) -> None:
    # The client's claimed type is ignored: the bytes decide.
    response = await upload(client, anna.headers, filename, data, purpose=purpose)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["filename"] == filename
    assert body["contentType"] == content_type
    assert body["size"] == len(data)
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["purpose"] == purpose
    assert body["createdAt"].endswith("Z")
    assert set(body) == {"id", "filename", "contentType", "size", "sha256", "purpose", "createdAt"}

    meta = await client.get(f"{API}/files/{body['id']}", headers=anna.headers)
    assert meta.status_code == 200
    assert meta.json() == body

    content = await client.get(f"{API}/files/{body['id']}/content", headers=anna.headers)
    assert content.status_code == 200
    assert content.content == data
    assert content.headers["content-type"].split(";")[0] == content_type
    assert content.headers["content-length"] == str(len(data))
    assert content.headers["content-disposition"] == (
        f"attachment; filename=\"{filename}\"; filename*=UTF-8''{filename}"
    )
    assert content.headers["x-content-type-options"] == "nosniff"
    assert content.headers["accept-ranges"] == "bytes"


async def test_the_default_purpose_is_document(client: httpx.AsyncClient, anna: Account) -> None:
    body = await uploaded(client, anna.headers, "report.pdf", samples.pdf())
    assert body["purpose"] == "document"


async def test_a_large_upload_streams_through_in_chunks(
    client: httpx.AsyncClient, anna: Account
) -> None:
    data = b"".join(b"%06d,row number %d\n" % (n, n) for n in range(40_000))  # ~900 KB
    body = await uploaded(client, anna.headers, "big.csv", data)
    assert body["size"] == len(data)
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    content = await client.get(f"{API}/files/{body['id']}/content", headers=anna.headers)
    assert content.content == data
    assert content.headers["content-type"] == "text/csv; charset=utf-8"


async def test_files_live_under_their_workspace_directory(
    client: httpx.AsyncClient, anna: Account, bob: Account, settings: Settings
) -> None:
    mine = await uploaded(client, anna.headers, "a.pdf", samples.pdf())
    theirs = await uploaded(client, bob.headers, "b.pdf", samples.pdf())
    root = settings.data_dir / "files"
    assert stored_paths(settings) == sorted(
        [
            root / anna.personal_workspace_id / mine["id"],
            root / bob.personal_workspace_id / theirs["id"],
        ]
    )


async def test_a_path_as_a_filename_is_stored_as_its_last_part(
    client: httpx.AsyncClient, anna: Account, settings: Settings, tmp_path: Path
) -> None:
    body = await uploaded(client, anna.headers, "../../etc/passwd", b"root:x:0:0::/root:/bin/sh\n")
    assert body["filename"] == "passwd"
    assert body["contentType"] == sniffing.TEXT
    # The bytes are where every file goes, named by id; nothing was written anywhere else.
    (path,) = stored_paths(settings)
    assert path == settings.data_dir / "files" / anna.personal_workspace_id / body["id"]
    assert "passwd" not in names_under(tmp_path)
    content = await client.get(f"{API}/files/{body['id']}/content", headers=anna.headers)
    assert content.headers["content-disposition"].endswith("filename*=UTF-8''passwd")


async def test_control_characters_and_unicode_in_names(
    client: httpx.AsyncClient, anna: Account
) -> None:
    # Built by hand: httpx would percent-encode the control characters for us.
    boundary = "pw-boundary"
    raw_name = "Zprávy\u202e\x01\t2024.csv".encode()
    payload = (
        f"--{boundary}\r\n".encode()
        + b'Content-Disposition: form-data; name="file"; filename="'
        + raw_name
        + b'"\r\n'
        + b"Content-Type: text/csv\r\n\r\n"
        + samples.CSV
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = await client.post(
        f"{API}/files",
        content=payload,
        headers={**anna.headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["filename"] == "Zprávy 2024.csv"
    content = await client.get(f"{API}/files/{body['id']}/content", headers=anna.headers)
    assert content.headers["content-disposition"] == (
        "attachment; filename=\"Zpr_vy 2024.csv\"; filename*=UTF-8''Zpr%C3%A1vy%202024.csv"
    )


# --- refused uploads change nothing -------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "data", "purpose", "code"),
    [
        ("pixel.png", samples.png(), "document", "file.unsupported_type"),
        ("report.pdf", samples.pdf(), "image", "file.unsupported_type"),
        ("notes.txt", samples.TEXT, "image", "file.unsupported_type"),
        ("bundle.zip", samples.plain_zip(), "document", "file.unsupported_type"),
        ("program.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", "document", "file.unsupported_type"),
        ("blob", bytes(range(256)), "document", "file.unsupported_type"),
        ("report.png", samples.pdf(), "document", "file.extension_mismatch"),
        ("report.png", samples.pdf(), "image", "file.extension_mismatch"),
        ("page.html", samples.pdf(), "document", "file.extension_mismatch"),
        ("sheet.docx", samples.xlsx(), "document", "file.extension_mismatch"),
        ("data.json", samples.CSV, "document", "file.extension_mismatch"),
        ("photo.png", samples.jpeg(), "image", "file.extension_mismatch"),
        # Text that is not UTF-8 is taken as CSV only, and only where CSV is.
        ("umlaute.txt", samples.CSV_CP1252, "document", "file.unsupported_type"),
        ("umlaute", samples.CSV_CP1252, "document", "file.unsupported_type"),
        ("umlaute.csv", samples.CSV_CP1252, "image", "file.unsupported_type"),
        ("wide.csv", "name,amount\nAnna,1\n".encode("utf-16"), "document", "file.unsupported_type"),
    ],
)
async def test_a_type_the_purpose_or_the_name_does_not_allow_is_a_415(
    client: httpx.AsyncClient,
    anna: Account,
    settings: Settings,
    db: Database,
    filename: str,
    data: bytes,
    purpose: str,
    code: str,
) -> None:
    response = await upload(client, anna.headers, filename, data, purpose=purpose)
    assert_problem(response, 415, code)
    assert stored_paths(settings) == []
    assert await count_rows(db) == 0


async def test_an_empty_file_is_a_422(
    client: httpx.AsyncClient, anna: Account, settings: Settings, db: Database
) -> None:
    response = await upload(client, anna.headers, "empty.pdf", b"")
    assert_problem(response, 422, "file.empty")
    assert stored_paths(settings) == []
    assert await count_rows(db) == 0


@pytest.mark.parametrize("purpose", ["output", "avatar", "DOCUMENT"])
async def test_only_document_and_image_may_be_uploaded(
    client: httpx.AsyncClient, anna: Account, purpose: str
) -> None:
    response = await upload(client, anna.headers, "report.pdf", samples.pdf(), purpose=purpose)
    assert_problem(response, 422, "request.validation_failed")
    assert response.json()["errors"][0]["field"] == "purpose"


async def test_an_upload_without_a_file_is_a_422(client: httpx.AsyncClient, anna: Account) -> None:
    response = await client.post(f"{API}/files", data={"purpose": "document"}, headers=anna.headers)
    assert_problem(response, 422, "request.validation_failed")


async def test_one_file_per_upload(client: httpx.AsyncClient, anna: Account) -> None:
    response = await client.post(
        f"{API}/files",
        files=[("file", ("a.pdf", samples.pdf())), ("file", ("b.pdf", samples.pdf()))],
        headers=anna.headers,
    )
    assert_problem(response, 400, "request.bad_request")


async def test_uploading_needs_a_signed_in_caller(client: httpx.AsyncClient) -> None:
    response = await upload(client, {}, "report.pdf", samples.pdf())
    assert_problem(response, 401, "auth.unauthenticated")


# --- ranges -------------------------------------------------------------------------------------


async def test_a_byte_range_is_a_206(client: httpx.AsyncClient, anna: Account) -> None:
    data = samples.pdf()
    body = await uploaded(client, anna.headers, "report.pdf", data)
    url = f"{API}/files/{body['id']}/content"

    part = await client.get(url, headers={**anna.headers, "Range": "bytes=5-14"})
    assert part.status_code == 206
    assert part.content == data[5:15]
    assert part.headers["content-range"] == f"bytes 5-14/{len(data)}"
    assert part.headers["content-length"] == "10"

    tail = await client.get(url, headers={**anna.headers, "Range": "bytes=-6"})
    assert tail.status_code == 206
    assert tail.content == data[-6:] == b"%%EOF\n"

    rest = await client.get(url, headers={**anna.headers, "Range": f"bytes={len(data) - 3}-"})
    assert rest.content == data[-3:]


async def test_a_range_past_the_end_is_a_416(client: httpx.AsyncClient, anna: Account) -> None:
    data = samples.pdf()
    body = await uploaded(client, anna.headers, "report.pdf", data)
    response = await client.get(
        f"{API}/files/{body['id']}/content",
        headers={**anna.headers, "Range": f"bytes={len(data)}-"},
    )
    assert_problem(response, 416, "file.range_not_satisfiable")
    assert response.headers["content-range"] == f"bytes */{len(data)}"


async def test_ranges_we_do_not_serve_get_the_whole_file(
    client: httpx.AsyncClient, anna: Account
) -> None:
    data = samples.pdf()
    body = await uploaded(client, anna.headers, "report.pdf", data)
    url = f"{API}/files/{body['id']}/content"
    for range_header in ("bytes=0-1,4-5", "pages=1-2", "bytes=9-3"):
        response = await client.get(url, headers={**anna.headers, "Range": range_header})
        assert response.status_code == 200, range_header
        assert response.content == data


async def test_if_range_with_another_version_gets_the_whole_file(
    client: httpx.AsyncClient, anna: Account
) -> None:
    data = samples.pdf()
    body = await uploaded(client, anna.headers, "report.pdf", data)
    url = f"{API}/files/{body['id']}/content"
    current = f'"{body["sha256"]}"'
    same = await client.get(
        url, headers={**anna.headers, "Range": "bytes=0-3", "If-Range": current}
    )
    assert same.status_code == 206
    assert same.headers["etag"] == current
    other = await client.get(url, headers={**anna.headers, "Range": "bytes=0-3", "If-Range": '"x"'})
    assert other.status_code == 200
    assert other.content == data


# --- signed download links ----------------------------------------------------------------------


async def test_a_download_url_works_without_signing_in(
    client: httpx.AsyncClient, anna: Account, settings: Settings
) -> None:
    data = samples.png()
    body = await uploaded(client, anna.headers, "pixel.png", data, purpose="image")
    before = datetime.now(UTC)
    response = await client.get(f"{API}/files/{body['id']}/download-url", headers=anna.headers)
    assert response.status_code == 200
    link = response.json()
    assert link["url"].startswith(f"{settings.public_url}/api/v1/downloads/")
    expires_at = datetime.fromisoformat(link["expiresAt"])
    ttl = timedelta(seconds=settings.signed_url_ttl_seconds)
    assert before + ttl - timedelta(seconds=2) <= expires_at <= before + ttl + timedelta(seconds=2)

    path = urlsplit(link["url"]).path
    download = await client.get(path)  # no credentials at all
    assert download.status_code == 200
    assert download.content == data
    assert download.headers["content-type"] == "image/png"
    assert download.headers["content-disposition"].startswith("attachment;")

    part = await client.get(path, headers={"Range": "bytes=0-7"})
    assert part.status_code == 206
    assert part.content == data[:8]


async def test_a_tampered_download_link_is_a_403(client: httpx.AsyncClient, anna: Account) -> None:
    mine = await uploaded(client, anna.headers, "report.pdf", samples.pdf())
    other = await uploaded(client, anna.headers, "other.pdf", samples.pdf())
    link = (await client.get(f"{API}/files/{mine['id']}/download-url", headers=anna.headers)).json()
    token = urlsplit(link["url"]).path.rsplit("/", 1)[1]
    file_id, expires, signature = token.split(".")
    flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    for forged in (
        f"{file_id}.{expires}.{flipped}",  # signature altered
        f"{other['id']}.{expires}.{signature}",  # pointed at another file
        f"{file_id}.{int(expires) + 3600}.{signature}",  # expiry pushed back
        "not-a-token",
    ):
        response = await client.get(f"{API}/downloads/{forged}")
        assert_problem(response, 403, "download.invalid_signature")


async def test_an_expired_download_link_is_a_403(client: httpx.AsyncClient, anna: Account) -> None:
    body = await uploaded(client, anna.headers, "report.pdf", samples.pdf())
    token = sign_download(TEST_SECRET, body["id"], datetime.now(UTC) - timedelta(seconds=1))
    response = await client.get(f"{API}/downloads/{token}")
    assert_problem(response, 403, "download.invalid_signature")
    assert "expired" in response.json()["detail"]


async def test_a_download_link_to_a_deleted_file_is_a_404(
    client: httpx.AsyncClient, anna: Account
) -> None:
    body = await uploaded(client, anna.headers, "report.pdf", samples.pdf())
    link = (await client.get(f"{API}/files/{body['id']}/download-url", headers=anna.headers)).json()
    assert (
        await client.delete(f"{API}/files/{body['id']}", headers=anna.headers)
    ).status_code == 204
    response = await client.get(urlsplit(link["url"]).path)
    assert_problem(response, 404, "file.not_found")


# --- delete -------------------------------------------------------------------------------------


async def test_delete_removes_the_row_and_the_bytes(
    client: httpx.AsyncClient, anna: Account, settings: Settings, db: Database
) -> None:
    body = await uploaded(client, anna.headers, "report.pdf", samples.pdf())
    kept = await uploaded(client, anna.headers, "kept.pdf", samples.pdf())
    response = await client.delete(f"{API}/files/{body['id']}", headers=anna.headers)
    assert response.status_code == 204
    assert response.content == b""
    assert [path.name for path in stored_paths(settings)] == [kept["id"]]
    assert await count_rows(db) == 1
    for route in ("", "/content", "/download-url"):
        gone = await client.get(f"{API}/files/{body['id']}{route}", headers=anna.headers)
        assert_problem(gone, 404, "file.not_found")
    again = await client.delete(f"{API}/files/{body['id']}", headers=anna.headers)
    assert_problem(again, 404, "file.not_found")


# --- tenancy ------------------------------------------------------------------------------------


async def test_another_workspaces_file_is_a_404_on_every_route(
    client: httpx.AsyncClient, anna: Account, bob: Account, settings: Settings
) -> None:
    body = await uploaded(client, anna.headers, "report.pdf", samples.pdf())
    file_url = f"{API}/files/{body['id']}"
    for method, url in (
        ("GET", file_url),
        ("GET", f"{file_url}/content"),
        ("GET", f"{file_url}/download-url"),
        ("DELETE", file_url),
    ):
        response = await client.request(method, url, headers=bob.headers)
        assert_problem(response, 404, "file.not_found")
        # Naming anna's workspace does not help: bob is not in it.
        response = await client.request(
            method, url, headers=bob.in_workspace(anna.personal_workspace_id)
        )
        assert_problem(response, 404, "workspace.not_found")
    # Still there for anna, bytes and all.
    assert len(stored_paths(settings)) == 1
    content = await client.get(f"{file_url}/content", headers=anna.headers)
    assert content.content == samples.pdf()


async def test_members_of_a_shared_workspace_share_its_files(
    client: httpx.AsyncClient, db: Database, anna: Account, bob: Account
) -> None:
    response = await client.post(f"{API}/workspaces", json={"name": "Team"}, headers=anna.headers)
    team = response.json()["id"]
    await add_member(db, team, bob.email)
    body = await uploaded(client, anna.in_workspace(team), "team.csv", samples.CSV)

    seen = await client.get(f"{API}/files/{body['id']}", headers=bob.in_workspace(team))
    assert seen.status_code == 200
    # ... but not from bob's personal workspace, which is the default.
    assert_problem(
        await client.get(f"{API}/files/{body['id']}", headers=bob.headers), 404, "file.not_found"
    )


async def test_download_tokens_never_reach_the_logs(
    client: httpx.AsyncClient, anna: Account
) -> None:
    body = await uploaded(client, anna.headers, "report.pdf", samples.pdf())
    link = (await client.get(f"{API}/files/{body['id']}/download-url", headers=anna.headers)).json()
    path = urlsplit(link["url"]).path
    token = path.rsplit("/", 1)[1]
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    try:
        assert (await client.get(path)).status_code == 200
    finally:
        configure_logging("WARNING", "json")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["path"] for line in lines if line["event"] == "request"] == [
        f"/api/v1/downloads/{MASK}"
    ]
    assert token not in stream.getvalue()
