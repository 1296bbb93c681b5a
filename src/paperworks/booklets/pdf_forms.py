"""AcroForm fields read, filled with appearances that show any Latin, Greek or Cyrillic value, and
flattened.

pikepdf (qpdf) rather than pypdf. Both read all five sample forms, but pypdf draws appearances
in the form's own fonts: "Ωmega Ünïcode Жук" came out as "?mega Ünïcode ???" on every sample,
and its flattening reuses those appearances. qpdf's generator (`generate_appearance_streams`)
has the same WinAnsi limit. So the appearances are drawn here: ReportLab lays the value out in
the bundled DejaVu Sans, which it subsets and maps back to Unicode (`/ToUnicode`), so the value
can be extracted and searched; each ReportLab page becomes one widget's appearance XObject.
pikepdf moves them into the form and, to flatten, places each widget's appearance on its page
with qpdf's placement matrix (`get_page_content_for_appearance`, what `qpdf
--flatten-annotations` uses), without qpdf's flattening of every other annotation (links stay).
Filling and flattening a sample form takes about 1.5 ms here when its values show in the form's
standard fonts and 4-5 ms when one needs DejaVu (pypdf, without the Unicode font: 10-16 ms),
plus about 30 ms once per process to load the font; 1,200 fields on 30 pages, 0.9 s.

Decisions a caller can rely on:
- Pushbuttons are listed with type "button" (no options, no value) so a page editor shows
  every widget on the form; like signature fields they cannot be filled (`BadFieldValue`).
- A field whose widgets are on no page is not listed: filling it would show nothing.
- Fields that repeat a name (two widgets of one field, or two fields with the same full name)
  are one field; filling it fills every widget.
- Checkbox and radio values read as the option's export value, or "Off" when none is chosen.
  A multi-select list's value is its selected options separated by newlines, as it is filled.
- Every JavaScript action (field and widget `/AA` and `/A`, page `/AA`, the document's
  `/OpenAction`, `/AA` and named scripts) is dropped, and so is the XFA description of hybrid
  forms, so viewers show the AcroForm values written here.
- A text value longer than the field's /MaxLen is refused (`BadFieldValue`), not cut short.
- Unfilled fields keep their appearance; one that has a value but no appearance, or one that
  draws no text while the form asks viewers to draw fields (/NeedAppearances, which is turned
  off), gets one, so flattening does not lose it.
- Text is drawn as viewers draw it: /DA size and colour (auto size at most 12 pt), shrunk to
  fit the box rather than clipped, multi-line text wrapped, comb fields one character per
  cell, /Q alignment, /MK /R rotation, /MK background and border (beveled and inset as solid).
- A value the /DA's own standard font can show (Helvetica, Times, Courier, also as Arial,
  TimesNewRoman, CourierNew: Windows-1252 text) is drawn in it, and a tick or dot in
  ZapfDingbats when the /DA asks for it: every viewer has these, so nothing is embedded and
  the form looks as designed. Any other value is drawn in the bundled DejaVu Sans (Bold for a
  bold /DA font); characters DejaVu lacks (CJK) show as boxes. Against qpdf's own generator
  and flattening (`bench/booklets.py`, section (a)), a Latin-valued booklet costs about 2.1x;
  a Greek or Cyrillic one, with its font subset, 4-5x.
- XFA-only forms (no AcroForm fields) have no fields here; signature fields keep their
  appearance when flattened, which invalidates any signature, as any change to a signed file would.
"""

from __future__ import annotations

import hashlib
import io
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Literal, Protocol

import pikepdf
from pikepdf import Array, Dictionary, Name, Stream
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.ttfonts import TTFont  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]

from paperworks.booklets.engine_errors import BadFieldValue, CorruptPdf, UnknownField
from paperworks.booklets.pdf_inputs import open_pdf, qpdf_reason
from paperworks.kit import bundled_fonts

FieldType = Literal["text", "checkbox", "radio", "choice", "signature", "button"]


@dataclass(frozen=True)
class FormField:
    """One fillable field as a page editor maps it; `name` is what `fill_form` takes."""

    name: str
    type: FieldType
    options: list[str]
    value: str | None
    page: int
    multiline: bool
    required: bool


# Field flags (/Ff) and annotation flags (/F), by the bit numbers of ISO 32000.
_REQUIRED = 1 << 1
_MULTILINE = 1 << 12
_PASSWORD = 1 << 13
_RADIO = 1 << 15
_PUSHBUTTON = 1 << 16
_COMBO = 1 << 17
_EDIT = 1 << 18
_MULTISELECT = 1 << 21
_COMB = 1 << 24
_NOT_SHOWN = 1 | 2 | 32  # Invisible, Hidden, NoView

_TRUE = frozenset({"true", "yes", "on", "1", "checked", "x"})
_FALSE = frozenset({"false", "no", "off", "0", "", "unchecked"})
_INHERITABLE = ("/FT", "/Ff", "/V", "/DA", "/Q", "/Opt", "/MaxLen", "/TI")
_MAX_DEPTH = 64

_AUTO_SIZE = 12.0  # the largest size an auto-sized (/DA size 0) field gets
_MIN_SIZE = 4.0
_LEADING = 1.15
_HIGHLIGHT = (0.6, 0.75, 0.86)  # a selected list item, as viewers draw it
_SYMBOLS = {"4": "✔", "l": "●", "8": "✖", "u": "◆", "n": "■", "H": "★", "q": "■"}


# --- reading ----------------------------------------------------------------------------------


@dataclass
class _Field:
    """A terminal field: its dictionaries (several when a name repeats) and widgets."""

    name: str
    nodes: list[Dictionary]
    widgets: list[Dictionary]
    inherited: dict[str, Any]
    pages: list[int] = field(default_factory=list)

    @property
    def flags(self) -> int:
        return _int(self.inherited.get("/Ff"))

    @property
    def type(self) -> FieldType | None:
        kind = self.inherited.get("/FT")
        flags = self.flags
        if kind == Name.Tx:
            return "text"
        if kind == Name.Ch:
            return "choice"
        if kind == Name.Sig:
            return "signature"
        if kind != Name.Btn:
            return None
        if flags & _PUSHBUTTON:
            return "button"
        return "radio" if flags & _RADIO else "checkbox"


