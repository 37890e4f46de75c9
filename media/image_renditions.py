"""Picture renditions the channels send out: feeds, ninjs and bulletin boards.

The specs are data, like the audio profiles: every channel outside the portal offers the
same JPEG files (any feed reader, news system or board decodes JPEG, whatever the library
holds: HEIC, WebP, AVIF, a 100-megapixel original), so a picture costs at most two files.

- ``PICTURE_LARGE`` (``max-1920x1080|format-jpeg``): the picture fitted inside a Full HD
  screen, never enlarged nor cropped. Feeds' ``media:content``, ninjs' ``large`` rendition
  and what a bulletin board shows.
- ``PICTURE_THUMBNAIL`` (``fill-480x270|format-jpeg``): a 16:9 crop around the focal point.
  The lead picture's ``media:thumbnail`` and ninjs' ``thumbnail``.

``image_renditions`` finds the renditions of many images in one query and makes the
missing ones (Wagtail's ``create_rendition``: get-or-create, safe under races), so a reader
never sees a picture whose file does not exist. ``image_renditions_make`` (and the task of
the same name) makes them ahead, when an item is published.
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
from collections.abc import Iterable
from dataclasses import dataclass

from wagtail.images import get_image_model
from wagtail.images.models import Filter

logger = logging.getLogger(__name__)

PICTURE_LARGE = "max-1920x1080|format-jpeg"
PICTURE_THUMBNAIL = "fill-480x270|format-jpeg"
PICTURE_SPECS = (PICTURE_LARGE, PICTURE_THUMBNAIL)


@dataclass(frozen=True)
class ImageRendition:
    """One rendition file of a library image."""

    id: int  # the Wagtail rendition row
    spec: str
    url: str  # the storage URL (relative unless MEDIA_URL is absolute)
    width: int
    height: int
    mime_type: str
    rendition: object  # the Wagtail rendition (its ``file``)


def _mime_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "image/jpeg"


def image_renditions(
    images: Iterable, specs: Iterable[str] = PICTURE_SPECS
) -> dict[int, dict[str, ImageRendition]]:
    """``{image pk: {spec: ImageRendition}}`` for ``images``; the existing renditions in one
    query, the missing ones made now. An image whose file is gone (or cannot be decoded)
    is left out, and logged."""
    specs = tuple(dict.fromkeys(specs))
    images = {image.pk: image for image in images if image is not None}
    if not images or not specs:
        return {}
    Rendition = get_image_model().get_rendition_model()
    filters = {spec: Filter(spec=spec) for spec in specs}
    existing: dict[int, list] = {pk: [] for pk in images}
    for rendition in Rendition.objects.filter(image_id__in=list(images), filter_spec__in=specs):
        existing[rendition.image_id].append(rendition)
    found: dict[int, dict[str, ImageRendition]] = {}
    for pk, image in images.items():
        made = {}
        try:
            for spec, image_filter in filters.items():
                key = image_filter.get_cache_key(image)  # the focal point's
                made[spec] = next(
                    (r for r in existing[pk] if r.filter_spec == spec and r.focal_point_key == key),
                    None,
                ) or image.create_rendition(image_filter)  # get-or-create: safe under races
        except Exception:  # a missing or undecodable original must not break a channel
            logger.warning("image %s: renditions %s could not be made", pk, specs, exc_info=True)
            continue
        found[pk] = {
            spec: ImageRendition(
                id=r.pk,
                spec=spec,
                url=r.url,
                width=r.width,
                height=r.height,
                mime_type=_mime_type(r.file.name),
                rendition=r,
            )
            for spec, r in made.items()
        }
    return found


def image_renditions_make(*, image_ids: Iterable[int], specs: Iterable[str] = PICTURE_SPECS) -> int:
    """Make the missing renditions of the images (idempotent); returns how many images have
    them all now."""
    images = get_image_model().objects.filter(pk__in=list(image_ids))
    return len(image_renditions(images, specs))


def rendition_file_digest(rendition: ImageRendition) -> tuple[int, str]:
    """``(size in bytes, hex SHA-256)`` of the rendition's file (read once)."""
    digest = hashlib.sha256()
    size = 0
    with rendition.rendition.file.open("rb") as fh:  # type: ignore[attr-defined]
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()
