"""Decks: our overhead on an outline beyond the model's own time, and the cost of drawing a deck.

1. Outline latency. The offline engine alone; then `OutlinePlanner` against a local fake
   OpenAI-compatible server that answers a valid plan after a fixed delay (the "model"), against
   the anchor: one bare httpx POST of the same request to the same server. Our overhead is the
   difference of the two p95s (client, retries, JSON schema, validation, slide-count rules).
   Cache off, so every call reaches the server. Target: under 20 ms at p95.
2. Build time. `build_deck` for 5- and 30-slide offline plans with placeholder pictures, against
   the anchor: python-pptx writing the same number of plain title + bullets slides, no theme, no
   measuring. Target: the whole 5-slide offline deck (plan, pictures, drawing) under 2 s.

Run: .venv/bin/python bench/decks.py [--rounds N] [--delay-ms D]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import platform
import statistics
import time
from collections.abc import Callable

import httpx
from pptx import Presentation
from pptx.util import Inches, Pt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from paperworks.decks.offline_planner import offline_plan
from paperworks.decks.outline import OutlinePlanner
from paperworks.decks.pictures import slide_picture
from paperworks.decks.plan import Layout, OutlineRequest, SlidePlan
from paperworks.decks.pptx_builder import build_deck
from paperworks.decks.themes import DEFAULT_THEME, get_theme, palette
from paperworks.llm.client import LLMClient
from paperworks.llm.images import ImageService
from paperworks.settings import Settings
from support import percentile, report, serving, timed

PROMPT = (
    "Onboarding for new support engineers: our products, the ticket workflow, escalation rules, "
    "tone of voice with customers, tools we use every day, on-call duties and where to get help."
)


def fake_model_app(delay: float, slide_count: int) -> Starlette:
    """An OpenAI-compatible chat completions endpoint answering a valid plan after `delay` s."""
    plan = offline_plan(OutlineRequest(prompt=PROMPT, slide_count=slide_count))
    content = json.dumps(plan.model_dump(mode="json", by_alias=True))

    async def completions(request: Request) -> JSONResponse:
        await request.body()
        await asyncio.sleep(delay)
        return JSONResponse(
            {
                "id": "chatcmpl-bench",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": "bench-model",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 100, "completion_tokens": 400, "total_tokens": 500},
            }
        )

    return Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])


async def outline_latency(rounds: int, delay_ms: float) -> list[tuple[str, list[float]]]:
    offline = OutlinePlanner(None, None, 0)
    rows = [
        (
            "offline engine",
            await timed(rounds, lambda n: offline.plan(OutlineRequest(f"{PROMPT} {n}", 5))),
        )
    ]
    with serving(fake_model_app(delay_ms / 1000, 5)) as base_url:
        settings = Settings(llm_base_url=base_url, llm_api_key="bench-key", llm_model="m")
        llm = LLMClient.from_settings(settings)
        assert llm is not None
        planner = OutlinePlanner(llm, None, 0)
        body = {"model": "m", "messages": [{"role": "user", "content": PROMPT}]}
        async with httpx.AsyncClient() as http:

            async def bare(n: int) -> None:
                response = await http.post(f"{base_url}/chat/completions", json=body)
                SlidePlan.model_validate_json(response.json()["choices"][0]["message"]["content"])

            rows.append((f"anchor: bare POST ({delay_ms:.0f} ms model)", await timed(rounds, bare)))
            rows.append(
                (
                    f"planner via fake model ({delay_ms:.0f} ms)",
                    await timed(rounds, lambda n: planner.plan(OutlineRequest(f"{PROMPT} {n}", 5))),
                )
            )
        await llm.aclose()
    return rows


def plain_deck(plan: SlidePlan) -> bytes:
    """The anchor: python-pptx writing one title + bullets slide per plan slide, nothing else."""
    presentation = Presentation()
    presentation.slide_width, presentation.slide_height = Inches(13.333), Inches(7.5)
    layout = presentation.slide_layouts[1]
    for slide in plan.slides:
        page = presentation.slides.add_slide(layout)
        page.shapes.title.text = slide.title
        body = page.placeholders[1].text_frame
        for n, bullet in enumerate(slide.bullets):
            paragraph = body.paragraphs[0] if n == 0 else body.add_paragraph()
            paragraph.text = bullet
            paragraph.font.size = Pt(18)
    out = io.BytesIO()
    presentation.save(out)
    return out.getvalue()


async def pictures(plan: SlidePlan) -> dict[int, bytes]:
    images = ImageService([])
    theme = get_theme(DEFAULT_THEME)
    found = {}
    for slide in plan.slides:
        if slide.layout == Layout.bullets_image:
            image = await slide_picture(
                images,
                slide.image_prompt,
                title=slide.title,
                palette=palette(theme),
                width=1344,
                height=768,
            )
            found[slide.index] = image.data
    return found


def build_times(rounds: int, slide_count: int) -> list[tuple[str, list[float]]]:
    plan = offline_plan(OutlineRequest(prompt=PROMPT, slide_count=slide_count))
    images = asyncio.run(pictures(plan))

    def measure(work: Callable[[], object]) -> list[float]:
        work()  # warm-up: fonts, templates
        samples = []
        for _ in range(rounds):
            started = time.perf_counter()
            work()
            samples.append((time.perf_counter() - started) * 1000)
        return samples

    def whole() -> None:  # what an offline build job does, minus the database
        fresh = offline_plan(OutlineRequest(prompt=PROMPT, slide_count=slide_count))
        build_deck(fresh, theme=DEFAULT_THEME, images=asyncio.run(pictures(fresh)))

    return [
        (f"anchor: plain python-pptx, {slide_count} slides", measure(lambda: plain_deck(plan))),
        (f"build_deck, {slide_count} slides", measure(lambda: build_deck(plan, images=images))),
        (f"offline plan+pictures+build, {slide_count}", measure(whole)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40, help="outline calls per scenario")
    parser.add_argument("--build-rounds", type=int, default=5, help="builds per scenario")
    parser.add_argument("--delay-ms", type=float, default=100.0, help="the fake model's delay")
    args = parser.parse_args()
    print(
        f"paperworks decks: {args.rounds} outlines, {args.build_rounds} builds per scenario; "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{len(__import__('os').sched_getaffinity(0))} CPUs"
    )
    outline = asyncio.run(outline_latency(args.rounds, args.delay_ms))
    report("outline latency", outline, anchor=1)
    overhead = percentile(outline[2][1], 95) - percentile(outline[1][1], 95)
    verdict = "PASS" if overhead < 20 else "ABOVE"
    print(f"our overhead beyond the model at p95: {overhead:.1f} ms ({verdict}: goal < 20 ms)")

    for count in (5, 30):
        rows = build_times(args.build_rounds, count)
        report(f"building a {count}-slide deck (placeholder pictures)", rows, anchor=0)
        if count == 5:
            whole = statistics.median(rows[2][1])
            verdict = "PASS" if whole < 2000 else "ABOVE"
            print(f"5-slide offline deck, end to end: {whole:.0f} ms ({verdict}: goal < 2000 ms)")
        per_slide = statistics.median(rows[1][1]) / count
        print(f"build_deck per slide: {per_slide:.1f} ms")


if __name__ == "__main__":
    main()
