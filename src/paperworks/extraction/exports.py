"""Shaped tables → files a user downloads: CSV, XLSX, JSON, and a ZIP of CSVs. Pure: tables in,
bytes out (no database, no storage); the router stores the bytes and signs the links.

Choices a user can notice:
- **CSV** is UTF-8 with a BOM (so Excel picks the encoding), comma separated, `\\r\\n` line ends
  (RFC 4180), quoting only where needed; the header row, then the records in header order; None
  is an empty field; numbers are written as the shaped values hold them (`1234.50`, ISO dates).
- **XLSX** has one sheet per table, the header bold and frozen with a filter on it, and typed
  cells when the column types are given (`types`, from the configuration; see
  `column_types`): integers and decimals/currency as numbers (a number format with as many
  decimals as the column's values have), percent as a percent format, dates as real dates
  (`yyyy-mm-dd`, or with the time of day). A decimal's digits go into the file as written, not
  through a float. A number with more than 15 significant digits, which Excel would round, and
  a date-time with a time zone, which Excel cannot hold, stay text. Without `types`, integers are
  numbers (only integer columns make them) and every string is text.
- **Sheet names** are the workbook's sheet name for tables from a workbook, else
  `Page 3 Table 1`; made safe for Excel: no `[]:*?/\\`, no leading/trailing apostrophe, at most
  31 characters, unique ignoring case (`Name (2)`).
- **Formula injection** (OWASP "CSV injection"): a text cell starting with `=`, `+`, `-`, `@`,
  a tab or a carriage return gets a single quote in front in CSV; in XLSX it is written as a
  text string (never a formula) with Excel's own "quote prefix" flag, so the value is unchanged
  and Excel still shows it as text after an edit. A value that is only a plain number
  (`-12.50`) is not escaped: it is a number, not a formula. Headers are escaped like cells.
- **XLSX limits**: characters XML cannot carry (control characters other than tab and line
  ends) are dropped, and a text longer than Excel's 32,767 characters is cut with `…`.
- **JSON** (`to_json`, format version 1), UTF-8, keys in camelCase like the API::

      {"format": "paperworks.tables", "version": 1,
       "tables": [{"page": 1, "pages": [1, 2], "index": 0, "sheet": null,
                   "header": ["Date", "Amount"],
                   "columns": [{"key": "Date", "type": "date"}, ...],
                   "rows": [{"Date": "2026-03-31", "Amount": "-12.50"}, ...],
                   "rowSources": [{"page": 1, "index": 0, "row": 1}, ...],
                   "mapping": [{"column": "Amount", "sourceCol": 2, "sourceHeader": "Betrag",
                                "method": "alias", "score": 100.0, "key": "Amount"}, ...],
                   "issues": [{"code": "unparsed_number", "message": "...",
                               "row": 3, "col": 2}, ...]}]}

  `columns[].type` is the configured type, or null for a kept unmapped column (text) and when
  no types are given; values are the shaped values unchanged (decimals as strings).
- **ZIP of CSVs**: file names made safe for every OS (no path parts, no reserved characters or
  device names, at most 100 characters, ending in `.csv`) and unique ignoring case.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
import zipfile
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

from paperworks.extraction.settings_model import ColumnType, ExtractionSettings
from paperworks.extraction.shaping import JsonValue, Shaped

JSON_FORMAT = "paperworks.tables"
JSON_VERSION = 1

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")

SHEET_NAME_MAX = 31
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
EXCEL_TEXT_MAX = 32_767
EXCEL_DIGITS = 15
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
MIN_WIDTH = 8
MAX_WIDTH = 60
WIDTH_SAMPLE_ROWS = 1_000
MAX_DECIMALS = 10

FILE_NAME_MAX = 100
_FILE_FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_WINDOWS_DEVICES = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"COM{n}" for n in range(1, 10)),
    *(f"LPT{n}" for n in range(1, 10)),
}

_NUMERIC = {ColumnType.integer, ColumnType.decimal, ColumnType.currency, ColumnType.percent}


def column_types(settings: ExtractionSettings) -> dict[str, ColumnType]:
    """Record key → configured type, the `types` the XLSX and JSON exports take."""
    return {column.name: column.type for column in settings.columns}


def table_label(shaped: Shaped) -> str:
    """A table's human name: its workbook sheet, else `Page 3 Table 1`."""
    if shaped.sheet:
        return shaped.sheet
    return f"Page {shaped.page} Table {shaped.index + 1}"


# --- CSV ---


def escape_formula(text: str) -> str:
    """`text` with a single quote in front when a spreadsheet could read it as a formula."""
    if text.startswith(FORMULA_PREFIXES) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def _csv_field(value: JsonValue) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return escape_formula(value)
    return str(value)


