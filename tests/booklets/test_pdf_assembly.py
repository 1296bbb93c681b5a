"""Merging a booklet's pages: order, bookmarks, labels, metadata, determinism, no active content,
live forms kept apart, and parts that cannot be read. Parts are small ReportLab PDFs whose pages
say "Part N page M", so the order can be read back from the text."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pdfplumber
import pikepdf
import pypdf
import pytest
from pikepdf import Array, Dictionary, Name, String
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from paperworks.booklets.engine_errors import (
    BadPageRange,
    CorruptPdf,
    EncryptedPdf,
    EngineError,
)
from paperworks.booklets.pdf_assembly import Part, assemble
from tests.booklets.conftest import form, make_pdf

CREATED = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)
FORM = "pypdf-pdflatex-forms.pdf"  # 3 fields: Name (text), Check (checkbox), Submit (button)


def part(number: int, count: int, **options: str) -> Part:
    texts = [f"Part {number} page {page}" for page in range(1, count + 1)]
    return Part(title=f"Section {number}", pdf=make_pdf(*texts), **options)


def booklet(parts: list[Part], **options: Any) -> bytes:
    return assemble(parts, title="Annual booklet", creation_date=CREATED, **options)


def texts(data: bytes) -> list[str]:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return [(page.extract_text() or "").strip() for page in pdf.pages]


def opened(data: bytes) -> pikepdf.Pdf:
    return pikepdf.open(io.BytesIO(data))


def page_number(pdf: pikepdf.Pdf, destination: object) -> int:
    assert isinstance(destination, Array)
    return pdf.pages.index(pikepdf.Page(destination[0]))


# --- order, selection, bookmarks, labels, metadata ---------------------------------------------


def test_pages_come_in_part_order() -> None:
    data = booklet([part(1, 2), part(2, 3), part(3, 1)])
    assert texts(data) == [
        "Part 1 page 1",
        "Part 1 page 2",
        "Part 2 page 1",
        "Part 2 page 2",
        "Part 2 page 3",
        "Part 3 page 1",
    ]


def test_a_page_selection_is_taken_in_its_order() -> None:
    data = booklet([part(1, 1), part(2, 5, pages="4-,1"), part(3, 3, pages="2")])
    assert texts(data) == [
        "Part 1 page 1",
        "Part 2 page 4",
        "Part 2 page 5",
        "Part 2 page 1",
        "Part 3 page 2",
    ]


def test_one_bookmark_per_part_at_its_first_page() -> None:
    parts = [part(1, 2), part(2, 3, pages="3,1"), part(3, 1), Part("  ", make_pdf("untitled"))]
    with opened(booklet(parts)) as pdf, pdf.open_outline() as outline:
        found = [(item.title, page_number(pdf, item.destination)) for item in outline.root]
        assert all(not item.children for item in outline.root)
        assert pdf.Root.PageMode == Name.UseOutlines
    assert found == [("Section 1", 0), ("Section 2", 2), ("Section 3", 4), ("Part 4", 5)]


def with_bookmarks(*chapters: str) -> bytes:
    """A PDF with one page per chapter and a bookmark for each (named destinations)."""
    buffer = io.BytesIO()
    drawing = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    for number, chapter in enumerate(chapters):
        drawing.drawString(72, 760, chapter)
        drawing.bookmarkPage(f"c{number}")
        drawing.addOutlineEntry(chapter, f"c{number}", level=0)
        drawing.showPage()
    drawing.save()
    return buffer.getvalue()


def test_a_parts_own_bookmarks_sit_below_its_entry() -> None:
    report = Part("Report", with_bookmarks("Intro", "Figures", "Appendix"), pages="1,3")
    with opened(booklet([part(1, 1), report, part(3, 1)])) as pdf, pdf.open_outline() as outline:
        entries = outline.root
        assert [item.title for item in entries] == ["Section 1", "Report", "Section 3"]
        children = [(c.title, page_number(pdf, c.destination)) for c in entries[1].children]
        assert entries[1].is_closed
        assert not entries[0].children
        assert not entries[2].children
    assert children == [("Intro", 1), ("Appendix", 2)]  # "Figures" was not selected


def test_page_labels_number_the_booklet_or_a_labelled_part() -> None:
    parts = [part(1, 2), part(2, 2, label="B-"), part(3, 1), part(4, 1), part(5, 1, label="Annex ")]
    with opened(booklet(parts)) as pdf:
        labels = [page.label for page in pdf.pages]
    assert labels == ["1", "2", "B-1", "B-2", "5", "6", "Annex 1"]


def test_metadata_is_what_was_given() -> None:
    data = assemble(
        [part(1, 1)],
        title="Onboarding — Customer X",
        subject="Customer X, 2026 Q1",
        keywords=["onboarding", "Q1"],
        creation_date=datetime(2026, 3, 31, 22, 0, tzinfo=timezone(timedelta(hours=2))),
    )
    with opened(data) as pdf:
        info = {str(key): str(value) for key, value in pdf.docinfo.items()}
        assert "/Metadata" not in pdf.Root  # no XMP, which would carry the time it was written
        assert pdf.Root.ViewerPreferences.DisplayDocTitle
    assert info == {
        "/Title": "Onboarding — Customer X",
        "/Subject": "Customer X, 2026 Q1",
        "/Author": "Paperworks",
        "/Keywords": "onboarding, Q1",
        "/Creator": "Paperworks",
        "/Producer": "Paperworks",
        "/CreationDate": "D:20260331200000Z",
        "/ModDate": "D:20260331200000Z",
    }


def test_no_date_without_one_and_a_naive_date_is_utc() -> None:
    with opened(assemble([part(1, 1)], title="T")) as pdf:
        assert not {"/CreationDate", "/ModDate", "/Subject", "/Keywords"} & set(pdf.docinfo.keys())
    naive = assemble([part(1, 1)], title="T", creation_date=datetime(2026, 1, 2, 3, 4, 5))  # noqa: DTZ001
    with opened(naive) as pdf:
        assert str(pdf.docinfo.CreationDate) == "D:20260102030405Z"


def test_the_same_inputs_give_the_same_bytes() -> None:
    parts = [part(1, 2), Part("Form", form(FORM)), part(3, 3, pages="2-")]
    first, second = booklet(parts), booklet(parts)
    assert first == second
    assert booklet(parts, subject="Other") != first
    with opened(first) as pdf:
        assert len(pdf.trailer.ID) == 2


# --- active content ----------------------------------------------------------------------------


SCRIPT = "app.alert('hello')"


def link(pdf: pikepdf.Pdf, y: int, **entries: Any) -> Dictionary:
    return pdf.make_indirect(
        Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=[72, y, 300, y + 20], **entries)
    )


def hostile() -> bytes:
    """Two pages carrying every kind of active content, and links that are safe to keep."""
    pdf = opened(make_pdf("Risky page 1", "Risky page 2"))
    script = pdf.make_indirect(Dictionary(S=Name.JavaScript, JS=String(SCRIPT)))
    pdf.Root.OpenAction = script
    pdf.Root.AA = Dictionary(WC=script)
    scripts = pikepdf.NameTree.new(pdf)
    scripts["startup"] = pdf.make_indirect(Dictionary(S=Name.JavaScript, JS=String(SCRIPT)))
    pdf.Root.Names = Dictionary(JavaScript=scripts.obj)
    attached = pikepdf.AttachedFileSpec(pdf, b"secret payload", filename="secret.txt")
    pdf.attachments["secret.txt"] = attached
    first, second = pdf.pages[0].obj, pdf.pages[1].obj
    first.AA = Dictionary(O=script)
    first.AF = Array([attached.obj])
    to_second = Array([second, Name.Fit])
    first.Annots = Array(
        [
            link(pdf, 700, A=Dictionary(S=Name.JavaScript, JS=String(SCRIPT))),
            link(pdf, 670, A=Dictionary(S=Name.Launch, F=String("calc.exe"))),
            link(pdf, 640, A=Dictionary(S=Name.URI, URI=String("javascript:alert(1)"))),
            link(pdf, 610, A=Dictionary(S=Name.SubmitForm, F=String("https://evil.test/"))),
            link(pdf, 580, A=Dictionary(S=Name.GoTo, D=to_second, Next=script)),
            link(pdf, 550, A=Dictionary(S=Name.Named, N=Name.Print)),
            link(pdf, 520, A=Dictionary(S=Name.GoToR, F=String("other.pdf"), D=Array([0]))),
            link(pdf, 490, Dest=to_second, AA=Dictionary(E=script)),
            link(pdf, 460, A=Dictionary(S=Name.URI, URI=String("https://example.com/"))),
            link(pdf, 430, A=Dictionary(S=Name.GoTo, D=to_second)),
            link(pdf, 400, A=Dictionary(S=Name.Named, N=Name.NextPage)),
            pdf.make_indirect(
                Dictionary(
                    Type=Name.Annot,
                    Subtype=Name.FileAttachment,
                    Rect=[72, 100, 90, 118],
                    FS=attached.obj,
                )
            ),
            pdf.make_indirect(
                Dictionary(
                    Type=Name.Annot,
                    Subtype=Name.Screen,
                    Rect=[100, 100, 200, 200],
                    A=Dictionary(S=Name.Rendition, JS=String(SCRIPT)),
                )
            ),
        ]
    )
    buffer = io.BytesIO()
    pdf.save(buffer)
    return buffer.getvalue()


def plain_dump(data: bytes) -> bytes:
    """The whole file uncompressed, so every key and string can be searched."""
    with opened(data) as pdf:
        buffer = io.BytesIO()
        pdf.save(
            buffer,
            qdf=True,
            compress_streams=False,
            stream_decode_level=pikepdf.StreamDecodeLevel.generalized,
            object_stream_mode=pikepdf.ObjectStreamMode.disable,
        )
        return buffer.getvalue()


def test_the_hostile_source_really_is_hostile() -> None:
    dump = plain_dump(hostile())
    for marker in (b"/JavaScript", b"/Launch", b"/EmbeddedFiles", b"/OpenAction", b"/AA"):
        assert marker in dump


def test_no_active_content_survives() -> None:
    data = booklet([Part("Risky", hostile()), Part("Risky again", hostile(), pages="1")])
    dump = plain_dump(data)
    for marker in (
        b"/JavaScript",
        b"/JS",
        b"/Launch",
        b"/SubmitForm",
        b"/GoToR",
        b"/Rendition",
        b"/EmbeddedFile",
        b"/FileAttachment",
        b"/Screen",
        b"/OpenAction",
        b"/AA",
        b"/AF",
        b"/Print",
        b"app.alert",
        b"calc.exe",
        b"javascript:",
        b"secret",
    ):
        assert marker not in dump, marker
    with opened(data) as pdf:
        assert "/Names" not in pdf.Root
        assert not pdf.attachments
        kept = [_link_target(pdf, annot) for annot in pdf.pages[0].Annots]
        second_copy = [_link_target(pdf, annot) for annot in pdf.pages[2].Annots]
        pages = [
            obj
            for obj in pdf.objects
            if isinstance(obj, Dictionary) and obj.get("/Type") == Name.Page
        ]
        assert len(pages) == len(pdf.pages) == 3  # no stray copy of an unselected page
    dead = [None] * 9  # the active links lose their action, and their look stays
    assert kept == [*dead[:7], 1, "https://example.com/", 1, "/NextPage"]
    # page 2 of the second copy was not selected: links to it go nowhere rather than elsewhere
    assert second_copy == [*dead[:7], None, "https://example.com/", None, "/NextPage"]


def _link_target(pdf: pikepdf.Pdf, annot: Any) -> object:
    action = annot.get("/A")
    if "/Dest" in annot:
        return page_number(pdf, annot.Dest)
    if action is None:
        return None
    kind = str(action.S)
    if kind == "/GoTo":
        return page_number(pdf, action.D)
    if kind == "/URI":
        return str(action.URI)
    return str(action.N)


# --- live forms --------------------------------------------------------------------------------


def field_names(pdf: pikepdf.Pdf) -> list[str]:
    return sorted(field.fully_qualified_name for field in pdf.acroform.fields)


def test_a_form_twice_keeps_two_sets_of_fields() -> None:
    data = booklet([Part("Form", form(FORM)), part(2, 1), Part("Form again", form(FORM))])
    with opened(data) as pdf:
        assert field_names(pdf) == [
            "p1.Check",
            "p1.Name",
            "p1.Submit",
            "p3.Check",
            "p3.Name",
            "p3.Submit",
        ]
        acroform = pdf.Root.AcroForm
        assert [str(top.T) for top in acroform.Fields] == ["p1", "p3"]
        assert "/Font" in acroform.DR
        for index, prefix in ((0, "p1."), (2, "p3.")):
            widgets = pdf.acroform.get_widget_annotations_for_page(pdf.pages[index])
            owners = {
                pdf.acroform.get_field_for_annotation(w).fully_qualified_name for w in widgets
            }
            assert owners == {prefix + name for name in ("Check", "Name", "Submit")}
        names = [f for f in pdf.acroform.fields if f.fully_qualified_name.endswith("Name")]
        assert all(field.default_appearance for field in names)  # /DA kept for the text field
        submit = next(f for f in pdf.acroform.fields if f.fully_qualified_name == "p1.Submit")
        assert "/A" not in submit.obj  # the form's SubmitForm action is active content
    reader_fields = pypdf.PdfReader(io.BytesIO(data)).get_fields() or {}
    assert {"p1.Name", "p3.Name"} <= set(reader_fields)


def test_fields_of_unselected_pages_are_left_behind() -> None:
    with opened(make_pdf("Cover")) as combined, opened(form(FORM)) as source:
        combined.add_pages_from(source)
        buffer = io.BytesIO()
        combined.save(buffer)
    data = booklet([Part("Cover only", buffer.getvalue(), pages="1"), part(2, 1)])
    with opened(data) as pdf:
        assert "/AcroForm" not in pdf.Root
        assert all("/Annots" not in page.obj for page in pdf.pages)
        pages = [
            obj
            for obj in pdf.objects
            if isinstance(obj, Dictionary) and obj.get("/Type") == Name.Page
        ]
        assert len(pages) == 2


# --- parts that cannot be used -----------------------------------------------------------------


def encrypted(user: str) -> bytes:
    with opened(make_pdf("Secret page")) as pdf:
        buffer = io.BytesIO()
        pdf.save(buffer, encryption=pikepdf.Encryption(user=user, owner="owner-secret"))
        return buffer.getvalue()


def test_a_corrupt_part_is_named() -> None:
    with pytest.raises(CorruptPdf, match=r"^page 'Terms' is not a readable PDF") as caught:
        booklet([part(1, 1), Part("Terms", b"%PDF-1.7 this is not a PDF")])
    assert caught.value.code == "booklets.corrupt_pdf"


def test_a_part_needing_a_password_is_named() -> None:
    with pytest.raises(EncryptedPdf, match=r"^page 'Terms' is encrypted with a password"):
        booklet([part(1, 1), Part("Terms", encrypted(user="open-sesame"))])


def test_a_part_with_only_an_owner_password_is_merged() -> None:
    data = booklet([part(1, 1), Part("Terms", encrypted(user=""))])
    assert texts(data) == ["Part 1 page 1", "Secret page"]
    with opened(data) as pdf:
        assert not pdf.is_encrypted


def test_a_page_the_part_lacks_is_named() -> None:
    message = r"^Page 'Section 2': Page range '7': page 7 asked for, the file has 2 pages\.$"
    with pytest.raises(BadPageRange, match=message):
        booklet([part(1, 1), part(2, 2, pages="7")])


def test_a_booklet_needs_a_part() -> None:
    with pytest.raises(EngineError, match="at least one page"):
        booklet([])


# --- what a viewer sees ------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs pdftoppm (poppler-utils)")
def test_the_booklet_renders(tmp_path: Path) -> None:
    data = booklet([part(1, 2), Part("Form", form(FORM)), Part("Risky", hostile(), pages="2,1")])
    source = tmp_path / "booklet.pdf"
    source.write_bytes(data)
    result = subprocess.run(
        ["pdftoppm", "-png", "-r", "20", str(source), str(tmp_path / "page")],
        capture_output=True,
        check=True,
    )
    assert result.stderr == b""
    assert len(list(tmp_path.glob("page-*.png"))) == 5
