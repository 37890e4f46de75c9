"""Portal test helpers: published items, images with and without alt text, media assets
whose renditions are plain rows (listings only), and small HTML readers."""

import io
import re
from datetime import timedelta
from html.parser import HTMLParser

from django.core.files.images import ImageFile
from django.utils import timezone
from PIL import Image as PILImage

from media.models import MediaAsset, Rendition
from newsroom.models import NewsItem
from tests.factories import make_published_item


def png_bytes(size=(640, 480), colour=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def jpeg_bytes(size=(640, 480), colour=(30, 120, 200)) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", size, colour).save(buffer, "JPEG")
    return buffer.getvalue()


def make_image(
    *, description: str = "Người dân xếp hàng chờ tiêm chủng", title="anh.png", size=(640, 480)
):
    """A Wagtail library image; ``description`` is its alt text. A title ending in .jpg or
    .jpeg makes a JPEG file, any other a PNG."""
    from wagtail.images import get_image_model

    data = jpeg_bytes(size) if title.lower().endswith((".jpg", ".jpeg")) else png_bytes(size)
    upload = ImageFile(io.BytesIO(data), name=title)
    return get_image_model().objects.create(title=title, description=description, file=upload)


def rendition_rows(kind: str, profiles: dict[str, str]) -> MediaAsset:
    """An asset with READY rendition rows (``profile -> mime``) for listing tests, where no
    file is read: the rows are what the portal's queries see."""
    asset = MediaAsset.objects.create(
        kind=kind, file=f"assets/test/{kind}.bin", duration=75.0, status="ready"
    )
    for profile, mime in profiles.items():
        Rendition.objects.create(
            asset=asset,
            profile=profile,
            status=Rendition.Status.READY,
            file=f"renditions/test/{asset.pk}-{profile}",
            mime_type=mime,
            duration=75.0,
            width=854 if mime.startswith("video") else None,
            height=480 if mime.startswith("video") else None,
        )
    return asset


def publish(unit, headline, *, minutes_ago=0, **fields) -> NewsItem:
    when = timezone.now() - timedelta(minutes=minutes_ago)
    fields.setdefault("version", 1)
    fields.setdefault("version_created_at", when)
    kind = fields.pop("kind", None) or ("video" if fields.get("video") else None)
    item = make_published_item(unit, headline, published_at=when, **fields)
    if kind and kind != item.kind:
        NewsItem.objects.filter(pk=item.pk).update(kind=kind)
        item.kind = kind
    return item


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags(html: str, name: str | None = None) -> list[dict]:
    """Start tags of ``html`` (``name`` only) as attribute dicts."""
    parser = _Tags()
    parser.feed(html)
    return [dict(attrs, _tag=tag) for tag, attrs in parser.tags if name in (None, tag)]


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
