"""Portal views, served through ``HomePage``'s routes (see ``portal.models``).

Each view reads through ``portal.selectors`` and prepares everything its template shows
(image renditions, media sources, links), so templates never query. Every answer carries
``Cache-Control: public, max-age=NGUON_PORTAL_MAX_AGE`` and a strong ``ETag`` of the body;
item pages also carry ``Last-Modified``. A matching ``If-None-Match`` gets ``304``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, replace
from datetime import datetime

from django.conf import settings
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from core.identity import Identity, identity_get
from newsroom.pictures import Picture, lead_picture

from . import selectors
from .cache import page_cached
from .pictures import (
    CARD_SIZES,
    FIGURE_SIZES,
    Responsive,
    body_html,
    largest,
    responsive,
    share_image,
)

logger = logging.getLogger(__name__)

# Rendition profile names (``media.profiles``); the loudspeaker MP3 is the audio fallback.
WEB_AUDIO = "web_audio"
LOUDSPEAKER = "loudspeaker"
WAVEFORM = "waveform"
WEB_VIDEO_720 = "web_video_720"
WEB_VIDEO_480 = "web_video_480"
POSTER = "poster"

UNIT_PATH = "/don-vi/{code}/"
CATEGORY_PATH = "/chuyen-muc/{slug}/"
PAGE_PARAM = "trang"


def max_age() -> int:
    return int(settings.NGUON_PORTAL_MAX_AGE)


# --- responses ---------------------------------------------------------------------------


def _respond(
    request,
    template: str,
    context: dict,
    *,
    status: int = 200,
    last_modified: datetime | None = None,
):
    """Render, then add cache headers and answer a conditional GET with 304."""
    response = render(request, template, context, status=status)
    patch_cache_control(response, public=True, max_age=max_age())
    etag = f'"{hashlib.sha256(response.content).hexdigest()[:32]}"'
    response["ETag"] = etag
    timestamp = None
    if last_modified is not None:
        timestamp = int(last_modified.timestamp())
        response["Last-Modified"] = http_date(timestamp)
    if status != 200:
        return response
    return get_conditional_response(request, etag=etag, last_modified=timestamp, response=response)


def _base_context(page, request, **extra) -> dict:
    context = page.get_context(request)
    identity = identity_get()
    number = request.GET.get(PAGE_PARAM, "")
    canonical = request.path
    if number.isdigit() and int(number) > 1:
        canonical += f"?{PAGE_PARAM}={int(number)}"
    context.update(
        {
            "identity": identity,
            "site_name": identity.site_name,
            "nav_categories": selectors.portal_category_list(),
            "canonical_url": request.build_absolute_uri(canonical),
        }
    )
    context.update(extra)
    return context


def _not_found(page, request, message: str):
    context = _base_context(page, request, message=message)
    return _respond(request, "portal/not_found.html", context, status=404)


@dataclass
class ListPage:
    """One ``?trang=`` page of a listing, found without counting the whole listing: the
    page's rows plus one tell whether a next page exists (``COUNT(*)`` over 100,000 items
    costs more than the rest of the page)."""

    object_list: list
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1


def _paginate(request, queryset, per_page: int) -> ListPage | None:
    """The requested ``?trang=`` page, or None (a 404) for junk or a page past the end."""
    raw = request.GET.get(PAGE_PARAM, "1")
    if not raw.isdigit() or len(raw) > 6 or int(raw) < 1:
        return None
    number = int(raw)
    start = (number - 1) * per_page
    rows = list(queryset[start : start + per_page + 1])
    if not rows and number > 1:
        return None
    return ListPage(object_list=rows[:per_page], number=number, has_next=len(rows) > per_page)


# --- preparing what templates show ---------------------------------------------------------


def card_picture(item) -> Responsive | None:
    """The item's lead picture as a card or lead-story ``<picture>`` (16:9 crops), or None.

    Alt text is the picture's *description* in the image library. The portal shows no
    picture without one: a picture a screen-reader user cannot have described is left out.
    """
    lead = lead_picture(item)
    if lead is None:
        if item.image_id:
            logger.info("portal: image %s has no alt text (description); not shown", item.image_id)
        return None
    return responsive(lead.image, lead.alt, CARD_SIZES)


def figure_pictures(pictures: list[Picture]) -> tuple[Responsive | None, list[Responsive]]:
    """The item page's figures (the whole picture, with caption and credit): the lead
    figure (or None) and the gallery's, in order."""
    lead, gallery = None, []
    for picture in pictures:
        figure = responsive(
            picture.image,
            picture.alt,
            FIGURE_SIZES,
            caption=picture.caption,
            credit=picture.credit,
        )
        if figure is None:
            continue
        if picture.lead:
            lead = figure
        else:
            gallery.append(figure)
    return lead, gallery


