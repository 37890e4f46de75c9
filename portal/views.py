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
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date
from django.utils.translation import gettext as _
from wagtail.images.models import Filter

from core.identity import Identity, identity_get

from . import selectors
from .cache import page_cached
from .selectors import CARD_IMAGE_SPEC, ITEM_IMAGE_SPEC, OG_IMAGE_SPEC

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
_FILTERS: dict[str, Filter] = {}


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


def image_for(image, spec: str) -> dict | None:
    """The image rendition to show, or None when the image has no alt text.

    Alt text is the image's *description* in the Wagtail image library. The portal shows no
    image without one: an image a screen-reader user cannot have described is left out.
    """
    if image is None:
        return None
    alt = (image.description or "").strip()
    if not alt:
        logger.info("portal: image %s has no alt text (description); not shown", image.pk)
        return None
    image_filter = _FILTERS.setdefault(spec, Filter(spec=spec))
    try:
        try:
            # Prefetched by the selector: no query, and no write to the renditions cache
            # (``get_rendition`` writes one per call).
            rendition = image.find_existing_rendition(image_filter)
        except ObjectDoesNotExist:
            rendition = image.get_rendition(image_filter)
    except OSError:  # includes SourceImageIOError (the file is gone)
        logger.warning("portal: image %s file is missing", image.pk)
        return None
    return {"url": rendition.url, "width": rendition.width, "height": rendition.height, "alt": alt}


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
        item.card_image = image_for(item.image, CARD_IMAGE_SPEC)
        if item.card_image is None and item.video_id:
            item.card_image = _poster_image(item, _ready(item.video).get(POSTER))
        asset = item.audio if item.audio_id else item.video if item.video_id else None
        item.duration_label = duration_label(asset.duration) if asset is not None else ""
    return items


def _poster_image(item, poster) -> dict | None:
    if poster is None:
        return None
    return {
        "url": poster.url,
        "width": poster.width,
        "height": poster.height,
        "alt": _("Video still: %(headline)s") % {"headline": item.headline},
    }


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


def _item_metadata(request, page, item, media: dict, image: dict | None) -> dict:
    """Open Graph values and the schema.org NewsArticle for an item page."""
    url = request.build_absolute_uri(item.public_path)
    absolute = request.build_absolute_uri
    og_image = None
    if image is not None:
        og = image_for(item.image, OG_IMAGE_SPEC)
        og_image = {**og, "url": absolute(og["url"])} if og else None
    elif media["poster"] is not None:
        og_image = _poster_image(item, media["poster"])
        og_image["url"] = absolute(og_image["url"])
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
    if og_image:
        article["image"] = [og_image["url"]]
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
    sections = []
    if first:
        for category, items in selectors.portal_category_sections(
            per_category=page.items_per_category
        ):
            sections.append({"category": category, "items": items})
    context = _base_context(
        page,
        request,
        items=_prepare_cards(items_page.object_list),
        page_obj=items_page,
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
    image = image_for(item.image, ITEM_IMAGE_SPEC)
    media = _media_context(item)
    renditions = [*media["audio_sources"], *media["video_sources"]]
    stamps = [item.last_published_at, item.version_created_at]
    stamps += [r.updated_at for r in renditions]
    last_modified = max((s for s in stamps if s), default=None)
    context = _base_context(
        page,
        request,
        item=item,
        image=image,
        ancestors=selectors.portal_unit_ancestors(unit=item.unit),
        **media,
        **_item_metadata(request, page, item, media, image),
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
