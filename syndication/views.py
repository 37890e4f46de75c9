"""The public RSS feed, answered with 304 when nothing a reader would see has changed."""

import hashlib

from django.db.models import Count, Max, Q
from django.http import HttpResponse
from django.urls import reverse
from django.views.decorators.http import condition, require_safe

from media.models import Rendition
from newsroom.models import NewsItem
from newsroom.selectors import item_list_published, item_public_path

from .feeds import feed_build_rss

FEED_SIZE = 50


def _feed_state(request):
    """Two aggregate queries, cached on the request for the ETag and Last-Modified.

    Publishing (or republishing an edit) moves the newest ``last_published_at``; taking an
    item down changes the live count and moves the newest ``updated_at`` of items that were
    published once (Wagtail's unpublish saves the row); an MP3 becoming ready (an enclosure
    appears) moves the newest ready loudspeaker rendition.
    """
    state = getattr(request, "_nguon_feed_state", None)
    if state is None:
        live = Q(live=True)
        items = NewsItem.objects.aggregate(
            published=Max("last_published_at", filter=live),
            count=Count("pk", filter=live),
            taken_down=Max("updated_at", filter=Q(live=False, first_published_at__isnull=False)),
        )
        audio = Rendition.objects.filter(
            profile="loudspeaker", status=Rendition.Status.READY
        ).aggregate(ready=Max("updated_at"))
        state = (items["published"], items["count"], items["taken_down"], audio["ready"])
        request._nguon_feed_state = state
    return state


def _etag(request) -> str:
    key = "|".join(
        value.isoformat() if hasattr(value, "isoformat") else str(value)
        for value in _feed_state(request)
    )
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _last_modified(request):
    published, _count, taken_down, ready = _feed_state(request)
    return max((d for d in (published, taken_down, ready) if d is not None), default=None)


@require_safe
@condition(etag_func=_etag, last_modified_func=_last_modified)
def rss(request):
    items = item_list_published()[:FEED_SIZE]
    site_url = request.build_absolute_uri("/")
    body = feed_build_rss(
        items=items,
        site_url=site_url,
        feed_url=request.build_absolute_uri(reverse("feeds:rss")),
        item_url=lambda item: request.build_absolute_uri(item_public_path(item)),
    )
    response = HttpResponse(body, content_type="application/rss+xml; charset=utf-8")
    response["Cache-Control"] = "public, max-age=60"
    return response
