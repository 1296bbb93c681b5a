"""A booklet's pages merged into one PDF: bookmarks, page labels, metadata, nothing active.

pikepdf (qpdf) rather than pypdf, by measurement (`bench/booklets.py`, section (b): 100 parts of a
10-page ReportLab PDF, 1,000 pages; medians of 5 merges, three runs on a shared 2-CPU machine):
`assemble`, with everything below, 211-325 ms and 368 KiB (object streams); the qpdf command
line (`qpdf --empty --pages ... --`, Debian's qpdf 11.3, a process reading and writing files)
245-327 ms, 615 KiB; pikepdf copying the bare pages 151-215 ms; pypdf 7.1 `PdfWriter.append`
plus a bookmark per part 367-528 ms (1.2-1.6x qpdf, about 1.7x `assemble`), 725 KiB.
pikepdf's `add_pages_from` (10.18) also carries what a plain page copy loses: the named
destinations of links (a table of contents keeps working), the optional content (layers) a page
uses, and the part's own bookmarks; qpdf merges the forms' resources.

Decisions a caller can rely on:
- The bookmarks are one entry per part, titled `part.title` and going to its first page; a
  part's own bookmarks that lead to its selected pages sit below its entry (closed).
- Page labels number the booklet's pages from 1; a part with a `label` has its pages labelled
  `label` followed by their number within the part ("A-" gives A-1, A-2), and the part after it
  picks up the booklet's page number again, so unlabelled labels match the page positions.
- Metadata: Title, Subject, Author, Keywords, Creator and Producer "Paperworks", and
  CreationDate/ModDate from `creation_date` (a naive one is read as UTC) or none at all; no
  XMP. Same inputs, same bytes: no clock, and the /ID is a hash of the content.
- Nothing active survives: the output's catalog is new, so no document /OpenAction, /AA,
  named JavaScript or embedded files are carried; on pages and annotations every /AA goes, an
  /A or a link /Dest stays only if it goes to a page of the booklet, opens an http(s)/mailto
  URI or turns the page (Named First/Last/Next/PrevPage), with its whole /Next chain; every
  other action (JavaScript, Launch, SubmitForm, ResetForm, ImportData, remote and embedded
  go-tos, multimedia) is removed and its link stays, inert. File attachment and
  multimedia annotations (Sound, Movie, Screen, RichMedia, 3D) are removed, and so is every
  associated file (/AF). Form fields keep no /AA, calculation order or XFA.
- Live form fields stay live, renamed so a form can appear twice: part N's fields go below a
  new top-level field `pN` (so "Name" in part 3 becomes "p3.Name"), which also carries the
  form's /DA and /Q; qpdf merges the forms' /DR. Only fields with a widget on a selected page are
  kept. The forms engine flattens by default, so this only matters for `flatten: false`.
- Links whose target page was not selected lose their action rather than point at nothing.

- A part uses each of its pages at most once (see `page_ranges`).

Limitations: a part's tagged structure (accessibility tags) and article threads are not carried.
A malformed form whose widgets are missing from its /AcroForm /Fields is not renamed; qpdf
then suffixes a clashing name ("Name+1"), as it renames clashing /DR fonts ("Helv_1").
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime

import pikepdf
from pikepdf import Array, Dictionary, Name, OutlineItem, String

from paperworks.booklets.engine_errors import BadPageRange, CorruptPdf, EngineError
from paperworks.booklets.page_ranges import parse_page_ranges
from paperworks.booklets.pdf_inputs import open_pdf, qpdf_reason

PRODUCER = "Paperworks"

_SAFE_PAGE_TURNS = frozenset({"/FirstPage", "/LastPage", "/NextPage", "/PrevPage"})
_SAFE_SCHEMES = ("http://", "https://", "mailto:")
_ACTIVE_ANNOTATIONS = frozenset(
    {"/FileAttachment", "/Sound", "/Movie", "/Screen", "/RichMedia", "/3D"}
)
_MAX_DEPTH = 32  # form field trees and /Next chains deeper than this are treated as hostile


@dataclass(frozen=True)
class Part:
    """One booklet page entry: its PDF (which may have several pages), the bookmark title, the
    pages used (`page_ranges` syntax, None for all) and an optional page label prefix."""

    title: str
    pdf: bytes
    pages: str | None = None
    label: str | None = None


def assemble(
    parts: Sequence[Part],
    *,
    title: str,
    subject: str | None = None,
    author: str = PRODUCER,
    keywords: Sequence[str] | str | None = None,
    creation_date: datetime | None = None,
) -> bytes:
    """The parts merged in order into one PDF; the module docstring says what it holds."""
    if not parts:
        raise EngineError("A booklet needs at least one page.")
    with ExitStack() as sources, pikepdf.new() as out:
        starts, carried = [], []
        for number, part in enumerate(parts, start=1):
            source = sources.enter_context(open_pdf(part.pdf, name=_name(part)))
            starts.append(len(out.pages))
            carried.append(_add_part(out, source, part, number))
        _outline(out, parts, starts, carried)
        _page_labels(out, parts, starts)
        _strip_active(out)
        _settle_acroform(out)
        _describe(out, title, subject, author, keywords, creation_date)
        return _save(out)


def _name(part: Part) -> str:
    return f"page {part.title!r}"


def _add_part(out: pikepdf.Pdf, source: pikepdf.Pdf, part: Part, number: int) -> int:
    """Appends the part's selected pages; returns how many top-level bookmarks came along."""
    try:
        indexes = parse_page_ranges(part.pages, len(source.pages))
    except BadPageRange as exc:
        raise BadPageRange(f"Page {part.title!r}: {exc.message}") from exc
    before = _top_level_bookmarks(out)
    try:
        _prefix_fields(source, indexes, f"p{number}")
        out.add_pages_from(source, indexes)
    except (pikepdf.PdfError, pikepdf.ForeignObjectError) as exc:
        raise CorruptPdf(f"{_name(part)} is not a readable PDF: {qpdf_reason(exc)}") from exc
    return _top_level_bookmarks(out) - before


