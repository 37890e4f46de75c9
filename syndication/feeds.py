"""Feed building with feedgen: RSS 2.0, Atom 1.0 and podcast RSS (iTunes tags).

An item's pictures travel as Media RSS elements (``xmlns:media``) in every feed: one
``media:content`` per picture (lead first) with its alt text, caption and credit, and the
lead picture's thumbnail as ``media:thumbnail``. Pictures are never enclosures: an RSS item
has one enclosure (the audio), and podcast clients download enclosures.

Every text that reaches a feed goes through :func:`xml_safe`, so characters XML 1.0 cannot
carry (pasted control characters, lone surrogates) never break a document; lxml escapes
markup, ``]]>`` and scripts as text.
"""

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin

from django.conf import settings
from django.utils.html import strip_tags
from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem
from wagtail.rich_text import expand_db_html

from core.identity import identity_get
from media.image_renditions import PICTURE_LARGE, PICTURE_THUMBNAIL
from media.profiles import LOUDSPEAKER, WEB_AUDIO
from newsroom.picture_renditions import RenderedPicture, items_pictures_rendered

# XML 1.0 forbids most C0 controls; a stray one from a pasted document must not break a feed.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_FEED_DESCRIPTION = "Tin đã duyệt từ hệ thống thông tin nguồn"
_NOREPLY = "noreply@example.invalid"


def xml_safe(text: str) -> str:
    return _XML_INVALID.sub("", text or "")


_BLOCK_END = re.compile(r"</(?:p|div|h[1-6]|li|blockquote|figcaption|tr)\s*>|<br\s*/?>", re.I)
_SPACES = re.compile(r"[ \t\r\n]+")  # not \s: a non-breaking space is kept


def plain_text(html_text: str) -> str:
    """Stored HTML as text, entities decoded (not "&amp;" escaped twice); paragraphs and
    line breaks become a space ("Huyền Lý (VOV5) - …", not "Huyền Lý(VOV5) -")."""
    text = strip_tags(_BLOCK_END.sub(" ", html_text or ""))
    return _SPACES.sub(" ", html.unescape(text)).strip()


def absolute_body_html(html_text: str, absolute: Callable[[str], str]) -> str:
    """Stored rich text as HTML for other systems (feeds, ninjs): Wagtail's internal links
    and embedded images expanded (an embedded image is Wagtail's plain ``<img>``), and
    root-relative ``href``/``src`` made absolute by ``absolute``."""
    body = expand_db_html(html_text or "")
    return re.sub(
        r'(\s(?:href|src)=")(/[^"]*)"', lambda m: f'{m.group(1)}{absolute(m.group(2))}"', body
    )


def item_full_text(item, ctx: "FeedContext") -> str:
    """The item's body as HTML for feed readers (RSS ``content:encoded``, Atom ``content``)."""
    return xml_safe(absolute_body_html(item.body, ctx.absolute))


def item_description(item) -> str:
    return xml_safe(item.summary or plain_text(item.body)[:500]) or xml_safe(item.headline)


def item_podcast_rendition(item):
    """The audio a podcast listener downloads: the web rendition (AAC) when ready, else the
    loudspeaker MP3 (``item.audio_rendition``); None while both are being prepared."""
    if not item.audio_id:
        return None
    return item.audio.rendition(WEB_AUDIO) or item.audio.rendition(LOUDSPEAKER)


MEDIA_NS = "http://search.yahoo.com/mrss/"


class _MediaRss(BaseExtension):
    """Declares the Media RSS namespace on the feed's root element."""

    def extend_ns(self):
        return {"media": MEDIA_NS}