class _Form:
    """The fields of an open PDF, found by walking /AcroForm /Fields."""

    def __init__(self, doc: pikepdf.Pdf) -> None:
        self.doc = doc
        root_form = doc.Root.get("/AcroForm")
        self.acroform = root_form if isinstance(root_form, Dictionary) else None
        self.page_of = _page_index(doc)
        self.nodes: list[Dictionary] = []
        self.fields: dict[str, _Field] = {}
        if self.acroform is not None:
            fields = self.acroform.get("/Fields")
            if isinstance(fields, Array):
                seen: set[tuple[int, int]] = set()
                for node in fields:
                    if isinstance(node, Dictionary):
                        self._walk(node, "", {}, seen, 0)
        for item in self.fields.values():
            item.pages = sorted({page for w in item.widgets if (page := self._page(w)) is not None})

    def _walk(
        self,
        node: Dictionary,
        parent: str,
        inherited: dict[str, Any],
        seen: set[tuple[int, int]],
        depth: int,
    ) -> None:
        if depth > _MAX_DEPTH or (node.is_indirect and node.objgen in seen):
            return
        if node.is_indirect:
            seen.add(node.objgen)
        self.nodes.append(node)
        values = inherited | {key: node[key] for key in _INHERITABLE if key in node}
        partial = node.get("/T")
        name = _join(parent, _text(partial)) if partial is not None else parent
        kids = [kid for kid in _array(node.get("/Kids")) if isinstance(kid, Dictionary)]
        widgets = [kid for kid in kids if not _is_field(kid)]
        if not kids and _is_widget(node):
            widgets = [node]
        if widgets or not kids:
            self._add(name, node, widgets, values)
        for kid in kids:
            if _is_field(kid):
                self._walk(kid, name, values, seen, depth + 1)

    def _add(
        self, name: str, node: Dictionary, widgets: list[Dictionary], values: dict[str, Any]
    ) -> None:
        if not name or "/FT" not in values:
            return
        if name in self.fields:
            known = self.fields[name]
            known.nodes.append(node)
            known.widgets.extend(widgets)
        else:
            self.fields[name] = _Field(name, [node], list(widgets), values)

    def _page(self, widget: Dictionary) -> int | None:
        """The page whose /Annots holds the widget: viewers show a widget there only, whatever
        its /P says."""
        return self.page_of.get(widget.objgen) if widget.is_indirect else None

    def listed(self) -> list[_Field]:
        return [item for item in self.fields.values() if item.pages and item.type is not None]

    def default(self, key: str) -> Any:
        return self.acroform.get(key) if self.acroform is not None else None


def _page_index(doc: pikepdf.Pdf) -> dict[tuple[int, int], int]:
    """Each annotation to the 0-based number of the first page it is on."""
    index: dict[tuple[int, int], int] = {}
    for number, page in enumerate(doc.pages):
        for annot in _array(page.obj.get("/Annots")):
            if isinstance(annot, Dictionary) and annot.is_indirect:
                index.setdefault(annot.objgen, number)
    return index


def _is_widget(node: Dictionary) -> bool:
    return node.get("/Subtype") == Name.Widget or "/Rect" in node


def _is_field(kid: Dictionary) -> bool:
    """Kids with a partial name, or with kids of their own, are fields; the rest are widgets."""
    return "/T" in kid or "/Kids" in kid


def _join(parent: str, partial: str) -> str:
    return f"{parent}.{partial}" if parent else partial


def _array(value: Any) -> list[Any]:
    return list(value) if isinstance(value, Array) else []


def _int(value: Any) -> int:
    try:
        return int(value) if value is not None else 0
    except (TypeError, ValueError):
        return 0


def _number(value: Any, default: float = 0.0) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _text(value: Any) -> str:
    """A PDF string, name or text stream as Python text."""
    if isinstance(value, Name):
        return str(value)[1:]
    if isinstance(value, Stream):
        return value.read_bytes().decode("utf-8", errors="replace")
    if isinstance(value, pikepdf.String):
        return str(value)
    return "" if value is None else str(value)


def _state_names(widget: Dictionary) -> list[str]:
    """The widget's on-states: its normal appearances other than Off."""
    appearances = widget.get("/AP")
    normal = appearances.get("/N") if isinstance(appearances, Dictionary) else None
    if not isinstance(normal, Dictionary):
        return []
    return [str(key)[1:] for key in normal if key != "/Off"]


@dataclass(frozen=True)
class _Option:
    """One way to turn a button on: the state its widgets take, what users call it."""

    state: str
    label: str
    aliases: tuple[str, ...]


def _button_options(item: _Field) -> list[_Option]:
    """A checkbox's or radio group's options in widget order; /Opt, when present, names the
    widgets (their states are then often just indices)."""
    names = _opt_names(item)
    options: dict[str, _Option] = {}
    for number, widget in enumerate(item.widgets):
        states = _state_names(widget)
        state = states[0] if states else _fallback_state(item, number)
        label = names[number] if number < len(names) else state
        aliases = tuple(a for a in (_text(widget.get("/TU")), state) if a and a != label)
        options.setdefault(label, _Option(state, label, aliases))
    return list(options.values())


def _fallback_state(item: _Field, number: int) -> str:
    """A widget without appearances still needs a state name for /V and /AS."""
    if item.type == "checkbox":
        return "Yes"
    names = _opt_names(item)
    return names[number] if number < len(names) else str(number)


def _opt_names(item: _Field) -> list[str]:
    return [_text(entry) for entry in _array(item.inherited.get("/Opt"))]


@dataclass(frozen=True)
class _Choice:
    export: str
    display: str


def _choices(item: _Field) -> list[_Choice]:
    """A choice field's options; an /Opt entry is a string or an [export, display] pair."""
    found = []
    for entry in _array(item.inherited.get("/Opt")):
        if isinstance(entry, Array) and len(entry) >= 2:
            found.append(_Choice(_text(entry[0]), _text(entry[1])))
        elif isinstance(entry, Array) and len(entry) == 1:
            found.append(_Choice(_text(entry[0]), _text(entry[0])))
        else:
            found.append(_Choice(_text(entry), _text(entry)))
    return found


def _value(item: _Field) -> str | None:
    kind = item.type
    value = item.inherited.get("/V")
    if kind in ("checkbox", "radio"):
        return _button_value(item, value)
    if kind in ("button", "signature") or value is None:
        return None
    if isinstance(value, Array):
        return "\n".join(_text(entry) for entry in value)
    return _text(value)


def _button_value(item: _Field, value: Any) -> str:
    state = _text(value) if isinstance(value, Name) else None
    if state is None:
        shown = [_text(w.get("/AS")) for w in item.widgets if isinstance(w.get("/AS"), Name)]
        state = next((s for s in shown if s != "Off"), "Off")
    for option in _button_options(item):
        if option.state == state:
            return option.label
    return state


def _options(item: _Field) -> list[str]:
    if item.type in ("checkbox", "radio"):
        return [option.label for option in _button_options(item)]
    if item.type == "choice":
        return [choice.export for choice in _choices(item)]
    return []


def read_fields(pdf: bytes) -> list[FormField]:
    """The form's fillable fields in the form's own order; a PDF without a form has none."""
    with open_pdf(pdf) as doc:
        try:
            return [_form_field(item) for item in _Form(doc).listed()]
        except pikepdf.PdfError as exc:
            raise _damaged(exc) from exc


def _form_field(item: _Field) -> FormField:
    kind = item.type
    assert kind is not None
    flags = item.flags
    return FormField(
        name=item.name,
        type=kind,
        options=_options(item),
        value=_value(item),
        page=item.pages[0] + 1,
        multiline=kind == "text" and bool(flags & _MULTILINE),
        required=bool(flags & _REQUIRED),
    )


