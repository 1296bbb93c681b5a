"""Forms as Acrobat, LiveCycle Designer and other producers write them, built here on the spot:
what filling them got wrong once."""

from __future__ import annotations

import io
from typing import Any

import pdfplumber
import pikepdf
import pytest
from pikepdf import Array, Dictionary, Name, Stream, String

from paperworks.booklets.pdf_forms import FormField, fill_form, read_fields


def by_name(fields: list[FormField]) -> dict[str, FormField]:
    return {field.name: field for field in fields}


def saved(pdf: pikepdf.Pdf) -> bytes:
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True)
    return out.getvalue()


def state(pdf: pikepdf.Pdf, content: bytes = b"", size: float = 12) -> Stream:
    stream = Stream(pdf, content)
    stream.Type = Name.XObject
    stream.Subtype = Name.Form
    stream.BBox = Array([0, 0, size, size])
    return pdf.make_indirect(stream)


def widget(pdf: pikepdf.Pdf, page: pikepdf.Page, rect: list[float], **entries: Any) -> Dictionary:
    annot = pdf.make_indirect(
        Dictionary(Type=Name.Annot, Subtype=Name.Widget, Rect=Array(rect), F=4, P=page.obj)
    )
    for key, value in entries.items():
        annot[Name("/" + key)] = value
    if "/Annots" not in page.obj:
        page.obj.Annots = Array()
    page.obj.Annots.append(annot)
    return annot


def acroform(pdf: pikepdf.Pdf, *fields: Dictionary, **entries: Any) -> bytes:
    pdf.Root.AcroForm = Dictionary(Fields=Array(list(fields)), DA=String("/Helv 0 Tf 0 g"))
    for key, value in entries.items():
        pdf.Root.AcroForm[Name("/" + key)] = value
    return saved(pdf)


def checkbox_with_export_value() -> bytes:
    """Acrobat names the on-state of a checkbox with an /Opt export value by its index, "0"."""
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(200, 200))
    states = Dictionary({"/0": state(pdf, b"0 g 2 2 8 8 re f"), "/Off": state(pdf)})
    box = widget(
        pdf,
        page,
        [20, 20, 32, 32],
        T=String("agree[0]"),
        FT=Name.Btn,
        Opt=Array([String("Ja")]),
        V=Name.Off,
        AS=Name.Off,
        AP=Dictionary(N=states),
    )
    return acroform(pdf, box)


@pytest.mark.parametrize(
    ("value", "expected"), [("0", "Off"), ("no", "Off"), ("1", "Ja"), ("Ja", "Ja"), ("x", "Ja")]
)
def test_a_checkbox_whose_state_is_named_0_is_not_ticked_by_0(value: str, expected: str) -> None:
    data = checkbox_with_export_value()
    assert read_fields(data)[0].options == ["Ja"]
    filled = fill_form(data, {"agree[0]": value}, flatten=False)
    assert read_fields(filled)[0].value == expected


def test_a_reader_extended_forms_usage_rights_go_and_a_certification_stays() -> None:
    """Reader checks the usage-rights signature (/Perms /UR3) against the file; once the file
    is filled it no longer matches, and Reader would warn and turn features off."""
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(200, 200))
    name = widget(pdf, page, [20, 20, 180, 40], T=String("name"), FT=Name.Tx)
    signature = pdf.make_indirect(Dictionary(Type=Name.Sig, Filter=Name("/Adobe.PPKLite")))
    pdf.Root.Perms = Dictionary(UR3=signature)
    data = acroform(pdf, name, SigFlags=3)
    for flatten in (False, True):
        with pikepdf.open(io.BytesIO(fill_form(data, {"name": "x"}, flatten=flatten))) as out:
            assert "/Perms" not in out.Root

    with pikepdf.open(io.BytesIO(data)) as pdf:
        pdf.Root.Perms.DocMDP = pdf.make_indirect(Dictionary(Type=Name.Sig))
        certified = saved(pdf)
    with pikepdf.open(io.BytesIO(fill_form(certified, {"name": "x"}, flatten=False))) as out:
        assert list(out.Root.Perms.keys()) == ["/DocMDP"]