class _MediaRssEntry(BaseEntryExtension):
    """An entry's pictures as Media RSS elements (``entry.media.pictures(list, ctx)``)."""

    def __init__(self):
        self._pictures: list[RenderedPicture] = []
        self._ctx: FeedContext | None = None

    def pictures(self, pictures: list[RenderedPicture], ctx: "FeedContext") -> None:
        self._pictures, self._ctx = list(pictures), ctx

    def extend_rss(self, item):
        ctx = self._ctx
        for rendered in self._pictures:
            picture, large = rendered.picture, rendered.renditions.get(PICTURE_LARGE)
            if large is None or ctx is None:
                continue
            content = xml_elem(f"{{{MEDIA_NS}}}content", item)
            content.set("url", ctx.absolute(large.url))
            content.set("type", large.mime_type)
            content.set("medium", "image")
            content.set("width", str(large.width))
            content.set("height", str(large.height))
            if picture.lead:
                content.set("isDefault", "true")
            # The alt text says what the picture shows; the caption is the newsroom's text.
            title = xml_elem(f"{{{MEDIA_NS}}}title", content)
            title.set("type", "plain")
            title.text = xml_safe(picture.alt)
            description = xml_elem(f"{{{MEDIA_NS}}}description", content)
            description.set("type", "plain")
            description.text = xml_safe(picture.caption or picture.alt)
            if picture.credit:
                credit = xml_elem(f"{{{MEDIA_NS}}}credit", content)
                credit.set("role", "photographer")
                credit.text = xml_safe(picture.credit)
        for rendered in self._pictures[:1]:
            thumb = rendered.renditions.get(PICTURE_THUMBNAIL)
            if not rendered.picture.lead or thumb is None or ctx is None:
                continue
            element = xml_elem(f"{{{MEDIA_NS}}}thumbnail", item)
            element.set("url", ctx.absolute(thumb.url))
            element.set("width", str(thumb.width))
            element.set("height", str(thumb.height))
        return item

    def extend_atom(self, entry):
        return self.extend_rss(entry)


@dataclass(frozen=True)
class FeedContext:
    """What a feed needs beyond the items: absolute URLs and a title suffix for filters."""

    site_url: str
    feed_url: str
    item_url: object  # callable(item) -> absolute URL
    title_suffix: str = ""

    def absolute(self, url: str) -> str:
        # urljoin keeps an absolute MEDIA_URL (a CDN) as it is.
        return urljoin(self.site_url, url)


def _generator(ctx: FeedContext) -> FeedGenerator:
    """The channel: title, links and the publisher's identity (``core.identity``): the
    governing agency as author, the person responsible and e-mail as managing editor, the
    licence as rights, the emblem as logo and icon."""
    fg = FeedGenerator()
    fg.register_extension("media", _MediaRss, _MediaRssEntry)
    identity = identity_get(default_name=settings.WAGTAIL_SITE_NAME)
    title = identity.portal_name or settings.WAGTAIL_SITE_NAME
    if ctx.title_suffix:
        title = f"{title} — {ctx.title_suffix}"
    fg.id(ctx.feed_url)
    fg.title(xml_safe(title))
    fg.link(href=ctx.site_url, rel="alternate")
    fg.link(href=ctx.feed_url, rel="self")
    fg.description(_FEED_DESCRIPTION)
    fg.subtitle(_FEED_DESCRIPTION)
    fg.language("vi")
    if identity.licence:
        fg.rights(xml_safe(identity.licence))
    if identity.email:
        name = identity.person_responsible or identity.publisher_name
        fg.managingEditor(f"{identity.email} ({xml_safe(name)})")
        fg.webMaster(f"{identity.email} ({xml_safe(identity.publisher_name)})")
    if identity.emblem:
        fg.image(
            url=ctx.absolute(identity.emblem["touch"]["url"]),
            title=xml_safe(title),
            link=ctx.site_url,
            width="144",
            height="144",
        )
        fg.logo(ctx.absolute(identity.emblem["og"]["url"]))
        fg.icon(ctx.absolute(identity.emblem["favicon"]["url"]))
    return fg


class _Entry(FeedEntry):
    """feedgen 1.0 writes an Atom entry's links without their ``rel``, ``type`` and
    ``length`` (a shadowed variable): readers then open the MP3 instead of the page. The
    attributes are put back here, link by link, in the order they were added."""

    def atom_entry(self, extensions=True):
        entry = super().atom_entry(extensions=extensions)
        elements = entry.findall("link")
        for element, link in zip(elements, self.link() or [], strict=False):
            for name in ("rel", "type", "hreflang", "title", "length"):
                if link.get(name):
                    element.attrib[name] = str(link[name])
        return entry


def _add_entry(fg: FeedGenerator, item, ctx: FeedContext, *, enclosure=None, pictures=()):
    entry = fg.add_entry(_Entry(), order="append")
    entry.id(f"urn:uuid:{item.uuid}")
    entry.guid(f"urn:uuid:{item.uuid}", permalink=False)
    entry.title(xml_safe(item.headline))
    entry.link(href=ctx.item_url(item), rel="alternate", type="text/html")
    entry.description(item_description(item))
    published = item.first_published_at or item.last_published_at
    entry.pubDate(published)
    entry.published(published)
    entry.updated(item.last_published_at or published)
    if item.category_id:
        entry.category(term=xml_safe(item.category.name))
    if item.byline:
        entry.author({"name": xml_safe(item.byline), "email": _NOREPLY})
    if enclosure is not None:
        entry.enclosure(ctx.absolute(enclosure.file.url), str(enclosure.size), enclosure.mime_type)
    if pictures:
        entry.media.pictures(pictures, ctx)
    return entry