def _damaged(exc: pikepdf.PdfError) -> CorruptPdf:
    """qpdf reads objects lazily, so damage deep in a file surfaces while walking it."""
    return CorruptPdf(f"The PDF is damaged: {qpdf_reason(exc)}")


# --- filling: what each field becomes ---------------------------------------------------------


def fill_form(pdf: bytes, values: Mapping[str, str], *, flatten: bool = True) -> bytes:
    """The form with `values` (already rendered text, by field name) filled in and drawn.

    With `flatten` the result has no live form left: every widget is drawn into its page.
    Otherwise the fields stay live; the ones not in `values` are left as they were.
    """
    with open_pdf(pdf) as doc:
        try:
            _fill(doc, values, flatten=flatten)
            return _save(doc)
        except pikepdf.PdfError as exc:
            raise _damaged(exc) from exc


def _fill(doc: pikepdf.Pdf, values: Mapping[str, str], *, flatten: bool) -> None:
    form = _Form(doc)
    fills = _plan(form, values)
    _strip_javascript(doc, form)
    painter = _Painter(form)
    for item, fill in fills:
        fill.apply(item, painter)
    _draw_missing(form, painter, {item.name for item, _ in fills})
    painter.finish()
    _settle_acroform(form)
    if flatten:
        _flatten(doc, form)


def flatten_form(pdf: bytes) -> bytes:
    """The PDF with every form field drawn into its page and no live form left, so pages of
    several copies of one form can be merged without their field names colliding."""
    return fill_form(pdf, {}, flatten=True)


def _plan(form: _Form, values: Mapping[str, str]) -> list[tuple[_Field, _Fill]]:
    """Every value checked before anything changes, so a bad one leaves nothing half done; in the
    form's order, so the output does not depend on the order of `values`."""
    listed = {item.name: item for item in form.listed()}
    unknown = sorted(set(values) - set(listed))
    if unknown:
        raise UnknownField(_unknown_message(form, unknown, listed), choices=sorted(listed))
    return [
        (item, _fill_for(item, _clean(values[name])))
        for name, item in listed.items()
        if name in values
    ]


def _clean(value: str) -> str:
    """A lone surrogate (from a badly decoded upload) cannot go into a PDF string; it becomes
    U+FFFD, as any text decoder would make it."""
    return str(value).encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _unknown_message(form: _Form, unknown: list[str], listed: Mapping[str, _Field]) -> str:
    names = ", ".join(map(repr, unknown))
    if listed:
        return f"The form has no field {names}."
    if form.default("/XFA") is not None:
        return f"The form has no field {names}: it is an XFA form without AcroForm fields."
    return f"The form has no field {names}; it has no fields at all."


class _Fill(Protocol):
    """A value ready to go into one field: `apply` writes it and has its appearance drawn."""

    def apply(self, item: _Field, painter: _Painter) -> None: ...


@dataclass(frozen=True)
class _TextFill(_Fill):
    text: str

    def apply(self, item: _Field, painter: _Painter) -> None:
        for node in item.nodes:
            node.V = pikepdf.String(self.text)
            if "/RV" in node:
                del node["/RV"]  # a rich-text value would be shown instead of ours
        for widget in item.widgets:
            painter.text(item, widget, self.text)


@dataclass(frozen=True)
class _ChoiceFill(_Fill):
    exports: tuple[str, ...]
    shown: str
    indices: tuple[int, ...]

    def apply(self, item: _Field, painter: _Painter) -> None:
        for node in item.nodes:
            if len(self.exports) > 1:
                node.V = Array([pikepdf.String(export) for export in self.exports])
            else:
                node.V = pikepdf.String(self.exports[0] if self.exports else "")
            if self.indices and not item.flags & _COMBO:
                node.I = Array(sorted(self.indices))
            elif "/I" in node:
                del node["/I"]
        for widget in item.widgets:
            painter.choice(item, widget, self.shown, self.indices)


@dataclass(frozen=True)
class _ButtonFill(_Fill):
    state: str  # "Off" for none

    def apply(self, item: _Field, painter: _Painter) -> None:
        for node in item.nodes:
            node.V = Name("/" + self.state)
        for number, widget in enumerate(item.widgets):
            states = _state_names(widget) or [_fallback_state(item, number)]
            on = self.state if self.state in states else None
            widget.AS = Name("/" + on) if on is not None else Name.Off
            painter.button(item, widget)


def _fill_for(item: _Field, value: str) -> _Fill:
    kind = item.type
    if kind == "text":
        return _text_fill(item, value)
    if kind == "choice":
        return _choice_fill(item, value)
    if kind in ("checkbox", "radio"):
        return _ButtonFill(_button_state(item, value))
    raise BadFieldValue(
        f"The field {item.name!r} is a {kind} field; it cannot be filled.", choices=[]
    )


def _text_fill(item: _Field, value: str) -> _TextFill:
    limit = _int(item.inherited.get("/MaxLen"))
    if limit and len(value) > limit:
        raise BadFieldValue(
            f"The field {item.name!r} takes at most {limit} characters; the value has {len(value)}."
        )
    return _TextFill(value)


def _matching(value: str, candidates: Sequence[tuple[str, str]]) -> str | None:
    """The key of the candidate whose name is `value`: exactly, else ignoring case if that
    picks one."""
    for key, name in candidates:
        if name == value:
            return key
    folded = {key for key, name in candidates if name.casefold() == value.strip().casefold()}
    return folded.pop() if len(folded) == 1 else None


def _button_state(item: _Field, value: str) -> str:
    """The state a value selects: an option's label, else its tooltip or state name, else a
    yes/no word. A checkbox's state name that reads as "no" (Acrobat names the states of
    checkboxes with /Opt export values 0, 1, ...) is not taken: "0" leaves the box unticked."""
    options = _button_options(item)
    names = [(o.state, o.label) for o in options] + [
        (o.state, alias)
        for o in options
        for alias in o.aliases
        if item.type == "radio" or alias.strip().lower() not in _FALSE
    ]
    state = _matching(value, names)
    if state is not None:
        return state
    word = value.strip().lower()
    if item.type == "checkbox" and word in _TRUE:
        return options[0].state if options else "Yes"
    if word in _FALSE:
        return "Off"
    labels = [option.label for option in options]
    accepted = [*labels, "true", "false"] if item.type == "checkbox" else labels
    raise BadFieldValue(f"The {item.type} {item.name!r} has no option {value!r}.", choices=accepted)


def _choice_fill(item: _Field, value: str) -> _ChoiceFill:
    choices = _choices(item)
    if value == "":
        return _ChoiceFill((), "", ())
    index = _choice_index(choices, value)
    if index is not None:
        return _ChoiceFill((choices[index].export,), choices[index].display, (index,))
    flags = item.flags
    if flags & _COMBO and flags & _EDIT:
        return _ChoiceFill((value,), value, ())
    if flags & _MULTISELECT and "\n" in value:
        found = [_choice_index(choices, part) for part in value.splitlines() if part.strip()]
        if found and None not in found:
            indices = tuple(sorted({i for i in found if i is not None}))
            exports = tuple(choices[i].export for i in indices)
            return _ChoiceFill(exports, choices[indices[0]].display, indices)
    raise BadFieldValue(
        f"The choice {item.name!r} has no option {value!r}.",
        choices=[choice.export for choice in choices],
    )


