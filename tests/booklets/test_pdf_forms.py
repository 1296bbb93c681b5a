"""Reading, filling and flattening AcroForms: the five real forms beside these tests, a form made
here the way other producers make theirs (hierarchical names, inherited /FT and /Ff, a field on
two pages, a radio group with /Opt, [export, display] options, scripts), and one by ReportLab."""

from __future__ import annotations

import io
import shutil
import subprocess
import warnings
from pathlib import Path
from typing import Any

import pdfplumber
import pikepdf
import pytest
from pikepdf import Array, Dictionary, Name, Stream
from PIL import Image
from reportlab.pdfgen import canvas

from paperworks.booklets.engine_errors import BadFieldValue, CorruptPdf, EncryptedPdf, UnknownField
from paperworks.booklets.pdf_forms import FormField, fill_form, flatten_form, read_fields
from tests.booklets.conftest import FORMS, form, make_pdf

UNICODE = "Ωmega Ünïcode Жук"
REAL_FORMS = sorted(path.name for path in FORMS.glob("*.pdf"))
FIELD_COUNTS = {
    "pypdf-FormTestFromOo.pdf": 11,
    "pypdf-libreoffice-form.pdf": 8,
    "pypdf-pdflatex-forms.pdf": 3,
    "pikepdf-form.pdf": 4,
    "pypdf-form.pdf": 1,
}


def texts(data: bytes) -> list[str]:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return [page.extract_text() or "" for page in pdf.pages]


def by_name(fields: list[FormField]) -> dict[str, FormField]:
    return {field.name: field for field in fields}


def read_back(field: FormField, value: str) -> str:
    """What reading a filled field gives: a checked box reads as its export value."""
    return field.options[0] if field.type == "checkbox" and value == "true" else value


def every_value(fields: list[FormField]) -> dict[str, str]:
    """A value for every fillable field: text in three scripts, boxes checked, and radio
    groups and choices set to their last option (never the default)."""
    values = {}
    for field in fields:
        if field.type == "text":
            values[field.name] = f"{UNICODE} {field.name}"
        elif field.type == "checkbox":
            values[field.name] = "true"
        elif field.type in ("radio", "choice"):
            values[field.name] = field.options[-1]
    return values


def widgets(data: bytes) -> list[Dictionary]:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        return [
            annot
            for page in pdf.pages
            for annot in page.obj.get("/Annots", Array())
            if annot.get("/Subtype") == Name.Widget
        ]


def has_script(data: bytes) -> bool:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for obj in pdf.objects:
            if isinstance(obj, Dictionary | Stream) and (
                "/JS" in obj or obj.get("/S") == Name.JavaScript or "/AA" in obj
            ):
                return True
        names = pdf.Root.get("/Names")
        return "/OpenAction" in pdf.Root or (names is not None and "/JavaScript" in names)


# --- the real forms ---------------------------------------------------------------------------


def test_the_real_forms_are_all_here() -> None:
    assert sorted(FIELD_COUNTS) == REAL_FORMS


@pytest.mark.parametrize("name", REAL_FORMS)
def test_every_real_form_is_read_filled_and_flattened(name: str) -> None:
    data = form(name)
    fields = read_fields(data)
    assert len(fields) == FIELD_COUNTS[name]
    assert all(field.page == 1 for field in fields)
    values = every_value(fields)

    live = fill_form(data, values, flatten=False)
    after = by_name(read_fields(live))
    for field in fields:
        if field.name in values:
            assert after[field.name].value == read_back(field, values[field.name]), field.name
    with pikepdf.open(io.BytesIO(live)) as pdf:
        assert "/NeedAppearances" not in pdf.Root.AcroForm
    for widget in widgets(live):
        state = widget.get("/AS")
        if state is not None and state != Name.Off:
            assert isinstance(widget.AP.N[state], Stream)  # what a viewer shows when checked

    flat = fill_form(data, values)
    assert read_fields(flat) == []
    assert widgets(flat) == []
    with pikepdf.open(io.BytesIO(flat)) as pdf:
        assert "/AcroForm" not in pdf.Root
    page_text = texts(flat)[0]
    for field in fields:
        if field.type == "text":
            assert values[field.name] in page_text


