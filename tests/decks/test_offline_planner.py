"""The offline outline planner: at most N slides from any prompt, made of the prompt's own words
only, framed and with notes in the deck's language, and the same plan every time; and its
one-slide rewrites."""

from __future__ import annotations

import re

import pytest

from paperworks.decks.offline_planner import (
    agenda_bullets,
    offline_plan,
    offline_slide,
    speaker_notes,
)
from paperworks.decks.plan import MAX_SLIDES, Layout, OutlineRequest, Slide, SlidePlan
from paperworks.decks.sides import two_sides

CONTENT = {Layout.bullets, Layout.bullets_image, Layout.two_columns}

ONE_WORD = "Photosynthesis"
SENTENCES = (
    "Create a presentation about climate change. Cover causes, effects, and solutions. "
    "Rising sea levels threaten coastal cities around the world. Renewable energy is now "
    "cheaper than coal in most countries. Individuals can cut emissions by changing how they "
    "travel and what they eat."
)
BULLETED = """Quarterly business review for the leadership team.
Q3 results:
- Revenue up 12% year over year
- Churn down to 3.1%
- NPS rose from 38 to 45
Hiring:
- Three engineers joined the platform team
- Support is still understaffed
Next quarter:
- Launch the self-serve plan
- Expand to Germany and France
- Cut onboarding time in half"""
GREEK_TITLE = "Η ιστορία της Αθήνας"  # noqa: RUF001 - Greek letters, on purpose
GREEK_PHRASE = "Η αρχαία Αγορά ήταν το κέντρο της πόλης"  # noqa: RUF001
GREEK = (
    f"{GREEK_TITLE}. {GREEK_PHRASE}. "
    "Η Ακρόπολη χτίστηκε τον 5ο αιώνα π.Χ. Σήμερα η Αθήνα είναι η πρωτεύουσα της Ελλάδας."  # noqa: RUF001
)
CHINESE = "人工智能的发展。机器学习是核心。深度学习改变了很多行业！"  # noqa: RUF001
LONG = " ".join(
    [
        "Remote work is changing how teams collaborate, and companies need new habits for "
        "written communication, meetings that respect time zones, clear ownership of decisions, "
        "and tools that keep everyone aligned without constant video calls.",
        "Managers should measure outcomes rather than hours online.",
        "Onboarding new hires remotely needs structure and a buddy system.",
    ]
    * 20
)[:4000]
PROMPTS = {
    "one word": ONE_WORD,
    "sentences": SENTENCES,
    "bulleted": BULLETED,
    "greek": GREEK,
    "long": LONG,
    "chinese": CHINESE,
    "punctuation only": "???",
}


def plan_for(prompt: str, count: int, **options: str) -> SlidePlan:
    return offline_plan(OutlineRequest(prompt=prompt, slide_count=count, **options))


def words(text: str) -> set[str]:
    return {word.casefold() for word in re.findall(r"\w+", text)}


@pytest.mark.parametrize("count", [1, 2, 3, 5, 12, 30])
@pytest.mark.parametrize("name", list(PROMPTS))
def test_at_most_the_slides_asked_for_framed_and_with_notes(name: str, count: int) -> None:
    plan = plan_for(PROMPTS[name], count)

    assert 1 <= len(plan.slides) <= count
    assert len(plan.slides) >= min(count, 2)
    assert [slide.index for slide in plan.slides] == list(range(len(plan.slides)))
    assert plan.slides[0].layout is Layout.title
    assert plan.slides[0].title == plan.title
    if count >= 2:
        assert plan.slides[-1].layout is Layout.closing
    for slide in plan.slides:
        assert slide.title.strip()
        assert len(slide.notes) > (10 if name == "chinese" else 20), slide
        if slide.layout in CONTENT:
            assert 1 <= len(slide.bullets) <= 5, slide
        if slide.layout is Layout.two_columns:
            assert len(slide.bullets) >= 4
            assert two_sides(slide.title, slide.bullets) is not None, slide
        if slide.layout is Layout.bullets_image:
            assert slide.image_prompt
        else:
            assert slide.image_prompt is None
    SlidePlan.model_validate_json(plan.model_dump_json())  # and it survives the wire


