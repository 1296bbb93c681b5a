"""Issue 17 item 5: the decks evaluation set (tests/decks/quality/: 32 prompts in eight languages
and 5 pasted documents), planned offline and built to .pptx, measured by seven checks.

Every check's score prints in the run's summary ("evaluation sets"); each check is its own test,
failing with its examples when the set misses the bar the issue sets."""

from __future__ import annotations

import pytest

from paperworks.decks.placeholder_image import _cjk_font
from tests.decks.deck_quality import CHECKS, LATIN, build_set, cases, evaluate
from tests.evaluation_report import Record

# 100 % for structure, overflow, glyphs, repeats and cuts; language of runs is judged by a small
# heuristic (scripts, function words), so a little slack.
BARS = {
    "language": 0.95,
    "title_placeholders": 1.0,
    "overflow": 1.0,
    "fragments": 1.0,
    "repeats": 1.0,
    "glyphs": 1.0,
    "ellipses": 1.0,
}


def test_the_set_is_what_the_issue_asks_for() -> None:
    found = cases()
    prompts = [case for case in found if not case.id.startswith("doc-")]
    documents = [case for case in found if case.id.startswith("doc-")]
    assert len(prompts) >= 30
    for language in (*LATIN, "zh", "ja"):
        assert sum(case.language == language for case in prompts) >= 3, language
    assert len(documents) >= 5
    assert all(2000 <= len(case.prompt) <= 15000 for case in documents)
    assert {case.language for case in documents} & {"de", "fr"}
    assert all(5 <= case.slide_count <= 12 for case in found)


def test_scores(evaluation_scores: Record) -> None:
    scores = evaluate()
    lines = [f"{len(build_set())} decks"]
    lines += [scores[name].line() for name in CHECKS]
    evaluation_scores("decks evaluation set", lines)


@pytest.mark.parametrize("check", list(CHECKS))
def test_check(check: str) -> None:
    if check == "glyphs" and _cjk_font() is None:
        pytest.skip("no CJK font on this machine (Debian: fonts-noto-cjk), so CJK draws as boxes")
    score = evaluate()[check]
    examples = "\n  ".join(score.failures[:8])
    assert score.ratio >= BARS[check], f"{score.line()}; failing examples:\n  {examples}"
