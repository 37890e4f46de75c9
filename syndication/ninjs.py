"""IPTC ninjs 2.2 documents for the item API and ninjs pushes.

``item_to_ninjs(item, base_url=...)`` reads only the item and its prefetched relations
(unit, category, image, audio/video renditions): no query per item when the caller used
``selectors.item_list_syndicated()``.
"""

from __future__ import annotations

import mimetypes
from datetime import UTC, datetime
from urllib.parse import urljoin

from media.profiles import (
    BROADCAST_VIDEO,
    LOUDSPEAKER,
    POSTER,
    WEB_AUDIO,
    WEB_VIDEO_480,
    WEB_VIDEO_720,
)

from .feeds import plain_text

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


def _image_association(image, base_url: str) -> dict | None:
    if image is None or not image.file:
        return None
    contenttype = mimetypes.guess_type(image.file.name)[0] or "image/jpeg"
    rendition = {
        "name": "original",
        "href": urljoin(base_url, image.file.url),
        "contenttype": contenttype,
        "width": image.width,
        "height": image.height,
    }
    if image.file_size:
        rendition["sizeinbytes"] = image.file_size
    association = {
        "name": "mainpic",
        "uri": f"urn:nguon:image:{image.pk}",
        "type": "picture",
        "headlines": [{"value": image.title or ""}],
        "renditions": [rendition],
    }
    description = getattr(image, "description", "") or image.title
    if description:
        association["descriptions"] = [{"role": "alt", "value": description}]
    return association


def item_to_ninjs(item, *, base_url: str, portal_url: str | None = None) -> dict:
    """The ninjs 2.2 document of ``item``'s current version.

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
        bodies.append({"role": "main", "contenttype": "text/html", "value": item.body})
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
    picture = _image_association(item.image if item.image_id else None, base_url)
    if picture:
        doc["associations"] = [picture]
    if portal_url:
        doc["altids"] = [{"role": "portal", "value": portal_url}]
    return doc
