"""Field templates: what users write in a page's field mapping, rendered per customer."""

from __future__ import annotations

from typing import Any

import pytest

from paperworks.booklets.engine_errors import TemplateFailed
from paperworks.booklets.field_templates import render_field, template_attributes


def context(**attributes: str) -> dict[str, Any]:
    return {
        "customer": {"id": "c1", "name": "Ωmega Жук & Co", "external_ref": "A-17"},
        "attr": attributes,
        "period": "2026 Q1",
        "year": 2026,
        "quarter": 1,
    }


def render(template: str, **attributes: str) -> str:
    return render_field(template, context(**attributes))


def test_the_customer_period_and_attributes_are_there() -> None:
    template = "{{ customer.name }} ({{ customer.external_ref }}): {{ attr.tier }}, {{ period }}"
    assert render(template, tier="gold") == "Ωmega Жук & Co (A-17): gold, 2026 Q1"
    assert render("{{ year }}/{{ quarter }}") == "2026/1"
    assert render('{{ attr["net revenue"] }}', **{"net revenue": "5"}) == "5"


def test_a_customer_may_be_an_object() -> None:
    class Customer:
        name = "Acme"
        external_ref = "X"

    assert render_field("{{ customer.name }}", {"customer": Customer(), "attr": {}}) == "Acme"


def test_nothing_is_escaped_and_values_are_never_evaluated() -> None:
    """Output goes into a PDF, not a web page; a value is text even if it looks like a template."""
    assert render(
        "{{ attr.note }}", note="<b>R&D</b> {{ customer.name }} {% if 1 %}x{% endif %}"
    ) == ("<b>R&D</b> {{ customer.name }} {% if 1 %}x{% endif %}")
    assert render("{{ customer.name | upper }}") == "ΩMEGA ЖУК & CO"


def test_a_yearly_period_has_no_quarter_to_print() -> None:
    yearly = context() | {"period": "2026", "quarter": None}
    assert render_field("{{ period }}|{{ quarter }}|", yearly) == "2026||"


@pytest.mark.parametrize(
    ("template", "value", "expected"),
    [
        ("{{ attr.v | number }}", "1234.5", "1,235"),
        ("{{ attr.v | number(2) }}", "1234.5", "1,234.50"),
        ("{{ attr.v | number(2, thousands='.', decimal=',') }}", "1234567.891", "1.234.567,89"),
        ("{{ attr.v | number(2, decimal=',') }}", "1234567.891", "1.234.567,89"),
        ("{{ attr.v | number(thousands=' ') }}", "1234567", "1 234 567"),
        ("{{ attr.v | number(1, thousands='') }}", "-1234.25", "-1234.3"),
        ("{{ attr.v | number }}", "  42 ", "42"),
        ("{{ attr.v | number(2) }}", "-0.001", "0.00"),
        ("{{ attr.v | number(2) }}", "2.675", "2.68"),  # half up, not float's 2.67
        ("{{ attr.v | percent }}", "0.125", "13%"),
        ("{{ attr.v | percent(1) }}", "0.125", "12.5%"),
        ("{{ attr.v | percent(1, decimal=',') }}", "-0.0345", "-3,5%"),
        ("{{ attr.v | currency }}", "1234.5", "€1,234.50"),
        ("{{ attr.v | currency('$', 0) }}", "-1234.5", "-$1,235"),
        ("{{ attr.v | currency('CHF') }}", "99", "CHF 99.00"),
        (
            "{{ attr.v | currency(position='after', thousands='.', decimal=',') }}",
            "1234.5",
            "1.234,50 €",
        ),
        ("{{ attr.v | date }}", "2026-03-31", "31.03.2026"),
        ("{{ attr.v | date('%Y/%m/%d') }}", "2026-03-31T12:30:00", "2026/03/31"),
        ("{{ attr.v | default('n/a') }}", "", ""),
        ("{{ attr.v | trim | title }}", " anna karenina ", "Anna Karenina"),
    ],
)
def test_filters_format_numbers_and_dates(template: str, value: str, expected: str) -> None:
    assert render(template, v=value) == expected