def test_fields_are_described_as_a_page_editor_needs_them() -> None:
    fields = by_name(read_fields(form("pypdf-FormTestFromOo.pdf")))
    assert fields["Text2"] == FormField("Text2", "text", [], "", 1, multiline=True, required=False)
    assert fields["CheckBox1"].type == "checkbox"
    assert fields["CheckBox1"].options == ["Yes"]
    assert fields["CheckBox1"].value == "Off"
    assert fields["RadioGroup1"].type == "radio"
    assert fields["RadioGroup1"].options == ["1", "2", "3"]
    assert fields["Combo1"].options == ["combo Line 1", "combo Line 2", "combo Line 3"]
    assert fields["Liste1"].type == "choice"

    pdflatex = by_name(read_fields(form("pypdf-pdflatex-forms.pdf")))
    assert pdflatex["Submit"].type == "button"  # listed, so an editor can show it, never filled
    assert pdflatex["Submit"].options == []

    libreoffice = by_name(read_fields(form("pypdf-libreoffice-form.pdf")))
    assert libreoffice["First Name"].value == "Alice"


def test_a_pdf_without_a_form_has_no_fields_and_fills_with_nothing() -> None:
    plain = make_pdf("Just text")
    assert read_fields(plain) == []
    assert "Just text" in texts(fill_form(plain, {}))[0]
    with pytest.raises(UnknownField) as caught:
        fill_form(plain, {"Name": "x"})
    assert caught.value.choices == []
    assert "no fields at all" in caught.value.message


def test_checkboxes_and_radios_take_words_export_values_and_labels() -> None:
    data = form("pypdf-FormTestFromOo.pdf")
    filled = by_name(
        read_fields(
            fill_form(
                data,
                {"CheckBox1": "Yes", "RadioGroup1": "2", "RdoS1": "help RdoS1", "Combo1": "x"}
                | {"Combo1": "COMBO LINE 2"},
                flatten=False,
            )
        )
    )
    assert filled["CheckBox1"].value == "Yes"
    assert filled["RadioGroup1"].value == "2"
    assert filled["RdoS1"].value == ""  # its only state is the empty name; /TU labels it
    assert filled["Combo1"].value == "combo Line 2"  # case does not matter when unambiguous

    for word, expected in [("no", "Off"), ("0", "Off"), ("on", "Yes"), ("1", "Yes")]:
        values = {"CheckBox1": word}
        assert (
            by_name(read_fields(fill_form(data, values, flatten=False)))["CheckBox1"].value
            == expected
        )


def test_a_checked_box_has_matching_v_and_as() -> None:
    live = fill_form(
        form("pypdf-libreoffice-form.pdf"), {"gdpr": "yes", "female": "1"}, flatten=False
    )
    with pikepdf.open(io.BytesIO(live)) as pdf:
        fields = {str(f.T): f for f in pdf.Root.AcroForm.Fields}
        assert Name.Yes == fields["gdpr"].V
        assert Name.Yes == fields["gdpr"].AS
        assert Name.Off == fields["other"].AS
        assert Name("/1") == fields["female"].V
        assert [kid.AS for kid in fields["female"].Kids] == [Name("/1"), Name.Off]


def test_an_unknown_field_names_the_valid_ones() -> None:
    with pytest.raises(UnknownField) as caught:
        fill_form(form("pypdf-pdflatex-forms.pdf"), {"Nmae": "x", "Name": "y"})
    assert caught.value.code == "booklets.unknown_field"
    assert caught.value.choices == ["Check", "Name", "Submit"]
    assert "'Nmae'" in caught.value.message


@pytest.mark.parametrize(
    ("field", "value", "choices"),
    [
        ("RadioGroup1", "4", ["1", "2", "3"]),
        ("DropList1", "DropList9", ["DropList1", "DropList2", "DropList3"]),
        ("CheckBox1", "maybe", ["Yes", "true", "false"]),
    ],
)
def test_a_value_no_option_matches_is_refused_with_the_options(
    field: str, value: str, choices: list[str]
) -> None:
    with pytest.raises(BadFieldValue) as caught:
        fill_form(form("pypdf-FormTestFromOo.pdf"), {"Text1": "fine", field: value})
    assert caught.value.code == "booklets.bad_field_value"
    assert caught.value.choices == choices
    assert repr(value) in caught.value.message


def test_a_pushbutton_cannot_be_filled() -> None:
    with pytest.raises(BadFieldValue, match="button"):
        fill_form(form("pikepdf-form.pdf"), {"Button2": "x"})