def feed_build_rss(*, items, ctx: FeedContext) -> bytes:
    """RSS 2.0 for ``items`` (newest first); audio bulletins carry their loudspeaker MP3 as
    an enclosure (the most widely played format in feed readers)."""
    fg = _generator(ctx)
    pictures = items_pictures_rendered(items)
    for item in items:
        entry = _add_entry(
            fg, item, ctx, enclosure=item.audio_rendition, pictures=pictures[item.pk]
        )
        if item.body:
            entry.content(item_full_text(item, ctx), type="CDATA")
    return fg.rss_str(pretty=False)


def feed_build_atom(*, items, ctx: FeedContext) -> bytes:
    """Atom 1.0: the same entries; the audio is an ``enclosure`` link."""
    fg = _generator(ctx)
    identity = identity_get(default_name=settings.WAGTAIL_SITE_NAME)
    author = {"name": xml_safe(identity.publisher_name)}
    if identity.email:
        author["email"] = identity.email
    fg.author(author)
    newest = None
    pictures = items_pictures_rendered(items)
    for item in items:
        entry = _add_entry(fg, item, ctx, pictures=pictures[item.pk])
        enclosure = item.audio_rendition
        if enclosure is not None:
            # The page is the entry's alternate; the MP3 is an enclosure (readers open the page).
            entry.link(
                href=ctx.absolute(enclosure.file.url),
                rel="enclosure",
                type=enclosure.mime_type,
                length=str(enclosure.size),
            )
        if item.body:
            entry.content(item_full_text(item, ctx), type="html")
        when = item.last_published_at or item.first_published_at
        newest = when if newest is None or (when and when > newest) else newest
        if item.summary:
            entry.summary(xml_safe(item.summary))
    if newest is not None:
        fg.updated(newest)
    return fg.atom_str(pretty=False)


def feed_build_podcast(*, items, ctx: FeedContext, image_url: str = "") -> bytes:
    """Podcast RSS: audio bulletins with a ready rendition, iTunes tags, enclosures with
    their length and type. Items whose audio is still being prepared are left out."""
    fg = _generator(ctx)
    fg.load_extension("podcast")
    fg.podcast.itunes_author(xml_safe(settings.WAGTAIL_SITE_NAME))
    fg.podcast.itunes_summary(_FEED_DESCRIPTION)
    fg.podcast.itunes_explicit("no")
    fg.podcast.itunes_category("News")
    fg.podcast.itunes_owner(name=xml_safe(settings.WAGTAIL_SITE_NAME), email=_NOREPLY)
    if image_url:
        fg.podcast.itunes_image(image_url)
    items = [item for item in items if item_podcast_rendition(item) is not None]
    pictures = items_pictures_rendered(items)
    for item in items:
        audio = item_podcast_rendition(item)
        entry = _add_entry(fg, item, ctx, enclosure=audio, pictures=pictures[item.pk])
        entry.podcast.itunes_summary(item_description(item))
        if item.byline:
            entry.podcast.itunes_author(xml_safe(item.byline))
        duration = audio.duration or (item.audio.duration if item.audio_id else None)
        if duration:
            entry.podcast.itunes_duration(int(round(duration)))
        entry.podcast.itunes_explicit("no")
    return fg.rss_str(pretty=False)


def feed_build_rss_item(*, item, ctx: FeedContext, canceled: bool = False) -> bytes:
    """An RSS 2.0 document holding one item: the body of an "RSS item" push. A withdrawal
    keeps the guid and says so in the title, category and description."""
    fg = _generator(ctx)
    pictures = [] if canceled else items_pictures_rendered([item])[item.pk]
    entry = _add_entry(
        fg,
        item,
        ctx,
        enclosure=None if canceled else item.audio_rendition,
        pictures=pictures,
    )
    if canceled:
        entry.title(xml_safe(f"[Đã gỡ] {item.headline}"))
        entry.description("Tin này đã bị gỡ; đề nghị không sử dụng.")
        entry.category(term="canceled")
    return fg.rss_str(pretty=False)