def _ready(asset) -> dict:
    """Ready renditions of ``asset`` by profile (the selector prefetched only ready ones)."""
    if asset is None:
        return {}
    return {r.profile: r for r in asset.renditions.all() if r.file}


def duration_label(seconds: float | None) -> str:
    if not seconds:
        return ""
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def iso_duration(seconds: float | None) -> str:
    if not seconds:
        return ""
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + f"{secs}S"


def _prepare_cards(items) -> list:
    """Attach the card image and media duration to each listed item (no queries)."""
    items = list(items)
    for item in items:
        item.card_image = card_picture(item)
        if item.card_image is None and item.video_id:
            item.card_image = _poster_image(item, _ready(item.video).get(POSTER))
        asset = item.audio if item.audio_id else item.video if item.video_id else None
        item.duration_label = duration_label(asset.duration) if asset is not None else ""
    return items


def _poster_image(item, poster) -> Responsive | None:
    """The video's poster still as a ``<picture>`` of one JPEG (made by the media pipeline,
    not the image library)."""
    if poster is None:
        return None
    return Responsive(
        alt=_("Video still: %(headline)s") % {"headline": item.headline},
        src=poster.url,
        width=poster.width,
        height=poster.height,
        srcset="",
        webp_srcset="",
        fallback_type=poster.mime_type or "image/jpeg",
    )


def _media_context(item) -> dict:
    """Sources for the item's audio or video player, best first."""
    audio = _ready(item.audio) if item.audio_id else {}
    video = _ready(item.video) if item.video_id else {}
    audio_sources = [r for r in (audio.get(WEB_AUDIO), audio.get(LOUDSPEAKER)) if r]
    video_sources = [r for r in (video.get(WEB_VIDEO_720), video.get(WEB_VIDEO_480)) if r]
    return {
        "audio_sources": audio_sources,
        "waveform": audio.get(WAVEFORM),
        "video_sources": video_sources,
        "poster": video.get(POSTER),
        "media_duration": duration_label(
            (item.audio.duration if item.audio_id else None)
            or (item.video.duration if item.video_id else None)
        ),
    }


def publisher_jsonld(identity: Identity, absolute) -> dict:
    """The schema.org Organization that publishes the portal (Decree 42/2022 identity)."""
    publisher = {
        "@type": "GovernmentOrganization",
        "name": identity.publisher_name,
        "url": absolute("/"),
    }
    if identity.emblem:
        og = identity.emblem["og"]
        publisher["logo"] = {
            "@type": "ImageObject",
            "url": absolute(og["url"]),
            "width": og["width"],
            "height": og["height"],
        }
    contact = {}
    if identity.phone:
        contact["telephone"] = identity.phone
    if identity.email:
        contact["email"] = identity.email
    if contact:
        publisher["contactPoint"] = {
            "@type": "ContactPoint",
            "contactType": "customer service",
            **contact,
        }
    if identity.address:
        publisher["address"] = identity.address
    return publisher


def _jsonld(data: dict) -> str:
    """JSON for a ``<script type="application/ld+json">``: no ``<``, ``>``, ``&`` inside."""
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _iso(value: datetime | None) -> str:
    return timezone.localtime(value).isoformat() if value else ""


def _image_objects(pictures: list[Picture], absolute) -> list[dict]:
    """schema.org ImageObjects of the item's pictures (the largest figure rendition)."""
    objects = []
    for picture in pictures:
        biggest = largest(picture.image)
        if biggest is None:
            continue
        image_object = {
            "@type": "ImageObject",
            "url": absolute(biggest["url"]),
            "contentUrl": absolute(biggest["url"]),
            "width": biggest["width"],
            "height": biggest["height"],
            "description": picture.alt,
        }
        if picture.caption:
            image_object["caption"] = picture.caption
        if picture.credit:
            image_object["creditText"] = picture.credit
        objects.append(image_object)
    return objects