def fonts_drawn(data: bytes) -> list[str]:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return sorted({char["fontname"] for page in pdf.pages for char in page.chars})


@pytest.mark.parametrize(
    ("base", "da", "expected"),
    [
        ("ArialMT", "/ArialMT 10.00 Tf 0 g", "Helvetica"),
        ("Arial,Bold", "/Arial#2CBold 9 Tf 0 g", "Helvetica-Bold"),  # the DA escapes the comma
        ("TimesNewRomanPS-BoldItalicMT", "/F3 0 Tf 0 0 1 rg", "Times-BoldItalic"),
        ("ABCDEF+CourierNewPSMT", "/F4 10 Tf 0 g", "Courier"),
    ],
)
def test_arial_times_new_roman_and_courier_new_are_drawn_as_standard_fonts(
    base: str, da: str, expected: str
) -> None:
    """What Windows producers and Designer put in /DR are the standard faces by other names;
    viewers draw them so, and so is a value, rather than in the bundled DejaVu."""
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(300, 100))
    font = pdf.make_indirect(
        Dictionary(Type=Name.Font, Subtype=Name.TrueType, BaseFont=Name("/" + base))
    )
    resource = da.split()[0].replace("#2C", ",")
    name = widget(pdf, page, [20, 20, 280, 40], T=String("name[0]"), FT=Name.Tx, DA=String(da))
    data = acroform(pdf, name, DR=Dictionary(Font=Dictionary({resource: font})))
    assert fonts_drawn(fill_form(data, {"name[0]": "Müller (Jr.) \\ ½"})) == [expected]
    assert "DejaVuSans" in fonts_drawn(fill_form(data, {"name[0]": "Жук"}))[0]


def test_a_comb_field_shows_a_line_break_as_a_space_in_its_cell() -> None:
    """A comb is one line of cells, as any single-line field: a line break in the value is no
    character to draw (it showed as a .notdef box in its cell)."""
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(300, 100))
    ssn = widget(pdf, page, [20, 20, 200, 40], T=String("SSN[0]"), FT=Name.Tx, Ff=1 << 24, MaxLen=9)
    flat = fill_form(acroform(pdf, ssn), {"SSN[0]": "12\n34"})
    with pdfplumber.open(io.BytesIO(flat)) as read:
        chars = read.pages[0].chars
    assert [char["text"] for char in chars] == ["1", "2", " ", "3", "4"]
    assert [round(char["x0"] - 20) // 20 for char in chars] == [0, 1, 2, 3, 4]  # one per cell


def text_field_with_appearance(content: bytes, **acroform_entries: Any) -> bytes:
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(300, 100))
    shown = state(pdf, content, size=20)
    shown.BBox = Array([0, 0, 200, 20])
    name = widget(
        pdf,
        page,
        [20, 20, 220, 40],
        T=String("name"),
        FT=Name.Tx,
        V=String("Preset"),
        AP=Dictionary(N=shown),
    )
    return acroform(pdf, name, **acroform_entries)


def test_a_default_value_left_to_viewers_to_draw_is_drawn_when_flattened() -> None:
    """LibreOffice exports a field's default value with an empty appearance and asks viewers
    to draw the fields (/NeedAppearances); flattening turns that off, so the value was lost."""
    empty = b"/Tx BMC\nEMC\n"
    assert "Preset" in page_text(
        fill_form(text_field_with_appearance(empty, NeedAppearances=True), {})
    )
    # without /NeedAppearances viewers show the appearance as it is, and so does flattening
    assert "Preset" not in page_text(fill_form(text_field_with_appearance(empty), {}))
    # an appearance that draws the value is the producer's, and is kept
    drawn = b"/Tx BMC BT /Helv 9 Tf 2 6 Td (Preset, as drawn) Tj ET EMC"
    data = text_field_with_appearance(drawn, NeedAppearances=True)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        pdf.Root.AcroForm.DR = Dictionary(
            Font=Dictionary(
                Helv=Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica)
            )
        )
        data = saved(pdf)
    assert "Preset, as drawn" in page_text(fill_form(data, {}))


def page_text(data: bytes) -> str:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return pdf.pages[0].extract_text() or ""