@pytest.mark.parametrize("name", list(PROMPTS))
def test_the_same_request_gives_the_same_plan(name: str) -> None:
    assert plan_for(PROMPTS[name], 9, tone="calm") == plan_for(PROMPTS[name], 9, tone="calm")


def test_every_count_from_1_to_30_fits_and_a_prompt_with_enough_material_fills_it() -> None:
    for count in range(1, MAX_SLIDES + 1):
        made = len(plan_for(SENTENCES, count).slides)
        assert made == count if count <= 7 else made == 7
        assert len(plan_for(BULLETED, count).slides) == min(count, 6)


def test_one_slide_is_a_title_slide_and_two_add_a_closing_slide() -> None:
    assert [s.layout for s in plan_for(SENTENCES, 1).slides] == [Layout.title]
    assert [s.layout for s in plan_for(SENTENCES, 2).slides] == [Layout.title, Layout.closing]
    assert [s.layout for s in plan_for(SENTENCES, 3).slides][1] in CONTENT
    # Four slides with material for two content slides: those, not an agenda of one.
    assert [s.layout for s in plan_for(SENTENCES, 4).slides][1:3] != [Layout.agenda] * 2
    assert plan_for(SENTENCES, 5).slides[1].layout is Layout.agenda


def test_the_title_comes_from_the_prompt_and_the_subtitle_from_tone_and_audience() -> None:
    plan = plan_for(SENTENCES, 5, tone="friendly", audience="high school students")

    assert plan.title == "Climate change"
    assert plan.slides[0].bullets == ["A friendly overview for high school students"]
    assert plan_for(SENTENCES, 5, audience="teachers").slides[0].bullets == ["For teachers"]
    assert plan_for(SENTENCES, 5).slides[0].bullets == []


def test_bullets_are_the_prompts_own_phrases() -> None:
    plan = plan_for(SENTENCES, 8)
    content = [slide for slide in plan.slides if slide.layout in CONTENT]
    said = [text for slide in content for text in [slide.title, *slide.bullets]]

    for phrase in (
        "Rising sea levels threaten coastal cities around the world",
        "Renewable energy is now cheaper than coal in most countries",
        "Individuals can cut emissions by changing how they travel and what they eat",
        "Causes",
        "Effects",
        "Solutions",
    ):
        assert phrase in said
    # The slides made from the prompt are titled with the prompt's own words.
    assert sum(words(slide.title) <= words(SENTENCES) for slide in content) >= 4


def test_a_prompts_headings_title_its_slides_and_keep_their_items_together() -> None:
    plan = plan_for(BULLETED, 6)
    by_title = {slide.title: slide.bullets for slide in plan.slides}

    assert plan.title == "Quarterly business review for the leadership team"
    assert by_title["Q3 results"] == [
        "Revenue up 12% year over year",
        "Churn down to 3.1%",
        "NPS rose from 38 to 45",
    ]
    assert by_title["Hiring"] == [
        "Three engineers joined the platform team",
        "Support is still understaffed",
    ]
    assert by_title["Next quarter"] == [
        "Launch the self-serve plan",
        "Expand to Germany and France",
        "Cut onboarding time in half",
    ]


def test_spare_slides_split_the_biggest_heading() -> None:
    risks = "\n".join(f"- Risk number {n} for the project" for n in range(1, 7))
    plan = plan_for(f"Project review\nRisks:\n{risks}", 5)

    titles = [slide.title for slide in plan.slides if slide.layout in CONTENT]
    assert titles == ["Risks", "Risks (continued)"]


