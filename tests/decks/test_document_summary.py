# ruff: noqa: RUF001  # CJK punctuation and dashes are what these texts hold, on purpose
"""Pasted documents become decks that keep their decisions, action items and figures."""

from __future__ import annotations

import re
import time

from paperworks.decks.document_summary import STOP_WORDS, is_document, summarise
from paperworks.decks.offline_planner import offline_plan
from paperworks.decks.plan import MAX_BULLET_CHARS, Layout, OutlineRequest

MEETING_NOTE = """Weekly product meeting

Release status:
The 4.2 release is 80% done and the freeze is on March 3. Jonas said the payment module still
fails 12 of 340 tests on the staging cluster. The team expects to fix them this week. Load tests
showed 1,200 requests per second at a p95 latency of 180 ms, which is within the target.

Customer feedback:
Support received 57 tickets about the new editor in February. Most of them ask for keyboard
shortcuts and a dark theme. Maria pointed out that three enterprise customers want single sign-on
before they renew. Churn in the small-business plan rose from 2.1% to 2.8% over the quarter.

Pricing:
The current price of 29 euros per seat has not changed since 2023. Competitors charge between 25
and 45 euros for a comparable plan. A survey of 400 users showed that 62% would accept a higher
price if single sign-on were included.

We decided to ship single sign-on in the 4.2 release instead of 4.3.
The team agreed to raise the business plan to 35 euros per seat from April 1.
Decision: the dark theme moves to the next quarter.

Action: Maria – update the pricing page (Dec 12)
Jonas will send the migration guide to the enterprise customers by Friday.
TODO @sam fix the flaky payment tests before March 3.
Lena will book the customer interviews by next Monday.
"""

REPORT = "# Annual infrastructure report\n\n" + "\n\n".join(
    f"## Region {n}: capacity and costs\n\n"
    f"Region {n} served {n * 1000 + 234} customers in 2026, up {n + 3}% from the year before. "
    f"The data centre in region {n} ran at {60 + n}% of its capacity for most of the year. "
    "Storage costs fell because older backups moved to cold storage after ninety days. "
    "The network team replaced the core switches, which removed two long outages. "
    "Energy use per rack went down after the cooling upgrade in the spring. "
    "The on-call rotation now has six engineers, which halves the nights each one covers. "
    "Next year the region needs more disks for the growing archive of scanned documents."
    for n in range(1, 25)
)

ARTICLE = """Cities across Europe are rethinking how people move through them. Over the last decade,
bicycle lanes have spread from a few pioneering neighbourhoods to whole networks.

Copenhagen is the example most planners cite. About 45% of all trips to work or school there are
made by bike, and the city spent roughly 150 million euros on cycling infrastructure in ten years.

Paris followed a different path. After 2020 the city turned 50 kilometres of temporary lanes into
permanent ones, and traffic counters show cycling doubled on the main axes within a year.

Critics point to the cost for shops and delivery firms. Studies from Berlin and Madrid, however,
found that retail revenue on streets with new lanes stayed stable or grew slightly.

The lesson for other cities is simple. Networks matter more than single lanes, and safe
junctions matter more than paint.
"""


def plan_of(text: str, count: int = 10):  # type: ignore[no-untyped-def]
    return offline_plan(OutlineRequest(prompt=text, slide_count=count))


def all_text(plan) -> str:  # type: ignore[no-untyped-def]
    return " ".join(" ".join([s.title, *s.bullets, s.notes]) for s in plan.slides)


def test_a_topic_is_not_a_document_but_pasted_notes_are() -> None:
    assert not is_document("A short talk about sourdough bread for beginners")
    assert is_document(MEETING_NOTE)
    assert is_document(REPORT)
    assert is_document(ARTICLE)


def test_every_decision_and_action_item_with_owner_and_date_reaches_the_deck() -> None:
    summary = summarise(MEETING_NOTE)
    assert len(summary.decisions) == 3
    owners = {(a.owner, a.due) for a in summary.action_items}
    assert ("Maria", "Dec 12") in owners
    assert ("Jonas", "Friday") in owners
    assert ("sam", "March 3") in owners
    assert ("Lena", "next Monday") in owners
    plan = plan_of(MEETING_NOTE)
    titles = [s.title for s in plan.slides]
    assert "Decisions" in titles
    assert "Action items" in titles
    text = all_text(plan)
    for phrase in (
        "single sign-on in the 4.2 release",
        "35 euros",
        "dark theme moves",
        "pricing page",
        "migration guide",
        "flaky payment tests",
        "interviews",
    ):
        assert phrase in text, phrase