def _item_metadata(request, page, item, media: dict, pictures: list[Picture]) -> dict:
    """Open Graph values and the schema.org NewsArticle for an item page.

    The shared picture is the lead picture (else the first of the gallery) cropped to
    1200×630, else the video's poster, else the province's emblem."""
    url = request.build_absolute_uri(item.public_path)
    absolute = request.build_absolute_uri
    og_image = None
    image_objects = _image_objects(pictures, absolute)
    for picture in pictures[:1]:
        og_image = share_image(picture.image, picture.alt)
    if og_image is not None:
        og_image["url"] = absolute(og_image["url"])
    elif media["poster"] is not None:
        poster = _poster_image(item, media["poster"])
        og_image = {
            "url": absolute(poster.src),
            "width": poster.width,
            "height": poster.height,
            "alt": poster.alt,
        }
        image_objects = [
            {
                "@type": "ImageObject",
                "url": og_image["url"],
                "contentUrl": og_image["url"],
                "width": poster.width,
                "height": poster.height,
                "description": poster.alt,
            }
        ]
    modified = item.version_created_at or item.last_published_at or item.first_published_at
    article = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": item.headline[:110],
        "url": url,
        "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "inLanguage": "vi",
        "datePublished": _iso(item.first_published_at),
        "dateModified": _iso(modified),
        "author": (
            [{"@type": "Person", "name": item.byline}]
            if item.byline
            else [{"@type": "Organization", "name": item.unit.name}]
        ),
        "publisher": publisher_jsonld(identity_get(), absolute),
        "contentLocation": {
            "@type": "AdministrativeArea",
            "name": item.unit.name,
            "identifier": item.unit.code,
        },
        "isAccessibleForFree": True,
    }
    if item.summary:
        article["description"] = item.summary
    if item.category_id:
        article["articleSection"] = item.category.name
    if image_objects:
        article["image"] = image_objects
    if media["audio_sources"]:
        best = media["audio_sources"][0]
        article["audio"] = {
            "@type": "AudioObject",
            "name": item.headline,
            "contentUrl": absolute(best.url),
            "encodingFormat": best.mime_type,
            "duration": iso_duration(best.duration or item.audio.duration),
            "uploadDate": _iso(item.first_published_at),
        }
        if item.transcript:
            article["audio"]["transcript"] = item.transcript
    if media["video_sources"]:
        best = media["video_sources"][0]
        article["video"] = {
            "@type": "VideoObject",
            "name": item.headline,
            "description": item.summary or item.headline,
            "contentUrl": absolute(best.url),
            "encodingFormat": best.mime_type,
            "duration": iso_duration(best.duration or item.video.duration),
            "uploadDate": _iso(item.first_published_at),
        }
        if og_image:
            article["video"]["thumbnailUrl"] = og_image["url"]
    og_type_media = None
    if media["audio_sources"]:
        og_type_media = ("audio", media["audio_sources"][0])
    elif media["video_sources"]:
        og_type_media = ("video", media["video_sources"][0])
    if og_image is None:
        # Shared without a picture of its own: the province's emblem (not the article's image).
        identity = identity_get()
        if identity.emblem:
            og_image = {**identity.emblem["og"], "alt": identity.emblem_alt}
            og_image["url"] = absolute(og_image["url"])
    return {
        "og": {
            "url": url,
            "title": item.headline,
            "description": item.summary,
            "image": og_image,
            "published_time": _iso(item.first_published_at),
            "modified_time": _iso(modified),
            "section": item.category.name if item.category_id else "",
            "media_kind": og_type_media[0] if og_type_media else "",
            "media_url": absolute(og_type_media[1].url) if og_type_media else "",
            "media_type": og_type_media[1].mime_type if og_type_media else "",
        },
        "jsonld": _jsonld(article),
    }


# --- views -------------------------------------------------------------------------------