def test_default_fills_in_for_a_missing_attribute() -> None:
    assert render("{{ attr.missing | default('n/a') }}") == "n/a"
    assert render("{% if attr.missing is defined %}yes{% else %}no{% endif %}") == "no"


@pytest.mark.parametrize(
    ("template", "attributes", "message"),
    [
        ("{{ attr.revenue }}", {}, "no attribute 'revenue'"),
        ("Total: {{ attr.revenue | number(2) }}", {}, "no attribute 'revenue'"),
        ("{{ customre.name }}", {}, "'customre' is not defined"),
        ("{{ attr.v | number }}", {"v": "12 apples"}, "number: '12 apples' is not a number"),
        ("{{ attr.v | currency }}", {"v": "n/a"}, "currency: 'n/a' is not a number"),
        ("{{ attr.v | date }}", {"v": "31/03/2026"}, "date: '31/03/2026' is not an ISO date"),
        ("{{ attr.v | number(2, thousands='.') }}", {"v": "1"}, "separators must differ"),
        ("{{ attr.v | currency(position='left') }}", {"v": "1"}, "'before' or 'after'"),
        ("{{ attr.v | nosuchfilter }}", {"v": "1"}, "nosuchfilter"),
        ("{{ attr.v.__class__.__mro__ }}", {"v": "1"}, "unsafe"),
        ("{{ 'x' * 1000000 }}", {}, "more than 10000 times"),
        ("{{ 2 ** 100000 }}", {}, "exponent"),
    ],
)
def test_failures_say_which_template_and_what(
    template: str, attributes: dict[str, str], message: str
) -> None:
    with pytest.raises(TemplateFailed) as caught:
        render(template, **attributes)
    assert caught.value.code == "booklets.template_failed"
    assert message in caught.value.message
    assert repr(template) in caught.value.message


def test_a_syntax_error_names_the_template() -> None:
    with pytest.raises(TemplateFailed) as caught:
        render("{{ attr.revenue | number( }}")
    assert "'{{ attr.revenue | number( }}' is not valid" in caught.value.message
    with pytest.raises(TemplateFailed, match="is not valid"):
        template_attributes("{% if %}")


def test_the_attributes_a_template_needs() -> None:
    assert template_attributes("{{ customer.name }} {{ period }}") == set()
    assert template_attributes(
        "{{ attr.revenue | number(2) }} {{ attr['net margin'] }} {{ attr.tier.upper() }}"
    ) == {"revenue", "net margin", "tier"}
    assert template_attributes("{% if attr.vip == 'yes' %}{{ attr.gift }}{% endif %}") == {
        "vip",
        "gift",
    }


def test_guarded_and_computed_attributes_are_not_required() -> None:
    assert template_attributes("{{ attr.note | default('') }} {{ attr.get('x') }}") == set()
    assert template_attributes("{% if attr.x is defined %}{{ attr.x }}{% endif %}") == set()
    assert template_attributes("{% for k, v in attr.items() %}{{ k }}{% endfor %}") == set()
    key = "revenue"
    assert template_attributes(f"{{{{ attr['{key}'] }}}} {{{{ attr[name] }}}}") == {key}


def test_what_template_attributes_returns_is_the_callers_own() -> None:
    needed = template_attributes("{{ attr.a }}")
    needed.add("b")
    assert template_attributes("{{ attr.a }}") == {"a"}


def test_the_attributes_found_are_the_ones_rendering_needs() -> None:
    template = "{{ attr.a }}-{{ attr['b'] | number }}"
    needed = template_attributes(template)
    assert render(template, **dict.fromkeys(needed, "1")) == "1-1"
    with pytest.raises(TemplateFailed):
        render(template, a="1")