def _choice_index(choices: list[_Choice], value: str) -> int | None:
    by_export = [(str(i), c.export) for i, c in enumerate(choices)]
    by_display = [(str(i), c.display) for i, c in enumerate(choices)]
    found = _matching(value, by_export) or _matching(value, by_display)
    return int(found) if found is not None else None


def _draw_missing(form: _Form, painter: _Painter, filled: set[str]) -> None:
    """Viewers were asked to draw fields themselves (/NeedAppearances), which is turned off, and
    flattening draws only appearances: so a value without one gets one here, and so does a
    value whose appearance shows no text when viewers were asked to draw (LibreOffice writes
    an empty one for a field's default value)."""
    viewers_draw = form.default("/NeedAppearances") is True
    for item in form.listed():
        if item.name in filled:
            continue
        value = _value(item)
        for widget in item.widgets:
            if item.type in ("checkbox", "radio"):
                painter.button(item, widget)
            elif value and not _shows_value(_normal_appearance(widget), viewers_draw):
                if item.type == "text":
                    painter.text(item, widget, value)
                elif item.type == "choice":
                    index = _choice_index(_choices(item), value.splitlines()[0])
                    shown = _choices(item)[index].display if index is not None else value
                    painter.choice(item, widget, shown, () if index is None else (index,))


def _shows_value(appearance: Any, viewers_draw: bool) -> bool:
    """Whether a widget's appearance can be taken to show its value: it has one, and when
    viewers were to draw the field themselves, it draws some text (or a form XObject)."""
    if not isinstance(appearance, Stream):
        return False
    if not viewers_draw:
        return True
    try:
        instructions = pikepdf.parse_content_stream(appearance)
    except pikepdf.PdfError:
        return True
    return any(str(instruction.operator) in _SHOWING for instruction in instructions)


_SHOWING = frozenset({"Tj", "TJ", "'", '"', "Do"})


def _normal_appearance(widget: Dictionary) -> Any:
    appearances = widget.get("/AP")
    return appearances.get("/N") if isinstance(appearances, Dictionary) else None


# --- appearances ------------------------------------------------------------------------------


_FONT_LOCK = threading.Lock()
_FONTS = {False: "PwFormSans", True: "PwFormSansBold"}


_REGISTERED: set[str] = set()


def _font(bold: bool) -> str:
    """The registered ReportLab name of the face, registered on first use: once only, since a
    document being drawn keeps its subset state in the font object it started with."""
    name = _FONTS[bold]
    if name not in _REGISTERED:
        with _FONT_LOCK:
            if name not in _REGISTERED:
                path = bundled_fonts.SANS_BOLD if bold else bundled_fonts.SANS
                pdfmetrics.registerFont(TTFont(name, str(path)))
                _REGISTERED.add(name)
    return name


@lru_cache(maxsize=2)
def _metrics(font: str) -> tuple[float, float]:
    """Ascent and descent per point of size (the descent is negative)."""
    face = pdfmetrics.getFont(font).face
    if not face.ascent and not face.descent:
        return _SYMBOL_METRICS
    return float(face.ascent) / 1000, float(face.descent) / 1000


# ZapfDingbats' metrics give neither; its ticks and dots stand on the baseline, 0.7 em tall.
_SYMBOL_METRICS = (0.705, -0.014)


@lru_cache(maxsize=65536)
def _width(text: str, font: str, size: float) -> float:
    return float(pdfmetrics.stringWidth(text, font, size))


@dataclass(frozen=True)
class _Style:
    """What the widget and its /DA say about how its value looks."""

    font: str
    size: float  # 0: fit to the box
    color: tuple[float, ...]
    align: int
    standard: str | None = None  # the base-14 text font the /DA names, if it names one
    dingbats: bool = False  # the /DA names ZapfDingbats, as checkboxes and radios usually do

    def for_text(self, *texts: str) -> _Style:
        """In the form's own standard font when it can show every character: every viewer has
        it, so nothing is embedded; else in the bundled Unicode face."""
        if self.standard is None or not all(_in_win_ansi(text) for text in texts):
            return self
        return replace(self, font=self.standard)


def _in_win_ansi(text: str) -> bool:
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


@dataclass(frozen=True)
class _Box:
    """The widget's appearance space: its rect, turned by /MK /R, with border and fill."""

    width: float
    height: float
    matrix: tuple[float, ...]
    inset: float  # border width, doubled for beveled and inset borders
    decoration: bytes


@dataclass
class _Run:
    x: float
    y: float
    text: str
    size: float


@dataclass
class _Drawing:
    """One appearance to draw: a widget's normal appearance, or one state of it."""

    widget: Dictionary
    box: _Box
    style: _Style
    runs: list[_Run]
    highlights: list[tuple[float, float, float, float]] = field(default_factory=list)
    state: str | None = None  # the button state it draws; None for variable text
    clip: bool = True


