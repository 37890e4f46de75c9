"""The fast path of the device API: an unchanged timeline answered before Django's
session, locale, CSRF, auth and message middleware and before the API router run.

About 100,000 loudspeakers poll ``GET /api/v1/devices/<id>/timeline`` with the ETag they
hold; almost every poll ends in ``304``. This middleware answers exactly that case — a
``GET`` with ``If-None-Match`` and a bearer token whose device (from the cache) is the one
in the path and whose current timeline version matches — with the same lookups the API
view makes (``device_identity``: one cache round trip, the database only on a cache miss).
Everything else, including every refusal (unknown, revoked or foreign token), falls
through to the API view, which gives the full answer and the JSON error.
"""

from __future__ import annotations

import re

from django.http import HttpResponseNotModified

from . import cache as bcache
from .selectors import device_identity

_TIMELINE = re.compile(r"^/api/v1/devices/(\d+)/timeline$")


def etag_matches(header: str, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (weak or strong) or ``*``."""
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate.startswith("W/"):
            candidate = candidate[2:]
        if candidate in (etag, "*"):
            return True
    return False


class TimelineNotModifiedMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self._not_modified(request)
        return response if response is not None else self.get_response(request)

    @staticmethod
    def _not_modified(request):
        if request.method != "GET":
            return None
        if_none_match = request.META.get("HTTP_IF_NONE_MATCH")
        if not if_none_match:
            return None
        match = _TIMELINE.match(request.path_info)
        if match is None:
            return None
        scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        identity, known = device_identity(token.strip())
        if identity is None or identity.device_id != int(match.group(1)):
            return None
        etag = f'"{bcache.timeline_version(identity, known)}"'
        if not etag_matches(if_none_match, etag):
            return None
        response = HttpResponseNotModified()
        response["ETag"] = etag
        return response
