"""Items' pictures with the rendition files the channels send (feeds, ninjs, boards).

One reader for every channel: the pictures are ``pictures.item_pictures`` (lead first, none
without alt text) and the files are ``media.image_renditions`` (existing ones in one query
for all the items, missing ones made now), so a channel never names a file that does not
exist and never offers an undescribed picture.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from media.image_renditions import PICTURE_SPECS, ImageRendition, image_renditions

from .pictures import Picture, items_pictures


@dataclass(frozen=True)
class RenderedPicture:
    """A picture of an item and its files by spec (``media.image_renditions``)."""

    picture: Picture
    renditions: dict[str, ImageRendition]

    @property
    def image_id(self) -> int:
        return self.picture.image.pk  # type: ignore[attr-defined]


def items_pictures_rendered(
    items: Iterable, specs: Iterable[str] = PICTURE_SPECS
) -> dict[int, list[RenderedPicture]]:
    """``{item pk: [RenderedPicture, ...]}`` in reading order. A picture whose file is gone
    (its renditions cannot be made) is left out. Queries: one for every gallery image
    (``items_pictures``) and one for the renditions of every picture, whatever the number
    of items."""
    specs = tuple(specs)
    pictures = items_pictures(items)
    files = image_renditions((p.image for ps in pictures.values() for p in ps), specs)
    return {
        pk: [
            RenderedPicture(p, files[p.image.pk])  # type: ignore[attr-defined]
            for p in ps
            if p.image.pk in files  # type: ignore[attr-defined]
        ]
        for pk, ps in pictures.items()
    }


def item_pictures_rendered(item, specs: Iterable[str] = PICTURE_SPECS) -> list[RenderedPicture]:
    return items_pictures_rendered([item], specs)[item.pk]
