"""The portal's page cache: published pages are answered from the cache.

Every portal page is the same for every reader (no cookies, no per-user content), so a
rendered answer is kept under its scheme, host and full path for
``NGUON_PORTAL_PAGE_CACHE`` seconds (0 turns the cache off). Entries carry the
*generation* they were rendered in; anything that may change a page bumps it, which
retires every cached page at once (one ``INCR``, no key scan):

- the newsroom's events: publication, correction (``item_published``) and withdrawal
  (``item_withdrawn``), and unit reforms;
- a saved or deleted item, featured item, category, unit, media rendition, image, page
  view restriction, or the publisher's identity (direct edits and renditions finishing in
  the worker).

Two halves: the portal's views are wrapped by ``page_cached``, which marks an answer that
may be stored; ``PortalPageCacheMiddleware`` (in ``MIDDLEWARE`` before the session,
authentication and Wagtail's page routing) answers a stored page with one cache round trip
(``MGET`` of the generation and the page) and no database query, and stores the marked
answers with the headers the inner middleware added (``Content-Security-Policy``,
``X-Frame-Options``, ``Vary``). Cached answers keep their ``ETag``/``Last-Modified``; a
matching conditional GET gets 304. An answer that sets a cookie or varies on it is never
stored.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import parse_http_date_safe

GENERATION_KEY = "nguon:portal:generation"
PAGE_KEY = "nguon:portal:page:{scheme}:{host}:{path}"
# Query parameters the portal's views read; an answer to any other is not stored (a
# stranger's ``?x=<random>`` must not fill the cache).
CACHED_PARAMS = frozenset({"trang"})


def enabled() -> bool:
    return int(settings.NGUON_PORTAL_PAGE_CACHE) > 0


def generation() -> int:
    value = cache.get(GENERATION_KEY)
    if value is None:
        cache.add(GENERATION_KEY, 1, None)
        value = cache.get(GENERATION_KEY) or 1
    return int(value)


def portal_cache_invalidate(**kwargs) -> None:
    """Retire every cached page (signal receiver: any arguments)."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # not set yet (or evicted): nothing cached under a known generation
        cache.add(GENERATION_KEY, 1, None)
        cache.incr(GENERATION_KEY)


def page_cached(view):
    """Mark the answers of ``view`` (``view(page, request, ...)``) that the middleware may
    store: a 200, 404 or 410 to an anonymous-looking GET/HEAD of the live site (not an
    admin preview) whose page has no view restriction; 404 and 410 only without a query
    string."""

    def wrapper(page, request, *args, **kwargs):
        response = view(page, request, *args, **kwargs)
        if (
            enabled()
            and request.method in ("GET", "HEAD")
            and not getattr(request, "is_preview", False)
            and response.status_code in (200, 404, 410)
            and not response.streaming
            and (not request.GET if response.status_code != 200 else True)
            and set(request.GET) <= CACHED_PARAMS
            and not page.get_view_restrictions().exists()
        ):
            response.portal_cacheable = True
        return response

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


def _key(request) -> str:
    return PAGE_KEY.format(
        scheme=request.scheme, host=request.get_host(), path=request.get_full_path()
    )


def _answer(request, status: int, headers: dict, body: bytes):
    response = HttpResponse(body, status=status)
    for name, value in headers.items():
        response[name] = value
    response["X-Portal-Cache"] = "hit"
    if status != 200:
        return response
    last_modified = parse_http_date_safe(headers.get("Last-Modified", ""))
    return get_conditional_response(
        request, etag=headers.get("ETag"), last_modified=last_modified, response=response
    )


class PortalPageCacheMiddleware:
    """Answer stored portal pages before sessions, authentication and page routing; store
    the answers ``page_cached`` marked (see the module's docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in ("GET", "HEAD") or not enabled():
            return self.get_response(request)
        key = _key(request)
        found = cache.get_many([GENERATION_KEY, key])
        current = found.get(GENERATION_KEY)
        if current is None:
            current = generation()
        stored = found.get(key)
        if stored is not None and stored[0] == current:
            return _answer(request, *stored[1:])
        response = self.get_response(request)
        if getattr(response, "portal_cacheable", False):
            vary = response.get("Vary", "").lower()
            if not response.cookies and "cookie" not in vary:
                headers = dict(response.items())
                cache.set(
                    key,
                    (current, response.status_code, headers, response.content),
                    int(settings.NGUON_PORTAL_PAGE_CACHE),
                )
            response["X-Portal-Cache"] = "miss"
        return response
