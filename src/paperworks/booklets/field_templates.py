"""A form field's value as a Jinja2 template over the customer, the period and its attributes.

Templates are written by users, so they run in Jinja's immutable sandbox with operators that could
build huge strings capped. Output goes into a PDF, not HTML: autoescaping is off, and attribute
values are data, never templates, so `<b>` or `{{ x }}` in a value is shown as it is.

`StrictUndefined` makes a missing attribute an error instead of an empty string: a form that
silently says "Revenue: " is worse than a generation that names what the customer lacks.
`template_attributes` lets the service say so before generating.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, NoReturn

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

from paperworks.booklets.engine_errors import TemplateFailed

_MAX_OUTPUT = 100_000
_MAX_REPEAT = 10_000
_MAX_EXPONENT = 100
_GUARD_FILTERS = frozenset({"default", "d"})
_GUARD_TESTS = frozenset({"defined", "undefined", "none"})


class FilterInputError(ValueError):
    """A value a formatting filter cannot read; its message is shown to the user as it is."""


class _Attributes(dict[str, Any]):
    """The customer's attributes, marked so a missing one is reported as an attribute."""


class _Undefined(StrictUndefined):
    """Strict, with messages that say which attribute or name is missing."""

    __slots__ = ()

    @property
    def _undefined_message(self) -> str:
        name = self._undefined_name
        if isinstance(self._undefined_obj, _Attributes):
            return f"the customer has no attribute {name!r} for this period"
        return str(super()._undefined_message)


