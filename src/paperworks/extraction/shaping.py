"""Tables as found → records a user asked for, by a configuration's settings.

Pure and synchronous: `shape(tables, settings)` finds each table's header row, maps its headers
to the configured columns, reads typed values by the configured locale, drops what is noise (empty
rows, header rows repeated after a page break) and joins a table that continues on the next page
into the one before. It knows no model: a caller that has one passes `ask` (see `AskModel`), which
shaping calls for the headers the rules below leave undecided.

Choices a user can notice:
- **Values** are JSON-ready: `text` → str; `integer` → int; `decimal`, `currency` and `percent`
  → a decimal *string* with the digits as written (`"1234.50"`, `"-0.125"`), never a float, so
  no cent is lost; `date` → ISO `"2026-03-31"` (an ISO date-time with a time of day stays a
  date-time, `"2026-03-31T14:30:00"`). A blank cell is None; a value that does not parse is None
  with an issue.
- **Percent** is a fraction: `12 %`, `12%` and `(12%)` are `"0.12"` and `"-0.12"`; a value
  without a `%` sign is already the fraction (that is what a workbook stores for 12 %: `0.12`).
- **Currency**: symbols and ISO codes before or after the amount are dropped (`€ 1.234,50`,
  `$1,234.50`, `1 234,50 CHF`); a cell in another currency than the column's first is flagged
  `mixed_currency`. Decimal and integer columns accept the same markers.
- **Numbers** are read strictly by the locale (`1,234.56` or `1.234,56`): group separators in
  threes (also spaces, no-break spaces and `'`), negatives as `-1`, `1-`, `(1)` or with a
  Unicode minus. In tables from a workbook (those with a `sheet`), the plain `1234.5` a
  workbook stores is read first, whatever the locale.
- **Mapping** tries, per source header, the exact name, then an alias, then fuzzy matching
  (RapidFuzz: the mean of `ratio` and `token_set_ratio` on normalised text, at least
  `FUZZY_THRESHOLD`); each configured column takes at most one source column, best first.
  With header detection off, configured columns take the source columns by position.
- **Asking a model** (only with `ask`, once per table with a header row, and only when both
  configured columns and non-blank source headers are left over): its answer, configured column
  → source header, is checked (a column still unmapped, a header offered and not yet taken, each
  header once; anything else is ignored) and recorded as `llm` with score None. An `ask` that
  raises `MappingUnavailable` leaves those columns unmapped with one `mapping_model_unavailable`
  issue on the table.
- **Unmapped columns** are dropped unless `keepUnmappedColumns`; they are then kept as text
  under their header (`column_3` when it is blank). With no columns configured every column is
  kept as text.
- **Issues** point at `row` = the index of the record in `rows` and `col` = the source column in
  the grid; `row_sources` tells, for each record, the page, table index and grid row it came
  from. Issues of the source tables (an uncached formula, needs OCR) are carried over the same
  way, with `row` None when their row did not become a record.
- **Continuation**: a table that is first on its page, right after a page whose last table it
  follows, with as many columns, and that starts with no header of its own (or with the same
  header again), is joined into that table. Tables from workbooks are never joined: sheets are
  separate tables.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal
from typing import Literal

from rapidfuzz import fuzz

from paperworks.extraction.settings_model import ColumnSpec, ColumnType, ExtractionSettings
from paperworks.extraction.tables import Issue, Table

FUZZY_THRESHOLD = 80.0
HEADER_SEARCH_ROWS = 10

MatchMethod = Literal["exact", "alias", "fuzzy", "llm", "position", "unmapped", "missing"]
JsonValue = str | int | None

AskModel = Callable[[list[str], list[ColumnSpec]], dict[str, str | None]]
"""Asked, once per table, which of `headers` (the source headers no rule mapped, each text once,
in the table's order) is each of `columns` (the configured columns left unmapped): configured
column name → source header text, or None for none of them. Raises `MappingUnavailable` when it
cannot tell (no model reachable, an answer it could not read)."""

MODEL_UNAVAILABLE = "mapping_model_unavailable"


class MappingUnavailable(Exception):
    """What an `AskModel` raises when it has no answer; its message says why, for the issue."""


@dataclass(frozen=True)
class ColumnMatch:
    """Which source column fed which configured column, and how. `column` is None for a source
    column no configured column took (`unmapped`); `source_col` is None for a configured column
    no source column fed (`missing`). `score` is 100 for exact and alias matches, RapidFuzz's
    score for fuzzy ones, None otherwise (`llm`: a model chose it). `key` is the record key its
    values are under (None when not kept)."""

    column: str | None
    source_col: int | None
    source_header: str | None
    method: MatchMethod
    score: float | None
    key: str | None


@dataclass(frozen=True)
class RowSource:
    page: int
    index: int
    row: int


@dataclass
class Shaped:
    """One shaped table: `header` is the record keys in order, `rows` the records,
    `source_header` the header row's texts as found (None without a header row)."""

    page: int
    index: int
    sheet: str | None
    pages: list[int]
    header: list[str]
    rows: list[dict[str, JsonValue]]
    row_sources: list[RowSource]
    mapping: list[ColumnMatch]
    issues: list[Issue]
    source_header: list[str] | None
    header_row: int | None
    n_cols: int
    dropped_header_rows: int = 0
    _header_norm: tuple[str, ...] | None = field(default=None, repr=False)
    _currencies: dict[str, str | None] = field(default_factory=dict, repr=False)


def shape(
    tables: list[Table], settings: ExtractionSettings, ask: AskModel | None = None
) -> list[Shaped]:
    """The tables (in page then position order) shaped by `settings`; tables on pages the
    settings leave out are skipped. `ask`, when given, maps what the rules leave undecided."""
    chosen = [table for table in tables if settings.includes_page(table.page)]
    last_on_page = {table.page: table.index for table in chosen}
    shaped: list[Shaped] = []
    previous: Table | None = None
    for table in chosen:
        grid = table.grid()
        target = shaped[-1] if shaped else None
        if (
            target is not None
            and previous is not None
            and _continues(previous, table, last_on_page, target, grid, settings)
        ):
            _append_rows(target, table, grid, 0, settings)
            target.pages.append(table.page)
        else:
            shaped.append(_shape_one(table, grid, settings, ask))
        previous = table
    return shaped


# --- one table ---


def _shape_one(
    table: Table, grid: list[list[str]], settings: ExtractionSettings, ask: AskModel | None
) -> Shaped:
    header_row = _find_header_row(grid, settings.columns) if settings.detect_header else None
    source_header = grid[header_row] if header_row is not None else None
    mapping, mapping_issues = _map_columns(source_header, table.n_cols, settings, ask)
    shaped = Shaped(
        page=table.page,
        index=table.index,
        sheet=table.sheet,
        pages=[table.page],
        header=[m.key for m in _key_order(mapping, settings) if m.key is not None],
        rows=[],
        row_sources=[],
        mapping=mapping,
        issues=mapping_issues,
        source_header=list(source_header) if source_header is not None else None,
        header_row=header_row,
        n_cols=table.n_cols,
        _header_norm=_row_norm(source_header) if source_header is not None else None,
    )
    for match in mapping:
        if match.method == "missing" and _spec(settings, match.column).required:
            shaped.issues.append(
                Issue("missing_column", f"No column of the table matches {match.column!r}.")
            )
    _append_rows(shaped, table, grid, 0 if header_row is None else header_row + 1, settings)
    return shaped


def _key_order(mapping: list[ColumnMatch], settings: ExtractionSettings) -> list[ColumnMatch]:
    configured = {m.column: m for m in mapping if m.column is not None}
    ordered = [configured[c.name] for c in settings.columns if c.name in configured]
    return ordered + [m for m in mapping if m.column is None]


def _spec(settings: ExtractionSettings, name: str | None) -> ColumnSpec:
    return next(c for c in settings.columns if c.name == name)


def _append_rows(
    shaped: Shaped, table: Table, grid: list[list[str]], start: int, settings: ExtractionSettings
) -> None:
    machine = table.sheet is not None
    record_of_row: dict[int, int] = {}
    kept = [m for m in _key_order(shaped.mapping, settings) if m.key is not None]
    for r in range(start, len(grid)):
        row = grid[r]
        if settings.drop_empty_rows and not any(text.strip() for text in row):
            continue
        if (
            settings.drop_repeated_headers
            and shaped._header_norm is not None
            and _row_norm(row) == shaped._header_norm
        ):
            shaped.dropped_header_rows += 1
            continue
        index = len(shaped.rows)
        record: dict[str, JsonValue] = {}
        for match in kept:
            assert match.key is not None
            raw = row[match.source_col] if match.source_col is not None else ""
            spec = _spec(settings, match.column) if match.column is not None else None
            record[match.key] = _typed(shaped, spec, match, raw, index, machine, settings)
        shaped.rows.append(record)
        shaped.row_sources.append(RowSource(table.page, table.index, r))
        record_of_row[r] = index
    for issue in table.issues:
        record_index = record_of_row.get(issue.row) if issue.row is not None else None
        shaped.issues.append(Issue(issue.code, issue.message, row=record_index, col=issue.col))


def _typed(
    shaped: Shaped,
    spec: ColumnSpec | None,
    match: ColumnMatch,
    raw: str,
    index: int,
    machine: bool,
    settings: ExtractionSettings,
) -> JsonValue:
    text = raw.strip()
    col = match.source_col
    if not text:
        if spec is not None and spec.required:
            shaped.issues.append(
                Issue("missing_value", f"{spec.name!r} is required but blank.", row=index, col=col)
            )
        return None
    if spec is None or spec.type is ColumnType.text:
        return text
    try:
        if spec.type is ColumnType.date:
            return parse_date(text, settings.strptime_formats())
        number = parse_number(text, settings.number_locale, machine=machine)
    except ValueError as exc:
        code = "unparsed_date" if spec.type is ColumnType.date else "unparsed_number"
        shaped.issues.append(Issue(code, f"{spec.name!r}: {exc}", row=index, col=col))
        return None
    if number.percent and spec.type is not ColumnType.percent:
        shaped.issues.append(
            Issue(
                "unparsed_number",
                f"{spec.name!r}: {text!r} is a percentage, not a {spec.type.value}.",
                row=index,
                col=col,
            )
        )
        return None
    if number.currency is not None:
        first = shaped._currencies.setdefault(spec.name, number.currency)
        if first != number.currency:
            shaped.issues.append(
                Issue(
                    "mixed_currency",
                    f"{spec.name!r}: {text!r} is in {number.currency}, the column in {first}.",
                    row=index,
                    col=col,
                )
            )
    value = number.value
    if spec.type is ColumnType.integer:
        if value != value.to_integral_value():
            shaped.issues.append(
                Issue(
                    "unparsed_number",
                    f"{spec.name!r}: {text!r} is not a whole number.",
                    row=index,
                    col=col,
                )
            )
            return None
        return int(value)
    if spec.type is ColumnType.percent and number.percent:
        value = value.scaleb(-2)
    return format(value, "f")


# --- header row and mapping ---


def _norm(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return " ".join(re.sub(r"[^\w]+", " ", plain).split())


def _row_norm(row: list[str]) -> tuple[str, ...]:
    return tuple(_norm(text) for text in row)


def _match(header: str, spec: ColumnSpec) -> tuple[int, float, MatchMethod] | None:
    """(priority, score, method) of `header` (normalised) for `spec`, or None."""
    if not header:
        return None
    if header == _norm(spec.name):
        return 3, 100.0, "exact"
    aliases = [_norm(alias) for alias in spec.aliases]
    if header in aliases:
        return 2, 100.0, "alias"
    score = max(_fuzzy(header, candidate) for candidate in [_norm(spec.name), *aliases])
    if score >= FUZZY_THRESHOLD:
        return 1, score, "fuzzy"
    return None


def _fuzzy(a: str, b: str) -> float:
    return round((fuzz.ratio(a, b) + fuzz.token_set_ratio(a, b)) / 2, 1)


Taken = dict[int, tuple[ColumnSpec, float | None, MatchMethod]]


def _assign(header: list[str], columns: list[ColumnSpec]) -> Taken:
    """Source column → (configured column, score, method), best pairs first."""
    candidates = []
    for c, text in enumerate(header):
        normed = _norm(text)
        for order, spec in enumerate(columns):
            found = _match(normed, spec)
            if found is not None:
                priority, score, method = found
                candidates.append((-priority, -score, c, order, spec, method))
    candidates.sort(key=lambda item: item[:4])
    taken: Taken = {}
    used: set[str] = set()
    for _, negative_score, c, _, spec, method in candidates:
        if c in taken or spec.name in used:
            continue
        taken[c] = (spec, -negative_score, method)
        used.add(spec.name)
    return taken


def _find_header_row(grid: list[list[str]], columns: list[ColumnSpec]) -> int | None:
    """The first row that matches the most configured columns (the best scores breaking ties)
    among the first non-empty rows; else the first row filled at least half as much as the
    fullest of them; None for an empty table."""
    rows = [r for r, row in enumerate(grid) if any(text.strip() for text in row)]
    rows = rows[:HEADER_SEARCH_ROWS]
    if not rows:
        return None
    if columns:
        best: tuple[int, float] = (0, 0.0)
        best_row: int | None = None
        for r in rows:
            taken = _assign(grid[r], columns)
            score = (len(taken), sum(score or 0.0 for _, score, _ in taken.values()))
            if score > best:
                best, best_row = score, r
        if best_row is not None:
            return best_row
    filled = {r: sum(1 for text in grid[r] if text.strip()) for r in rows}
    fullest = max(filled.values())
    return next(r for r in rows if filled[r] * 2 >= fullest)


def _map_columns(
    header: list[str] | None, n_cols: int, settings: ExtractionSettings, ask: AskModel | None
) -> tuple[list[ColumnMatch], list[Issue]]:
    columns = settings.columns
    mapping: list[ColumnMatch] = []
    issues: list[Issue] = []
    taken: Taken
    if header is None:
        taken = {c: (spec, None, "position") for c, spec in enumerate(columns) if c < n_cols}
    else:
        taken = _assign(header, columns)
        if ask is not None:
            issue = _ask_model(ask, header, columns, taken)
            if issue is not None:
                issues.append(issue)
    by_name = {spec.name: c for c, (spec, _, _) in taken.items()}
    for spec in columns:
        if spec.name in by_name:
            c = by_name[spec.name]
            _, score, method = taken[c]
            mapping.append(
                ColumnMatch(
                    column=spec.name,
                    source_col=c,
                    source_header=header[c] if header is not None else None,
                    method=method,
                    score=score,
                    key=spec.name,
                )
            )
        else:
            mapping.append(ColumnMatch(spec.name, None, None, "missing", None, spec.name))
    keep = settings.keep_unmapped_columns or not columns
    used_keys = {spec.name.casefold() for spec in columns}
    for c in range(n_cols):
        if c in taken:
            continue
        key: str | None = None
        if keep:
            base = (header[c].strip() if header is not None else "") or f"column_{c + 1}"
            key, n = base, 2
            while key.casefold() in used_keys:
                key, n = f"{base}_{n}", n + 1
            used_keys.add(key.casefold())
        mapping.append(
            ColumnMatch(None, c, header[c] if header is not None else None, "unmapped", None, key)
        )
    return mapping, issues


def _ask_model(
    ask: AskModel, header: list[str], columns: list[ColumnSpec], taken: Taken
) -> Issue | None:
    """Adds to `taken` what `ask` maps among the columns and headers the rules left over, as
    checked; an issue when it could not answer."""
    used = {spec.name for spec, _, _ in taken.values()}
    open_columns = [spec for spec in columns if spec.name not in used]
    open_headers: dict[str, int] = {}  # each header text once: its first untaken column
    for c, text in enumerate(header):
        text = text.strip()
        if c not in taken and text and text not in open_headers:
            open_headers[text] = c
    if not open_columns or not open_headers:
        return None
    try:
        answer = ask(list(open_headers), open_columns)
    except MappingUnavailable as exc:
        names = ", ".join(repr(spec.name) for spec in open_columns)
        return Issue(
            MODEL_UNAVAILABLE,
            f"{exc} The columns no name, alias or fuzzy match found stay unmapped: {names}.",
        )
    by_norm = {_norm(text): c for text, c in reversed(open_headers.items())}
    specs = {spec.name.casefold(): spec for spec in open_columns}
    for name, chosen in answer.items() if isinstance(answer, dict) else ():
        spec = specs.pop(name.casefold(), None) if isinstance(name, str) else None
        if spec is None or not isinstance(chosen, str):
            continue  # not a column left to map (or asked twice), or no header for it
        col = open_headers.get(chosen.strip(), by_norm.get(_norm(chosen)))
        if col is None or col in taken:
            continue  # a header not offered, or already taken by another column
        taken[col] = (spec, None, "llm")
    return None


# --- continuation ---


def _continues(
    previous: Table,
    table: Table,
    last_on_page: dict[int, int],
    target: Shaped,
    grid: list[list[str]],
    settings: ExtractionSettings,
) -> bool:
    if table.sheet is not None or previous.sheet is not None:
        return False
    if table.page != previous.page + 1 or table.index != 0:
        return False
    if last_on_page.get(previous.page) != previous.index or table.n_cols != target.n_cols:
        return False
    if not settings.detect_header or target._header_norm is None:
        return True
    first = next((row for row in grid if any(text.strip() for text in row)), None)
    if first is None or _row_norm(first) == target._header_norm:
        return True
    if settings.columns:
        return not _assign(first, settings.columns)
    return not _looks_like_header(first, settings)


def _looks_like_header(row: list[str], settings: ExtractionSettings) -> bool:
    """A row of text only: no cell reads as a number or a date."""
    texts = [text.strip() for text in row if text.strip()]
    for text in texts:
        try:
            parse_number(text, settings.number_locale)
        except ValueError:
            pass
        else:
            return False
        try:
            parse_date(text, settings.strptime_formats())
        except ValueError:
            pass
        else:
            return False
    return bool(texts)


# --- typed values ---


@dataclass(frozen=True)
class ParsedNumber:
    value: Decimal
    currency: str | None = None
    percent: bool = False


_SYMBOLS = {
    "US$": "USD",
    "R$": "BRL",
    "SFr.": "CHF",
    "Fr.": "CHF",
    "€": "EUR",
    "$": "USD",
    "£": "GBP",
    "¥": "JPY",
    "₹": "INR",
    "₽": "RUB",
    "₩": "KRW",
    "₪": "ILS",
    "₺": "TRY",
    "₴": "UAH",
    "฿": "THB",
    "₦": "NGN",
}
_SYMBOL_PATTERN = "|".join(re.escape(s) for s in sorted(_SYMBOLS, key=len, reverse=True))
_LEADING_CURRENCY = re.compile(rf"^(?:{_SYMBOL_PATTERN}|[A-Z]{{3}}(?![A-Za-z]))")
_TRAILING_CURRENCY = re.compile(rf"(?:{_SYMBOL_PATTERN}|(?<![A-Za-z])[A-Z]{{3}})$")
_MINUS = "-\u2212\u2013"
_GROUP_EXTRA = " \u00a0\u202f'\u2019"
_MACHINE_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _body_pattern(group: str, decimal: str) -> re.Pattern[str]:
    groups = re.escape(group + _GROUP_EXTRA)
    return re.compile(
        rf"(?P<int>\d{{1,3}}(?P<g>[{groups}])\d{{3}}(?:(?P=g)\d{{3}})*|\d*)"
        rf"(?:{re.escape(decimal)}(?P<frac>\d+))?"
    )


_BODIES = {"1,234.56": _body_pattern(",", "."), "1.234,56": _body_pattern(".", ",")}


def parse_number(text: str, locale: str, *, machine: bool = False) -> ParsedNumber:
    """`text` as a number in `locale` (`"1,234.56"` or `"1.234,56"`), with its sign, currency
    and percent sign; ValueError when it is not one. `machine` reads `1234.5` first."""
    stripped = text.strip()
    if machine and _MACHINE_NUMBER.fullmatch(stripped):
        return ParsedNumber(Decimal(stripped))
    body = stripped
    negative = percent = False
    currency: str | None = None
    for _ in range(8):
        body = body.strip()
        if len(body) >= 2 and body[0] == "(" and body[-1] == ")":
            negative, body = True, body[1:-1]
        elif body[:1] and body[0] in _MINUS:
            negative, body = True, body[1:]
        elif body[:1] == "+":
            body = body[1:]
        elif body[-1:] and body[-1] in _MINUS:
            negative, body = True, body[:-1]
        elif body[-1:] == "%":
            percent, body = True, body[:-1]
        elif currency is None and (found := _LEADING_CURRENCY.match(body)):
            currency, body = _SYMBOLS.get(found.group(0), found.group(0)), body[found.end() :]
        elif currency is None and (found := _TRAILING_CURRENCY.search(body)):
            currency, body = _SYMBOLS.get(found.group(0), found.group(0)), body[: found.start()]
        else:
            break
    match = _BODIES[locale].fullmatch(body)
    if not match or not (match.group("int") or match.group("frac")):
        raise ValueError(f"{text!r} is not a number written like {locale}")
    digits = re.sub(r"\D", "", match.group("int") or "0")
    # The pattern lets only digits through, so Decimal always reads them.
    value = Decimal(f"{digits}.{match.group('frac')}" if match.group("frac") else digits)
    return ParsedNumber(-value if negative else value, currency, percent)


def parse_date(text: str, formats: list[str]) -> str:
    """`text` as an ISO date (or date-time when it has a time of day), read with the first of
    `formats` (strptime patterns) that fits, else as ISO; ValueError when none does."""
    stripped = " ".join(text.split())
    for pattern in formats:
        try:
            return datetime.strptime(stripped, pattern).date().isoformat()  # noqa: DTZ007
        except ValueError:
            continue
    try:
        parsed = datetime.fromisoformat(stripped)
    except ValueError:
        raise ValueError(f"{text!r} is not a date in the configured formats or ISO") from None
    if parsed.time() == time(0, 0) and parsed.tzinfo is None:
        return parsed.date().isoformat()
    return parsed.isoformat()