def _lead_story(featured: list, items: list) -> tuple:
    """The home page's lead story: the first featured item (in the editors' order) with a
    picture, else the newest item with one on the first page of the latest news. It is
    shown once: taken out of both lists. A video's poster does not make a lead story (it
    is a still, not a picture chosen for the item)."""
    lead = next(
        (
            item
            for item in (*featured, *items)
            if item.card_image is not None and item.card_image.srcset
        ),
        None,
    )
    if lead is not None:
        featured = [item for item in featured if item.pk != lead.pk]
        items = [item for item in items if item.pk != lead.pk]
    # A featured item is listed again under the latest news: its picture there repeats the
    # one just described, so it is decorative (empty alt) the second time.
    shown = {item.pk for item in featured}
    for item in items:
        if item.pk in shown and item.card_image is not None:
            item.card_image = replace(item.card_image, alt="")
    return lead, featured, items


@page_cached
def home_view(page, request):
    """Latest items (paginated); on the first page also featured items and category sections."""
    items_page = _paginate(request, selectors.portal_item_list(), page.items_per_page)
    if items_page is None:
        return _not_found(page, request, _("This page of the list does not exist."))
    first = items_page.number == 1
    featured = (
        _prepare_cards(selectors.portal_featured_items(home=page)[: page.featured_limit])
        if first
        else []
    )
    items = _prepare_cards(items_page.object_list)
    lead = None
    if first:
        lead, featured, items = _lead_story(featured, items)
    sections = []
    if first:
        for category, section_items in selectors.portal_category_sections(
            per_category=page.items_per_category
        ):
            sections.append({"category": category, "items": section_items})
    context = _base_context(
        page,
        request,
        items=items,
        page_obj=items_page,
        lead=lead,
        featured=featured,
        sections=sections,
        nav_current="home" if first else "",
    )
    return _respond(request, "portal/home_page.html", context)


@page_cached
def item_view(page, request, item_uuid):
    item = selectors.portal_item_get(uuid=item_uuid)
    if item is None:
        if selectors.portal_item_was_withdrawn(uuid=item_uuid):
            context = _base_context(page, request)
            return _respond(request, "portal/gone.html", context, status=410)
        return _not_found(page, request, _("This item does not exist or is not published."))
    pictures = selectors.portal_item_pictures(item=item)
    lead_figure, gallery = figure_pictures(pictures)
    media = _media_context(item)
    renditions = [*media["audio_sources"], *media["video_sources"]]
    stamps = [item.last_published_at, item.version_created_at]
    stamps += [r.updated_at for r in renditions]
    last_modified = max((s for s in stamps if s), default=None)
    context = _base_context(
        page,
        request,
        item=item,
        lead_figure=lead_figure,
        gallery=gallery,
        body=mark_safe(body_html(item.body, selectors.portal_body_images(item=item))),  # noqa: S308
        ancestors=selectors.portal_unit_ancestors(unit=item.unit),
        **media,
        **_item_metadata(request, page, item, media, pictures),
    )
    return _respond(request, "portal/news_item_page.html", context, last_modified=last_modified)


@page_cached
def unit_index_view(page, request):
    context = _base_context(page, request, units=selectors.portal_unit_roots(), nav_current="units")
    return _respond(request, "portal/unit_index.html", context)


@page_cached
def unit_view(page, request, code):
    unit = selectors.portal_unit_get(code=code)
    if unit is None:
        return _not_found(page, request, _("There is no unit with this code."))
    items_page = _paginate(request, selectors.portal_item_list(unit=unit), page.items_per_page)
    if items_page is None:
        return _not_found(page, request, _("This page of the list does not exist."))
    context = _base_context(
        page,
        request,
        unit=unit,
        ancestors=selectors.portal_unit_ancestors(unit=unit),
        children=selectors.portal_unit_children(unit=unit),
        items=_prepare_cards(items_page.object_list),
        page_obj=items_page,
    )
    return _respond(request, "portal/unit_page.html", context)


@page_cached
def category_view(page, request, slug):
    category = selectors.portal_category_get(slug=slug)
    if category is None:
        return _not_found(page, request, _("There is no such category."))
    items_page = _paginate(
        request, selectors.portal_item_list(category=category), page.items_per_page
    )
    if items_page is None:
        return _not_found(page, request, _("This page of the list does not exist."))
    context = _base_context(
        page,
        request,
        category=category,
        items=_prepare_cards(items_page.object_list),
        page_obj=items_page,
    )
    return _respond(request, "portal/category_page.html", context)