class _Environment(ImmutableSandboxedEnvironment):
    """Caps `*` and `**`, which the sandbox leaves alone, so a template cannot exhaust memory."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            if isinstance(right, int | float) and abs(right) > _MAX_EXPONENT:
                raise FilterInputError(f"an exponent above {_MAX_EXPONENT} is not allowed")
        elif _repeats(left, right) > _MAX_REPEAT:
            raise FilterInputError(f"repeating text more than {_MAX_REPEAT} times is not allowed")
        return super().call_binop(context, operator, left, right)


def _repeats(left: Any, right: Any) -> int:
    for sequence, count in ((left, right), (right, left)):
        if isinstance(sequence, str | list | tuple) and isinstance(count, int):
            return count
    return 0


# --- filters ----------------------------------------------------------------------------------


def _decimal(value: Any, filter_name: str) -> Decimal:
    """Attribute values are strings ("1234.5"); numbers from expressions are accepted too."""
    if isinstance(value, bool):
        raise FilterInputError(f"{filter_name}: {value!r} is not a number")
    if isinstance(value, Decimal | int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    else:
        text = str(value).strip()
        try:
            number = Decimal(text.replace(" ", "").replace("\u00a0", ""))
        except InvalidOperation:
            raise FilterInputError(f"{filter_name}: {text!r} is not a number") from None
    if not number.is_finite():
        raise FilterInputError(f"{filter_name}: {value!r} is not a finite number")
    return number


def _format_decimal(number: Decimal, decimals: int, thousands: str | None, decimal: str) -> str:
    """Rounded half up, as people round money; `-0` is shown as `0`. Without a thousands
    separator given, a decimal comma gets a point for thousands (`1.234,50`)."""
    if thousands is None:
        thousands = "." if decimal == "," else ","
    if not isinstance(decimals, int) or not 0 <= decimals <= 20:
        raise FilterInputError(f"decimals must be a whole number from 0 to 20, not {decimals!r}")
    if thousands and thousands == decimal:
        raise FilterInputError("the thousands and decimal separators must differ")
    rounded = number.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    sign = "-" if rounded < 0 else ""
    whole, _, fraction = f"{abs(rounded):f}".partition(".")
    groups = [whole[max(0, end - 3) : end] for end in range(len(whole), 0, -3)][::-1]
    text = thousands.join(groups) + (decimal + fraction if fraction else "")
    return sign + text


def number(value: Any, decimals: int = 0, thousands: str | None = None, decimal: str = ".") -> str:
    return _format_decimal(_decimal(value, "number"), decimals, thousands, decimal)


def percent(value: Any, decimals: int = 0, thousands: str | None = None, decimal: str = ".") -> str:
    """A fraction as a percentage: 0.125 becomes 12.5% (as spreadsheets show it)."""
    return _format_decimal(_decimal(value, "percent") * 100, decimals, thousands, decimal) + "%"


def currency(
    value: Any,
    symbol: str = "€",
    decimals: int = 2,
    position: str = "before",
    thousands: str | None = None,
    decimal: str = ".",
) -> str:
    """`€1,234.50` or `1.234,50 €`; a symbol of letters (`CHF`) is set apart by a space."""
    if position not in ("before", "after"):
        raise FilterInputError(f"currency: position must be 'before' or 'after', not {position!r}")
    amount = _format_decimal(_decimal(value, "currency"), decimals, thousands, decimal)
    if position == "after":
        return f"{amount} {symbol}" if symbol else amount
    sign, digits = ("-", amount[1:]) if amount.startswith("-") else ("", amount)
    gap = " " if symbol[-1:].isalpha() else ""
    return f"{sign}{symbol}{gap}{digits}"


def date(value: Any, format: str = "%d.%m.%Y") -> str:
    """ISO dates (`2026-03-31`) and date-times, as attributes store them."""
    if isinstance(value, dt.date):
        return value.strftime(format)
    text = str(value).strip()
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise FilterInputError(f"date: {text!r} is not an ISO date (YYYY-MM-DD)") from None
    return parsed.strftime(format)


# --- rendering --------------------------------------------------------------------------------


def _finalize(value: Any) -> Any:
    """`{{ quarter }}` of a yearly period prints nothing rather than `None`."""
    return "" if value is None else value


def _make_environment() -> _Environment:
    environment = _Environment(
        autoescape=False,
        undefined=_Undefined,
        finalize=_finalize,
        keep_trailing_newline=False,
    )
    environment.filters.update(number=number, percent=percent, currency=currency, date=date)
    return environment


_ENV = _make_environment()


def _shown(template: str) -> str:
    return repr(template if len(template) <= 80 else template[:77] + "...")


def _syntax_failure(template: str, exc: TemplateSyntaxError) -> NoReturn:
    raise TemplateFailed(
        f"The template {_shown(template)} is not valid: {exc.message} (line {exc.lineno})."
    ) from exc


@lru_cache(maxsize=1024)
def _compiled(template: str) -> Template:
    """Compiled once per distinct template: a batch renders the same few for every customer."""
    try:
        return _ENV.from_string(template)
    except TemplateSyntaxError as exc:
        _syntax_failure(template, exc)


def render_field(template: str, context: Mapping[str, Any]) -> str:
    """The template rendered with `context` (customer, attr, period, year, quarter)."""
    compiled = _compiled(template)
    values = dict(context)
    values["attr"] = _Attributes(context.get("attr") or {})
    try:
        text = compiled.render(values)
    except Exception as exc:
        raise TemplateFailed(f"The template {_shown(template)} failed: {_reason(exc)}.") from exc
    if len(text) > _MAX_OUTPUT:
        raise TemplateFailed(
            f"The template {_shown(template)} made {len(text)} characters; "
            f"a field takes at most {_MAX_OUTPUT}."
        )
    return text


def _reason(exc: Exception) -> str:
    message = str(exc).rstrip(".") or type(exc).__name__
    return re.sub(r"^'(\w+)' is undefined$", r"'\1' is not defined", message)


# --- attributes a template needs --------------------------------------------------------------


def template_attributes(template: str) -> set[str]:
    """The `attr` keys the template cannot render without (`attr.x`, `attr["x"]`).

    An attribute the template itself guards, with `default` or an `is defined` test, is
    optional, so it is not listed; keys computed at render time cannot be known and are not.
    """
    return set(_attributes(template))


@lru_cache(maxsize=1024)
def _attributes(template: str) -> frozenset[str]:
    try:
        tree = _ENV.parse(template)
    except TemplateSyntaxError as exc:
        _syntax_failure(template, exc)
    needed: set[str] = set()
    guarded: set[str] = set()
    callees = {id(call.node) for call in tree.find_all(nodes.Call)}
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        key = _attribute_key(node)
        if key is not None and id(node) not in callees:
            needed.add(key)
    for wrapper in _guards(tree):
        key = _attribute_key(wrapper.node)
        if key is not None:
            guarded.add(key)
    return frozenset(needed - guarded)


def _guards(tree: nodes.Template) -> Iterator[nodes.Filter | nodes.Test]:
    for node in tree.find_all(nodes.Filter):
        if node.name in _GUARD_FILTERS:
            yield node
    for test in tree.find_all(nodes.Test):
        if test.name in _GUARD_TESTS:
            yield test


def _attribute_key(node: nodes.Node | None) -> str | None:
    """`x` when the node reads `attr.x` or `attr["x"]`."""
    if isinstance(node, nodes.Getattr):
        target, key = node.node, node.attr
    elif isinstance(node, nodes.Getitem):
        if not isinstance(node.arg, nodes.Const) or not isinstance(node.arg.value, str):
            return None
        target, key = node.node, node.arg.value
    else:
        return None
    if isinstance(target, nodes.Name) and target.name == "attr" and target.ctx == "load":
        return key
    return None