def test_numbers_in_ranked_sentences_are_kept() -> None:
    text = all_text(plan_of(MEETING_NOTE))
    for figure in ("80%", "12 of 340", "57 tickets", "2.8%", "62%"):
        assert figure in text, figure


def test_titles_are_phrases_and_nothing_is_cut() -> None:
    for document in (MEETING_NOTE, REPORT, ARTICLE):
        for count in (3, 6, 10, 15):
            plan = plan_of(document, count)
            # Up to the count: a short note has material for fewer slides than 15.
            assert min(count, 8) <= len(plan.slides) <= count
            for slide in plan.slides:
                if slide.layout is Layout.closing:
                    continue
                last = re.sub(r"[^\w%]", "", slide.title.split()[-1]).lower()
                assert last not in STOP_WORDS, slide.title
                assert slide.title[0].isupper() or not slide.title[0].isalpha(), slide.title
                assert "Jonas said" not in slide.title
                for bullet in slide.bullets:
                    assert len(bullet) <= MAX_BULLET_CHARS
                    assert "…" not in bullet
                    assert "..." not in bullet
                assert "…" not in slide.notes
                assert "..." not in slide.notes
                assert slide.notes


def test_the_report_keeps_its_headings() -> None:
    assert len(REPORT) > 12_000
    plan = plan_of(REPORT, 12)
    assert plan.title == "Annual infrastructure report"
    assert any(s.title.startswith("Region 1: capacity") for s in plan.slides)


def test_a_20000_character_document_plans_quickly() -> None:
    document = (MEETING_NOTE + "\n\n" + ARTICLE) * 20
    document = document[:20_000]
    started = time.perf_counter()
    plan = plan_of(document, 30)
    assert len(plan.slides) == 30
    assert time.perf_counter() - started < 2.0


def test_other_languages_do_not_break() -> None:
    german = ("Die Stadt plant neue Radwege. " * 6 + "\n\n") * 3
    chinese = ("城市正在规划新的自行车道。预算为五百万欧元！居民支持这个计划？" * 8 + "\n\n") * 3
    for document in (german, chinese):
        plan = plan_of(document, 6)
        assert len(plan.slides) == 6


NOTE_WITH_PLAIN_HEADINGS = """Release review of Atlas 4.2 e.V.

1. Release 4.2 status
The branch was cut on Monday. Two bugs remain open in the export. The team tested the fix on
the staging server and it held.
Decision: Release 4.2 ships on 20 November.

Progress this quarter
- Dashboards were moved and validated by their owners.
- Query costs fell by thirty percent after partitioning.

Protokoll
Die Sitzung findet am 8. November 2026 im Vereinsheim statt. Beschluss: Der Beitrag steigt.

Action items
- Tom Becker: fix the export by 15 November.
- Li Wei: send the customer list to Maria.
"""


def test_plain_headings_labels_and_action_sections_are_read_as_a_person_would() -> None:
    summary = summarise(NOTE_WITH_PLAIN_HEADINGS)

    assert summary.title == "Release review of Atlas 4.2 e.V."
    titles = [section.title for section in summary.sections]
    assert titles[:2] == ["Release 4.2 status", "Progress this quarter"]  # "4.2" and sentence case
    said = [sentence.text for section in summary.sections for sentence in section.sentences]
    assert summary.title not in " ".join(said)  # the title line is not a sentence of the text
    assert "Die Sitzung findet am 8. November 2026 im Vereinsheim statt." in said  # one sentence
    assert summary.decisions == ["Release 4.2 ships on 20 November.", "Der Beitrag steigt."]
    owners = [(item.owner, item.text) for item in summary.action_items]
    assert owners == [
        ("Tom Becker", "Fix the export by 15 November."),
        ("Li Wei", "Send the customer list to Maria."),
    ]