class _Painter:
    """Collects appearances, then draws them all in one ReportLab document, so the font subset
    is embedded once however many widgets there are."""

    def __init__(self, form: _Form) -> None:
        self.form = form
        self.drawings: list[_Drawing] = []
        self.blank: list[tuple[Dictionary, _Box]] = []

    def text(self, item: _Field, widget: Dictionary, value: str) -> None:
        box, style = self._look(item, widget)
        value = _printable(value)
        flags = item.flags
        if flags & _PASSWORD:
            value = "*" * len(value)
        style = style.for_text(value)
        limit = _int(item.inherited.get("/MaxLen"))
        line = " ".join(value.splitlines())  # a single-line field shows its lines as one
        if flags & _COMB and limit and not flags & (_MULTILINE | _PASSWORD):
            runs = _comb_runs(line, box, style, limit)
        elif flags & _MULTILINE:
            runs = _multiline_runs(value, box, style)
        else:
            runs = _line_runs(line, box, style)
        self.drawings.append(_Drawing(widget, box, style, runs))

    def choice(self, item: _Field, widget: Dictionary, shown: str, indices: Sequence[int]) -> None:
        box, style = self._look(item, widget)
        if item.flags & _COMBO:
            style = style.for_text(_printable(shown))
            runs = _line_runs(_printable(shown), box, style)
            self.drawings.append(_Drawing(widget, box, style, runs))
            return
        top = _int(item.inherited.get("/TI"))
        choices = _choices(item)
        style = style.for_text(*(choice.display for choice in choices))
        runs, highlights = _list_runs(choices, indices, top, box, style)
        self.drawings.append(_Drawing(widget, box, style, runs, highlights))

    def button(self, item: _Field, widget: Dictionary) -> None:
        """A symbol for the widget's state when it has no appearance for that state."""
        state = widget.get("/AS")
        normal = _normal_appearance(widget)
        if not isinstance(state, Name) or state == Name.Off:
            return
        if isinstance(normal, Dictionary) and isinstance(normal.get(state), Stream):
            return
        box, style = self._look(item, widget)
        characteristics = widget.get("/MK")
        caption = (
            _text(characteristics.get("/CA")) if isinstance(characteristics, Dictionary) else ""
        )
        symbol = _SYMBOLS.get(caption, "●" if item.type == "radio" else "✔")
        if style.dingbats:  # every viewer has it, and the form asks for it: nothing to embed
            style = replace(style, font="ZapfDingbats")
        runs = _symbol_runs(symbol, box, style)
        self.drawings.append(_Drawing(widget, box, style, runs, state=_text(state), clip=False))
        if not isinstance(normal, Dictionary) or not isinstance(normal.get("/Off"), Stream):
            self.blank.append((widget, box))

    def _look(self, item: _Field, widget: Dictionary) -> tuple[_Box, _Style]:
        return _box(widget), _style(self.form, item, widget)

    def finish(self) -> None:
        """Draws everything collected and hangs each appearance on its widget."""
        doc = self.form.doc
        for widget, box in self.blank:
            _set_appearance(widget, _xobject(doc, box, box.decoration, Dictionary()), "Off")
        if not self.drawings:
            return
        if all(drawing.style.font in _STANDARD_FONTS for drawing in self.drawings):
            self._finish_in_standard_fonts()
            return
        with pikepdf.open(io.BytesIO(_render(self.drawings))) as source:
            _tag_subsets(source)
            for drawing, page in zip(self.drawings, source.pages, strict=True):
                resources = doc.copy_foreign(source.make_indirect(page.obj.Resources))
                content = _content(drawing, _page_content(page))
                xobject = _xobject(doc, drawing.box, content, resources)
                _set_appearance(drawing.widget, xobject, drawing.state)

    def _finish_in_standard_fonts(self) -> None:
        """Text in fonts every viewer has is a few operators, written here directly: no font to
        subset, so no ReportLab document to make and copy from."""
        doc = self.form.doc
        fonts: dict[str, Dictionary] = {}
        for drawing in self.drawings:
            name = drawing.style.font
            if name not in fonts:
                fonts[name] = doc.make_indirect(_standard_font_dictionary(name))
            resources = Dictionary(Font=Dictionary(F0=fonts[name]))
            content = _content(drawing, _standard_operators(drawing))
            xobject = _xobject(doc, drawing.box, content, resources)
            _set_appearance(drawing.widget, xobject, drawing.state)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _printable(text: str) -> str:
    """Tabs as spaces, other control characters dropped: fonts have no glyph for them."""
    return _CONTROL.sub("", text.replace("\t", " "))


def _style(form: _Form, item: _Field, widget: Dictionary) -> _Style:
    da = widget.get("/DA") or item.inherited.get("/DA") or form.default("/DA")
    font_name, size, color = _parse_da(_text(da))
    align = widget.get("/Q", item.inherited.get("/Q", form.default("/Q")))
    bold = _is_bold(form, widget, font_name)
    standard = _standard_font(form, widget, font_name)
    text_font = standard if standard in _BASE_14 else None
    dingbats = standard == "ZapfDingbats"
    return _Style(_font(bold), size, color, _int(align), text_font, dingbats)


# The base-14 fonts by the resource names Acrobat gives them, for forms whose /DR lacks them.
_ACROBAT_NAMES = {
    "/helv": "Helvetica",
    "/hebo": "Helvetica-Bold",
    "/tiro": "Times-Roman",
    "/tibo": "Times-Bold",
    "/cour": "Courier",
    "/cobo": "Courier-Bold",
    "/zadb": "ZapfDingbats",
}
_BASE_14 = frozenset(
    f"{family}{style}"
    for family, styles in (
        ("Helvetica", ("", "-Bold", "-Oblique", "-BoldOblique")),
        ("Courier", ("", "-Bold", "-Oblique", "-BoldOblique")),
        ("Times", ("-Roman", "-Bold", "-Italic", "-BoldItalic")),
    )
    for style in styles
)


def _standard_font(form: _Form, widget: Dictionary, font_name: str | None) -> str | None:
    """The base-14 font the /DA names (through /DR, or by Acrobat's name), or None."""
    if not font_name or not font_name.startswith("/"):
        return None
    for holder in (widget.get("/DR"), form.default("/DR")):
        fonts = holder.get("/Font") if isinstance(holder, Dictionary) else None
        if isinstance(fonts, Dictionary) and font_name in fonts:
            font = fonts[font_name]
            base = _text(font.get("/BaseFont")).lstrip("/") if isinstance(font, Dictionary) else ""
            return _standard_name(base)
    return _ACROBAT_NAMES.get(font_name.lower())


# The other names of the standard text fonts (ISO 32000 lists Arial, TimesNewRoman and
# CourierNew with ",Bold" styles; Windows producers write ArialMT, TimesNewRomanPS-BoldMT...),
# optionally as a subset ("ABCDEF+"): metrically the same faces, so viewers draw them as such.
_ALIAS = re.compile(
    r"(?:[A-Z]{6}\+)?(Arial|Helvetica|TimesNewRoman|Times|CourierNew|Courier)(?:PS)?(?:MT)?"
    r"(?:[-,](Roman|Regular|Bold|Italic|Oblique|BoldItalic|BoldOblique)(?:MT)?)?"
)
_STYLES = {
    "Helvetica": ("", "-Bold", "-Oblique", "-BoldOblique"),
    "Courier": ("", "-Bold", "-Oblique", "-BoldOblique"),
    "Times": ("-Roman", "-Bold", "-Italic", "-BoldItalic"),
}


def _standard_name(base: str) -> str | None:
    """The standard font a /BaseFont names, by its own name or another, or None."""
    if base in _BASE_14 or base == "ZapfDingbats":
        return base
    match = _ALIAS.fullmatch(base)
    if match is None:
        return None
    family = {"Arial": "Helvetica", "TimesNewRoman": "Times", "CourierNew": "Courier"}.get(
        match[1], match[1]
    )
    style = match[2] or ""
    slanted = "Italic" in style or "Oblique" in style
    return family + _STYLES[family][("Bold" in style) + 2 * slanted]


_DA_TOKEN = re.compile(r"/[^\s/\[\]()<>{}%]*|[-+]?(?:\d+\.?\d*|\.\d+)|[A-Za-z*']+")


_ESCAPE = re.compile(r"#([0-9A-Fa-f]{2})")


def _unescape(match: re.Match[str]) -> str:
    """A name's #xx escape as its character (/Arial#2CBold is the resource /Arial,Bold)."""
    return chr(int(match[1], 16))