def test_a_corrupt_pdf_is_refused() -> None:
    with pytest.raises(CorruptPdf):
        read_fields(b"%PDF-1.7\nthis is not a pdf")
    with pytest.raises(CorruptPdf):
        fill_form(b"not even a header", {})


def encrypted(data: bytes, *, user: str) -> bytes:
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        pdf.save(out, encryption=pikepdf.Encryption(user=user, owner="o"))
    return out.getvalue()


def test_a_pdf_needing_a_password_is_refused() -> None:
    locked = encrypted(form("pypdf-form.pdf"), user="u")
    with pytest.raises(EncryptedPdf):
        read_fields(locked)
    with pytest.raises(EncryptedPdf):
        fill_form(locked, {"foo": "x"})


def test_an_owner_password_only_pdf_opens_and_fills() -> None:
    restricted = encrypted(form("pypdf-form.pdf"), user="")
    assert [field.name for field in read_fields(restricted)] == ["foo"]
    filled = fill_form(restricted, {"foo": UNICODE})
    with pikepdf.open(io.BytesIO(filled)) as pdf:
        assert not pdf.is_encrypted
    assert UNICODE in texts(filled)[0]


def test_the_same_input_gives_the_same_bytes() -> None:
    data = form("pypdf-FormTestFromOo.pdf")
    values = every_value(read_fields(data))
    backwards = dict(reversed(values.items()))
    assert fill_form(data, values) == fill_form(data, backwards)
    assert fill_form(data, values, flatten=False) == fill_form(data, backwards, flatten=False)


def test_long_multiline_text_wraps_inside_its_box() -> None:
    data = form("pypdf-FormTestFromOo.pdf")
    with pikepdf.open(io.BytesIO(data)) as pdf:
        field = next(f for f in pdf.Root.AcroForm.Fields if f.T == "Text2")
        x1, y1, x2, y2 = (float(v) for v in field.Rect)
    long_text = " ".join(f"word{n} Жук" for n in range(40)) + "\nlast paragraph"
    flat = fill_form(data, {"Text2": long_text})
    with pdfplumber.open(io.BytesIO(flat)) as pdf:
        page = pdf.pages[0]
        chars = [c for c in page.chars if c["fontname"].endswith("DejaVuSans")]
        height = float(page.height)
    drawn = [char["text"] for char in chars if char["text"] != " "]
    assert len(drawn) == len(long_text.replace(" ", "").replace("\n", ""))
    for char in chars:
        assert x1 <= char["x0"]
        assert char["x1"] <= x2
        assert y1 <= height - char["bottom"]
        assert height - char["top"] <= y2
    lines = {round(char["top"]) for char in chars}
    assert len(lines) > 3
    page_text = texts(flat)[0]
    assert "word0 Жук word1" in page_text
    assert "last paragraph" in page_text


def test_a_long_single_line_value_shrinks_to_fit() -> None:
    data = form("pypdf-form.pdf")
    flat = fill_form(data, {"foo": "A long value for a short box"})
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        x0 = float(pdf.pages[0].annots[0]["x0"])
        x1 = float(pdf.pages[0].annots[0]["x1"])
    with pdfplumber.open(io.BytesIO(flat)) as pdf:
        chars = [c for c in pdf.pages[0].chars if c["fontname"] == "Helvetica"]  # its /DA font
    assert "".join(c["text"] for c in chars) == "A long value for a short box"
    assert all(x0 <= c["x0"] and c["x1"] <= x1 for c in chars)
    assert max(c["size"] for c in chars) < 10


def embedded_fonts(data: bytes) -> list[str]:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        return sorted(
            str(obj.BaseFont)
            for obj in pdf.objects
            if isinstance(obj, Dictionary)
            and obj.get("/Type") == Name.Font
            and isinstance(obj.get("/FontDescriptor"), Dictionary)
            and "/FontFile2" in obj.FontDescriptor
        )


def test_a_value_the_forms_standard_font_can_show_is_drawn_in_it() -> None:
    """/Helv is a font every viewer has: nothing to embed. A value it cannot show (Greek,
    Cyrillic, anything beyond Windows-1252) is drawn in the bundled DejaVu Sans instead."""
    data = form("pypdf-form.pdf")
    latin = fill_form(data, {"foo": "Café Müller (AG) \\ \u2013 1.234,50 €"})
    assert embedded_fonts(latin) == []
    with pdfplumber.open(io.BytesIO(latin)) as pdf:
        assert "Café Müller (AG) \\ \u2013 1.234,50 €" in pdf.pages[0].extract_text()
        assert {c["fontname"] for c in pdf.pages[0].chars if c["text"] == "é"} == {"Helvetica"}

    greek = fill_form(data, {"foo": "Ωmega Жук"})
    (font,) = embedded_fonts(greek)
    assert font.endswith("+DejaVuSans")
    assert "Ωmega Жук" in texts(greek)[0]