def to_csv(shaped: Shaped) -> bytes:
    """One table as CSV: UTF-8 with a BOM, the header row then the records in header order."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([escape_formula(key) for key in shaped.header])
    for record in shaped.rows:
        writer.writerow([_csv_field(record.get(key)) for key in shaped.header])
    return out.getvalue().encode("utf-8-sig")


# --- ZIP of CSVs ---


def safe_file_name(name: str, suffix: str = ".csv") -> str:
    """`name` as a file name every OS and unzip tool takes, ending in `suffix`."""
    base = unicodedata.normalize("NFC", name).replace("/", "_").replace("\\", "_")
    base = _FILE_FORBIDDEN.sub("_", base).strip().strip(".").strip()
    if base.lower().endswith(suffix.lower()):
        base = base[: -len(suffix)].rstrip(" .")
    if not base:
        base = "table"
    if base.split(".")[0].upper() in _WINDOWS_DEVICES:
        base = "_" + base
    return base[: FILE_NAME_MAX - len(suffix)].rstrip(" .") + suffix


def _unique(name: str, taken: set[str], limit: int, suffix: str = "") -> str:
    """`name` (which ends in `suffix`), or `stem (2)` and up, not in `taken` ignoring case."""
    stem = name[: len(name) - len(suffix)] if suffix else name
    candidate, n = name, 2
    while candidate.casefold() in taken:
        mark = f" ({n})"
        candidate = stem[: limit - len(mark) - len(suffix)].rstrip() + mark + suffix
        n += 1
    taken.add(candidate.casefold())
    return candidate


def zip_csvs(named: Sequence[tuple[str, bytes]], *, modified: datetime | None = None) -> bytes:
    """A ZIP holding each `(name, csv bytes)` under a safe, unique file name (in order);
    `modified` is the files' time in the archive (now, UTC, by default)."""
    when = (modified or datetime.now(UTC)).timetuple()[:6]
    stamp = max(when, (1980, 1, 1, 0, 0, 0))
    out = io.BytesIO()
    taken: set[str] = set()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in named:
            file_name = _unique(safe_file_name(name), taken, FILE_NAME_MAX, ".csv")
            info = zipfile.ZipInfo(file_name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return out.getvalue()


# --- XLSX ---


def safe_sheet_name(name: str) -> str:
    """`name` as Excel takes a sheet name (not yet unique): no `[]:*?/\\`, no apostrophe at
    either end, 1 to 31 characters."""
    cleaned = _XML_ILLEGAL.sub("", _SHEET_FORBIDDEN.sub("_", name))
    cleaned = " ".join(cleaned.split()).strip("'").strip()
    cleaned = cleaned[:SHEET_NAME_MAX].rstrip().rstrip("'")
    if not cleaned or cleaned.casefold() == "history":  # "History" is reserved by Excel
        cleaned = (cleaned + " table").strip() if cleaned else "Table"
    return cleaned


def _excel_text(text: str) -> str:
    text = _XML_ILLEGAL.sub("", text)
    if len(text) > EXCEL_TEXT_MAX:
        text = text[: EXCEL_TEXT_MAX - 1] + "…"
    return text


def _significant_digits(value: Decimal) -> int:
    digits = value.as_tuple().digits
    stripped = "".join(str(d) for d in digits).lstrip("0")
    return len(stripped)


def _as_decimal(value: JsonValue) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return Decimal(value)
    if not _PLAIN_NUMBER.fullmatch(value):
        return None
    return Decimal(value)  # the pattern lets only numbers through


def _scale(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _as_date(value: JsonValue) -> date | datetime | None:
    if not isinstance(value, str):
        return None
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is None else None


def _number_format(column_type: ColumnType | None, scale: int) -> str:
    scale = min(scale, MAX_DECIMALS)
    if column_type is ColumnType.percent:
        scale = max(scale - 2, 0)
        return "0%" if scale == 0 else "0." + "0" * scale + "%"
    return "#,##0" if scale == 0 else "#,##0." + "0" * scale


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _write_text(cell: Any, text: str) -> None:
    cell.value = _excel_text(text)
    # openpyxl makes any string starting with "=" a formula; force a plain string.
    cell.data_type = "s"
    if text.startswith(FORMULA_PREFIXES):
        cell.quotePrefix = True


def _write_number(cell: Any, value: Decimal, number_format: str) -> None:
    cell.value = value
    # openpyxl writes a Decimal through a float ("%.16g": 9.2 -> 9.199999999999999); put the
    # digits into the file exactly as the shaped value holds them.
    cell._value = format(value, "f")
    cell.number_format = number_format


def _write_sheet(sheet: Any, shaped: Shaped, types: Mapping[str, ColumnType]) -> None:
    header = shaped.header
    bold = Font(bold=True)
    widths = [_display_width(key) for key in header]
    for c, key in enumerate(header, start=1):
        cell = sheet.cell(row=1, column=c)
        _write_text(cell, key)
        cell.font = bold
    kinds = [types.get(key) for key in header]
    formats: list[str] = []
    for c, key in enumerate(header):
        scales = [
            _scale(number)
            for record in shaped.rows
            if (number := _as_decimal(record.get(key))) is not None
        ]
        formats.append(_number_format(kinds[c], max(scales, default=0)))
    for r, record in enumerate(shaped.rows, start=2):
        for c, key in enumerate(header):
            value = record.get(key)
            if value is None:
                continue
            cell = sheet.cell(row=r, column=c + 1)
            shown = _write_value(cell, value, kinds[c], formats[c])
            if r <= WIDTH_SAMPLE_ROWS + 1:
                widths[c] = max(widths[c], _display_width(shown))
    for c, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(c)].width = min(
            max(width + 2, MIN_WIDTH), MAX_WIDTH
        )
    sheet.freeze_panes = "A2"
    if header:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{len(shaped.rows) + 1}"


def _write_value(cell: Any, value: JsonValue, kind: ColumnType | None, number_format: str) -> str:
    """Write one typed value; answer the text it shows, for the column's width."""
    assert value is not None
    if isinstance(value, int) or kind in _NUMERIC:
        number = _as_decimal(value)
        if number is not None and _significant_digits(number) <= EXCEL_DIGITS:
            _write_number(cell, number, number_format)
            shown = format(number * 100 if kind is ColumnType.percent else number, ",f")
            return shown + ("%" if kind is ColumnType.percent else "")
    elif kind is ColumnType.date:
        moment = _as_date(value)
        if moment is not None:
            cell.value = moment
            if isinstance(moment, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
                return "0000-00-00 00:00:00"
            cell.number_format = "yyyy-mm-dd"
            return "0000-00-00"
    text = str(value)
    _write_text(cell, text)
    return max(text.splitlines() or [""], key=_display_width)


def to_xlsx(
    shaped_list: Sequence[Shaped],
    sheet_names: Sequence[str] | None = None,
    *,
    types: Mapping[str, ColumnType] | None = None,
) -> bytes:
    """A workbook with one sheet per table, in order; `sheet_names` (one per table) overrides
    the default names (`table_label`); either way they are made safe and unique. `types` maps
    record keys to configured column types (`column_types(settings)`). An empty list gives a
    workbook with one empty sheet, `Tables`."""
    if sheet_names is not None and len(sheet_names) != len(shaped_list):
        raise ValueError("sheet_names must name every table, one each")
    book = Workbook()
    default = book.active
    taken: set[str] = set()
    for n, shaped in enumerate(shaped_list):
        wanted = sheet_names[n] if sheet_names is not None else table_label(shaped)
        name = _unique(safe_sheet_name(wanted), taken, SHEET_NAME_MAX)
        sheet = book.create_sheet(title=name)
        _write_sheet(sheet, shaped, types or {})
    if shaped_list:
        book.remove(default)
    else:
        default.title = "Tables"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- JSON ---


def _table_json(shaped: Shaped, types: Mapping[str, ColumnType]) -> dict[str, Any]:
    return {
        "page": shaped.page,
        "pages": list(shaped.pages),
        "index": shaped.index,
        "sheet": shaped.sheet,
        "header": list(shaped.header),
        "columns": [
            {"key": key, "type": t.value if (t := types.get(key)) is not None else None}
            for key in shaped.header
        ],
        "rows": [{key: record.get(key) for key in shaped.header} for record in shaped.rows],
        "rowSources": [
            {"page": source.page, "index": source.index, "row": source.row}
            for source in shaped.row_sources
        ],
        "mapping": [
            {
                "column": match.column,
                "sourceCol": match.source_col,
                "sourceHeader": match.source_header,
                "method": match.method,
                "score": match.score,
                "key": match.key,
            }
            for match in shaped.mapping
        ],
        "issues": [
            {"code": issue.code, "message": issue.message, "row": issue.row, "col": issue.col}
            for issue in shaped.issues
        ],
    }


def to_json(
    shaped_list: Sequence[Shaped], *, types: Mapping[str, ColumnType] | None = None
) -> bytes:
    """The tables as one JSON document (the shape is in the module's docstring), UTF-8."""
    document = {
        "format": JSON_FORMAT,
        "version": JSON_VERSION,
        "tables": [_table_json(shaped, types or {}) for shaped in shaped_list],
    }
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
