"""Two-sided content: what the builder shows in two columns and the offline planner asks two
columns for."""

from __future__ import annotations

import pytest

from paperworks.decks.sides import two_sides


@pytest.mark.parametrize(
    ("title", "bullets", "sides"),
    [
        ("Python vs Rust", ["a", "b", "c"], (["a", "b"], ["c"])),
        ("Pros and cons of remote work", list("abcd"), (["a", "b"], ["c", "d"])),
        ("Before / after", list("ab"), (["a"], ["b"])),
        ("Vor- und Nachteile", list("abc"), (["a", "b"], ["c"])),
        ("Ventajas y desventajas", list("ab"), (["a"], ["b"])),
        ("优缺点", list("ab"), (["a"], ["b"])),
        (
            "Renting",
            ["Pros: flexible", "Pros: no repairs", "Cons: no equity"],
            (["Pros: flexible", "Pros: no repairs"], ["Cons: no equity"]),
        ),
        ("The switch", ["Before: slow", "After: fast"], (["Before: slow"], ["After: fast"])),
        # Wording in the bullets counts as in the title.
        (
            "Two options",
            ["Cloud compared with on-premises", "b"],
            (["Cloud compared with on-premises"], ["b"]),
        ),
    ],
)
def test_two_sided_content_splits_into_two_non_empty_sides(
    title: str, bullets: list[str], sides: tuple[list[str], list[str]]
) -> None:
    assert two_sides(title, bullets) == sides


@pytest.mark.parametrize(
    ("title", "bullets"),
    [
        ("Key facts", list("abcdef")),
        ("Challenges and risks", ["Obstacles", "Costs and trade-offs", "Risks", "Mitigation"]),
        ("Plan", ["Goal: grow", "Timeline: Q3"]),  # two labels, but not two sides of anything
        ("Python vs Rust", ["only one"]),  # one side would be empty
        ("Pros and cons", ["", "  ", "one"]),
    ],
)
def test_other_content_has_no_two_sides(title: str, bullets: list[str]) -> None:
    assert two_sides(title, bullets) is None
