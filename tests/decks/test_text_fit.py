"""Text measurement: fonts, wrapping, heights and the largest size that fits a box."""

from __future__ import annotations

import itertools

import pytest

from paperworks.decks.text_fit import (
    BUNDLED_FONTS,
    EMU_PER_PT,
    TextStyle,
    emu_to_pt,
    fit_text,
    font_face,
    font_file,
    inches,
    measure,
    normalize,
    text_height,
    text_width,
    wrap,
    wrap_spans,
)

SANS = TextStyle("DejaVu Sans")
SERIF_BOLD = TextStyle("DejaVu Serif", bold=True)
SENTENCE = "The quick brown fox jumps over the lazy dog while the band plays on"


def test_the_dejavu_fonts_and_their_licence_are_bundled() -> None:
    for name in ("DejaVuSans", "DejaVuSans-Bold", "DejaVuSerif", "DejaVuSerif-Bold"):
        assert (BUNDLED_FONTS / f"{name}.ttf").stat().st_size > 100_000
    assert "Bitstream" in (BUNDLED_FONTS / "LICENSE-DejaVu.txt").read_text()


def test_an_unknown_family_is_measured_with_the_bundled_face_of_its_kind_and_weight() -> None:
    assert font_file("No Such Family") == BUNDLED_FONTS / "DejaVuSans.ttf"
    assert font_file("No Such Family", bold=True) == BUNDLED_FONTS / "DejaVuSans-Bold.ttf"
    assert font_file("Some Serif") == BUNDLED_FONTS / "DejaVuSerif.ttf"
    assert font_file("Some Sans Serif").name == "DejaVuSans.ttf"
    assert font_file("  GEORGIA ", bold=True).exists()


def test_greek_cyrillic_and_latin_have_glyphs_and_cjk_counts_one_em_each() -> None:
    face = font_face("DejaVu Sans")
    assert all(face.has_glyph(char) for char in "Aé Ωλ Жд")
    assert not face.has_glyph("中")
    assert not face.has_glyph("あ")
    assert face.em("中") == 1.0
    assert text_width("中文字", SANS, 20) == pytest.approx(60)
    assert 0 < face.em("i") < face.em("W") < 1.1


def test_bold_is_measured_wider_than_regular() -> None:
    bold = TextStyle("DejaVu Sans", bold=True)
    assert text_width(SENTENCE, bold, 20) > text_width(SENTENCE, SANS, 20)


def test_wrapped_lines_fit_the_width_and_keep_every_word() -> None:
    width = inches(2)
    lines = wrap(SENTENCE, SANS, 18, width)
    assert len(lines) > 1
    assert all(text_width(line, SANS, 18) <= emu_to_pt(width) for line in lines)
    assert " ".join(lines) == SENTENCE
    # Greedy: the next line's first word did not fit on the line before.
    for line, following in itertools.pairwise(lines):
        first = following.split(" ")[0]
        assert text_width(f"{line} {first}", SANS, 18) > emu_to_pt(width)


def test_a_word_longer_than_the_box_is_broken_between_characters() -> None:
    word = "Donaudampfschifffahrtsgesellschaftskapitänsmützenabzeichen"
    lines = wrap(f"a {word} b", SANS, 24, inches(2))
    assert "".join(lines).replace(" ", "") == f"a{word}b"
    assert all(text_width(line, SANS, 24) <= emu_to_pt(inches(2)) for line in lines)
    assert len(lines) >= 4


def test_cjk_breaks_between_any_two_characters() -> None:
    text = "这是一个用中文写的很长的要点用来测试没有空格的文本如何换行"
    lines = wrap(text, SANS, 20, inches(3))
    assert "".join(lines) == text
    per_line = 3 * 72 // 20  # one em each
    assert [len(line) for line in lines[:-1]] == [per_line] * (len(lines) - 1)


def test_spans_point_into_the_text() -> None:
    text = "Ελληνικά και Кириллица and 中文"
    spans = wrap_spans(text, SANS, 30, inches(2.5))
    assert [text[start:end] for start, end in spans] == wrap(text, SANS, 30, inches(2.5))
    assert spans[0][0] == 0
    assert spans[-1][1] == len(text)


def test_an_empty_paragraph_takes_one_line() -> None:
    assert wrap("", SANS, 20, inches(2)) == [""]


def test_height_counts_lines_at_the_pitch_and_gaps_between_paragraphs() -> None:
    style = TextStyle("DejaVu Sans", line_spacing=1.25, paragraph_gap=0.5)
    points = (2 + 1 + 3) * 20 * 1.25 + 2 * 10
    assert text_height([2, 1, 3], style, 20) == round(points * EMU_PER_PT)
    assert text_height([], style, 20) == 0


def test_the_hanging_indent_narrows_the_lines() -> None:
    plain = measure([SENTENCE], SANS, 20, inches(4))
    indented = measure([SENTENCE], TextStyle("DejaVu Sans", indent=4), 20, inches(4))
    assert len(indented.lines[0]) > len(plain.lines[0])


def test_short_text_fits_at_the_largest_size() -> None:
    fit = fit_text(["Hello"], SANS, inches(6), inches(1), max_pt=40, min_pt=24)
    assert fit.fits
    assert fit.size == 40
    assert fit.lines == (("Hello",),)


def test_longer_text_shrinks_to_the_largest_size_that_fits() -> None:
    paragraphs = [SENTENCE] * 4
    fit = fit_text(paragraphs, SERIF_BOLD, inches(5), inches(3), max_pt=40, min_pt=14)
    assert fit.fits
    assert 14 <= fit.size < 40
    assert fit.height <= inches(3)
    assert measure(paragraphs, SERIF_BOLD, fit.size + 1, inches(5)).height > inches(3)


def test_text_too_long_for_the_box_at_the_minimum_says_so() -> None:
    fit = fit_text([SENTENCE * 20], SANS, inches(3), inches(1), max_pt=28, min_pt=14)
    assert not fit.fits
    assert fit.size == 14
    assert fit.height > inches(1)


def test_a_maximum_below_the_minimum_is_refused() -> None:
    with pytest.raises(ValueError, match="below"):
        fit_text(["x"], SANS, inches(1), inches(1), max_pt=10, min_pt=14)


def test_normalize_leaves_one_line_of_single_spaces_and_nothing_xml_cannot_hold() -> None:
    assert normalize("  a\tb\n\nc \x0b d\x00e\x1f ") == "a b c de"
    assert normalize("Ελληνικά 中文") == "Ελληνικά 中文"
