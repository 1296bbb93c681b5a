"""What the booklets tests share: PDFs and workbooks made on the spot, the real forms beside this
file, and uploading them."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx
import openpyxl
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

FORMS = Path(__file__).with_name("forms")
API = "/api/v1"


def make_pdf(*pages: str) -> bytes:
    """A PDF with one page per string, each page showing its string."""
    buffer = io.BytesIO()
    drawing = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    for text in pages:
        drawing.setFont("Helvetica", 18)
        drawing.drawString(72, 760, text)
        drawing.showPage()
    drawing.save()
    return buffer.getvalue()


def make_xlsx(sheets: dict[str, list[list[Any]]]) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def form(name: str) -> bytes:
    return (FORMS / name).read_bytes()


async def upload(
    client: httpx.AsyncClient, headers: dict[str, str], filename: str, data: bytes
) -> str:
    response = await client.post(
        f"{API}/files",
        files={"file": (filename, data, "application/octet-stream")},
        data={"purpose": "document"},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    file_id: str = response.json()["id"]
    return file_id
