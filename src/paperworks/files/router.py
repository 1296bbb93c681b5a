"""Files' HTTP surface under /api/v1: upload, list, metadata, content, download links, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, Response, UploadFile, status
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from paperworks.files import exceptions as errors
from paperworks.files import schemas, service
from paperworks.files.dependencies import WorkspaceFile, upload_chunks
from paperworks.files.filenames import content_disposition
from paperworks.files.models import StoredFile
from paperworks.files.purposes import Purpose, UploadPurpose
from paperworks.files.ranges import byte_range
from paperworks.files.storage import Storage
from paperworks.identity.dependencies import CurrentCaller
from paperworks.kit.errors import problem_responses
from paperworks.kit.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from paperworks.kit.security_headers import DOWNLOAD_CSP
from paperworks.services import ServicesDep, SessionDep

router = APIRouter(prefix="/api/v1", tags=["files"])

# A file is served as what it is (the media type found when it was stored): an upload's, a deck's,
# a booklet's, an export's.
_FILE_CONTENT = {"*/*": {"schema": {"type": "string", "format": "binary"}}}
CONTENT_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"description": "The whole file, as its own media type", "content": _FILE_CONTENT},
    206: {"description": "The requested byte range", "content": _FILE_CONTENT},
}


async def _content(request: Request, storage: Storage, record: StoredFile) -> StreamingResponse:
    """The file as an attachment, or the one byte range asked for (206)."""
    etag = f'"{record.sha256}"'
    headers = {
        "Content-Disposition": content_disposition(record.filename),
        "Accept-Ranges": "bytes",
        "ETag": etag,
        "Cache-Control": "private",
        "X-Content-Type-Options": "nosniff",
        # Opened in the browser after all (a PDF viewer, an HTML upload), it runs nothing here.
        "Content-Security-Policy": DOWNLOAD_CSP,
    }
    range_header = request.headers.get("range")
    if request.headers.get("if-range", etag) != etag:
        range_header = None  # the client holds another version: it gets the whole file
    span = byte_range(range_header, record.size)
    start, end = span or (0, record.size)
    if span is not None:
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{record.size}"
    headers["Content-Length"] = str(end - start)
    return StreamingResponse(
        await service.open_content(storage, record, start=start, end=end),
        status_code=status.HTTP_206_PARTIAL_CONTENT if span else status.HTTP_200_OK,
        media_type=record.content_type,
        headers=headers,
    )


@router.post(
    "/files",
    status_code=status.HTTP_201_CREATED,
    summary="Upload a file to the active workspace (multipart `file`, optional `purpose`)",
    responses=problem_responses(
        errors.FileEmpty,
        errors.FileTooLarge,
        errors.UnsupportedFileType,
    ),
    form_limits={"max_files": 1, "max_fields": 10},
)
async def upload_file(
    file: Annotated[UploadFile, File(description="The file; its type is read from its bytes")],
    caller: CurrentCaller,
    session: SessionDep,
    services: ServicesDep,
    purpose: Annotated[
        UploadPurpose,
        Form(
            description="`document`: pdf, xlsx, docx, pptx, csv, text, json; `image`: png, jpeg, "
            "gif, webp"
        ),
    ] = "document",
) -> schemas.FileOut:
    record = await service.store_stream(
        session,
        services.storage,
        caller,
        filename=file.filename,
        chunks=upload_chunks(file),
        purpose=Purpose(purpose),
        max_size=services.files.max_upload_bytes,
    )
    return schemas.FileOut.model_validate(record)


@router.get("/files", summary="Files of the active workspace, oldest first")
async def list_files(
    caller: CurrentCaller,
    session: SessionDep,
    purpose: Purpose | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[schemas.FileOut]:
    records, next_cursor = await service.list_files(
        session, caller, purpose=purpose, limit=limit, cursor=cursor
    )
    return Page(
        items=[schemas.FileOut.model_validate(record) for record in records],
        next_cursor=next_cursor,
    )


@router.get(
    "/files/{file_id}",
    summary="A file's metadata",
    responses=problem_responses(errors.FileNotFound),
)
async def get_file(record: WorkspaceFile) -> schemas.FileOut:
    return schemas.FileOut.model_validate(record)


@router.get(
    "/files/{file_id}/content",
    summary="A file's content, as an attachment; one byte range with `Range: bytes=a-b`",
    response_class=StreamingResponse,
    responses={
        **CONTENT_RESPONSES,
        **problem_responses(errors.FileNotFound, errors.RangeNotSatisfiable),
    },
)
async def get_file_content(
    record: WorkspaceFile, request: Request, services: ServicesDep
) -> StreamingResponse:
    return await _content(request, services.storage, record)


@router.get(
    "/files/{file_id}/download-url",
    summary="A link to the content that works without signing in, until `expiresAt`",
    responses=problem_responses(errors.FileNotFound),
)
async def get_download_url(record: WorkspaceFile, services: ServicesDep) -> schemas.DownloadUrl:
    url, expires_at = await service.download_url(services.files, services.storage, record)
    return schemas.DownloadUrl(url=url, expires_at=expires_at)


@router.get(
    "/downloads/{token}",
    summary="A file's content through a signed link (no authentication)",
    response_class=StreamingResponse,
    responses={
        **CONTENT_RESPONSES,
        **problem_responses(
            errors.InvalidDownloadSignature, errors.FileNotFound, errors.RangeNotSatisfiable
        ),
    },
)
async def download(
    token: str,
    request: Request,
    session: SessionDep,
    services: ServicesDep,
) -> StreamingResponse:
    record = await service.file_for_download(session, services.files, token)
    return await _content(request, services.storage, record)


@router.delete(
    "/files/{file_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a file and its content",
    responses=problem_responses(errors.FileNotFound),
)
async def delete_file(
    record: WorkspaceFile, session: SessionDep, services: ServicesDep, caller: CurrentCaller
) -> Response:
    await service.delete_file(session, record, actor=caller)
    # A background task runs after the response is sent, so after the request's commit: the
    # bytes go only once the row is gone for good.
    return Response(
        status_code=status.HTTP_204_NO_CONTENT,
        background=BackgroundTask(services.storage.delete, record.storage_key),
    )
