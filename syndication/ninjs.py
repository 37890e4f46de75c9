"""IPTC ninjs 2.2 documents for the item API and ninjs pushes.

``item_to_ninjs(item, base_url=...)`` reads only the item and its prefetched relations
(unit, category, image, audio/video renditions): no query per item when the caller used
``selectors.item_list_syndicated()`` and passes the pictures it read for the whole page
(``newsroom.picture_renditions.items_pictures_rendered``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urljoin

from media.image_renditions import PICTURE_LARGE, PICTURE_THUMBNAIL
from media.profiles import (
    BROADCAST_VIDEO,
    LOUDSPEAKER,
    POSTER,
    WEB_AUDIO,
    WEB_VIDEO_480,
    WEB_VIDEO_720,
)
from newsroom.picture_renditions import RenderedPicture, item_pictures_rendered

from .feeds import absolute_body_html, plain_text

NINJS_SCHEMA_URI = "http://www.iptc.org/std/ninjs/ninjs-schema_2.2.json#"
TYPES = {"article": "text", "audio": "audio", "video": "video"}
AUDIO_PROFILES = (WEB_AUDIO, LOUDSPEAKER)
VIDEO_PROFILES = (WEB_VIDEO_720, WEB_VIDEO_480, BROADCAST_VIDEO, POSTER)


def item_uri(item) -> str:
    return f"urn:uuid:{item.uuid}"


def ninjs_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def item_version_created(item) -> datetime | None:
    if item.pubstatus == "canceled":
        return item.withdrawn_at
    return item.version_created_at or item.last_published_at or item.first_published_at


def _renditions(asset, profiles, base_url: str) -> list[dict]:
    out = []
    if asset is None:
        return out
    for profile in profiles:
        rendition = asset.rendition(profile)
        if rendition is None or not rendition.file:
            continue
        entry = {
            "name": profile,
            "href": urljoin(base_url, rendition.file.url),
            "contenttype": rendition.mime_type or "application/octet-stream",
            "sizeinbytes": rendition.size,
        }
        if rendition.duration:
            entry["duration"] = round(rendition.duration, 3)
        out.append(entry)
    return out


# The ninjs names of the picture renditions (``media.image_renditions``).
PICTURE_RENDITIONS = (("large", PICTURE_LARGE), ("thumbnail", PICTURE_THUMBNAIL))
LEAD_PICTURE_NAME = "mainpic"  # IPTC's own name for the main picture (ninjs examples)


def _picture_association(rendered: RenderedPicture, *, name: str, base_url: str) -> dict:
    """A picture as a ninjs 2.2 association: its JPEG renditions, the alt text and the
    caption as descriptions (roles ``alt`` and ``caption``), the credit as ``by``."""
    picture = rendered.picture
    image = picture.image
    association: dict = {
        "name": name,
        "uri": f"urn:nguon:image:{image.pk}",  # type: ignore[attr-defined]
        "type": "picture",
        "representationtype": "full",
        "language": "vi",
    }
    title = (getattr(image, "title", "") or "").strip()
    if title:
        association["title"] = title
    descriptions = [{"role": "alt", "contenttype": "text/plain", "value": picture.alt}]
    if picture.caption:
        descriptions.append(
            {"role": "caption", "contenttype": "text/plain", "value": picture.caption}
        )
    association["descriptions"] = descriptions
    if picture.credit:
        association["by"] = picture.credit
    association["renditions"] = [
        {
            "name": label,
            "href": urljoin(base_url, rendition.url),
            "contenttype": rendition.mime_type,
            "width": rendition.width,
            "height": rendition.height,
        }
        for label, spec in PICTURE_RENDITIONS
        if (rendition := rendered.renditions.get(spec)) is not None
    ]
    return association


def picture_associations(pictures: list[RenderedPicture], *, base_url: str) -> list[dict]:
    """The item's pictures in reading order: the lead picture named ``mainpic``, the
    gallery ``gallery-1``, ``gallery-2``, …"""
    out = []
    n = 0
    for rendered in pictures:
        if rendered.picture.lead:
            name = LEAD_PICTURE_NAME
        else:
            n += 1
            name = f"gallery-{n}"
        out.append(_picture_association(rendered, name=name, base_url=base_url))
    return out


def item_to_ninjs(
    item,
    *,
    base_url: str,
    portal_url: str | None = None,
    pictures: list[RenderedPicture] | None = None,
) -> dict:
    """The ninjs 2.2 document of ``item``'s current version.

    ``pictures`` are the item's pictures with their files (``items_pictures_rendered``,
    read for many items at once by a listing); without them they are read here.
    A withdrawn item is a short document with ``pubstatus: canceled`` (its text and media
    are no longer offered); ``versioncreated`` is then the time of the withdrawal.
    """
    pubstatus = item.pubstatus
    doc: dict = {
        "uri": item_uri(item),
        "standard": {"name": "ninjs", "version": "2.2", "schema": NINJS_SCHEMA_URI},
        "type": TYPES.get(item.kind, "text"),
        "representationtype": "full",
        "version": str(max(item.version, 1)),
        "pubstatus": pubstatus,
        "language": "vi",
        "headlines": [{"role": "main", "value": item.headline}],
    }
    first = ninjs_datetime(item.first_published_at)
    if first:
        doc["firstcreated"] = first
    created = ninjs_datetime(item_version_created(item))
    if created:
        doc["versioncreated"] = created
    if pubstatus == "canceled":
        return doc

    unit = item.unit
    doc["places"] = [
        {
            "name": unit.name,
            "rel": "origin",
            "literal": unit.code,
            "uri": f"urn:nguon:unit:{unit.code}",
        }
    ]
    doc["located"] = unit.name
    if item.category_id:
        doc["subjects"] = [
            {
                "name": item.category.name,
                "literal": item.category.slug,
                "uri": f"urn:nguon:category:{item.category.slug}",
                "rel": "about",
            }
        ]
    if item.byline:
        doc["by"] = item.byline
    if item.summary:
        doc["descriptions"] = [
            {"role": "summary", "contenttype": "text/plain", "value": item.summary}
        ]
    bodies = []
    if item.body:
        text = plain_text(item.body)
        # Wagtail's stored form (``<embed embedtype="image">``, ``<a linktype="page">``)
        # expanded to plain HTML with absolute URLs, as in the feeds.
        html_body = absolute_body_html(item.body, lambda url: urljoin(base_url, url))
        bodies.append({"role": "main", "contenttype": "text/html", "value": html_body})
        bodies.append(
            {
                "role": "main",
                "contenttype": "text/plain",
                "value": text,
                "charcount": len(text),
                "wordcount": len(text.split()),
            }
        )
    if item.transcript:
        bodies.append({"role": "transcript", "contenttype": "text/plain", "value": item.transcript})
    if bodies:
        doc["bodies"] = bodies
    renditions = []
    if item.audio_id:
        renditions += _renditions(item.audio, AUDIO_PROFILES, base_url)
    if item.video_id:
        renditions += _renditions(item.video, VIDEO_PROFILES, base_url)
    if renditions:
        doc["renditions"] = renditions
    if pictures is None:
        pictures = item_pictures_rendered(item)
    if pictures:
        doc["associations"] = picture_associations(pictures, base_url=base_url)
    if portal_url:
        doc["altids"] = [{"role": "portal", "value": portal_url}]
    return doc
