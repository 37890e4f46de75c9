"""Feed building with feedgen. Text is cleaned of characters XML 1.0 cannot carry."""

import html
import re
from urllib.parse import urljoin

from django.conf import settings
from django.utils.html import strip_tags
from feedgen.feed import FeedGenerator

# XML 1.0 forbids most C0 controls; a stray one from a pasted document must not break a feed.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    return _XML_INVALID.sub("", text or "")


def feed_build_rss(*, items, site_url: str, feed_url: str, item_url) -> bytes:
    """RSS 2.0 for ``items`` (newest first); audio items carry their MP3 as an enclosure.

    ``item_url(item)`` gives an item's portal URL, ``enclosure(item)`` is derived from the
    loudspeaker rendition already prefetched on the item.
    """
    fg = FeedGenerator()
    fg.title(xml_safe(settings.WAGTAIL_SITE_NAME))
    fg.link(href=site_url, rel="alternate")
    fg.link(href=feed_url, rel="self")
    fg.description(xml_safe("Tin đã duyệt từ hệ thống thông tin nguồn"))
    fg.language("vi")
    for item in reversed(list(items)):
        entry = fg.add_entry()
        url = item_url(item)
        entry.id(f"urn:uuid:{item.uuid}")
        entry.guid(f"urn:uuid:{item.uuid}", permalink=False)
        entry.title(xml_safe(item.headline))
        entry.link(href=url)
        # The body is stored HTML: its text, with entities decoded, not "&amp;" twice escaped.
        description = item.summary or html.unescape(strip_tags(item.body)).strip()[:500]
        entry.description(xml_safe(description) or xml_safe(item.headline))
        entry.pubDate(item.first_published_at)
        if item.category_id:
            entry.category(term=xml_safe(item.category.name))
        if item.byline:
            entry.author({"name": xml_safe(item.byline), "email": "noreply@example.invalid"})
        audio = item.audio.rendition("loudspeaker") if item.audio_id else None
        if audio is not None:
            # urljoin keeps an absolute MEDIA_URL (a CDN) as it is.
            entry.enclosure(urljoin(site_url, audio.file.url), str(audio.size), audio.mime_type)
    return fg.rss_str(pretty=False)
