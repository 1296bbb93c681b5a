"""A slide's picture: the image providers' when one delivers, else the deck's placeholder.

A picture is an ornament: its failure never fails the deck, so `slide_picture` never raises.
"""

from __future__ import annotations

import asyncio

from paperworks.decks.placeholder_image import placeholder_picture
from paperworks.llm.images import GeneratedImage, ImageService


async def slide_picture(
    images: ImageService,
    prompt: str | None,
    *,
    title: str,
    palette: tuple[str, str, str],
    width: int,
    height: int,
) -> GeneratedImage:
    """The first provider's image for `prompt`; without one (no provider, no prompt, or every
    provider failed), the placeholder drawn from `title` in `palette` (provider "placeholder")."""
    image = await images.image_for(prompt, width=width, height=height)
    if image is not None:
        return image
    # Drawing is blocking work: off the event loop.
    return await asyncio.to_thread(
        placeholder_picture, title, palette=palette, width=width, height=height
    )