def test_more_phrases_than_room_go_to_the_notes_not_lost() -> None:
    items = [f"Point number {n} matters" for n in range(1, 15)]
    plan = plan_for("Topics:\n" + "\n".join(f"- {item}" for item in items), 3)

    said = " ".join(slide.notes + " " + " ".join(slide.bullets) for slide in plan.slides)
    for item in items:
        assert item in said


def test_a_one_word_prompt_gets_no_invented_slides_and_the_deck_says_why() -> None:
    plan = plan_for(ONE_WORD, 8)

    assert plan.title == "Photosynthesis"
    assert [slide.layout for slide in plan.slides] == [Layout.title, Layout.closing]
    notes = plan.slides[0].notes
    assert "planned offline, without a language model" in notes
    assert "material for 2 of the 8 slides" in notes


def test_decks_on_different_topics_share_only_their_frame() -> None:
    prompts = [
        SENTENCES,
        BULLETED,
        "Our company sells sustainable packaging to restaurants and cafes",
        "Team offsite: goals, schedule, travel and budget",
    ]
    titles = [
        {s.title for s in plan_for(prompt, 10).slides if s.layout in CONTENT} for prompt in prompts
    ]
    for number, mine in enumerate(titles):
        for other in titles[number + 1 :]:
            assert not mine & other


def test_non_english_phrases_are_kept_as_written() -> None:
    plan = plan_for(GREEK, 5)
    said = [text for slide in plan.slides for text in (slide.title, *slide.bullets)]

    assert plan.title == GREEK_TITLE
    assert GREEK_PHRASE in said


HANDBOOK = "\n".join(
    f"Chapter {n} topic:\n- First point of chapter {n}\n- Second point of chapter {n}"
    for n in range(1, 31)
)


def test_long_decks_get_sections_and_an_agenda_of_them() -> None:
    plan = plan_for(HANDBOOK, 12)
    sections = [slide.title for slide in plan.slides if slide.layout is Layout.section]

    assert len(plan.slides) == 12
    assert sections == ["Background and context", "Details and next steps"]
    assert plan.slides[1].bullets == sections
    assert [s.layout for s in plan_for(HANDBOOK, 30).slides].count(Layout.section) == 3
    # A deck the prompt does not fill has no dividers.
    assert Layout.section not in {s.layout for s in plan_for(SENTENCES, 30).slides}


def test_layouts_vary_and_two_columns_are_only_for_content_with_two_sides() -> None:
    layouts = {slide.layout for slide in plan_for(BULLETED, 10).slides}

    assert {Layout.bullets, Layout.bullets_image} <= layouts
    # Nothing in a business review's slides compares two things: columns would split a list.
    assert Layout.two_columns not in layouts


def test_the_deck_says_once_that_it_was_planned_offline() -> None:
    for prompt in (ONE_WORD, SENTENCES, BULLETED):
        plan = plan_for(prompt, 30)
        said = [s.notes for s in plan.slides] + [
            t for s in plan.slides for t in (s.title, *s.bullets)
        ]
        assert sum("planned offline" in text for text in said) == 1
        assert "planned offline" in plan.slides[0].notes
        assert not re.search(r"\bai\b|artificial intelligence|generated", " ".join(said).casefold())


def test_slide_count_outside_1_to_30_is_refused() -> None:
    with pytest.raises(ValueError, match="slide_count"):
        OutlineRequest(prompt="x", slide_count=0)
    with pytest.raises(ValueError, match="slide_count"):
        OutlineRequest(prompt="x", slide_count=31)
    with pytest.raises(ValueError, match="prompt"):
        OutlineRequest(prompt="  ")


# --- rewriting one slide ------------------------------------------------------------------------


@pytest.fixture
def plan() -> SlidePlan:
    return plan_for(SENTENCES, 8)


def content_index(plan: SlidePlan, layout: Layout | None = None) -> int:
    return next(
        slide.index
        for slide in plan.slides
        if slide.layout in CONTENT and (layout is None or slide.layout is layout)
    )


