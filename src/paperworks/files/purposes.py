"""What a file is for decides which types it may be. One size cap (`MAX_UPLOAD_BYTES`) applies to
uploads of every purpose."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from paperworks.files import sniffing


class Purpose(StrEnum):
    document = "document"  # inputs to read: extraction, booklets
    image = "image"  # pictures for decks and booklets
    output = "output"  # what a product made (a deck, an export)
    booklet = "booklet"  # a booklet PDF, listed apart from other outputs (`?purpose=booklet`)
    # A document uploaded to extract tables from (`POST /documents`), listed apart from other
    # documents (`?purpose=extraction`): only what the extraction engines read.
    extraction = "extraction"


UploadPurpose = Literal["document", "image"]
"""The purposes a client may upload for; `output` is written only by products."""

ALLOWED_TYPES: dict[Purpose, frozenset[str]] = {
    Purpose.document: frozenset(
        {
            sniffing.PDF,
            sniffing.XLSX,
            sniffing.CSV,
            sniffing.TEXT,
            sniffing.JSON,
            sniffing.DOCX,
            sniffing.PPTX,
        }
    ),
    Purpose.image: frozenset({sniffing.PNG, sniffing.JPEG, sniffing.GIF, sniffing.WEBP}),
    Purpose.output: sniffing.KNOWN_TYPES,
    Purpose.booklet: frozenset({sniffing.PDF}),
    Purpose.extraction: frozenset({sniffing.PDF, sniffing.XLSX, sniffing.CSV}),
}
