"""Shaping tables by a configuration: header row, column mapping, typed values by locale,
issues, repeated headers and tables continued on the next page."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from paperworks.extraction.settings_model import ColumnSpec, ExtractionSettings
from paperworks.extraction.shaping import (
    ColumnMatch,
    MappingUnavailable,
    RowSource,
    parse_date,
    parse_number,
    shape,
)
from paperworks.extraction.tables import Cell, Issue, Table


def _table(rows: list[list[str]], page: int = 1, index: int = 0, sheet: str | None = None) -> Table:
    cells = [Cell(r, c, text) for r, row in enumerate(rows) for c, text in enumerate(row) if text]
    return Table(page, index, len(rows), max(len(row) for row in rows), cells, sheet=sheet)


def _settings(**wire: Any) -> ExtractionSettings:
    return ExtractionSettings.model_validate(wire)


STATEMENT_COLUMNS = [
    {"name": "Date", "aliases": ["Booking date"], "type": "date"},
    {"name": "Description", "aliases": ["Payee"]},
    {"name": "Amount", "aliases": ["Betrag"], "type": "decimal", "required": True},
]


# --- settings ---


def test_settings_are_camel_case_on_the_wire_with_defaults() -> None:
    settings = _settings(columns=[{"name": "Amount", "type": "currency"}], numberLocale="1.234,56")
    assert settings.number_locale == "1.234,56"
    assert settings.model_dump(mode="json") == {
        "pages": "all",
        "detectionMode": "auto",
        "columns": [{"name": "Amount", "aliases": [], "type": "currency", "required": False}],
        "detectHeader": True,
        "numberLocale": "1.234,56",
        "dateFormats": [],
        "dropEmptyRows": True,
        "dropRepeatedHeaders": True,
        "keepUnmappedColumns": False,
    }


@pytest.mark.parametrize(
    "wire",
    [
        {"pages": "3-1"},
        {"pages": "one"},
        {"pages": "0"},
        {"detectionMode": "magic"},
        {"numberLocale": "1 234,56"},
        {"dateFormats": ["QQ/YYYY"]},
        {"dateFormats": ["%d.%m.%Y %H"]},
        {"columns": [{"name": "A"}, {"name": "a"}]},
        {"columns": [{"name": " "}]},
        {"columns": [{"name": "A", "type": "money"}]},
        {"colums": []},
    ],
)
def test_settings_refuse_mistakes(wire: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ExtractionSettings.model_validate(wire)


def test_pages_selection() -> None:
    settings = _settings(pages="1-3, 7")
    assert [page for page in range(1, 9) if settings.includes_page(page)] == [1, 2, 3, 7]
    assert _settings().includes_page(999)
    tables = [_table([["a"], ["1"]], page=page) for page in (1, 4, 7)]
    assert [shaped.page for shaped in shape(tables, settings)] == [1, 7]


# --- header row and mapping ---


def test_header_found_below_a_title_row_with_exact_alias_and_fuzzy_matches() -> None:
    table = _table(
        [
            ["Account statement March 2026", "", "", ""],
            ["", "", "", ""],
            ["Booking date", "Descripton", "Amount", "Ref"],
            ["2026-03-31", "Rent", "-950.00", "R1"],
        ]
    )
    (shaped,) = shape([table], _settings(columns=STATEMENT_COLUMNS))
    assert shaped.header_row == 2
    assert shaped.source_header == ["Booking date", "Descripton", "Amount", "Ref"]
    assert shaped.mapping == [
        ColumnMatch("Date", 0, "Booking date", "alias", 100.0, "Date"),
        ColumnMatch("Description", 1, "Descripton", "fuzzy", 95.2, "Description"),
        ColumnMatch("Amount", 2, "Amount", "exact", 100.0, "Amount"),
        ColumnMatch(None, 3, "Ref", "unmapped", None, None),
    ]
    assert shaped.header == ["Date", "Description", "Amount"]
    assert shaped.rows == [{"Date": "2026-03-31", "Description": "Rent", "Amount": "-950.00"}]
    assert shaped.row_sources == [RowSource(page=1, index=0, row=3)]
    assert shaped.issues == []


def test_header_nothing_matches_left_unmapped_or_kept() -> None:
    table = _table([["Foo", "Bar", ""], ["1", "2", "3"]])
    columns = [{"name": "Amount", "type": "decimal", "required": True}]
    (dropped,) = shape([table], _settings(columns=columns))
    assert dropped.header == ["Amount"]
    assert dropped.rows == [{"Amount": None}]
    assert [m.method for m in dropped.mapping] == ["missing", "unmapped", "unmapped", "unmapped"]
    assert dropped.issues == [
        Issue("missing_column", "No column of the table matches 'Amount'."),
        Issue("missing_value", "'Amount' is required but blank.", row=0, col=None),
    ]

    (kept,) = shape([table], _settings(columns=columns, keepUnmappedColumns=True))
    assert kept.header == ["Amount", "Foo", "Bar", "column_3"]
    assert kept.rows == [{"Amount": None, "Foo": "1", "Bar": "2", "column_3": "3"}]


def test_without_configured_columns_every_column_is_kept_as_text() -> None:
    table = _table([["Report", "", ""], ["Name", "Qty", "Name"], ["Pen", "3", "x"]])
    (shaped,) = shape([table], _settings())
    assert shaped.header_row == 1
    assert shaped.header == ["Name", "Qty", "Name_2"]
    assert shaped.rows == [{"Name": "Pen", "Qty": "3", "Name_2": "x"}]


def test_header_detection_off_maps_by_position() -> None:
    table = _table([["2026-03-31", "Rent", "-950.00"]])
    (shaped,) = shape([table], _settings(columns=STATEMENT_COLUMNS, detectHeader=False))
    assert shaped.header_row is None
    assert [(m.column, m.source_col, m.method, m.score) for m in shaped.mapping] == [
        ("Date", 0, "position", None),
        ("Description", 1, "position", None),
        ("Amount", 2, "position", None),
    ]
    assert shaped.rows == [{"Date": "2026-03-31", "Description": "Rent", "Amount": "-950.00"}]


def test_a_source_column_feeds_one_configured_column_best_match_first() -> None:
    table = _table([["Amount", "Amount EUR"], ["1", "2"]])
    columns = [{"name": "Total", "aliases": ["Amount"]}, {"name": "Amount EUR"}]
    (shaped,) = shape([table], _settings(columns=columns))
    assert [(m.column, m.source_col, m.method) for m in shaped.mapping] == [
        ("Total", 0, "alias"),
        ("Amount EUR", 1, "exact"),
    ]


# --- asking a model for what the rules leave undecided ---

GERMAN = [
    ["Buchungstag", "Verwendungszweck", "Betrag (EUR)", "Notiz"],
    ["31.03.2026", "Miete", "-950,00", "x"],
]
ENGLISH_COLUMNS = [
    {"name": "Posting date", "type": "date"},
    {"name": "Description", "aliases": ["Verwendungszweck"]},
    {"name": "Amount", "type": "decimal", "required": True},
]


class FakeAsk:
    """An `AskModel` that answers `answer` (or raises it) and keeps what it was asked."""

    def __init__(self, answer: dict[str, str | None] | Exception) -> None:
        self.answer = answer
        self.asked: list[tuple[list[str], list[str]]] = []

    def __call__(self, headers: list[str], columns: list[ColumnSpec]) -> dict[str, str | None]:
        self.asked.append((headers, [column.name for column in columns]))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def _german(**wire: Any) -> ExtractionSettings:
    return _settings(
        columns=ENGLISH_COLUMNS, numberLocale="1.234,56", dateFormats=["DD.MM.YYYY"], **wire
    )


def test_the_model_maps_german_headers_the_rules_leave_undecided() -> None:
    ask = FakeAsk({"Posting date": "Buchungstag", "Amount": "Betrag (EUR)"})
    (shaped,) = shape([_table(GERMAN)], _german(), ask)
    # Asked once, only for what no name, alias or fuzzy match decided.
    assert ask.asked == [(["Buchungstag", "Betrag (EUR)", "Notiz"], ["Posting date", "Amount"])]
    assert shaped.mapping == [
        ColumnMatch("Posting date", 0, "Buchungstag", "llm", None, "Posting date"),
        ColumnMatch("Description", 1, "Verwendungszweck", "alias", 100.0, "Description"),
        ColumnMatch("Amount", 2, "Betrag (EUR)", "llm", None, "Amount"),
        ColumnMatch(None, 3, "Notiz", "unmapped", None, None),
    ]
    assert shaped.rows == [
        {"Posting date": "2026-03-31", "Description": "Miete", "Amount": "-950.00"}
    ]
    assert shaped.issues == []


def test_without_a_model_the_same_table_stays_as_the_rules_map_it() -> None:
    (shaped,) = shape([_table(GERMAN)], _german())
    assert [(m.column, m.method) for m in shaped.mapping][:3] == [
        ("Posting date", "missing"),
        ("Description", "alias"),
        ("Amount", "missing"),
    ]
    assert shaped.issues[0] == Issue("missing_column", "No column of the table matches 'Amount'.")


def test_an_answer_naming_a_header_not_offered_or_a_column_not_asked_is_ignored() -> None:
    ask = FakeAsk(
        {
            "Posting date": "Valuta",  # no such header
            "Amount": "Verwendungszweck",  # a header the alias already took
            "Description": "Notiz",  # a column the alias already mapped
            "Balance": "Notiz",  # no such column
        }
    )
    (shaped,) = shape([_table(GERMAN)], _german(), ask)
    assert [(m.column, m.source_col, m.method) for m in shaped.mapping] == [
        ("Posting date", None, "missing"),
        ("Description", 1, "alias"),
        ("Amount", None, "missing"),
        (None, 0, "unmapped"),
        (None, 2, "unmapped"),
        (None, 3, "unmapped"),
    ]
    assert [i.code for i in shaped.issues][:1] == ["missing_column"]


def test_a_header_the_model_gives_two_columns_goes_to_the_first_only() -> None:
    ask = FakeAsk({"Posting date": "Betrag (EUR)", "Amount": "Betrag (EUR)"})
    (shaped,) = shape([_table(GERMAN)], _german(), ask)
    assert [(m.column, m.source_col, m.method) for m in shaped.mapping][:3] == [
        ("Posting date", 2, "llm"),
        ("Description", 1, "alias"),
        ("Amount", None, "missing"),
    ]


def test_header_text_written_a_little_differently_by_the_model_still_finds_its_column() -> None:
    ask = FakeAsk({"amount": "betrag (eur) ", "Posting date": None})
    (shaped,) = shape([_table(GERMAN)], _german(), ask)
    assert [(m.column, m.source_col, m.method) for m in shaped.mapping][:3] == [
        ("Posting date", None, "missing"),
        ("Description", 1, "alias"),
        ("Amount", 2, "llm"),
    ]


def test_a_model_that_cannot_answer_leaves_the_columns_unmapped_with_one_issue() -> None:
    ask = FakeAsk(MappingUnavailable("The language model did not answer (HTTP 500)."))
    (shaped,) = shape([_table(GERMAN)], _german(), ask)
    assert [m.method for m in shaped.mapping][:3] == ["missing", "alias", "missing"]
    unavailable = [i for i in shaped.issues if i.code == "mapping_model_unavailable"]
    assert unavailable == [
        Issue(
            "mapping_model_unavailable",
            "The language model did not answer (HTTP 500). The columns no name, alias or fuzzy "
            "match found stay unmapped: 'Posting date', 'Amount'.",
        )
    ]
    assert "missing_column" in [i.code for i in shaped.issues]


def test_the_model_is_not_asked_when_the_rules_decide_everything() -> None:
    ask = FakeAsk({})
    table = _table([["Booking date", "Payee", "Amount"], ["2026-03-31", "Rent", "-950.00"]])
    shape([table], _settings(columns=STATEMENT_COLUMNS), ask)
    by_position = _table([["2026-03-31", "Rent", "-950.00"]])
    shape([by_position], _settings(columns=STATEMENT_COLUMNS, detectHeader=False), ask)
    shape([_table(GERMAN)], _settings(), ask)  # no columns configured
    assert ask.asked == []


def test_a_table_continued_on_the_next_page_is_asked_about_once() -> None:
    ask = FakeAsk({"Posting date": "Buchungstag", "Amount": "Betrag (EUR)"})
    first = _table(GERMAN, page=1)
    second = _table([["01.04.2026", "Strom", "-80,00", ""]], page=2)
    (shaped,) = shape([first, second], _german(), ask)
    assert len(ask.asked) == 1
    assert [row["Amount"] for row in shaped.rows] == ["-950.00", "-80.00"]


# --- typed values ---

EN = "1,234.56"
DE = "1.234,56"


@pytest.mark.parametrize(
    ("text", "locale", "value", "currency", "percent"),
    [
        ("1,234.50", EN, "1234.50", None, False),
        ("1234.5", EN, "1234.5", None, False),
        ("(1,234.50)", EN, "-1234.50", None, False),
        ("-1,234.50", EN, "-1234.50", None, False),
        ("\u22121,234.50", EN, "-1234.50", None, False),
        ("$1,234.50", EN, "1234.50", "USD", False),
        ("-$1,234.50", EN, "-1234.50", "USD", False),
        ("USD 1,234,567.00", EN, "1234567.00", "USD", False),
        ("1 234.50", EN, "1234.50", None, False),
        (".5", EN, "0.5", None, False),
        ("12%", EN, "12", None, True),
        ("1.234,50", DE, "1234.50", None, False),
        ("-1.234,50", DE, "-1234.50", None, False),
        ("1.234,50-", DE, "-1234.50", None, False),
        ("(1.234,50)", DE, "-1234.50", None, False),
        ("€ 1.234,50", DE, "1234.50", "EUR", False),
        ("1.234,50 €", DE, "1234.50", "EUR", False),
        ("1 234,50 CHF", DE, "1234.50", "CHF", False),
        ("1'234,50 Fr.", DE, "1234.50", "CHF", False),
        ("12 %", DE, "12", None, True),
        ("-3,5 %", DE, "-3.5", None, True),
    ],
)
def test_numbers_by_locale(
    text: str, locale: str, value: str, currency: str | None, percent: bool
) -> None:
    parsed = parse_number(text, locale)
    assert (format(parsed.value, "f"), parsed.currency, parsed.percent) == (
        value,
        currency,
        percent,
    )


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("1.234,50", EN),
        ("1,234.50", DE),
        ("1,23", EN),
        ("12abc", EN),
        ("", EN),
        ("-", EN),
        ("1.5", DE),
        ("EUR", DE),
    ],
)
def test_numbers_that_do_not_parse(text: str, locale: str) -> None:
    with pytest.raises(ValueError, match="not a number"):
        parse_number(text, locale)


def test_workbook_numbers_are_read_plain_whatever_the_locale() -> None:
    assert parse_number("1234.5", DE, machine=True).value == parse_number("1234,5", DE).value
    # A workbook cell holding locale text is still read by the locale.
    assert format(parse_number("1.234,5", DE, machine=True).value, "f") == "1234.5"


@pytest.mark.parametrize(
    ("text", "formats", "iso"),
    [
        ("31.03.2026", ["DD.MM.YYYY"], "2026-03-31"),
        ("3/31/26", ["M/D/YY"], "2026-03-31"),
        ("31 Mar 2026", ["D MMM YYYY"], "2026-03-31"),
        ("31 March 2026", ["%d %B %Y"], "2026-03-31"),
        ("31/03/2026", ["MM/DD/YYYY", "DD/MM/YYYY"], "2026-03-31"),
        ("2026-03-31", ["DD.MM.YYYY"], "2026-03-31"),
        ("2026-03-31T14:30:00", [], "2026-03-31T14:30:00"),
        ("2026-03-31T00:00:00", [], "2026-03-31"),
    ],
)
def test_dates(text: str, formats: list[str], iso: str) -> None:
    settings = _settings(dateFormats=formats)
    assert parse_date(text, settings.strptime_formats()) == iso


def test_typed_records_and_issues_point_at_record_and_source_column() -> None:
    columns = [
        {"name": "Date", "type": "date", "required": True},
        {"name": "Qty", "type": "integer"},
        {"name": "Price", "type": "currency"},
        {"name": "Discount", "type": "percent"},
        {"name": "Note"},
    ]
    table = _table(
        [
            ["Date", "Qty", "Price", "Discount", "Note"],
            ["31.03.2026", "1.200", "€ 1.234,50", "12 %", " ok "],
            ["", "", "", "", ""],
            ["32.03.2026", "1,5", "(5,00) €", "0,125", ""],
            ["01.04.2026", "3", "7,00 USD", "abc", ""],
        ]
    )
    settings = _settings(columns=columns, numberLocale=DE, dateFormats=["DD.MM.YYYY"])
    (shaped,) = shape([table], settings)
    assert shaped.rows == [
        {"Date": "2026-03-31", "Qty": 1200, "Price": "1234.50", "Discount": "0.12", "Note": "ok"},
        {"Date": None, "Qty": None, "Price": "-5.00", "Discount": "0.125", "Note": None},
        {"Date": "2026-04-01", "Qty": 3, "Price": "7.00", "Discount": None, "Note": None},
    ]
    assert shaped.row_sources == [RowSource(1, 0, 1), RowSource(1, 0, 3), RowSource(1, 0, 4)]
    assert [(i.code, i.row, i.col) for i in shaped.issues] == [
        ("unparsed_date", 1, 0),
        ("unparsed_number", 1, 1),
        ("mixed_currency", 2, 2),
        ("unparsed_number", 2, 3),
    ]
    assert shaped.issues[1].message == "'Qty': '1,5' is not a whole number."


def test_empty_rows_kept_when_asked() -> None:
    table = _table([["Name"], [""], ["Pen"]])
    (shaped,) = shape([table], _settings(columns=[{"name": "Name"}], dropEmptyRows=False))
    assert shaped.rows == [{"Name": None}, {"Name": "Pen"}]


def test_source_table_issues_follow_their_rows() -> None:
    table = _table([["Name", "Total"], ["Pen", ""]], sheet="Sheet1")
    table.issues.append(Issue("uncached_formula", "no result", row=1, col=1))
    table.issues.append(Issue("hidden_sheet", "hidden"))
    (shaped,) = shape([table], _settings())
    assert shaped.issues == [
        Issue("uncached_formula", "no result", row=0, col=1),
        Issue("hidden_sheet", "hidden"),
    ]


# --- repeated headers and continuation ---


def test_repeated_header_rows_dropped_unless_asked() -> None:
    rows = [["Date", "Amount"], ["2026-03-30", "1.00"], ["Date", "Amount"], ["2026-03-31", "2.00"]]
    (shaped,) = shape([_table(rows)], _settings(columns=STATEMENT_COLUMNS))
    assert [row["Amount"] for row in shaped.rows] == ["1.00", "2.00"]
    assert shaped.dropped_header_rows == 1

    (kept,) = shape([_table(rows)], _settings(columns=STATEMENT_COLUMNS, dropRepeatedHeaders=False))
    assert [row["Date"] for row in kept.rows] == ["2026-03-30", None, "2026-03-31"]
    assert [(i.code, i.row, i.col) for i in kept.issues] == [
        ("unparsed_date", 1, 0),
        ("unparsed_number", 1, 1),
    ]


def test_table_continued_on_the_next_page_is_joined() -> None:
    first = _table([["Date", "Description", "Amount"], ["2026-03-30", "Rent", "-950.00"]], page=1)
    again_with_header = _table(
        [["Date", "Description", "Amount"], ["2026-03-31", "Coffee", "-3.20"]], page=2
    )
    without_header = _table([["2026-04-01", "Salary", "3,000.00"]], page=3)
    other = _table([["Code", "Rate"], ["A", "1.5"], ["B", "2.0"]], page=3, index=1)
    shaped = shape(
        [first, again_with_header, without_header, other], _settings(columns=STATEMENT_COLUMNS)
    )
    assert len(shaped) == 2
    joined, separate = shaped
    assert joined.pages == [1, 2, 3]
    assert [row["Amount"] for row in joined.rows] == ["-950.00", "-3.20", "3000.00"]
    assert joined.row_sources == [RowSource(1, 0, 1), RowSource(2, 0, 1), RowSource(3, 0, 0)]
    assert joined.dropped_header_rows == 1
    assert (separate.page, separate.index, separate.pages) == (3, 1, [3])


def test_tables_not_joined_when_they_are_not_a_continuation() -> None:
    columns = STATEMENT_COLUMNS
    first = _table([["Date", "Description", "Amount"], ["2026-03-30", "Rent", "-950.00"]])
    # Its own, different header matching configured columns: a new table.
    own_header = _table([["Booking date", "Payee", "Betrag"], ["2026-03-31", "x", "1"]], page=2)
    assert len(shape([first, own_header], _settings(columns=columns))) == 2
    # Not the next page, or not first on its page, or another width.
    skipped_page = _table([["2026-04-01", "x", "1"]], page=3)
    assert len(shape([first, skipped_page], _settings(columns=columns))) == 2
    narrower = _table([["2026-04-01", "1"]], page=2)
    assert len(shape([first, narrower], _settings(columns=columns))) == 2
    # Sheets are separate tables even with the same columns.
    sheet_one = _table([["Date", "Amount"], ["2026-03-30", "1"]], page=1, sheet="Jan")
    sheet_two = _table([["2026-03-31", "2"]], page=2, sheet="Feb")
    assert len(shape([sheet_one, sheet_two], _settings(columns=columns))) == 2
    # Without configured columns, a row of text only is a header of a new table.
    text_header = _table([["Code", "Label", "Kind"], ["A", "1", "x"]], page=2)
    assert len(shape([first, text_header], _settings())) == 2
