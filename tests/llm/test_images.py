"""Image providers: Runware and OpenAI-compatible over mocked HTTP, falling back from one to the
next; when none delivers, no image (and no exception); keys stay out of logs and errors."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
import structlog
from structlog.testing import capture_logs

from paperworks.llm import images
from paperworks.llm.images import (
    MAX_RETRIES,
    GeneratedImage,
    ImageError,
    ImageService,
    OpenAIImagesProvider,
    RunwareProvider,
    image_service_from_settings,
    openai_size,
    runware_size,
)
from tests.conftest import make_settings
from tests.fake_model import (
    IMAGES_BASE,
    IMAGES_KEY,
    MAX_BYTES,
    RUNWARE_KEY,
    FakeImageProvider,
    FakeImages,
    images_b64,
    images_provider,
    picture,
    runware_paints,
    runware_provider,
    runware_refused,
)

ATTEMPTS = MAX_RETRIES + 1

Logs = list[MutableMapping[str, Any]]
Step = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def steps(*answers: Step) -> Callable[[httpx.Request], httpx.Response]:
    """A side effect answering each call with the next step; the last one repeats."""
    queue = list(answers)

    def answer(request: httpx.Request) -> httpx.Response:
        step = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(step, Exception):
            raise step
        return step(request) if callable(step) else step

    return answer


@pytest.fixture
def logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Logs]:
    with capture_logs() as captured:
        # Loggers are cached on first use: if the app's pipeline already bound the module's,
        # it would bypass the capture; a fresh one follows capture_logs' configuration.
        monkeypatch.setattr(images, "log", structlog.get_logger(images.__name__))
        yield captured


def both(http: httpx.AsyncClient) -> ImageService:
    return ImageService([runware_provider(http), images_provider(http)])


async def image_for(
    service: ImageService, prompt: str | None = "a lighthouse"
) -> GeneratedImage | None:
    return await service.image_for(prompt, width=1344, height=768)


async def made_by(service: ImageService) -> str:
    image = await image_for(service)
    assert image is not None
    return image.provider


def failures(logs: Logs) -> list[tuple[str, str]]:
    return [(e["provider"], e["error"]) for e in logs if e["event"] == "image_provider_failed"]


# -- Runware ---------------------------------------------------------------------------------------


async def test_runware_generates_then_downloads_the_image(
    http: httpx.AsyncClient, fake_images: FakeImages
) -> None:
    png = picture(size=(1024, 576))
    api = fake_images.runware.mock(side_effect=runware_paints)
    download = fake_images.download.respond(200, content=png, headers={"content-type": "x/y"})

    image = await ImageService([runware_provider(http)]).image_for(
        "a lighthouse at dusk", width=1000, height=562
    )

    assert image == GeneratedImage(png, "image/png", "runware", 1024, 576)
    auth, task = json.loads(api.calls.last.request.content)
    assert auth == {"taskType": "authentication", "apiKey": RUNWARE_KEY}
    assert uuid.UUID(task.pop("taskUUID")).version == 4
    assert task == {
        "taskType": "imageInference",
        "positivePrompt": "a lighthouse at dusk",
        "width": 1024,  # 1000x562 snapped to Runware's multiples of 64
        "height": 576,
        "model": "runware:100@1",
        "numberResults": 1,
        "outputType": "URL",
        "outputFormat": "PNG",
    }
    assert download.call_count == 1
    fetched = download.calls.last.request
    assert "authorization" not in fetched.headers
    assert RUNWARE_KEY not in str(fetched.url)


async def test_runware_retries_a_429(
    http: httpx.AsyncClient, fake_images: FakeImages, logs: Logs
) -> None:
    api = fake_images.runware.mock(
        side_effect=steps(runware_refused("rateLimit", status=429), runware_paints)
    )
    fake_images.download.respond(200, content=picture())

    assert await made_by(ImageService([runware_provider(http)])) == "runware"
    assert api.call_count == 2
    retries = [e for e in logs if e["event"] == "image_retry"]
    assert [(e["provider"], e["error"]) for e in retries] == [("runware", "HTTP 429")]


async def test_runware_errors_answer_falls_back_to_openai(
    http: httpx.AsyncClient, fake_images: FakeImages, logs: Logs
) -> None:
    api = fake_images.runware.mock(return_value=runware_refused("invalidPositivePrompt"))
    jpeg = picture("JPEG", (96, 64))
    fake_images.openai.mock(return_value=images_b64(jpeg))

    image = await image_for(both(http))

    assert image == GeneratedImage(jpeg, "image/jpeg", "openai", 96, 64)
    assert api.call_count == 1  # a refusal is not retried
    assert failures(logs) == [("runware", "ImageError")]
    (failed,) = [e for e in logs if e["event"] == "image_provider_failed"]
    assert "invalidPositivePrompt" in failed["reason"]


async def test_runware_timeout_is_retried_then_falls_back(
    http: httpx.AsyncClient, fake_images: FakeImages, logs: Logs
) -> None:
    api = fake_images.runware.mock(side_effect=httpx.ReadTimeout("timed out"))
    fake_images.openai.mock(return_value=images_b64(picture()))

    assert await made_by(both(http)) == "openai"
    assert api.call_count == ATTEMPTS
    assert failures(logs) == [("runware", "ImageError")]


async def test_a_download_over_the_cap_stops_reading_and_falls_back(
    http: httpx.AsyncClient, fake_images: FakeImages
) -> None:
    produced: list[int] = []

    async def endless_png() -> AsyncIterator[bytes]:
        yield picture()
        for _ in range(200):  # 12.8 MB if all of it were read
            produced.append(1)
            yield b"\0" * 65536

    fake_images.runware.mock(side_effect=runware_paints)
    fake_images.download.mock(
        side_effect=lambda _: httpx.Response(
            200, content=endless_png(), headers={"content-type": "image/png"}
        )
    )
    fake_images.openai.mock(return_value=images_b64(picture()))

    assert await made_by(both(http)) == "openai"
    # No Content-Length: the cap is enforced while reading, a chunk or so past it at most.
    assert len(produced) <= MAX_BYTES // 65536 + 2


async def test_a_declared_length_over_the_cap_is_refused_unread(
    http: httpx.AsyncClient, fake_images: FakeImages
) -> None:
    fake_images.runware.mock(side_effect=runware_paints)
    big = picture() + b"\0" * MAX_BYTES
    fake_images.download.respond(200, content=big)

    with pytest.raises(ImageError, match=f"{len(big)} bytes is over"):
        await runware_provider(http).generate("a lighthouse", width=512, height=512)


async def test_a_download_that_is_not_an_image_falls_back(
    http: httpx.AsyncClient, fake_images: FakeImages
) -> None:
    fake_images.runware.mock(side_effect=runware_paints)
    html = b"<!doctype html><html><body>Access denied</body></html>"
    fake_images.download.respond(200, content=html, headers={"content-type": "image/png"})
    fake_images.openai.mock(return_value=images_b64(picture()))

    assert await made_by(both(http)) == "openai"


@pytest.mark.parametrize(
    ("asked", "sent"),
    [
        ((1344, 768), (1344, 768)),
        ((1000, 562), (1024, 576)),
        ((1920, 1080), (1920, 1088)),
        ((4000, 1000), (2048, 512)),
        ((50, 50), (128, 128)),
    ],
)
def test_runware_sizes_are_multiples_of_64_within_its_range(
    asked: tuple[int, int], sent: tuple[int, int]
) -> None:
    assert runware_size(*asked) == sent


# -- OpenAI-compatible -----------------------------------------------------------------------------


async def test_openai_b64_json(http: httpx.AsyncClient, fake_images: FakeImages) -> None:
    png = picture(size=(1536, 1024))
    api = fake_images.openai.mock(return_value=images_b64(png))

    image = await ImageService([images_provider(http)]).image_for(
        "a lighthouse", width=1344, height=768
    )

    assert image == GeneratedImage(png, "image/png", "openai", 1536, 1024)
    request = api.calls.last.request
    assert request.headers["authorization"] == f"Bearer {IMAGES_KEY}"
    assert json.loads(request.content) == {
        "model": "gpt-image-1",
        "prompt": "a lighthouse",
        "n": 1,
        "size": "1536x1024",
    }


async def test_openai_url_is_downloaded(
    http: httpx.AsyncClient, fake_images: FakeImages, fake_http: respx.MockRouter
) -> None:
    webp = picture("WEBP", (80, 120))
    url = "https://cdn.images.example.com/generated/1.webp"
    fake_images.openai.respond(200, json={"data": [{"url": url}]})
    download = fake_http.get(url).respond(200, content=webp, headers={"content-type": "text/plain"})

    image = await image_for(ImageService([images_provider(http)]))

    assert image == GeneratedImage(webp, "image/webp", "openai", 80, 120)
    assert "authorization" not in download.calls.last.request.headers  # the key stays with the API


async def test_a_download_follows_redirects(
    http: httpx.AsyncClient, fake_images: FakeImages, fake_http: respx.MockRouter
) -> None:
    final = "https://cdn.images.example.com/generated/final.png"
    fake_images.runware.mock(side_effect=runware_paints)
    fake_images.download.respond(302, headers={"location": final})
    fake_http.get(final).respond(200, content=picture())

    assert await made_by(ImageService([runware_provider(http)])) == "runware"


async def test_an_error_page_that_is_not_json_reports_its_status(
    http: httpx.AsyncClient, fake_images: FakeImages
) -> None:
    fake_images.openai.respond(404, html="<h1>Not Found</h1>")

    with pytest.raises(ImageError, match="HTTP 404"):
        await images_provider(http).generate("a lighthouse", width=512, height=512)


@pytest.mark.parametrize(
    ("asked", "size"),
    [((1344, 768), "1536x1024"), ((1024, 1024), "1024x1024"), ((768, 1344), "1024x1536")],
)
def test_openai_size_is_the_nearest_supported(asked: tuple[int, int], size: str) -> None:
    assert openai_size(*asked) == size


# -- the service -----------------------------------------------------------------------------------


async def test_when_every_provider_fails_there_is_no_image(
    http: httpx.AsyncClient, fake_images: FakeImages, logs: Logs
) -> None:
    runware_api = fake_images.runware.respond(500)
    openai_api = fake_images.openai.respond(503)

    assert await image_for(both(http)) is None
    assert (runware_api.call_count, openai_api.call_count) == (ATTEMPTS, ATTEMPTS)
    assert failures(logs) == [("runware", "ImageError"), ("openai", "ImageError")]


async def test_without_providers_there_is_no_image() -> None:
    assert await ImageService([]).image_for("a lighthouse", width=800, height=600) is None


async def test_without_a_prompt_no_provider_is_asked(
    http: httpx.AsyncClient, fake_images: FakeImages
) -> None:
    api = fake_images.runware.mock(side_effect=runware_paints)

    for prompt in (None, "", "   "):
        assert await image_for(ImageService([runware_provider(http)]), prompt) is None
    assert api.call_count == 0


async def test_unexpected_errors_and_broken_images_hand_over_to_the_next(
    logs: Logs,
) -> None:
    truncated = picture()[:40]  # PNG magic bytes, but Pillow cannot read it
    jpeg = picture("JPEG")
    service = ImageService(
        [
            FakeImageProvider("crashes", RuntimeError("boom")),
            FakeImageProvider("truncated", truncated),
            FakeImageProvider("works", jpeg),
        ]
    )

    image = await image_for(service)

    assert image is not None
    assert (image.provider, image.data) == ("works", jpeg)
    assert [provider for provider, _ in failures(logs)] == ["crashes", "truncated"]
    assert failures(logs)[0] == ("crashes", "RuntimeError")


async def test_api_keys_never_reach_logs_or_errors(
    http: httpx.AsyncClient, fake_images: FakeImages, logs: Logs
) -> None:
    # Both providers echo the key back in their error text, as some do.
    fake_images.runware.mock(
        side_effect=steps(
            runware_refused("rateLimit", f"slow down {RUNWARE_KEY}", 429),
            runware_refused("invalidApiKey", f"Invalid API key {RUNWARE_KEY}", 401),
        )
    )
    fake_images.openai.respond(
        401,
        json={"error": {"message": f"Incorrect API key: {IMAGES_KEY}", "code": "invalid_api_key"}},
    )

    assert await image_for(both(http)) is None
    for provider in (runware_provider(http), images_provider(http)):
        with pytest.raises(ImageError) as raised:
            await provider.generate("a lighthouse", width=512, height=512)
        assert RUNWARE_KEY not in str(raised.value)
        assert IMAGES_KEY not in str(raised.value)
        assert RUNWARE_KEY not in repr(provider)
        assert IMAGES_KEY not in repr(provider)

    assert failures(logs) == [("runware", "ImageError"), ("openai", "ImageError")]
    assert RUNWARE_KEY not in repr(logs)
    assert IMAGES_KEY not in repr(logs)


@pytest.mark.parametrize(
    ("configured", "expected"),
    [
        ({}, []),
        ({"runware_api_key": RUNWARE_KEY}, ["runware"]),
        ({"image_api_base_url": IMAGES_BASE, "image_api_key": IMAGES_KEY}, ["openai"]),
        ({"image_api_base_url": IMAGES_BASE}, []),  # a base URL without a key is not enough
        (
            {
                "runware_api_key": RUNWARE_KEY,
                "image_api_base_url": IMAGES_BASE,
                "image_api_key": IMAGES_KEY,
            },
            ["runware", "openai"],
        ),
    ],
)
def test_providers_from_settings(
    tmp_path: Path, http: httpx.AsyncClient, configured: dict[str, str], expected: list[str]
) -> None:
    settings = make_settings(tmp_path, image_max_bytes=4096, **configured)

    service = image_service_from_settings(settings, http)

    assert [provider.name for provider in service.providers] == expected
    for provider in service.providers:
        assert isinstance(provider, RunwareProvider | OpenAIImagesProvider)
        assert provider.max_bytes == 4096
        assert provider.http is http
