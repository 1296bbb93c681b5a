"""A page's configuration checked against its file when it is saved: pure, bytes in, an
`EngineError` out when the file cannot serve the page (with the valid choices where known)."""

from __future__ import annotations

from collections.abc import Mapping

from paperworks.booklets.engine_errors import UnknownField, UnknownSheet
from paperworks.booklets.excel_render import check_sheet_fits, sheet_names
from paperworks.booklets.field_templates import template_attributes
from paperworks.booklets.page_ranges import parse_page_ranges
from paperworks.booklets.pdf_forms import read_fields
from paperworks.booklets.pdf_inputs import open_pdf


def check_pdf_page(data: bytes, pages: str | None, fields: Mapping[str, str] | None) -> None:
    """The PDF opens, has the pages asked for and, for a form, every field the mapping names;
    each template compiles."""
    with open_pdf(data) as pdf:
        page_count = len(pdf.pages)
    parse_page_ranges(pages, page_count)
    if not fields:
        return
    names = sorted(field.name for field in read_fields(data))
    unknown = sorted(set(fields) - set(names))
    if unknown:
        raise UnknownField(
            f"The form has no field {', '.join(map(repr, unknown))}"
            + ("; it has no fields at all." if not names else "."),
            choices=names,
        )
    for template in fields.values():
        template_attributes(template)


def check_sheet(data: bytes, sheet: str, cell_range: str | None) -> None:
    """The workbook has the sheet, and the sheet (or its range) fits in a booklet's pages."""
    names = sheet_names(data)
    if sheet not in names:
        raise UnknownSheet(f"The workbook has no sheet {sheet!r}.", choices=names)
    check_sheet_fits(data, sheet, cell_range=cell_range)