def test_a_tick_the_form_draws_in_zapf_dingbats_is_drawn_in_it() -> None:
    flat = fill_form(form("pypdf-pdflatex-forms.pdf"), {"Name": "Acme", "Check": "true"})
    assert embedded_fonts(flat) == []  # no DejaVu subset
    with pdfplumber.open(io.BytesIO(flat)) as pdf:
        ticks = [c for c in pdf.pages[0].chars if c["fontname"] == "ZapfDingbats"]
    assert [tick["text"] for tick in ticks] == ["4"]  # ✔ in ZapfDingbats' own encoding


def test_a_list_is_drawn_in_the_unicode_face_when_an_option_needs_it() -> None:
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(300, 300))
    options = Array([pikepdf.String("Zürich"), pikepdf.String("Αθήνα"), pikepdf.String("Wien")])
    pick = merged(pdf, page, "city", [20, 150, 200, 250], FT=Name.Ch, Opt=options, **black_box())
    pdf.Root.AcroForm = Dictionary(Fields=Array([pick]), DA=pikepdf.String("/Helv 12 Tf 0 g"))
    buffer = io.BytesIO()
    pdf.save(buffer)
    flat = fill_form(buffer.getvalue(), {"city": "Wien"})
    assert [font.split("+")[1] for font in embedded_fonts(flat)] == ["DejaVuSans"]
    assert texts(flat)[0].split() == ["Zürich", "Αθήνα", "Wien"]


def test_copies_of_one_form_are_filled_independently_and_merged() -> None:
    data = form("pypdf-libreoffice-form.pdf")
    first = fill_form(data, {"First Name": "Alpha", "female": "1"})
    second = fill_form(data, {"First Name": "Beta", "female": "2"})
    merged = pikepdf.new()
    for part in (first, second):
        with pikepdf.open(io.BytesIO(part)) as pdf:
            merged.pages.extend(pdf.pages)
    out = io.BytesIO()
    merged.save(out)
    first_text, second_text = texts(out.getvalue())
    assert "Alpha" in first_text
    assert "Beta" not in first_text
    assert "Beta" in second_text
    assert "Alpha" not in second_text


def two_copies_in_one_form(data: bytes) -> bytes:
    """Two copies of a form merged without renaming: every field name appears twice."""
    merged = pikepdf.new()
    fields = Array()
    for _ in range(2):
        with pikepdf.open(io.BytesIO(data)) as pdf, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pikepdf warns that fields are lost: copied below
            merged.pages.extend(pdf.pages)
            for field in pdf.Root.AcroForm.Fields:
                fields.append(merged.copy_foreign(field))
    merged.Root.AcroForm = Dictionary(Fields=fields, DA=pikepdf.String("/Helv 0 Tf 0 g"))
    out = io.BytesIO()
    merged.save(out)
    return out.getvalue()


def test_a_name_repeated_across_copies_is_one_field_filled_everywhere() -> None:
    doubled = two_copies_in_one_form(form("pypdf-pdflatex-forms.pdf"))
    fields = by_name(read_fields(doubled))
    assert sorted(fields) == ["Check", "Name", "Submit"]
    flat = fill_form(doubled, {"Name": UNICODE, "Check": "yes"})
    assert [UNICODE in text for text in texts(flat)] == [True, True]
    # the assembler's way out: flatten each copy first, so the names cannot collide
    alone = flatten_form(fill_form(form("pypdf-pdflatex-forms.pdf"), {"Name": "x"}, flatten=False))
    assert read_fields(alone) == []
    assert "x" in texts(alone)[0]


