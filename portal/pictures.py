"""Responsive pictures for the portal: which renditions each use needs, and what a
template's ``<picture>`` is made of.

Every portal picture is a ``<picture>``: a WebP ``<source srcset>`` and a fallback
``<img srcset width height alt>`` in the original's family (PNG and GIF originals fall back
to PNG, which keeps transparency and sharp edges; everything else to JPEG). The widths:

- cards and the home page's lead story: 16:9 crops around the focal point at 320, 640, 960
  and 1280 px. A phone's thumbnail (about 115 CSS px, 192 on wider screens) takes the 320 or
  640 at 2x; a featured card (up to about 34 rem) the 640–1280; the lead story the 960 or
  1280. One ladder for every card keeps it to 8 files per picture.
- the item page (lead figure and gallery): the whole picture at 640, 960 and 1280 px wide. A
  390 px phone at 2–3x needs 720–1100 device pixels, a desktop's figure (at most 60 rem)
  960 at 1x.
  Nothing is upscaled (a smaller original gives smaller renditions; ``srcset`` names their
  real widths).
- sharing: one 1200×630 crop (Open Graph, schema.org) in the fallback format (not every
  social network reads WebP).

Each step is at most twice the previous one, so a browser never downloads more than about
twice the pixels it shows, and a lead picture makes at most 15 files. They are made ahead of
time when an item is published (``portal.tasks.item_pictures_render``); the page makes any
still missing the first time it is shown, so a page never waits for the worker.

Views read renditions the selectors prefetched (``rendition_specs``), so listing a picture
costs no query once its renditions exist.

Pictures a reporter inserts in the body (Wagtail's rich-text ``image`` embed) are shown the
same way on the item page: ``body_html`` renders the body with the portal's own embed rule
for images (a ``<figure>`` holding the figure ladder's ``<picture>``, floated left or right
on wider screens as the editor chose, full width on a phone). Only the portal does this:
Wagtail's global image format is left alone, so the feeds' ``content:encoded`` keeps a plain
``<img>`` that the feed makes absolute. Alt text: what the editor typed in the image's
format dialog, else the picture's library description; a picture with neither is left out,
like every other undescribed picture on the portal.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.template.loader import render_to_string
from wagtail.images.models import Filter
from wagtail.rich_text import features
from wagtail.rich_text.rewriters import EmbedRewriter, LinkRewriter, MultiRuleRewriter

logger = logging.getLogger(__name__)

CARD_SIZES = ("fill-320x180", "fill-640x360", "fill-960x540", "fill-1280x720")
FIGURE_SIZES = ("width-640", "width-960", "width-1280")
SHARE_SIZE = "fill-1200x630"

# The default ``src`` (for browsers without srcset): the second step of each ladder.
_DEFAULT_STEP = 1

_FORMATS = ("webp", "jpeg", "png")
_FILTERS: dict[str, Filter] = {}


def _spec(resize: str, fmt: str) -> str:
    return f"{resize}|format-{fmt}"


def _filter(spec: str) -> Filter:
    return _FILTERS.setdefault(spec, Filter(spec=spec))


def fallback_format(image) -> str:
    """The ``<img>`` format for ``image``: PNG for PNG and GIF originals, JPEG otherwise."""
    extension = os.path.splitext(getattr(image.file, "name", "") or "")[1].lower()
    return "png" if extension in (".png", ".gif") else "jpeg"


def rendition_specs(*, cards: bool = False, figures: bool = False, share: bool = False):
    """Every filter spec a use may need (both fallback formats): what selectors prefetch."""
    resizes: list[str] = []
    if cards:
        resizes += CARD_SIZES
    if figures:
        resizes += FIGURE_SIZES
    if share:
        resizes.append(SHARE_SIZE)
    return tuple(_spec(r, f) for r in resizes for f in _FORMATS)


def image_specs(image, *, lead: bool) -> list[str]:
    """The specs made for one picture of a published item (``lead``: also cards and
    sharing), in the formats this image uses."""
    fallback = fallback_format(image)
    resizes = [*CARD_SIZES, *FIGURE_SIZES] if lead else list(FIGURE_SIZES)
    specs = [_spec(r, f) for r in resizes for f in ("webp", fallback)]
    if lead:
        specs.append(_spec(SHARE_SIZE, fallback))  # shared in the fallback format only
    return specs


@dataclass(frozen=True)
class Responsive:
    """What a template needs for one ``<picture>``."""

    alt: str
    src: str
    width: int
    height: int
    srcset: str
    webp_srcset: str
    fallback_type: str
    caption: str = ""
    credit: str = ""


def _srcset(renditions: Iterable) -> str:
    seen: set[int] = set()
    parts = []
    for rendition in renditions:
        if rendition.width in seen:  # an original narrower than the ladder's top
            continue
        seen.add(rendition.width)
        parts.append(f"{rendition.url} {rendition.width}w")
    return ", ".join(parts)


def responsive(
    image, alt: str, resizes: tuple[str, ...], *, caption: str = "", credit: str = ""
) -> Responsive | None:
    """The ``<picture>`` of ``image`` at the ladder ``resizes``; None when its file is gone.

    Renditions come from the prefetched ones (no query) and are made here when missing
    (one query to look for clashes, one insert).
    """
    fallback = fallback_format(image)
    webp = [_filter(_spec(r, "webp")) for r in resizes]
    plain = [_filter(_spec(r, fallback)) for r in resizes]
    try:
        renditions = image.get_renditions(*webp, *plain)
    except OSError:  # includes SourceImageIOError (the file is gone)
        logger.warning("portal: image %s file is missing", image.pk)
        return None
    default = renditions[plain[min(_DEFAULT_STEP, len(plain) - 1)].spec]
    return Responsive(
        alt=alt,
        src=default.url,
        width=default.width,
        height=default.height,
        srcset=_srcset(renditions[f.spec] for f in plain),
        webp_srcset=_srcset(renditions[f.spec] for f in webp),
        fallback_type=f"image/{fallback}",
        caption=caption,
        credit=credit,
    )


def share_image(image, alt: str) -> dict | None:
    """The 1200×630 sharing crop: ``{url, width, height, alt}`` (relative URL)."""
    spec = _filter(_spec(SHARE_SIZE, fallback_format(image)))
    try:
        rendition = image.get_renditions(spec)[spec.spec]
    except OSError:
        logger.warning("portal: image %s file is missing", image.pk)
        return None
    return {"url": rendition.url, "width": rendition.width, "height": rendition.height, "alt": alt}


def largest(image) -> dict | None:
    """The largest figure rendition in the fallback format (schema.org's ImageObject)."""
    spec = _filter(_spec(FIGURE_SIZES[-1], fallback_format(image)))
    try:
        rendition = image.get_renditions(spec)[spec.spec]
    except OSError:
        return None
    return {"url": rendition.url, "width": rendition.width, "height": rendition.height}


# Body pictures: Wagtail's format name → the figure's alignment, and each alignment's
# ``sizes`` (a float takes under half of the text column from 40rem up; a phone gets the
# full width, like every other figure).
BODY_ALIGN = {"left": "left", "right": "right"}  # anything else ("fullwidth"): full
BODY_SIZES = {
    "full": "(min-width: 62rem) 60rem, calc(100vw - 2rem)",
    "left": "(min-width: 62rem) 27rem, (min-width: 40rem) 45vw, calc(100vw - 2rem)",
    "right": "(min-width: 62rem) 27rem, (min-width: 40rem) 45vw, calc(100vw - 2rem)",
}


def body_image_ids(html: str) -> list[int]:
    """The ids of the library images embedded in rich text ``html``, in order, once each."""
    from newsroom.pictures import body_image_embeds

    return list(dict.fromkeys(pk for pk, _attrs in body_image_embeds(html)))


def body_figure(attrs: dict, images: Mapping[int, object]) -> str:
    """One ``<embed embedtype="image">`` of the body as the portal's ``<figure>``; "" for
    an image that is gone, undescribed, or whose file is missing."""
    try:
        image = images.get(int(attrs.get("id", "")))
    except ValueError:
        image = None
    if image is None:
        return ""
    from newsroom.pictures import embed_alt

    alt = embed_alt(attrs, image)
    if not alt:
        return ""
    pic = responsive(image, alt, FIGURE_SIZES)
    if pic is None:
        return ""
    align = BODY_ALIGN.get(attrs.get("format", ""), "full")
    return render_to_string(
        "portal/_body_figure.html", {"pic": pic, "align": align, "sizes": BODY_SIZES[align]}
    )


def body_html(html: str, images: Mapping[int, object]) -> str:
    """The item's rich-text body for the item page: Wagtail's own rules for links and other
    embeds, the portal's ``body_figure`` for images. ``images`` (pk → image, renditions
    prefetched: ``selectors.portal_body_images``) holds every image the body embeds, so
    rendering costs no query once the renditions exist."""
    embed_rules = {
        kind: handler.expand_db_attributes_many
        for kind, handler in features.get_embed_types().items()
    }
    embed_rules["image"] = lambda attrs_list: [body_figure(a, images) for a in attrs_list]
    link_rules = {
        kind: handler.expand_db_attributes_many
        for kind, handler in features.get_link_types().items()
    }
    rewriter = MultiRuleRewriter(
        [LinkRewriter(bulk_rules=link_rules), EmbedRewriter(bulk_rules=embed_rules)]
    )
    return rewriter(html or "")


def item_pictures_render(*, item_id: int) -> int:
    """Make every rendition the portal shows of a published item's pictures, ahead of the
    first reader (``portal.tasks.render_item_pictures``, queued on ``item_published``).

    Returns how many renditions the item's pictures have in the portal's specs. Safe to
    replay: existing renditions are found, not made again; an item that is gone or not live
    any more, or a picture whose file is missing, is skipped.
    """
    from wagtail.images import get_image_model

    from newsroom.models import NewsItem
    from newsroom.pictures import item_pictures

    item = NewsItem.objects.filter(pk=item_id, live=True).select_related("image").first()
    if item is None:
        return 0
    count = 0
    pictures = item_pictures(item)
    shown = {picture.image.pk for picture in pictures}
    for index, picture in enumerate(pictures):
        # The first picture is shared (Open Graph) even when the item has no lead picture.
        specs = image_specs(picture.image, lead=picture.lead)
        if index == 0 and not picture.lead:
            specs += [_spec(SHARE_SIZE, fallback_format(picture.image))]
        try:
            count += len(picture.image.get_renditions(*specs))
        except OSError:
            logger.warning("portal: image %s file is missing", picture.image.pk)
    # Pictures in the body: the item page's figure ladder.
    body_ids = [pk for pk in body_image_ids(item.body) if pk not in shown]
    for image in get_image_model().objects.filter(pk__in=body_ids):
        try:
            count += len(image.get_renditions(*image_specs(image, lead=False)))
        except OSError:
            logger.warning("portal: image %s file is missing", image.pk)
    return count