# --- form fields -------------------------------------------------------------------------------


def _prefix_fields(source: pikepdf.Pdf, indexes: list[int], prefix: str) -> None:
    """Moves the source's fields that show on a selected page below one new top-level field
    named `prefix`, so two copies of a form do not share (and fill each other's) fields."""
    acroform = source.Root.get("/AcroForm")
    if not isinstance(acroform, Dictionary):
        return
    fields = acroform.get("/Fields")
    if not isinstance(fields, Array) or len(fields) == 0:
        return
    shown = {
        annot.objgen
        for index in indexes
        for annot in _array(source.pages[index].obj.get("/Annots"))
        if isinstance(annot, Dictionary) and annot.is_indirect
    }
    kept = [node for node in fields if _prune(node, shown, 0)]
    if not kept:
        acroform.Fields = Array()
        return
    top = source.make_indirect(Dictionary(T=String(prefix), Kids=Array(kept)))
    for key in ("/DA", "/Q"):
        if key in acroform:
            top[key] = acroform[key]
    for node in kept:
        node.Parent = top
    acroform.Fields = Array([top])


def _prune(node: object, shown: set[tuple[int, int]], depth: int) -> bool:
    """Whether the field has a widget on a selected page; drops the kids that have none, so
    no widget (and through its /P, no page) that was not selected is copied."""
    if not isinstance(node, Dictionary) or depth > _MAX_DEPTH:
        return False
    kids = node.get("/Kids")
    if isinstance(kids, Array) and len(kids) > 0:
        kept = [kid for kid in kids if _prune(kid, shown, depth + 1)]
        if kept:
            node.Kids = Array(kept)
        return bool(kept)
    return node.is_indirect and node.objgen in shown


def _settle_acroform(out: pikepdf.Pdf) -> None:
    """The merged form keeps its fields, /DA, /DR and /NeedAppearances; calculation order
    (scripts), XFA (which would override the fields) and signature flags (any signature is
    void once pages are merged) go; a form without fields goes altogether."""
    acroform = out.Root.get("/AcroForm")
    if not isinstance(acroform, Dictionary):
        return
    fields = acroform.get("/Fields")
    if not isinstance(fields, Array) or len(fields) == 0:
        del out.Root["/AcroForm"]
        return
    for key in ("/CO", "/XFA", "/SigFlags"):
        _drop(acroform, key)


