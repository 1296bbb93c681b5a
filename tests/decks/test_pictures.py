"""A slide's picture: the providers' image when one delivers, else the placeholder drawn from the
slide's title in the deck's palette; never an exception."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from paperworks.decks import placeholder_image as placeholder
from paperworks.decks.pictures import slide_picture
from paperworks.decks.placeholder_image import placeholder_image
from paperworks.llm.images import GeneratedImage, ImageError, ImageService
from tests.fake_model import FakeImageProvider
from tests.fake_model import picture as png

PALETTE = ("#0F172A", "#38BDF8", "#F1F5F9")


async def picture(
    images: ImageService, prompt: str | None = "a lighthouse", title: str = "Our lighthouse"
) -> GeneratedImage:
    return await slide_picture(images, prompt, title=title, palette=PALETTE, width=800, height=600)


def assert_placeholder_of(image: GeneratedImage, title: str) -> None:
    assert (image.provider, image.content_type, image.width, image.height) == (
        "placeholder",
        "image/png",
        800,
        600,
    )
    assert image.data == placeholder_image(title, palette=PALETTE, width=800, height=600)


async def test_a_providers_image_is_the_slides_picture() -> None:
    data = png(size=(96, 64))
    provider = FakeImageProvider("runware", data)

    image = await picture(ImageService([provider]))

    assert image == GeneratedImage(data, "image/png", "runware", 96, 64)
    assert provider.prompts == ["a lighthouse"]


async def test_without_providers_the_placeholder_is_drawn_from_the_title_and_palette() -> None:
    assert_placeholder_of(await picture(ImageService([]), title="Hello"), "Hello")


async def test_when_every_provider_fails_the_placeholder_is_used() -> None:
    failing = [
        FakeImageProvider("runware", ImageError("HTTP 500")),
        FakeImageProvider("openai", png()[:40]),
    ]

    image = await picture(ImageService(list(failing)))

    assert_placeholder_of(image, "Our lighthouse")
    assert [len(provider.prompts) for provider in failing] == [1, 1]


@pytest.mark.parametrize("prompt", [None, "", "   "])
async def test_without_a_prompt_no_provider_is_asked(prompt: str | None) -> None:
    provider = FakeImageProvider("runware", png())

    assert_placeholder_of(await picture(ImageService([provider]), prompt), "Our lighthouse")
    assert provider.prompts == []


async def test_a_placeholder_that_cannot_be_drawn_still_gives_a_picture(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> bytes:
        raise MemoryError

    monkeypatch.setattr(placeholder, "placeholder_image", broken)

    image = await picture(ImageService([]), None)

    assert (image.provider, image.width, image.height) == ("placeholder", 800, 600)
    with Image.open(io.BytesIO(image.data)) as opened:
        assert (opened.format, opened.size) == ("PNG", (800, 600))
