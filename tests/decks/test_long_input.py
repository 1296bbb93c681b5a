"""Issue 17, decks item 3 with a model: a long pasted document is cut into parts at paragraph
boundaries, each part summarised by the model, and the outline planned from the summaries."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx

from paperworks.decks.long_input import LONG_INPUT_CHARS, PART_CHARS, parts_of
from paperworks.decks.outline import OutlinePlanner
from paperworks.decks.plan import OutlineRequest
from paperworks.llm.client import LLMClient
from tests.decks.test_outline import model_plan
from tests.fake_model import FakeModel, completion


def paragraph(number: int) -> str:
    return " ".join(
        f"Paragraph {number} sentence {n} says the budget was {number * 1000 + n} euros."
        for n in range(1, 9)
    )


DOCUMENT = "\n\n".join(paragraph(n) for n in range(1, 31))  # about 15,000 characters


def schema_of(request: httpx.Request) -> str:
    body = json.loads(request.content)
    return str(body["response_format"]["json_schema"]["name"])


def part_number(request: httpx.Request) -> int:
    content = json.loads(request.content)["messages"][-1]["content"]
    return int(content.split()[1])  # "Part 3 of 4: ..."


def answering(failing: frozenset[int] = frozenset()) -> Callable[[httpx.Request], httpx.Response]:
    """Answers as a model would: a summary naming its part, or the deck's plan."""

    def answer(request: httpx.Request) -> httpx.Response:
        if schema_of(request) == "slide_plan":
            return httpx.Response(200, json=completion(json.dumps(model_plan(5))))
        number = part_number(request)
        if number in failing:
            return httpx.Response(400, json={"error": {"message": "content policy"}})
        summary = {
            "points": [f"Summary point of part {number}: the budget was {number * 1000} euros"],
            "decisions": [f"Decision of part {number}"],
            "actionItems": [f"Owner {number}: a task by Friday"],
        }
        return httpx.Response(200, json=completion(json.dumps(summary)))

    return answer


def test_a_document_is_cut_between_paragraphs_into_parts_that_fit() -> None:
    parts = parts_of(DOCUMENT)

    assert len(DOCUMENT) > 3 * PART_CHARS
    assert all(len(part) <= PART_CHARS for part in parts)
    assert "\n\n".join(parts) == DOCUMENT  # nothing lost, nothing cut mid-paragraph
    # A paragraph longer than a part is cut between sentences, and one endless word anywhere.
    huge = " ".join(f"Sentence {n} of a paragraph without a break." for n in range(300))
    assert all(part.endswith(".") and len(part) <= PART_CHARS for part in parts_of(huge))
    assert "".join(parts_of("x" * 9000)) == "x" * 9000


async def test_a_long_document_is_summarised_part_by_part_then_planned(
    llm: LLMClient, fake_model: FakeModel
) -> None:
    fake_model.then(answering(), times=None)

    outline = await OutlinePlanner(llm, None, 0).plan(
        OutlineRequest(prompt=DOCUMENT, slide_count=5)
    )

    parts = len(parts_of(DOCUMENT))
    schemas = [body["response_format"]["json_schema"]["name"] for body in fake_model.requests]
    assert schemas == ["part_summary"] * parts + ["slide_plan"]
    assert len(outline.plan.slides) == 5
    brief = fake_model.sent()["messages"][-1]["content"]
    for number in range(1, parts + 1):
        assert f"Summary point of part {number}" in brief
        assert f"Decision: Decision of part {number}" in brief
        assert f"Action item: Owner {number}: a task by Friday" in brief
    assert paragraph(1) not in brief  # the summaries, not the raw text
    assert len(brief) < len(DOCUMENT) / 3


async def test_a_part_the_model_refuses_goes_in_as_written_and_the_plan_is_made(
    llm: LLMClient, fake_model: FakeModel
) -> None:
    fake_model.then(answering(failing=frozenset({2})), times=None)

    outline = await OutlinePlanner(llm, None, 0).plan(
        OutlineRequest(prompt=DOCUMENT, slide_count=5)
    )

    assert len(outline.plan.slides) == 5
    brief = fake_model.sent()["messages"][-1]["content"]
    assert "Summary point of part 1" in brief
    assert "Summary point of part 2" not in brief
    second = parts_of(DOCUMENT)[1]
    assert second[:200] in brief  # its opening, as written


async def test_a_prompt_under_the_limit_is_one_call_with_the_prompt_itself(
    llm: LLMClient, fake_model: FakeModel
) -> None:
    fake_model.then(answering(), times=None)
    prompt = DOCUMENT[: LONG_INPUT_CHARS - 100]

    await OutlinePlanner(llm, None, 0).plan(OutlineRequest(prompt=prompt, slide_count=5))

    assert len(fake_model.requests) == 1
    assert prompt.strip() in fake_model.sent()["messages"][-1]["content"]