def test_a_rewrite_without_instruction_reorders_and_rephrases(plan: SlidePlan) -> None:
    index = content_index(plan)
    before = plan.slides[index]

    after = offline_slide(plan, index, None)

    assert after.index == index
    assert after.layout is before.layout
    assert after.title == before.title
    assert sorted(after.bullets) == sorted(before.bullets)
    assert after.bullets != before.bullets
    assert after.notes
    assert after.notes != before.notes
    assert offline_slide(plan, index, None) == after  # deterministic


def test_make_it_shorter(plan: SlidePlan) -> None:
    index = next(
        i for i, s in enumerate(plan.slides) if s.layout in CONTENT and len(s.bullets) >= 3
    )
    before = plan.slides[index]

    after = offline_slide(plan, index, "Make it shorter please")

    assert 2 <= len(after.bullets) < len(before.bullets)
    assert sum(map(len, after.bullets)) < sum(map(len, before.bullets))


def test_add_an_example(plan: SlidePlan) -> None:
    index = content_index(plan)

    after = offline_slide(plan, index, "add an example")

    assert after.bullets[-1].startswith("For example")
    assert set(plan.slides[index].bullets) <= set(after.bullets)


def test_more_detail_adds_bullets(plan: SlidePlan) -> None:
    index = content_index(plan)

    after = offline_slide(plan, index, "more detail")

    assert len(after.bullets) > len(plan.slides[index].bullets)


def test_image_instructions_switch_the_layout(plan: SlidePlan) -> None:
    with_image = content_index(plan, Layout.bullets_image)
    without = content_index(plan, Layout.bullets)

    dropped = offline_slide(plan, with_image, "no image, text only")
    added = offline_slide(plan, without, "add a picture")

    assert dropped.layout is Layout.bullets
    assert dropped.image_prompt is None
    assert added.layout is Layout.bullets_image
    assert added.image_prompt


def test_two_columns_on_request_for_two_sides_and_not_for_too_few_bullets(
    plan: SlidePlan,
) -> None:
    index = content_index(plan)
    slides = list(plan.slides)
    slides[index] = Slide(
        index=index,
        layout=Layout.bullets,
        title="Renting or buying",
        bullets=["Pros: flexible", "Pros: no repairs", "Cons: no equity", "Cons: rent rises"],
    )
    two_sided = SlidePlan(title=plan.title, slides=slides)
    asked = offline_slide(two_sided, index, "compare in two columns")
    assert asked.layout is Layout.two_columns
    # A list with no two sides stays one column, asked or not: halves of it read as two lists.
    assert offline_slide(plan, index, "compare in two columns").layout is not Layout.two_columns

    slides = list(plan.slides)
    slides[index] = Slide(
        index=index, layout=Layout.two_columns, title="Few", bullets=["One", "Two", "Three"]
    )
    edited = SlidePlan(title=plan.title, slides=slides)

    assert offline_slide(edited, index, "make it shorter").layout is Layout.bullets


def test_a_slide_emptied_by_an_editor_gets_bullets_again(plan: SlidePlan) -> None:
    index = content_index(plan)
    slides = list(plan.slides)
    slides[index] = Slide(index=index, layout=Layout.bullets, title="Costs", bullets=[])
    edited = SlidePlan(title=plan.title, slides=slides)

    after = offline_slide(edited, index, None)

    assert len(after.bullets) >= 2
    assert after.notes


def test_the_agenda_is_rewritten_from_the_current_titles(plan: SlidePlan) -> None:
    slides = list(plan.slides)
    index = content_index(plan)
    slides[index] = slides[index].model_copy(update={"title": "Edited title"})
    edited = SlidePlan(title=plan.title, slides=slides)

    agenda = offline_slide(edited, 1, None)

    assert agenda.layout is Layout.agenda
    assert "Edited title" in agenda.bullets
    assert agenda_bullets(edited) == agenda.bullets


