"""OutlinePlanner: offline without a model; with a (mocked) model, exactly N slides, the opening
and ending in place, notes everywhere, and a cache that answers the same request once."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from paperworks.decks.exceptions import SlideNotFound
from paperworks.decks.offline_planner import offline_plan
from paperworks.decks.outline import (
    CACHE_NAMESPACE,
    OUTLINE_SYSTEM_PROMPT,
    SLIDE_SYSTEM_PROMPT,
    OutlinePlanner,
)
from paperworks.decks.plan import Layout, OutlineRequest, SlidePlan
from paperworks.llm import OFFLINE_MODEL
from paperworks.llm.cache import MemoryCache, RedisCache, cache_key
from paperworks.llm.client import LLMClient
from paperworks.llm.exceptions import LLMInvalidOutput, LLMRejected
from tests.fake_model import MODEL, SERVED_MODEL, FakeModel, model_client

PROMPT = "A talk about solar power for homeowners: costs, savings and installation."
CACHE_SECONDS = 600
CONTENT_LAYOUTS = {Layout.bullets, Layout.bullets_image, Layout.two_columns}


def model_plan(count: int, *, closing: bool = True, notes: str = "Say this.") -> dict[str, Any]:
    """A plan as a model writes it: a title slide, content, and a closing slide."""
    slides: list[dict[str, Any]] = [
        {
            "index": 0,
            "layout": "title",
            "title": "Solar power at home",
            "bullets": ["For homeowners"],
            "notes": notes,
            "imagePrompt": "A sunny roof with panels",
        }
    ]
    for number in range(1, count):
        slides.append(
            {
                "index": number,
                "layout": "bullets",
                "title": f"Point {number}",
                "bullets": [f"Detail {number}a", f"Detail {number}b"],
                "notes": notes,
                "imagePrompt": None,
            }
        )
    if closing and count >= 2:
        slides[-1].update(layout="closing", title="Thank you", bullets=["Questions?"])
    return {"title": "Solar power at home", "slides": slides}


@pytest.fixture
def cache() -> MemoryCache:
    return MemoryCache()


@pytest.fixture
def planner(llm: LLMClient, cache: MemoryCache) -> OutlinePlanner:
    return OutlinePlanner(llm, cache, CACHE_SECONDS)


def request(count: int = 5, **options: Any) -> OutlineRequest:
    return OutlineRequest(prompt=PROMPT, slide_count=count, **options)


def assert_framed(plan: SlidePlan, count: int) -> None:
    assert len(plan.slides) == count
    assert [slide.index for slide in plan.slides] == list(range(count))
    assert plan.slides[0].layout is Layout.title
    if count >= 2:
        assert plan.slides[-1].layout is Layout.closing
    assert all(slide.notes.strip() for slide in plan.slides)


# --- without a model ----------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 2, 5, 30])
async def test_without_a_model_the_offline_planner_answers(count: int) -> None:
    planner = OutlinePlanner(None, MemoryCache(), CACHE_SECONDS)

    outline = await planner.plan(request(count, tone="formal"))

    assert outline.model == OFFLINE_MODEL == "offline"
    assert not outline.cached
    assert outline.plan == offline_plan(request(count, tone="formal"))
    # Offline, as many slides as the prompt has material for, up to the count.
    assert_framed(outline.plan, min(count, len(outline.plan.slides)))


async def test_without_a_model_a_slide_is_rewritten_offline() -> None:
    planner = OutlinePlanner(None, None, 0)
    plan = offline_plan(request(6))
    content = next(s.index for s in plan.slides if s.layout in CONTENT_LAYOUTS)

    slide, model = await planner.regenerate_slide(plan, content, "add an example")

    assert model == "offline"
    assert slide.index == content
    assert slide.bullets[-1].startswith("For example")


@pytest.mark.parametrize("index", [-1, 5])
async def test_rewriting_a_slide_that_is_not_there_is_slide_not_found(index: int) -> None:
    planner = OutlinePlanner(None, None, 0)

    with pytest.raises(SlideNotFound):
        await planner.regenerate_slide(offline_plan(request(5)), index, None)


# --- with a model -------------------------------------------------------------------------------


async def test_the_model_is_asked_for_a_slide_plan_of_exactly_n_slides(
    planner: OutlinePlanner, fake_model: FakeModel
) -> None:
    fake_model.answers(model_plan(5), times=None)

    outline = await planner.plan(
        request(5, language="German", tone="playful", audience="homeowners")
    )

    assert outline.model == SERVED_MODEL
    assert not outline.cached
    assert outline.plan.title == "Solar power at home"
    assert_framed(outline.plan, 5)
    body = fake_model.sent()
    assert body["model"] == MODEL
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["name"] == "slide_plan"
    schema = body["response_format"]["json_schema"]["schema"]
    assert "imagePrompt" in schema["$defs"]["Slide"]["properties"]
    system, user = body["messages"]
    assert system == {"role": "system", "content": OUTLINE_SYSTEM_PROMPT}
    assert PROMPT in user["content"]
    for asked in ("exactly 5", "German", "playful", "homeowners"):
        assert asked in user["content"]
    assert body["max_tokens"] >= 5 * 300


@pytest.mark.parametrize(
    ("prompt", "language", "asked"),
    [
        ("Die Energiewende in Deutschland: Windkraft, Solar und Netze", None, "German (the"),
        ("Le compost collectif dans notre immeuble", None, "French (the"),
        ("新能源汽车市场分析", None, "Chinese (the"),
        (PROMPT, "Deutsch", "Language: German\n"),
        (PROMPT, "fr-FR", "Language: French\n"),
        (PROMPT, "Ελληνικά", "Language: Ελληνικά\n"),  # no name for it here: as the user wrote it
        ("Photosynthesis", None, "Language: the language of the brief\n"),
    ],
)
async def test_the_model_is_told_the_deck_s_language(
    planner: OutlinePlanner, fake_model: FakeModel, prompt: str, language: str | None, asked: str
) -> None:
    fake_model.answers(model_plan(5), times=None)

    await planner.plan(OutlineRequest(prompt=prompt, slide_count=5, language=language))

    _, user = fake_model.sent()["messages"]
    assert asked in user["content"]


def test_the_system_prompt_asks_for_what_a_deck_needs() -> None:
    for rule in (
        "exactly the number of slides",
        '"title"',
        '"closing"',
        "speaker notes",
        "imagePrompt",
        "requested language",
        "tone",
        "audience",
        "Never mention being an AI",
    ):
        assert rule in OUTLINE_SYSTEM_PROMPT


async def test_extra_slides_are_trimmed_keeping_the_closing_slide(
    planner: OutlinePlanner, fake_model: FakeModel
) -> None:
    fake_model.answers(model_plan(7), times=None)

    outline = await planner.plan(request(5))

    assert_framed(outline.plan, 5)
    assert [s.title for s in outline.plan.slides][1:4] == ["Point 1", "Point 2", "Point 3"]
    assert outline.plan.slides[-1].title == "Thank you"


async def test_a_plan_without_a_closing_slide_is_trimmed_and_given_one(
    planner: OutlinePlanner, fake_model: FakeModel
) -> None:
    fake_model.answers(model_plan(7, closing=False), times=None)

    outline = await planner.plan(request(5))

    assert_framed(outline.plan, 5)
    assert outline.plan.slides[-1].title == "Point 4"


async def test_too_few_slides_are_padded_from_the_offline_planner_before_the_closing(
    planner: OutlinePlanner, fake_model: FakeModel
) -> None:
    fake_model.answers(model_plan(5), times=None)

    outline = await planner.plan(request(6))

    assert fake_model.call_count == 1  # padded, not asked again
    assert_framed(outline.plan, 6)
    titles = [slide.title for slide in outline.plan.slides]
    assert titles[:4] == ["Solar power at home", "Point 1", "Point 2", "Point 3"]
    assert titles[-1] == "Thank you"
    offline_titles = {slide.title for slide in offline_plan(request(6)).slides}
    assert titles[4] in offline_titles


async def test_a_single_slide_answer_is_padded_with_the_prompts_own_material_only(
    planner: OutlinePlanner, fake_model: FakeModel
) -> None:
    fake_model.answers(model_plan(1), times=None)

    assert_framed((await planner.plan(request(2))).plan, 2)
    # The prompt has one slide's worth of material: title, that slide, closing; no repeats.
    plan = (await planner.plan(request(12))).plan
    assert_framed(plan, 3)
    assert [s.layout for s in plan.slides][1] is not Layout.closing
    assert len({s.title for s in plan.slides}) == 3


async def test_the_opening_and_ending_layouts_are_enforced(
    planner: OutlinePlanner, fake_model: FakeModel
) -> None:
    plan = model_plan(4)
    plan["slides"][0]["layout"] = "bullets"
    plan["slides"][-1]["layout"] = "bullets"
    fake_model.answers(plan, times=None)

    outline = await planner.plan(request(4))

    assert_framed(outline.plan, 4)


async def test_slides_without_notes_get_notes(
    planner: OutlinePlanner, fake_model: FakeModel
) -> None:
    fake_model.answers(model_plan(4, notes=""), times=None)

    outline = await planner.plan(request(4))

    assert all(slide.notes for slide in outline.plan.slides)
    assert "Detail 1a" in outline.plan.slides[1].notes


async def test_the_second_identical_request_is_served_from_the_cache(
    planner: OutlinePlanner, fake_model: FakeModel, cache: MemoryCache
) -> None:
    fake_model.answers(model_plan(5), times=None)

    first = await planner.plan(request(5, tone="formal"))
    second = await planner.plan(request(5, tone="formal"))

    assert fake_model.call_count == 1
    assert not first.cached
    assert second.cached
    assert second.plan == first.plan
    assert second.model == SERVED_MODEL
    key = cache_key(CACHE_NAMESPACE, PROMPT, 5, None, "formal", None, MODEL)
    assert await cache.get(key) is not None


@pytest.mark.parametrize(
    "other",
    [
        request(6, tone="formal"),
        request(5, tone="playful"),
        request(5, tone="formal", language="French"),
        request(5, tone="formal", audience="installers"),
        OutlineRequest(prompt=PROMPT + " Add financing.", slide_count=5, tone="formal"),
    ],
)
async def test_a_different_option_is_a_miss(
    planner: OutlinePlanner, fake_model: FakeModel, other: OutlineRequest
) -> None:
    fake_model.answers(model_plan(6), times=None)
    await planner.plan(request(5, tone="formal"))

    outline = await planner.plan(other)

    assert fake_model.call_count == 2
    assert not outline.cached


async def test_a_different_model_is_a_miss(cache: MemoryCache, fake_model: FakeModel) -> None:
    fake_model.answers(model_plan(5), times=None)
    async with (
        model_client(model="a/one") as one,
        model_client(model="b/two") as two,
    ):
        await OutlinePlanner(one, cache, CACHE_SECONDS).plan(request())
        outline = await OutlinePlanner(two, cache, CACHE_SECONDS).plan(request())

    assert not outline.cached
    assert fake_model.call_count == 2


async def test_a_failed_plan_is_not_cached(planner: OutlinePlanner, fake_model: FakeModel) -> None:
    fake_model.answers({"nope": 1}).answers({"still": "no"}).answers(model_plan(5))

    with pytest.raises(LLMInvalidOutput):
        await planner.plan(request())
    outline = await planner.plan(request())

    assert not outline.cached
    assert fake_model.call_count == 3


async def test_no_caching_when_cache_seconds_is_zero(
    llm: LLMClient, cache: MemoryCache, fake_model: FakeModel
) -> None:
    fake_model.answers(model_plan(5), times=None)
    planner = OutlinePlanner(llm, cache, 0)

    await planner.plan(request())
    outline = await planner.plan(request())

    assert not outline.cached
    assert fake_model.call_count == 2
    assert len(cache) == 0


async def test_an_unreadable_cache_entry_is_a_miss(
    planner: OutlinePlanner, cache: MemoryCache, fake_model: FakeModel
) -> None:
    fake_model.answers(model_plan(5), times=None)
    key = cache_key(CACHE_NAMESPACE, PROMPT, 5, None, None, None, MODEL)
    await cache.set(key, '{"plan": "from an older version"}', CACHE_SECONDS)

    outline = await planner.plan(request())

    assert not outline.cached
    assert fake_model.call_count == 1
    assert await planner.plan(request()) == outline.__class__(outline.plan, SERVED_MODEL, True)


async def test_a_redis_that_is_down_does_not_fail_the_outline(
    llm: LLMClient, fake_model: FakeModel
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cache = RedisCache.from_url(f"redis://127.0.0.1:{port}/0")
    fake_model.answers(model_plan(5), times=None)

    try:
        outline = await OutlinePlanner(llm, cache, CACHE_SECONDS).plan(request())
    finally:
        await cache.aclose()

    assert_framed(outline.plan, 5)
    assert not outline.cached


async def test_model_errors_reach_the_caller(
    planner: OutlinePlanner, fake_model: FakeModel
) -> None:
    fake_model.fails(401, "bad key", times=None)

    with pytest.raises(LLMRejected):
        await planner.plan(request())


async def test_a_slide_is_rewritten_by_the_model(
    planner: OutlinePlanner, fake_model: FakeModel
) -> None:
    plan = SlidePlan.model_validate(model_plan(5))
    rewritten = {
        "index": 9,
        "layout": "bullets_image",
        "title": "Costs, simply",
        "bullets": ["Panels", "Installation", "Upkeep"],
        "notes": "Walk through the three costs.",
        "imagePrompt": "A homeowner reading an invoice",
    }
    fake_model.answers(rewritten, times=None)

    slide, model = await planner.regenerate_slide(plan, 2, "  add a picture  ")

    assert model == SERVED_MODEL
    assert slide.index == 2  # its place in the deck, whatever the model wrote
    assert slide.title == "Costs, simply"
    assert slide.layout is Layout.bullets_image
    body = fake_model.sent()
    assert body["response_format"]["json_schema"]["name"] == "slide"
    assert body["temperature"] > 0.4  # a rewrite should read differently
    system, user = body["messages"]
    assert system["content"] == SLIDE_SYSTEM_PROMPT
    assert "add a picture" in user["content"]
    assert "Rewrite slide 2" in user["content"]
    assert "Point 3" in user["content"]  # the rest of the deck, for context


async def test_a_rewritten_title_or_closing_slide_keeps_its_role_and_gets_notes(
    planner: OutlinePlanner, fake_model: FakeModel
) -> None:
    plan = SlidePlan.model_validate(model_plan(5))
    fake_model.answers({"index": 0, "layout": "bullets", "title": "Solar!", "bullets": []}, times=2)

    first, _ = await planner.regenerate_slide(plan, 0, None)
    last, _ = await planner.regenerate_slide(plan, 4, None)
    fake_model.answers({"index": 2, "layout": "closing", "title": "Bye", "bullets": []}, times=None)
    middle, _ = await planner.regenerate_slide(plan, 2, None)

    assert first.layout is Layout.title
    assert last.layout is Layout.closing
    assert middle.layout is Layout.bullets
    assert first.notes
    assert "Improve it" in fake_model.sent()["messages"][1]["content"]  # no instruction given
