"""Small but real files of every type we accept, built in memory."""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile
import zlib

import openpyxl


def pdf() -> bytes:
    """A one-page PDF with a correct cross-reference table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 72 72] >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png() -> bytes:
    """A 1x1 red pixel."""
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 8-bit RGB
    pixels = zlib.compress(b"\x00\xff\x00\x00")  # filter byte, then R G B
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", pixels)
        + _png_chunk(b"IEND", b"")
    )


def jpeg() -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\xff\xd9"


def gif() -> bytes:
    return b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"


def webp() -> bytes:
    body = b"WEBPVP8 " + struct.pack("<I", 0)
    return b"RIFF" + struct.pack("<I", len(body)) + body


CONTENT_TYPES_XML = (
    b'<?xml version="1.0"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
)


def ooxml(folder: str, *, content_types_last: bool = False, padding: int = 0) -> bytes:
    """An Office Open XML package: `[Content_Types].xml` and a part under `folder` (`xl`, `word`,
    `ppt`). `content_types_last` writes it at the end, as openpyxl does; `padding` puts an
    incompressible entry first, so the names lie beyond the first bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if padding:
            archive.writestr("docProps/thumbnail.bin", _random_bytes(padding))
        if not content_types_last:
            archive.writestr("[Content_Types].xml", CONTENT_TYPES_XML)
        main = {"xl": "workbook.xml", "word": "document.xml", "ppt": "presentation.xml"}[folder]
        archive.writestr(f"{folder}/{main}", b"<?xml version='1.0'?><root/>")
        if content_types_last:
            archive.writestr("[Content_Types].xml", CONTENT_TYPES_XML)
    return buffer.getvalue()


def xlsx(*, content_types_last: bool = False, padding: int = 0) -> bytes:
    return ooxml("xl", content_types_last=content_types_last, padding=padding)


def docx() -> bytes:
    return ooxml("word")


def pptx() -> bytes:
    return ooxml("ppt")


def plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "hello")
    return buffer.getvalue()


def _random_bytes(size: int) -> bytes:
    # Deterministic and incompressible: a hash chain.
    out = bytearray()
    block = b"seed"
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:size])


CSV = b"name,amount\nAnna,12.50\nBob,7\n"
# What Excel saves as "CSV" on a German Windows: Windows-1252, semicolons, decimal commas.
CSV_CP1252 = "Straße;Betrag\nMüller;€ 12,50\nBöhm;7\n".encode("cp1252")
TEXT = "Grüße aus Praha\n".encode()
JSON = b'{"hello": ["world"]}\n'


def xlsx_with_billion_laughs() -> bytes:
    """A workbook (sheet `Data`) whose sheet XML declares nine levels of entities, each ten of
    the level below: `&lol9;` expands to a billion "lol"s (3 GB) in a parser that expands them."""
    workbook = openpyxl.Workbook()
    workbook.active.title = "Data"
    buffer = io.BytesIO()
    workbook.save(buffer)
    levels = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)
    ]
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<!DOCTYPE worksheet [{''.join(levels)}]>"
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
        "</sheetData></worksheet>"
    ).encode()
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        for info in source.infolist():
            body = sheet if info.filename == "xl/worksheets/sheet1.xml" else source.read(info)
            archive.writestr(info, body)
    return out.getvalue()