def test_unfilled_fields_keep_their_appearance_when_flattened() -> None:
    data = form("pypdf-libreoffice-form.pdf")
    flat = fill_form(data, {"Last Name": "Smith"})
    page_text = texts(flat)[0]
    assert "Smith" in page_text
    assert "Example for a Form" in page_text
    live = fill_form(data, {"Last Name": "Smith"}, flatten=False)
    assert by_name(read_fields(live))["First Name"].value == "Alice"
    assert by_name(read_fields(live))["Last Name"].value == "Smith"

    def appearances(pdf_bytes: bytes) -> dict[str, bytes]:
        with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
            return {
                str(f.T): f.AP.N.read_bytes()
                for f in pdf.Root.AcroForm.Fields
                if "/AP" in f and isinstance(f.AP.N, Stream)
            }

    before, after = appearances(data), appearances(live)
    assert after.pop("Last Name") != before.pop("Last Name")
    for name, value in [("First Name", b"Alice"), ("First Name_2", b"Bob")]:
        assert before.pop(name) == b"/Tx BMC\nEMC\n"  # LibreOffice left them to viewers
        assert value in after.pop(name)
    assert "Alice" in page_text
    assert after == before  # untouched fields keep their appearance


def test_a_filled_flattened_form_renders_its_values_in_the_boxes(tmp_path: Path) -> None:
    """Rendered with poppler: the box of each filled text field has ink, the empty page
    margin has none. (The same renders were looked at by eye when this was written.)"""
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        pytest.skip("poppler-utils (pdftoppm) is not installed")
    data = form("pypdf-FormTestFromOo.pdf")
    flat = fill_form(data, {"Text1": UNICODE, "Text2": UNICODE, "CheckBox1": "true"})
    (tmp_path / "flat.pdf").write_bytes(flat)
    subprocess.run(
        [pdftoppm, "-png", "-r", "60", "-singlefile", "flat.pdf", "flat"],
        cwd=tmp_path,
        check=True,
        timeout=30,
    )
    image = Image.open(tmp_path / "flat.png").convert("L")
    scale = 60 / 72
    with pikepdf.open(io.BytesIO(data)) as pdf:
        page_height = float(pdf.pages[0].mediabox[3])
        rects = {
            str(f.T): [float(v) for v in f.Rect] for f in pdf.Root.AcroForm.Fields if "/Rect" in f
        }

    def ink(rect: list[float], inset: float = 3) -> int:
        x1, y1, x2, y2 = rect
        box = (
            int((x1 + inset) * scale),
            int((page_height - y2 + inset) * scale),
            int((x2 - inset) * scale),
            int((page_height - y1 - inset) * scale),
        )
        return sum(image.crop(box).histogram()[:128])

    assert ink(rects["Text1"]) > 20
    assert ink(rects["Text2"]) > 20
    assert ink(rects["CheckBox1"], inset=1) > 3
    assert ink(rects["Combo1"]) == 0  # left empty, so still empty


# --- JavaScript -------------------------------------------------------------------------------


def with_scripts(data: bytes) -> bytes:
    """The form with scripts everywhere a form can hold them."""
    script = Dictionary(S=Name.JavaScript, JS=pikepdf.String("app.alert('hi')"))
    with pikepdf.open(io.BytesIO(data)) as pdf:
        field = pdf.Root.AcroForm.Fields[0]
        field.AA = Dictionary(K=script, F=script)
        field.A = Dictionary(S=Name.URI, URI=pikepdf.String("https://example.com"), Next=script)
        pdf.Root.OpenAction = pdf.make_indirect(script)
        pdf.Root.AA = Dictionary(WC=script)
        pdf.Root.Names = Dictionary(
            JavaScript=Dictionary(Names=Array([pikepdf.String("x"), script]))
        )
        pdf.pages[0].obj.AA = Dictionary(O=script)
        out = io.BytesIO()
        pdf.save(out)
    return out.getvalue()


@pytest.mark.parametrize("flatten", [True, False])
def test_javascript_does_not_survive(flatten: bool) -> None:
    data = with_scripts(form("pypdf-form.pdf"))
    assert has_script(data)
    filled = fill_form(data, {"foo": "value"}, flatten=flatten)
    assert not has_script(filled)
    assert not has_script(fill_form(data, {}, flatten=flatten))


# --- a form as other producers make them ------------------------------------------------------


def appearance(pdf: pikepdf.Pdf, content: bytes, size: float = 12) -> Stream:
    stream = Stream(pdf, content)
    stream.Type = Name.XObject
    stream.Subtype = Name.Form
    stream.BBox = Array([0, 0, size, size])
    stream.Resources = Dictionary()
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


def field(pdf: pikepdf.Pdf, name: str, **entries: Any) -> Dictionary:
    node = pdf.make_indirect(Dictionary(T=pikepdf.String(name)))
    for key, value in entries.items():
        node[Name("/" + key)] = value
    return node