def _parse_da(da: str) -> tuple[str | None, float, tuple[float, ...]]:
    """The font resource, size and fill colour a default-appearance string sets."""
    font, size = None, 0.0
    color: tuple[float, ...] = (0.0,)
    operands: list[str] = []
    for word in _DA_TOKEN.findall(da):
        if word == "Tf" and len(operands) >= 2:
            font, size = _ESCAPE.sub(_unescape, operands[-2]), abs(_number(operands[-1]))
        elif word in ("g", "rg", "k"):
            count = {"g": 1, "rg": 3, "k": 4}[word]
            if len(operands) >= count:
                color = tuple(min(1.0, max(0.0, _number(x))) for x in operands[-count:])
        else:
            operands.append(word)
            continue
        operands = []
    return font, size, color


def _is_bold(form: _Form, widget: Dictionary, font_name: str | None) -> bool:
    if not font_name or not font_name.startswith("/"):
        return False
    for holder in (widget.get("/DR"), form.default("/DR")):
        fonts = holder.get("/Font") if isinstance(holder, Dictionary) else None
        if isinstance(fonts, Dictionary) and font_name in fonts:
            font = fonts[font_name]
            base = _text(font.get("/BaseFont")) if isinstance(font, Dictionary) else ""
            return "bold" in base.lower()
    return font_name.lower() in ("/hebo", "/hebold")


def _box(widget: Dictionary) -> _Box:
    x1, y1, x2, y2 = (_number(v) for v in [*_array(widget.get("/Rect")), 0, 0, 0, 0][:4])
    width, height = max(abs(x2 - x1), 1.0), max(abs(y2 - y1), 1.0)
    characteristics = widget.get("/MK")
    mk = characteristics if isinstance(characteristics, Dictionary) else Dictionary()
    turn = _int(mk.get("/R")) % 360
    matrix = {90: (0, 1, -1, 0, 0, 0), 180: (-1, 0, 0, -1, 0, 0), 270: (0, -1, 1, 0, 0, 0)}
    if turn in (90, 270):
        width, height = height, width
    border, style, dash = _border(widget)
    if _color(mk.get("/BC"), stroke=True) is None:
        border = 0.0  # nothing drawn, so nothing to keep the text clear of
    inset = border * (2 if style in ("B", "I") else 1)
    decoration = _decoration(mk, width, height, border, style, dash)
    return _Box(width, height, matrix.get(turn, (1, 0, 0, 1, 0, 0)), inset, decoration)


def _border(widget: Dictionary) -> tuple[float, str, list[float]]:
    """Border width, style and dash, from /BS or the older /Border array (default 1, solid)."""
    bs = widget.get("/BS")
    if isinstance(bs, Dictionary):
        dash = [_number(v) for v in _array(bs.get("/D"))] or [3.0]
        return _number(bs.get("/W"), 1.0), _text(bs.get("/S")) or "S", dash
    old = _array(widget.get("/Border"))
    if len(old) >= 3:
        return _number(old[2], 1.0), "S", [3.0]
    return 1.0, "S", [3.0]


def _color(values: Any, stroke: bool) -> str | None:
    parts = [_number(v) for v in _array(values)]
    op = {1: "g", 3: "rg", 4: "k"}.get(len(parts))
    if op is None:
        return None
    return " ".join(_fmt(v) for v in parts) + " " + (op.upper() if stroke else op)


def _decoration(
    mk: Dictionary, width: float, height: float, border: float, style: str, dash: list[float]
) -> bytes:
    """The widget's background and border (/MK /BG, /BC), drawn under its value."""
    ops = []
    fill = _color(mk.get("/BG"), stroke=False)
    if fill:
        ops.append(f"q {fill} 0 0 {_fmt(width)} {_fmt(height)} re f Q")
    stroke = _color(mk.get("/BC"), stroke=True)
    if stroke and border > 0:
        half = border / 2
        if style == "U":
            path = f"0 {_fmt(half)} m {_fmt(width)} {_fmt(half)} l S"
        else:
            path = f"{_fmt(half)} {_fmt(half)} {_fmt(width - border)} {_fmt(height - border)} re S"
        pattern = f"[{' '.join(_fmt(d) for d in dash)}] 0 d " if style == "D" else ""
        ops.append(f"q {stroke} {_fmt(border)} w {pattern}{path} Q")
    return ("\n".join(ops) + "\n").encode() if ops else b""