# --- bookmarks, page labels, metadata ----------------------------------------------------------


def _top_level_bookmarks(out: pikepdf.Pdf) -> int:
    root = out.Root.get("/Outlines")
    if not isinstance(root, Dictionary):
        return 0
    count, seen, node = 0, set(), root.get("/First")
    while isinstance(node, Dictionary) and node.objgen not in seen:
        seen.add(node.objgen)
        count += 1
        node = node.get("/Next")
    return count


def _outline(
    out: pikepdf.Pdf, parts: Sequence[Part], starts: list[int], carried: list[int]
) -> None:
    """One entry per part at its first page, the part's own bookmarks (carried in order at
    the top level) moved below it."""
    with out.open_outline(max_depth=_MAX_DEPTH) as outline:
        own = list(outline.root)
        if len(own) != sum(carried):  # not what was carried: keep only the part entries
            own, carried = [], [0] * len(parts)
        entries, position = [], 0
        for number, (part, start, count) in enumerate(zip(parts, starts, carried, strict=True)):
            entry = OutlineItem(part.title.strip() or f"Part {number + 1}", start)
            entry.children = own[position : position + count]
            entry.is_closed = count > 0
            position += count
            entries.append(entry)
        outline.root[:] = entries
    out.Root.PageMode = Name.UseOutlines


def _page_labels(out: pikepdf.Pdf, parts: Sequence[Part], starts: list[int]) -> None:
    nums: list[object] = []
    labelled_before = True  # so the first part always starts the numbering
    for part, start in zip(parts, starts, strict=True):
        if part.label:
            label = Dictionary(S=Name.D, P=String(part.label), St=1)
            nums += [start, label]
        elif labelled_before:
            nums += [start, Dictionary(S=Name.D, St=start + 1)]
        labelled_before = bool(part.label)
    out.Root.PageLabels = Dictionary(Nums=Array(nums))


def _describe(
    out: pikepdf.Pdf,
    title: str,
    subject: str | None,
    author: str,
    keywords: Sequence[str] | str | None,
    creation_date: datetime | None,
) -> None:
    info = {"/Title": title, "/Author": author, "/Creator": PRODUCER, "/Producer": PRODUCER}
    if subject:
        info["/Subject"] = subject
    if keywords:
        info["/Keywords"] = keywords if isinstance(keywords, str) else ", ".join(keywords)
    if creation_date is not None:
        info["/CreationDate"] = info["/ModDate"] = _pdf_date(creation_date)
    for key, value in info.items():
        out.docinfo[Name(key)] = String(value)
    out.Root.ViewerPreferences = Dictionary(DisplayDocTitle=True)


def _pdf_date(moment: datetime) -> str:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return f"D:{aware.astimezone(UTC):%Y%m%d%H%M%S}Z"


# --- active content ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Targets:
    """What a kept link may go to: the booklet's pages and its named destinations."""

    pages: frozenset[tuple[int, int]]
    strings: frozenset[str]
    names: frozenset[str]


def _strip_active(out: pikepdf.Pdf) -> None:
    targets = _targets(out)
    for page in out.pages:
        for key in ("/AA", "/B", "/AF"):
            _drop(page.obj, key)
        annots = page.obj.get("/Annots")
        if not isinstance(annots, Array):
            continue
        kept = [a for a in annots if isinstance(a, Dictionary) and _keep_annotation(a, targets)]
        if kept:
            page.obj.Annots = Array(kept)
        else:
            del page.obj["/Annots"]
    for node in _field_nodes(out):
        _defang(node, targets)
    for obj in out.objects:  # associated files hang off images, XObjects, anything
        if isinstance(obj, Dictionary | pikepdf.Stream) and "/AF" in obj:
            del obj["/AF"]


def _targets(out: pikepdf.Pdf) -> _Targets:
    strings: frozenset[str] = frozenset()
    names = out.Root.get("/Names")
    if isinstance(names, Dictionary):
        for key in list(names.keys()):
            if key != "/Dests":
                del names[key]
        dests = names.get("/Dests")
        if isinstance(dests, Dictionary):
            strings = frozenset(pikepdf.NameTree(dests).keys())
    legacy = out.Root.get("/Dests")
    return _Targets(
        pages=frozenset(page.obj.objgen for page in out.pages),
        strings=strings,
        names=frozenset(legacy.keys()) if isinstance(legacy, Dictionary) else frozenset(),
    )


def _keep_annotation(annot: Dictionary, targets: _Targets) -> bool:
    if str(annot.get("/Subtype")) in _ACTIVE_ANNOTATIONS:
        return False
    _defang(annot, targets)
    return True


def _defang(holder: Dictionary, targets: _Targets) -> None:
    """Drops the holder's event actions, and its action or destination unless it is safe."""
    for key in ("/AA", "/AF"):
        _drop(holder, key)
    if "/A" in holder and not _safe_action(holder.get("/A"), targets, 0):
        del holder["/A"]
    if "/Dest" in holder and not _live_destination(holder.get("/Dest"), targets):
        del holder["/Dest"]


def _safe_action(action: object, targets: _Targets, depth: int) -> bool:
    """Whether the action and every action it chains to with /Next only moves within the
    booklet, turns the page or opens a web or mail link."""
    if not isinstance(action, Dictionary) or depth > _MAX_DEPTH or "/JS" in action:
        return False
    kind = action.get("/S")
    if kind == Name.GoTo:
        safe = _live_destination(action.get("/D"), targets)
    elif kind == Name.URI:
        uri = action.get("/URI")
        safe = isinstance(uri, String) and str(uri).lower().startswith(_SAFE_SCHEMES)
    elif kind == Name.Named:
        safe = str(action.get("/N")) in _SAFE_PAGE_TURNS
    else:
        safe = False
    chained = action.get("/Next")
    if chained is None or not safe:
        return safe
    following = list(chained) if isinstance(chained, Array) else [chained]
    return all(_safe_action(step, targets, depth + 1) for step in following)


def _live_destination(dest: object, targets: _Targets) -> bool:
    if isinstance(dest, Array) and len(dest) > 0:
        page = dest[0]
        return isinstance(page, Dictionary) and page.is_indirect and page.objgen in targets.pages
    if isinstance(dest, String):
        return str(dest) in targets.strings
    if isinstance(dest, Name):
        return str(dest) in targets.names
    return False


def _field_nodes(out: pikepdf.Pdf) -> Iterator[Dictionary]:
    """Every node of the merged form's field tree, each once."""
    acroform = out.Root.get("/AcroForm")
    if not isinstance(acroform, Dictionary):
        return
    seen: set[tuple[int, int]] = set()
    stack = [(node, 0) for node in _array(acroform.get("/Fields"))]
    while stack:
        node, depth = stack.pop()
        if not isinstance(node, Dictionary) or depth > _MAX_DEPTH:
            continue
        if node.is_indirect:
            if node.objgen in seen:
                continue
            seen.add(node.objgen)
        yield node
        stack += [(kid, depth + 1) for kid in _array(node.get("/Kids"))]


# --- helpers -----------------------------------------------------------------------------------


def _array(value: object) -> list[object]:
    return list(value) if isinstance(value, Array) else []


def _drop(holder: Dictionary, key: str) -> None:
    if key in holder:
        del holder[key]


def _save(out: pikepdf.Pdf) -> bytes:
    """Object streams make the file about half as small for no measurable time; the /ID is a
    hash of the content so the bytes repeat."""
    buffer = io.BytesIO()
    try:
        out.save(
            buffer,
            deterministic_id=True,
            object_stream_mode=pikepdf.ObjectStreamMode.generate,
        )
    except pikepdf.PdfError as exc:
        raise CorruptPdf(f"One of the pages is not a readable PDF: {qpdf_reason(exc)}") from exc
    return buffer.getvalue()
