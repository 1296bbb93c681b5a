"""Page range specs: every form they take, and every way they can be wrong, with and without the
page count."""

from __future__ import annotations

import pytest

from paperworks.booklets.engine_errors import BadPageRange
from paperworks.booklets.page_ranges import MAX_PAGE, parse_page_ranges, validate_page_ranges


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (None, [0, 1, 2, 3, 4]),
        ("", [0, 1, 2, 3, 4]),
        ("   ", [0, 1, 2, 3, 4]),
        ("all", [0, 1, 2, 3, 4]),
        (" ALL ", [0, 1, 2, 3, 4]),
        ("2", [1]),
        ("1-3,5", [0, 1, 2, 4]),
        (" 1 - 3 , 5 ", [0, 1, 2, 4]),
        ("4-", [3, 4]),
        ("-3", [0, 1, 2]),
        ("5,1-3", [4, 0, 1, 2]),
        ("3,2,1", [2, 1, 0]),
        ("2-2", [1]),
        ("1-5", [0, 1, 2, 3, 4]),
        ("5-", [4]),
        ("-1,5", [0, 4]),
        ("2\u20134", [1, 2, 3]),  # an en dash, pasted from a word processor
        ("01-02", [0, 1]),
    ],
)
def test_specs_with_the_page_count(spec: str | None, expected: list[int]) -> None:
    assert parse_page_ranges(spec, 5) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("7", "Page range '7': page 7 asked for, the file has 5 pages."),
        ("3-7", "page 7 asked for, the file has 5 pages"),
        ("6-", "page 6 asked for, the file has 5 pages"),
        ("-6", "page 6 asked for, the file has 5 pages"),
    ],
)
def test_a_page_beyond_the_file_is_named(spec: str, message: str) -> None:
    with pytest.raises(BadPageRange, match=message) as caught:
        parse_page_ranges(spec, 5)
    assert caught.value.code == "booklets.bad_page_range"


def test_one_page_file_says_page_not_pages() -> None:
    with pytest.raises(BadPageRange, match=r"page 2 asked for, the file has 1 page\.$"):
        parse_page_ranges("2", 1)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("abc", "'abc' is not a page or a range of pages; write e.g. '1-3,5'"),
        ("1;3", "'1;3' is not a page"),
        ("1-3-5", "'1-3-5' is not a page"),
        ("-", "'-' is not a page"),
        ("1.5", "'1.5' is not a page"),
        ("+2", "'\\+2' is not a page"),
        ("1,,2", "an empty item is not a page"),
        ("1,", "an empty item is not a page"),
        (",", "an empty item is not a page"),
        ("0", "pages are numbered from 1, not 0"),
        ("0-2", "pages are numbered from 1, not 0"),
        ("-0", "pages are numbered from 1, not 0"),
        ("5-3", "'5-3' runs backwards; write '3-5'"),
        ("1,1", "page 1 is asked for twice"),
        ("1-3,2-4", "page 2 is asked for twice"),
        ("3,1-5", "page 3 is asked for twice"),
        ("4-,5", "page 5 is asked for twice"),
        ("2-,1-", "page 2 is asked for twice"),
        (f"1-{MAX_PAGE + 1}", f"page {MAX_PAGE + 1} is beyond any file"),
    ],
)
def test_wrong_specs(spec: str, message: str) -> None:
    with pytest.raises(BadPageRange, match=message):
        parse_page_ranges(spec, 5)
    with pytest.raises(BadPageRange, match=message):  # wrong whatever the file
        validate_page_ranges(spec)


@pytest.mark.parametrize("spec", [None, "", "all", "1-3,5", "4-", "-3", "9", "1,20-30", "5,1-3"])
def test_validation_without_the_file_checks_syntax_only(spec: str | None) -> None:
    validate_page_ranges(spec)  # "9" may well exist in the file saved later


def test_a_closed_spec_expands_without_the_page_count() -> None:
    assert parse_page_ranges("5,1-3") == [4, 0, 1, 2]


@pytest.mark.parametrize("spec", [None, "all", "4-", "1,4-"])
def test_all_or_an_open_end_needs_the_page_count(spec: str | None) -> None:
    with pytest.raises(ValueError, match="needs the page count"):
        parse_page_ranges(spec)
