"""Project middleware: request ids, the portal's Content-Security-Policy, login throttling.

- ``RequestIDMiddleware`` (first in the list): takes a sane incoming ``X-Request-ID`` (a
  reverse proxy's) or makes one, exposes it to logging and to tasks queued by the request,
  and echoes it in the response.
- ``ContentSecurityPolicyMiddleware``: adds ``Content-Security-Policy`` to HTML responses when
  ``NGUON_CSP`` is set (production sets it); the admin gets ``NGUON_CSP_ADMIN`` because
  Wagtail's editor needs inline styles and scripts.
- ``LoginRateLimitMiddleware``: counts failed POSTs to the admin login per client address
  and per user name in the cache; past ``NGUON_LOGIN_MAX_FAILURES`` within
  ``NGUON_LOGIN_WINDOW_SECONDS`` the login answers 429 until the window passes.
"""

import hashlib
import logging
import re

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpResponse

from reports.messages import login_throttled_message

from .logging import new_request_id, request_id_var

logger = logging.getLogger("nguon.security")

_REQUEST_ID_OK = re.compile(r"^[A-Za-z0-9._:@-]{1,128}$")


class RequestIDMiddleware:
    header = "X-Request-ID"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(self.header, "")
        request_id = incoming if _REQUEST_ID_OK.match(incoming) else new_request_id()
        request.request_id = request_id
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response[self.header] = request_id
        return response


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.portal_policy = settings.NGUON_CSP
        self.admin_policy = settings.NGUON_CSP_ADMIN
        if not (self.portal_policy or self.admin_policy):
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" in response:
            return response
        if not response.get("Content-Type", "").startswith("text/html"):
            return response
        admin = request.path.startswith("/admin/") or request.path.startswith("/django-admin/")
        policy = self.admin_policy if admin else self.portal_policy
        if policy:
            response["Content-Security-Policy"] = policy
        return response


def _client_address(request) -> str:
    # Behind the reverse proxy REMOTE_ADDR is the proxy; the proxy's X-Forwarded-For is
    # trusted only when NGUON_TRUST_X_FORWARDED_FOR is on (deploy.md sets it with nginx).
    if settings.NGUON_TRUST_X_FORWARDED_FOR:
        forwarded = request.headers.get("X-Forwarded-For", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


class LoginRateLimitMiddleware:
    def __init__(self, get_response):
        self.max_failures = int(settings.NGUON_LOGIN_MAX_FAILURES or 0)
        if self.max_failures <= 0:
            raise MiddlewareNotUsed
        self.window = int(settings.NGUON_LOGIN_WINDOW_SECONDS)
        self.paths = set(settings.NGUON_LOGIN_PATHS)
        self.get_response = get_response

    def _keys(self, request) -> list[str]:
        keys = ["nguon:login:ip:" + hashlib.sha256(_client_address(request).encode()).hexdigest()]
        username = (request.POST.get("username") or "").strip().lower()
        if username:
            keys.append("nguon:login:user:" + hashlib.sha256(username.encode()).hexdigest())
        return keys

    def __call__(self, request):
        if request.method != "POST" or request.path not in self.paths:
            return self.get_response(request)
        keys = self._keys(request)
        counts = cache.get_many(keys)
        if any(counts.get(key, 0) >= self.max_failures for key in keys):
            logger.warning("login throttled", extra={"path": request.path})
            response = HttpResponse(
                login_throttled_message(max(1, self.window // 60)),
                status=429,
                content_type="text/plain; charset=utf-8",
            )
            response["Retry-After"] = str(self.window)
            return response
        response = self.get_response(request)
        # A successful login redirects; a failed one re-renders the form (200).
        if response.status_code == 200:
            for key in keys:
                cache.add(key, 0, self.window)
                try:
                    cache.incr(key)
                except ValueError:  # expired between add and incr
                    cache.set(key, 1, self.window)
        elif 300 <= response.status_code < 400:
            cache.delete_many(keys[1:])
        return response
