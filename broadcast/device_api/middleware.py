"""The fast path of the device API: the two requests every loudspeaker makes every minute
— an unchanged timeline and a heartbeat — answered before Django's session, locale, CSRF,
auth and message middleware and before the API router run.

About 100,000 loudspeakers poll ``GET /api/v1/devices/<id>/timeline`` with the ETag they
hold; almost every poll ends in ``304``. This middleware answers exactly that case — a
``GET`` with ``If-None-Match`` and a bearer token whose device (from the cache) is the one
in the path and whose current timeline version matches — with the same lookups the API
view makes (``device_identity``: one cache round trip, the database only on a cache miss).
A ``POST /api/v1/devices/<id>/heartbeat`` with a valid body from the right device is
recorded here by the view's own code (``protocol.heartbeat_accept``, the same ``HeartbeatIn``
schema). The lookups and the heartbeat code live in ``protocol``, shared with the views.

Everything else, including every refusal (unknown, revoked or foreign token, a body that
does not validate), falls through to the API view, which gives the full answer and the
JSON error.
"""

from __future__ import annotations

import re

from django.http import HttpResponseNotModified, JsonResponse
from pydantic import ValidationError

from . import cache as bcache
from .protocol import (
    HeartbeatIn,
    bearer_token,
    device_identity,
    etag_matches,
    heartbeat_accept,
    ip_is_valid,
)

# An id of more than 19 digits is no device (the API answers 404): never converted here.
_TIMELINE = re.compile(r"^/api/v1/devices/(\d{1,19})/timeline$")
_HEARTBEAT = re.compile(r"^/api/v1/devices/(\d{1,19})/heartbeat$")


def _device(request, match):
    """The identity behind the request's bearer token when it is the path's device."""
    token = bearer_token(request)
    if token is None:
        return None, None
    identity, known = device_identity(token)
    if identity is None or identity.device_id != int(match.group(1)):
        return None, None
    return identity, known


class DeviceFastPathMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "GET":
            response = self._not_modified(request)
        elif request.method == "POST":
            response = self._heartbeat(request)
        else:
            response = None
        return response if response is not None else self.get_response(request)

    @staticmethod
    def _not_modified(request):
        if_none_match = request.META.get("HTTP_IF_NONE_MATCH")
        if not if_none_match:
            return None
        match = _TIMELINE.match(request.path_info)
        if match is None:
            return None
        identity, known = _device(request, match)
        if identity is None:
            return None
        etag = f'"{bcache.timeline_version(identity, known)}"'
        if not etag_matches(if_none_match, etag):
            return None
        response = HttpResponseNotModified()
        response["ETag"] = etag
        return response

    @staticmethod
    def _heartbeat(request):
        match = _HEARTBEAT.match(request.path_info)
        if match is None or request.content_type != "application/json":
            return None
        identity, _known = _device(request, match)
        if identity is None:
            return None
        try:
            data = HeartbeatIn.model_validate_json(request.body)
        except ValidationError:
            return None  # the view answers 422 with the field
        if not ip_is_valid(data.ip):
            return None  # the view answers 400 with the field
        return JsonResponse(heartbeat_accept(identity.device_id, data.dict()))