def merged(
    pdf: pikepdf.Pdf, page: pikepdf.Page, name: str, rect: list[float], **entries: Any
) -> Dictionary:
    """A field that is its own widget, as most producers write a field with one widget."""
    node = widget(pdf, page, rect, **entries)
    node.T = pikepdf.String(name)
    return node


def adopt(parent: Dictionary, *kids: Dictionary) -> None:
    parent.Kids = Array(list(kids))
    for kid in kids:
        kid.Parent = parent


def black_box(color: str = "0.2 0.6 0.2 RG") -> dict[str, Any]:
    return {"MK": Dictionary(BC=Array([0, 0, 0])), "DA": pikepdf.String(f"/Helv 0 Tf 0 g {color}")}


def other_producer_form() -> bytes:
    """Two pages; fields the real samples do not have."""
    pdf = pikepdf.new()
    for _ in range(2):
        pdf.add_blank_page(page_size=(400, 400))
    one, two = pdf.pages
    fields = []

    person = field(pdf, "person", FT=Name.Tx)  # /FT inherited by both kids
    name = merged(pdf, one, "name", [20, 350, 220, 370], **black_box())
    address = merged(pdf, one, "address", [20, 280, 220, 340], Ff=1 << 12, **black_box())
    adopt(person, name, address)
    fields.append(person)

    notes = field(pdf, "notes", FT=Name.Tx, Ff=1 << 12)  # /Ff inherited by its kid field
    adopt(notes, merged(pdf, one, "text", [240, 280, 380, 370]))
    fields.append(notes)

    total = field(pdf, "total", FT=Name.Tx, Ff=1 << 1, DA=pikepdf.String("/Helv 10 Tf 0 g"))
    adopt(
        total,
        widget(pdf, one, [20, 240, 120, 260], **black_box()),
        widget(pdf, two, [20, 340, 120, 360], **black_box()),
    )
    fields.append(total)

    size = field(
        pdf,
        "size",
        FT=Name.Btn,
        Ff=1 << 15,
        V=Name.Off,
        Opt=Array([pikepdf.String(s) for s in ("Small", "Medium", "Large")]),
    )
    kids = []
    for number in range(3):
        states = Dictionary()
        states[Name(f"/{number}")] = appearance(pdf, b"0 g 3 3 6 6 re f")
        states[Name.Off] = appearance(pdf, b"")
        kids.append(
            widget(
                pdf,
                one,
                [20 + 30 * number, 200, 32 + 30 * number, 212],
                AS=Name.Off,
                AP=Dictionary(N=states),
            )
        )
    adopt(size, *kids)
    fields.append(size)

    pairs = [("de", "Germany"), ("fr", "France"), ("gr", "Ελλάδα")]
    country = field(
        pdf,
        "country",
        FT=Name.Ch,
        Ff=1 << 17,
        V=pikepdf.String("de"),
        Opt=Array([Array([pikepdf.String(e), pikepdf.String(d)]) for e, d in pairs]),
    )
    adopt(country, widget(pdf, one, [150, 200, 300, 220], **black_box()))
    fields.append(country)

    city = field(
        pdf,
        "city",
        FT=Name.Ch,
        Ff=(1 << 17) | (1 << 18),
        Opt=Array([pikepdf.String("Berlin"), pikepdf.String("Paris")]),
    )
    adopt(city, widget(pdf, one, [150, 160, 300, 180], **black_box()))
    fields.append(city)

    agree = field(pdf, "agree", FT=Name.Btn)  # a checkbox with no appearance at all
    adopt(agree, widget(pdf, two, [20, 300, 34, 314], MK=Dictionary(CA=pikepdf.String("8"))))
    fields.append(agree)

    code = field(pdf, "code", FT=Name.Tx, Ff=1 << 24, MaxLen=5)
    adopt(code, widget(pdf, one, [20, 120, 120, 140], **black_box()))
    fields.append(code)

    turned = field(pdf, "turned", FT=Name.Tx)
    adopt(turned, widget(pdf, one, [350, 20, 370, 150], MK=Dictionary(R=90)))
    fields.append(turned)

    hidden = field(pdf, "hidden", FT=Name.Tx)
    adopt(hidden, widget(pdf, one, [20, 80, 120, 100], F=2))
    fields.append(hidden)

    signature = field(pdf, "signature", FT=Name.Sig)
    adopt(signature, widget(pdf, two, [200, 20, 380, 60]))
    fields.append(signature)

    nowhere = field(pdf, "nowhere", FT=Name.Tx)  # a widget on no page: nothing to fill
    orphan = Dictionary(Subtype=Name.Widget, Rect=Array([0, 0, 50, 20]), Parent=nowhere)
    nowhere.Kids = Array([pdf.make_indirect(orphan)])
    fields.append(nowhere)

    link = pdf.make_indirect(
        Dictionary(
            Type=Name.Annot,
            Subtype=Name.Link,
            Rect=Array([0, 0, 10, 10]),
            A=Dictionary(S=Name.URI, URI=pikepdf.String("https://example.com")),
        )
    )
    two.obj.Annots.append(link)
    pdf.Root.AcroForm = Dictionary(
        Fields=Array(fields),
        DA=pikepdf.String("/Helv 0 Tf 0 g"),
        NeedAppearances=True,
        XFA=Array([pikepdf.String("template"), pdf.make_stream(b"<template/>")]),
    )
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True)
    return out.getvalue()


OTHER_VALUES = {
    "person.name": "Анна Παπαδοπούλου",
    "person.address": "Hauptstraße 1\n10115 Berlin",
    "notes.text": "First line of the notes, long enough to need wrapping in its box.",
    "total": "1,234.50 €",
    "size": "Large",
    "country": "Ελλάδα",
    "city": "Zürich",
    "agree": "yes",
    "code": "AB123",
    "turned": "Sideways",
    "hidden": "Never shown",
}


def test_other_producers_fields_are_read() -> None:
    fields = by_name(read_fields(other_producer_form()))
    assert list(fields) == [
        "person.name",
        "person.address",
        "notes.text",
        "total",
        "size",
        "country",
        "city",
        "agree",
        "code",
        "turned",
        "hidden",
        "signature",
    ]
    assert fields["person.name"].type == "text"
    assert not fields["person.name"].multiline
    assert fields["person.address"].multiline
    assert fields["notes.text"].multiline  # inherited /Ff
    assert fields["total"].page == 1
    assert fields["total"].required
    assert not fields["person.name"].required
    assert fields["size"] == FormField(
        "size", "radio", ["Small", "Medium", "Large"], "Off", 1, False, False
    )
    assert fields["country"].options == ["de", "fr", "gr"]
    assert fields["country"].value == "de"
    assert fields["agree"] == FormField("agree", "checkbox", ["Yes"], "Off", 2, False, False)
    assert fields["signature"].type == "signature"
    assert fields["signature"].page == 2


def test_other_producers_fields_are_filled() -> None:
    data = other_producer_form()
    live = fill_form(data, OTHER_VALUES, flatten=False)
    after = by_name(read_fields(live))
    expected = OTHER_VALUES | {"country": "gr", "agree": "Yes"}  # export values, as read
    for name, value in expected.items():
        assert after[name].value == value, name
    with pikepdf.open(io.BytesIO(live)) as pdf:
        size = next(f for f in pdf.Root.AcroForm.Fields if f.T == "size")
        assert Name("/2") == size.V
        assert [kid.AS for kid in size.Kids] == [Name.Off, Name.Off, Name("/2")]
        assert "/XFA" not in pdf.Root.AcroForm  # Acrobat would show the XFA data instead
        agree = next(f for f in pdf.Root.AcroForm.Fields if f.T == "agree")
        assert isinstance(agree.Kids[0].AP.N.Yes, Stream)  # drawn here, it had none

    flat = fill_form(data, OTHER_VALUES)
    first, second = texts(flat)
    for value in ("Анна Παπαδοπούλου", "Hauptstraße 1", "10115 Berlin", "Ελλάδα", "Zürich"):
        assert value in first
    assert "1,234.50 €" in first
    assert "1,234.50 €" in second
    assert "Never shown" not in first  # a hidden widget is not drawn
    assert "✖" in second  # the checkbox's own caption symbol (/MK /CA "8")
    assert "Sideways" not in first  # turned 90°, so its letters are stacked ...
    with pdfplumber.open(io.BytesIO(flat)) as pdf:
        turned = [c for c in pdf.pages[0].chars if not c["upright"]]
        assert len(turned) == len("Sideways")  # ... but all there, inside the widget
        assert all(c["x0"] >= 350 and c["x1"] <= 370 for c in turned)
        code = [c for c in pdf.pages[0].chars if c["text"] in "AB123" and c["top"] > 250]
        assert [round(c["x0"] - 20) // 20 for c in code] == [0, 1, 2, 3, 4]  # one per comb cell
        assert pdf.pages[1].annots[0]["uri"] == "https://example.com"  # links stay
    assert widgets(flat) == []


def test_other_producers_values_are_checked() -> None:
    data = other_producer_form()
    with pytest.raises(BadFieldValue) as caught:
        fill_form(data, {"country": "Atlantis"})
    assert caught.value.choices == ["de", "fr", "gr"]
    with pytest.raises(BadFieldValue) as caught:
        fill_form(data, {"size": "Huge"})
    assert caught.value.choices == ["Small", "Medium", "Large"]
    with pytest.raises(BadFieldValue, match="5 characters"):
        fill_form(data, {"code": "ABCDEF"})
    with pytest.raises(BadFieldValue, match="signature"):
        fill_form(data, {"signature": "me"})
    with pytest.raises(UnknownField) as unknown:
        fill_form(data, {"nowhere": "x"})
    assert "nowhere" not in (unknown.value.choices or [])
    assert "person.name" in (unknown.value.choices or [])


def test_a_refilled_form_takes_new_values() -> None:
    data = other_producer_form()
    once = fill_form(data, OTHER_VALUES, flatten=False)
    twice = fill_form(once, {"person.name": "Zweiter", "size": "Small", "agree": "no"})
    page_text = texts(twice)[0]
    assert "Zweiter" in page_text
    assert "Анна" not in page_text


# --- a form ReportLab made --------------------------------------------------------------------


def reportlab_form() -> bytes:
    out = io.BytesIO()
    drawing = canvas.Canvas(out, invariant=1)
    form_ = drawing.acroForm
    form_.textfield(name="title", x=50, y=700, width=300, height=24)
    form_.checkbox(name="ok", x=50, y=650)
    form_.radio(name="colour", value="red", x=50, y=600)
    form_.radio(name="colour", value="blue", x=90, y=600, selected=True)
    form_.choice(name="pick", value="b", options=["a", "b", "c"], x=50, y=550, width=100, height=20)
    drawing.showPage()
    drawing.save()
    return out.getvalue()


def test_a_reportlab_form_is_read_and_filled() -> None:
    data = reportlab_form()
    fields = by_name(read_fields(data))
    assert fields["colour"].options == ["red", "blue"]
    assert fields["colour"].value == "blue"
    assert fields["pick"].value == "b"
    flat = fill_form(data, {"title": UNICODE, "ok": "true", "colour": "red", "pick": "c"})
    page_text = texts(flat)[0]
    assert UNICODE in page_text
    assert "c" in page_text
    assert widgets(flat) == []


def test_odd_characters_neither_fail_nor_show_as_boxes() -> None:
    data = form("pypdf-form.pdf")
    live = fill_form(data, {"foo": "tab\there \ud800"}, flatten=False)
    assert read_fields(live)[0].value == "tab\there \ufffd"  # a lone surrogate is replaced
    assert "tab here \ufffd" in texts(fill_form(data, {"foo": "tab\there \ud800"}))[0]


@pytest.mark.parametrize("multiline", [False, True])
def test_text_is_placed_by_the_fields_quadding(multiline: bool) -> None:
    """/Q 0 left, 1 centred, 2 right: where a filled value starts on the flattened page."""
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(400, 400))
    flags = {"Ff": 1 << 12} if multiline else {}
    fields = [
        merged(
            pdf,
            page,
            f"q{q}",
            [50, 300 - 60 * q, 350, 340 - 60 * q],
            FT=Name.Tx,
            Q=q,
            **flags,
            **black_box(),
        )
        for q in range(3)
    ]
    pdf.Root.AcroForm = Dictionary(Fields=Array(fields), DA=pikepdf.String("/Helv 12 Tf 0 g"))
    buffer = io.BytesIO()
    pdf.save(buffer)

    flat = fill_form(buffer.getvalue(), {"q0": "left", "q1": "centre", "q2": "right"})
    with pdfplumber.open(io.BytesIO(flat)) as document:
        words = {w["text"]: w for w in document.pages[0].extract_words()}
    assert 50 < words["left"]["x0"] < 60
    assert abs((words["centre"]["x0"] + words["centre"]["x1"]) / 2 - 200) < 2
    assert 340 < words["right"]["x1"] < 350
