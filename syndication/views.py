"""Public feeds: RSS 2.0, Atom 1.0 and podcast RSS, filterable by unit subtree and category.

Each answers ``304 Not Modified`` from the validators alone (one primary-key read and one
small aggregate) before any item is loaded; the validators move whenever anything a reader
would see changes (see ``syndication.receivers``).
"""

import hashlib
import time

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse
from django.views.decorators.http import condition, require_safe

from newsroom.selectors import item_public_path

from .feeds import FeedContext, feed_build_atom, feed_build_podcast, feed_build_rss
from .selectors import feed_filters_resolve, feed_item_list, feed_state_get

CONTENT_TYPES = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "podcast": "application/rss+xml; charset=utf-8",
}
BUILDERS = {"rss": feed_build_rss, "atom": feed_build_atom, "podcast": feed_build_podcast}


def _params(request) -> tuple[str, str]:
    return request.GET.get("unit", "")[:32], request.GET.get("category", "")[:255]


_CACHED: list = [0.0, None]  # [monotonic expiry, state] for this process


def _state(request):
    """The validators, read at most once per ``SYNDICATION_FEED_STATE_TTL`` seconds per
    process (feeds already allow caches 60 s; a second of staleness on the 304 path buys
    answering it without touching the database)."""
    state = getattr(request, "_nguon_feed_state", None)
    if state is None:
        ttl = settings.SYNDICATION_FEED_STATE_TTL
        now = time.monotonic()
        if ttl > 0 and _CACHED[1] is not None and _CACHED[0] > now:
            state = _CACHED[1]
        else:
            state = feed_state_get()
            _CACHED[:] = [now + ttl, state]
        request._nguon_feed_state = state
    return state


def _etag_for(kind: str):
    def etag(request, *args, **kwargs) -> str:
        version, _latest = _state(request)
        unit, category = _params(request)
        key = "|".join([kind, unit, category, version])
        return hashlib.sha256(key.encode()).hexdigest()[:32]

    return etag


def _last_modified(request, *args, **kwargs):
    return _state(request)[1]


def _feed_view(kind: str):
    @transaction.non_atomic_requests  # read-only: no BEGIN/COMMIT round trips
    @require_safe
    @condition(etag_func=_etag_for(kind), last_modified_func=_last_modified)
    def view(request):
        unit_code, category_slug = _params(request)
        unit, category, known = feed_filters_resolve(
            unit_code=unit_code, category_slug=category_slug
        )
        items = feed_item_list(
            unit=unit,
            category=category,
            known=known,
            kind="audio" if kind == "podcast" else "",
        )
        suffix = " — ".join(x.name for x in (unit, category) if x is not None)
        ctx = FeedContext(
            site_url=request.build_absolute_uri("/"),
            feed_url=request.build_absolute_uri(),
            item_url=lambda item: request.build_absolute_uri(item_public_path(item)),
            title_suffix=suffix,
        )
        body = BUILDERS[kind](items=items, ctx=ctx)
        response = HttpResponse(body, content_type=CONTENT_TYPES[kind])
        response["Cache-Control"] = "public, max-age=60"
        return response

    view.__name__ = f"{kind}_feed"
    return view


rss = _feed_view("rss")
atom = _feed_view("atom")
podcast = _feed_view("podcast")