def test_title_and_closing_slides_keep_their_role(plan: SlidePlan) -> None:
    first = offline_slide(plan, 0, "make it shorter")
    last = offline_slide(plan, len(plan.slides) - 1, None)

    assert first.layout is Layout.title
    assert first.title == plan.slides[0].title
    assert last.layout is Layout.closing
    assert last.index == len(plan.slides) - 1


def test_speaker_notes_are_written_from_the_bullets() -> None:
    slide = Slide(index=3, layout=Layout.bullets, title="Costs", bullets=["Rent", "Salaries"])

    notes = speaker_notes(slide, "Budget")

    assert "Rent" in notes
    assert "Salaries" in notes
    assert speaker_notes(Slide(index=0, layout=Layout.title, title="Budget"), "Budget")


# --- language and lists -------------------------------------------------------------------------


def frame_of(plan: SlidePlan) -> list[str]:
    """The planner's own words: agenda and closing titles, the closing's first line."""
    framing = [s for s in plan.slides if s.layout in (Layout.agenda, Layout.closing)]
    return [s.title for s in framing] + [plan.slides[-1].bullets[0]]


@pytest.mark.parametrize(
    ("prompt", "language", "frame", "said"),
    [
        (BULLETED, None, ["Agenda", "Thank you", "Questions and discussion"], "Welcome"),
        (BULLETED, "Deutsch", ["Agenda", "Vielen Dank", "Fragen und Diskussion"], "willkommen"),
        (BULLETED, "fr-FR", ["Ordre du jour", "Merci", "Questions et discussion"], "Bienvenue"),
        (
            "Vertriebsstrategie 2027\nZiele:\n- Umsatz steigern\n- Neue Kunden\nMaßnahmen:\n"
            "- Messen\n- Partner",
            None,
            ["Agenda", "Vielen Dank", "Fragen und Diskussion"],
            "willkommen",
        ),
        (
            "新能源汽车市场分析\n主要内容\uff1a\n- 电池技术的进步\n- 充电桩的建设情况\n"
            "- 政府补贴政策的变化\n- 主要品牌的竞争格局",
            None,
            ["议程", "谢谢", "问题与讨论"],
            "欢迎",
        ),
        (
            "中小企業のデジタル化\n課題\uff1a\n- 紙の書類が多い\n- 情報がばらばら\n"
            "対策\uff1a\n- クラウド\n- 研修",
            None,
            ["アジェンダ", "ありがとうございました", "質問とディスカッション"],
            "ありがとう",
        ),
        # A language without a phrasebook: English around the prompt's own words.
        (BULLETED, "Ελληνικά", ["Agenda", "Thank you", "Questions and discussion"], "Welcome"),
    ],
)
def test_the_planner_s_own_words_are_in_the_deck_s_language(
    prompt: str, language: str | None, frame: list[str], said: str
) -> None:
    plan = offline_plan(OutlineRequest(prompt=prompt, slide_count=6, language=language))

    assert frame_of(plan) == frame
    assert said in plan.slides[0].notes


def test_a_serial_comma_keeps_the_last_item_whole() -> None:
    plan = plan_for(
        "Why teenagers need more sleep. Explain circadian rhythms, the effect of phone screens "
        "at night, and how sleep affects memory and exam results.",
        6,
    )
    bullets = [b for s in plan.slides if s.layout in CONTENT for b in s.bullets]

    assert bullets == [
        "Circadian rhythms",
        "The effect of phone screens at night",
        "How sleep affects memory and exam results",
    ]
    assert [s.title for s in plan.slides if s.layout in CONTENT] == ["Overview"]


def test_no_two_slides_of_a_deck_share_a_title() -> None:
    items = "\n".join(f"- Point {n}: what the team changes in the rollout" for n in range(1, 9))
    plan = plan_for(f"Rollout plan\nTopics:\n{items}", 8)
    titles = [s.title for s in plan.slides]

    assert len(titles) == len(set(titles))
    assert titles[2:6] == [f"Overview ({n}/4)" for n in range(1, 5)]
