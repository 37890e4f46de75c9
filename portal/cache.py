"""The portal's page cache: published pages are answered from the cache.

Every portal page is the same for every reader (no cookies, no per-user content), so a
rendered answer is kept under its host and full path for ``NGUON_PORTAL_PAGE_CACHE``
seconds (0 turns the cache off). Keys carry a *generation*; anything that may change a page
bumps it, which retires every cached page at once (one ``INCR``, no key scan):

- the newsroom's events: publication, correction (``item_published``) and withdrawal
  (``item_withdrawn``), and unit reforms;
- a saved or deleted item, featured item, category, unit, media rendition, image, or the
  publisher's identity (direct edits and renditions finishing in the worker).

Cached answers keep their ``ETag``/``Last-Modified``; a matching conditional GET gets 304.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import parse_http_date_safe

GENERATION_KEY = "nguon:portal:generation"
PAGE_KEY = "nguon:portal:page:{generation}:{host}:{path}"
_KEPT_HEADERS = ("Content-Type", "Cache-Control", "ETag", "Last-Modified")


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


def _key(request) -> str:
    return PAGE_KEY.format(
        generation=generation(), host=request.get_host(), path=request.get_full_path()
    )


def page_cached(view):
    """Serve ``view`` (``view(page, request, ...)``) from the cache for anonymous GET/HEAD."""

    def wrapper(page, request, *args, **kwargs):
        if not enabled() or request.method not in ("GET", "HEAD"):
            return view(page, request, *args, **kwargs)
        key = _key(request)
        stored = cache.get(key)
        if stored is not None:
            status, headers, body = stored
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
        response = view(page, request, *args, **kwargs)
        if response.status_code in (200, 404, 410) and not response.streaming:
            if response.status_code == 200 or not request.GET:
                headers = {n: response[n] for n in _KEPT_HEADERS if response.has_header(n)}
                cache.set(
                    key,
                    (response.status_code, headers, response.content),
                    int(settings.NGUON_PORTAL_PAGE_CACHE),
                )
            response["X-Portal-Cache"] = "miss"
        return response

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper
