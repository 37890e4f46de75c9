"""Answers for requests refused before any view runs: a body over the size limit is a
``413`` that says so (JSON under ``/api/``), logged as one line without a traceback.

``RequestSizeMiddleware`` refuses a declared ``Content-Length`` over the limit before
anything reads the body; ``bad_request`` (``handler400``) turns Django's own
``RequestDataTooBig`` (a body read past ``DATA_UPLOAD_MAX_MEMORY_SIZE`` without a declared
length, or the form fields of a multipart body) into the same ``413``.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.defaults import bad_request as django_bad_request

logger = logging.getLogger("nguon.security")


def too_large(request) -> HttpResponse:
    message = _("The request is too large.")
    logger.warning(
        "request body too large",
        extra={"path": request.path, "content_length": request.META.get("CONTENT_LENGTH", "")},
    )
    if request.path.startswith("/api/"):
        return JsonResponse({"error": message, "field": None}, status=413)
    return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")


def request_limit(request) -> int | None:
    """The most bytes a request may declare: multipart bodies carry uploads (audio and
    video, each up to ``NGUON_MEDIA_MAX_UPLOAD_BYTES``); other bodies are read in memory."""
    if (request.content_type or "").startswith("multipart/"):
        return settings.NGUON_REQUEST_MAX_BYTES
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


class RequestSizeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        declared = request.META.get("CONTENT_LENGTH") or ""
        limit = request_limit(request)
        if limit is not None and declared.isdigit():
            if len(declared) > 20 or int(declared) > limit:
                return too_large(request)
        return self.get_response(request)


def bad_request(request, exception=None, *args, **kwargs):
    if isinstance(exception, RequestDataTooBig):
        return too_large(request)
    return django_bad_request(request, exception, *args, **kwargs)


class WithoutTraceback:
    """A logging filter that keeps the line and drops the traceback (Django logs a
    ``RequestDataTooBig`` with its stack, which says nothing an operator can use)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        return True