def _fmt(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# --- laying text out --------------------------------------------------------------------------


def _line_size(text: str, box: _Box, style: _Style, available: float) -> float:
    """The DA size (at most 12 when auto-sized), shrunk to the box's height and width, since
    clipped text is worse than small text."""
    ascent, descent = _metrics(style.font)
    room = box.height - 2 * box.inset
    size = min(style.size or _AUTO_SIZE, room / (ascent - descent))
    width = _width(text, style.font, size)
    if width > available > 0:
        size = size * available / width
    return max(size, _MIN_SIZE)


def _line_runs(text: str, box: _Box, style: _Style) -> list[_Run]:
    padding = box.inset + 2
    available = box.width - 2 * padding
    size = _line_size(text, box, style, available)
    ascent, descent = _metrics(style.font)
    y = box.height / 2 - (ascent + descent) / 2 * size
    x = _aligned(_width(text, style.font, size), box, style, padding)
    return [_Run(x, y, text, size)]


def _comb_runs(text: str, box: _Box, style: _Style, cells: int) -> list[_Run]:
    """Each character centred in its own cell, as comb fields (boxed digits) expect."""
    cell = box.width / cells
    ascent, descent = _metrics(style.font)
    size = style.size or min(_AUTO_SIZE, (box.height - 2 * box.inset) / (ascent - descent))
    widest = max((_width(char, style.font, size) for char in text), default=0.0)
    if widest > cell * 0.9:
        size = max(_MIN_SIZE, size * cell * 0.9 / widest)
    y = box.height / 2 - (ascent + descent) / 2 * size
    return [
        _Run(number * cell + (cell - _width(char, style.font, size)) / 2, y, char, size)
        for number, char in enumerate(text[:cells])
    ]


def _multiline_runs(text: str, box: _Box, style: _Style) -> list[_Run]:
    padding = box.inset + 2
    available = box.width - 2 * padding
    room = box.height - 2 * box.inset - 2
    ascent, descent = _metrics(style.font)
    size = style.size or _AUTO_SIZE
    while True:
        lines = _wrap(text, style.font, size, available)
        needed = (len(lines) - 1) * size * _LEADING + (ascent - descent) * size
        if needed <= room or size <= _MIN_SIZE:
            break
        size = max(_MIN_SIZE, size - max(0.5, size * 0.05))
    top = box.height - box.inset - 1 - ascent * size
    runs = []
    for number, line in enumerate(lines):
        x = _aligned(_width(line, style.font, size), box, style, padding)
        runs.append(_Run(x, top - number * size * _LEADING, line, size))
    return runs


def _aligned(width: float, box: _Box, style: _Style, padding: float) -> float:
    """Where a line of `width` starts under the field's quadding: 0 left, 1 centred, 2 right."""
    if style.align == 1:
        return (box.width - width) / 2
    if style.align == 2:
        return box.width - padding - width
    return padding


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Lines no wider than `width`: at spaces where possible, inside a word when it must. A
    paragraph keeps its indentation; a wrapped line does not start with the space it broke at."""
    lines: list[str] = []
    for paragraph in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line: str | None = None
        for token in re.findall(r"\s*\S+", paragraph):
            if line is not None and _width(line + token, font, size) <= width:
                line += token
                continue
            if line is not None:
                lines.append(line)
                token = token.lstrip()
            line = token
            while len(line) > 1 and _width(line, font, size) > width:
                cut = _longest_fit(line, font, size, width)
                lines.append(line[:cut])
                line = line[cut:]
        lines.append(line or "")
    return lines


def _longest_fit(text: str, font: str, size: float, width: float) -> int:
    cut = 1
    while cut < len(text) and _width(text[: cut + 1], font, size) <= width:
        cut += 1
    return cut


def _list_runs(
    choices: list[_Choice], selected: Sequence[int], top: int, box: _Box, style: _Style
) -> tuple[list[_Run], list[tuple[float, float, float, float]]]:
    """The options a list box shows from its top index, the selected ones highlighted."""
    size = style.size or _AUTO_SIZE
    ascent, descent = _metrics(style.font)
    item_height = size * _LEADING
    visible = max(1, int((box.height - 2 * box.inset) // item_height))
    if selected and not top <= selected[0] < top + visible:
        top = selected[0]
    top = max(0, min(top, max(0, len(choices) - 1)))
    runs, highlights = [], []
    for row, number in enumerate(range(top, min(len(choices), top + visible))):
        bottom = box.height - box.inset - (row + 1) * item_height
        if number in selected:
            highlights.append((box.inset, bottom, box.width - 2 * box.inset, item_height))
        baseline = bottom + (item_height - (ascent - descent) * size) / 2 - descent * size
        runs.append(_Run(box.inset + 2, baseline, choices[number].display, size))
    return runs, highlights


def _symbol_runs(symbol: str, box: _Box, style: _Style) -> list[_Run]:
    size = style.size or min(box.width, box.height) * 0.8
    width = _width(symbol, style.font, size)
    if width > box.width * 0.8:
        size, width = size * box.width * 0.8 / width, box.width * 0.8
    ascent, descent = _metrics(style.font)
    y = box.height / 2 - (ascent + descent) / 2 * size
    return [_Run((box.width - width) / 2, y, symbol, size)]


# --- drawing in the standard fonts ------------------------------------------------------------


_STANDARD_FONTS = _BASE_14 | {"ZapfDingbats"}


def _standard_font_dictionary(name: str) -> Dictionary:
    font = Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name("/" + name))
    if name != "ZapfDingbats":  # the symbol font has only its own encoding
        font.Encoding = Name.WinAnsiEncoding
    return font


def _standard_operators(drawing: _Drawing) -> bytes:
    """What `_draw` draws with ReportLab, as content-stream operators over the font /F0."""
    box, style = drawing.box, drawing.style
    operators: list[tuple[list[Any], str]] = []
    if drawing.clip:
        inner = [box.inset, box.inset, box.width - 2 * box.inset, box.height - 2 * box.inset]
        operators += [(inner, "re"), ([], "W"), ([], "n")]
    for highlight in drawing.highlights:
        operators += [(list(_HIGHLIGHT), "rg"), (list(highlight), "re"), ([], "f")]
    operators.append((list(style.color), {1: "g", 3: "rg", 4: "k"}.get(len(style.color), "g")))
    encoding = "ZapfDingbatsEncoding" if style.font == "ZapfDingbats" else "cp1252"
    for run in drawing.runs:
        operators += [
            ([], "BT"),
            ([Name.F0, run.size], "Tf"),
            ([run.x, run.y], "Td"),
            ([pikepdf.String(run.text.encode(encoding))], "Tj"),
            ([], "ET"),
        ]
    return pikepdf.unparse_content_stream(
        [(operands, pikepdf.Operator(operator)) for operands, operator in operators]
    )


# --- drawing with ReportLab and moving the result into the form ------------------------------


def _render(drawings: list[_Drawing]) -> bytes:
    """One page per appearance, exactly the size of its box; `invariant` keeps ReportLab's
    output free of dates and random ids."""
    out = io.BytesIO()
    font = drawings[0].style.font
    canvas = Canvas(out, invariant=1, pageCompression=0, initialFontName=font)
    for drawing in drawings:
        canvas.setPageSize((drawing.box.width, drawing.box.height))
        _draw(canvas, drawing)
        canvas.showPage()
    canvas.save()
    return out.getvalue()


def _draw(canvas: Any, drawing: _Drawing) -> None:
    box = drawing.box
    if drawing.clip:
        path = canvas.beginPath()
        path.rect(box.inset, box.inset, box.width - 2 * box.inset, box.height - 2 * box.inset)
        canvas.clipPath(path, stroke=0, fill=0)
    for x, y, width, height in drawing.highlights:
        canvas.setFillColorRGB(*_HIGHLIGHT)
        canvas.rect(x, y, width, height, stroke=0, fill=1)
    _fill_color(canvas, drawing.style.color)
    for run in drawing.runs:
        canvas.setFont(drawing.style.font, run.size)
        canvas.drawString(run.x, run.y, run.text)


def _fill_color(canvas: Any, color: tuple[float, ...]) -> None:
    if len(color) == 3:
        canvas.setFillColorRGB(*color)
    elif len(color) == 4:
        canvas.setFillColorCMYK(*color)
    else:
        canvas.setFillGray(color[0])


def _tag_subsets(source: pikepdf.Pdf) -> None:
    """ReportLab names every subset AAAAAA+DejaVuSans; a tag from the subset's own bytes keeps
    the subsets of several filled forms apart once a booklet merges them."""
    for obj in source.objects:
        if not isinstance(obj, Dictionary) or obj.get("/Type") != Name.Font:
            continue
        descriptor = obj.get("/FontDescriptor")
        program = descriptor.get("/FontFile2") if isinstance(descriptor, Dictionary) else None
        if not isinstance(program, Stream):
            continue
        digest = hashlib.sha256(program.read_raw_bytes()).digest()
        tag = "".join(chr(ord("A") + byte % 26) for byte in digest[:6])
        base = _text(obj.get("/BaseFont")).split("+", 1)[-1]
        obj.BaseFont = Name(f"/{tag}+{base}")
        if isinstance(descriptor, Dictionary):
            descriptor.FontName = obj.BaseFont


def _page_content(page: pikepdf.Page) -> bytes:
    contents = page.obj.get("/Contents")
    if isinstance(contents, Stream):
        return contents.read_bytes()
    return b"\n".join(part.read_bytes() for part in _array(contents) if isinstance(part, Stream))


def _content(drawing: _Drawing, drawn: bytes) -> bytes:
    """Variable text goes between `/Tx BMC` and `EMC`, where viewers look for it when they
    let someone edit the field; the border and fill stay outside."""
    body = b"q\n" + drawn + b"\nQ\n"
    if drawing.state is None:
        body = b"/Tx BMC\n" + body + b"EMC\n"
    return drawing.box.decoration + body


def _xobject(doc: pikepdf.Pdf, box: _Box, content: bytes, resources: Any) -> Stream:
    stream = Stream(doc, content)
    stream.Type = Name.XObject
    stream.Subtype = Name.Form
    stream.BBox = Array([0, 0, box.width, box.height])
    stream.Matrix = Array(list(box.matrix))
    stream.Resources = resources
    return doc.make_indirect(stream)


def _set_appearance(widget: Dictionary, xobject: Stream, state: str | None) -> None:
    """Text gets a new normal appearance only (a stale /D would show the old value on click);
    a button state is added beside the states it already has."""
    if state is None:
        widget.AP = Dictionary(N=xobject)
        return
    appearances = widget.get("/AP")
    if not isinstance(appearances, Dictionary):
        appearances = widget.AP = Dictionary()
    normal = appearances.get("/N")
    if not isinstance(normal, Dictionary) or isinstance(normal, Stream):
        normal = appearances.N = Dictionary()
    normal[Name("/" + state)] = xobject


# --- JavaScript, the form dictionary, flattening, saving -------------------------------------


def _strip_javascript(doc: pikepdf.Pdf, form: _Form) -> None:
    """Scripts could change what a reader sees or do what no one reviewed; none survive."""
    root = doc.Root
    _drop(root, "/AA")
    if _has_script(root.get("/OpenAction")):
        del root["/OpenAction"]
    names = root.get("/Names")
    if isinstance(names, Dictionary):
        _drop(names, "/JavaScript")
    for page in doc.pages:
        _drop(page.obj, "/AA")
        for annot in _array(page.obj.get("/Annots")):
            if isinstance(annot, Dictionary):
                _strip_actions(annot)
    for node in form.nodes:
        _strip_actions(node)
        for kid in _array(node.get("/Kids")):
            if isinstance(kid, Dictionary):
                _strip_actions(kid)
    if form.acroform is not None:
        _drop(form.acroform, "/CO")


def _strip_actions(holder: Dictionary) -> None:
    _drop(holder, "/AA")
    if _has_script(holder.get("/A")):
        del holder["/A"]


def _has_script(action: Any, depth: int = 0) -> bool:
    """Whether the action, or any action it chains to with /Next, runs JavaScript."""
    if depth > _MAX_DEPTH:
        return True
    if isinstance(action, Array):
        return any(_has_script(entry, depth + 1) for entry in action)
    if not isinstance(action, Dictionary):
        return False
    if action.get("/S") == Name.JavaScript or "/JS" in action:
        return True
    return _has_script(action.get("/Next"), depth + 1)


def _drop(holder: Any, key: str) -> None:
    if isinstance(holder, Dictionary) and key in holder:
        del holder[key]


def _settle_acroform(form: _Form) -> None:
    """Every shown value now has an appearance, so viewers need not (and must not, or they
    would redraw in the form's fonts) make their own; XFA would override the values. The
    usage-rights signature of a Reader-extended form no longer matches the changed file, and
    Adobe Reader says so (and turns features off) unless it goes."""
    if form.acroform is not None:
        for key in ("/NeedAppearances", "/XFA"):
            _drop(form.acroform, key)
    root = form.doc.Root
    _drop(root, "/NeedsRendering")
    permissions = root.get("/Perms")
    if isinstance(permissions, Dictionary):
        for key in ("/UR", "/UR3"):
            _drop(permissions, key)
        if not permissions.keys():
            del root["/Perms"]


def _flatten(doc: pikepdf.Pdf, form: _Form) -> None:
    resources = form.default("/DR")
    for page in doc.pages:
        _flatten_page(page, resources if isinstance(resources, Dictionary) else None)
    _drop(doc.Root, "/AcroForm")


def _flatten_page(page: pikepdf.Page, form_resources: Dictionary | None) -> None:
    """Draws each shown widget's appearance into the page and removes every widget; other
    annotations (links, comments) stay as they are."""
    annots = page.obj.get("/Annots")
    if not isinstance(annots, Array):
        return
    widgets = [a for a in annots if isinstance(a, Dictionary) and a.get("/Subtype") == Name.Widget]
    if not widgets:
        return
    xobjects = _own_xobjects(page)
    rotate = _int(_inherited(page.obj, "/Rotate")) % 360
    content = b"".join(_placed(w, xobjects, rotate, form_resources) for w in widgets)
    if content:
        page.contents_add(b"q\n", prepend=True)
        page.contents_add(b"\nQ\n" + content)
    kept = [a for a in annots if isinstance(a, Dictionary) and a.get("/Subtype") != Name.Widget]
    if kept:
        page.obj.Annots = Array(kept)
    else:
        del page.obj["/Annots"]


def _placed(
    widget: Dictionary, xobjects: Dictionary, rotate: int, form_resources: Dictionary | None
) -> bytes:
    """The content that draws the widget's current appearance where the widget is. Viewers
    lend an appearance without resources the form's /DR; once the form is gone, it needs its own.
    """
    if _int(widget.get("/F")) & _NOT_SHOWN:
        return b""
    annotation = pikepdf.Annotation(widget)
    appearance = annotation.get_appearance_stream(Name.N)
    if not isinstance(appearance, Stream) or "/BBox" not in appearance:
        return b""
    appearance.Type = Name.XObject
    appearance.Subtype = Name.Form
    if "/Resources" not in appearance and form_resources is not None:
        appearance.Resources = form_resources
    name = _free_name(xobjects)
    xobjects[name] = appearance
    return bytes(annotation.get_page_content_for_appearance(name, rotate, 0, _NOT_SHOWN))


def _own_xobjects(page: pikepdf.Page) -> Dictionary:
    """The page's own /XObject dictionary: resources inherited or shared with other pages are
    copied first, so names added here land on this page only."""
    resources = _shallow_copy(_inherited(page.obj, "/Resources"))
    xobjects = _shallow_copy(resources.get("/XObject"))
    resources.XObject = xobjects
    page.obj.Resources = resources
    return xobjects


def _shallow_copy(value: Any) -> Dictionary:
    return Dictionary(dict(value.items())) if isinstance(value, Dictionary) else Dictionary()


def _free_name(xobjects: Dictionary) -> Name:
    number = len(xobjects)
    while Name(f"/PwWidget{number}") in xobjects:
        number += 1
    return Name(f"/PwWidget{number}")


def _inherited(page: Dictionary, key: str) -> Any:
    node: Any = page
    for _ in range(_MAX_DEPTH):
        if not isinstance(node, Dictionary):
            return None
        if key in node:
            return node[key]
        node = node.get("/Parent")
    return None


def _save(doc: pikepdf.Pdf) -> bytes:
    """Deterministic: the same input and values give the same bytes (no random /ID)."""
    out = io.BytesIO()
    doc.save(out, deterministic_id=True, compress_streams=True)
    return out.getvalue()
