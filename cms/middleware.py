"""Project middleware: request ids, the portal's Content-Security-Policy, login throttling.

- ``RequestIDMiddleware`` (first in the list): takes a sane incoming ``X-Request-ID`` (a
  reverse proxy's) or makes one, exposes it to logging and to tasks queued by the request,
  and echoes it in the response.
- ``ContentSecurityPolicyMiddleware``: adds ``Content-Security-Policy`` to HTML responses when
  ``NGUON_CSP`` is set (production sets it); the admin gets ``NGUON_CSP_ADMIN`` because
  Wagtail's editor needs inline styles and scripts.
- ``LoginRateLimitMiddleware``: counts failed POSTs to the admin login in the cache, per
  user name (NFKC + casefold, the form Django signs in with: a fullwidth ``ｄx`` is ``dx``)
  and per client address; past ``NGUON_LOGIN_MAX_FAILURES`` for a name (five times that for
  an address: an office behind one address has many people) within
  ``NGUON_LOGIN_WINDOW_SECONDS`` the login answers 429 until the window passes. A browser
  that has signed in as that user before (a signed cookie) is exempt from both locks and
  has its own counter instead: nobody else can lock a user, or an office, out of the
  browser they use every day.
"""

import hashlib
import logging
import re
import secrets
import unicodedata

from django.conf import settings
from django.core import signing
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


def login_name_key(username: str) -> str:
    """The one form of a user name that throttling counts under: NFKC (what Django's
    ``normalize_username`` signs in with) then casefold, stripped."""
    return unicodedata.normalize("NFKC", username or "").casefold().strip()


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class LoginRateLimitMiddleware:
    # A cookie set at a successful sign-in: this browser has signed in as this user.
    device_cookie = "nguon_login_device"
    device_salt = "nguon.login.device"
    device_max_age = 365 * 24 * 3600
    address_factor = 5  # an address may fail this many times the per-name limit

    def __init__(self, get_response):
        self.max_failures = int(settings.NGUON_LOGIN_MAX_FAILURES or 0)
        if self.max_failures <= 0:
            raise MiddlewareNotUsed
        self.window = int(settings.NGUON_LOGIN_WINDOW_SECONDS)
        self.paths = set(settings.NGUON_LOGIN_PATHS)
        self.get_response = get_response

    def _known_device(self, request, name: str) -> str | None:
        """The device id when this browser signed in as ``name`` before, else None."""
        raw = request.COOKIES.get(self.device_cookie, "")
        if not raw or not name:
            return None
        try:
            value = signing.loads(raw, salt=self.device_salt, max_age=self.device_max_age)
        except signing.BadSignature:
            return None
        if not isinstance(value, dict) or value.get("u") != _digest(name):
            return None
        return str(value.get("d", ""))

    def _limits(self, request, name: str) -> dict[str, int]:
        """Cache key -> the failures it allows within the window."""
        device = self._known_device(request, name)
        if device:
            return {f"nguon:login:device:{_digest(device + ':' + name)}": self.max_failures}
        limits = {
            "nguon:login:ip:" + _digest(_client_address(request)): (
                self.max_failures * self.address_factor
            )
        }
        if name:
            limits["nguon:login:user:" + _digest(name)] = self.max_failures
        return limits

    def __call__(self, request):
        if request.method != "POST" or request.path not in self.paths:
            return self.get_response(request)
        name = login_name_key(request.POST.get("username") or "")
        limits = self._limits(request, name)
        counts = cache.get_many(list(limits))
        if any(counts.get(key, 0) >= limit for key, limit in limits.items()):
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
            for key in limits:
                cache.add(key, 0, self.window)
                try:
                    cache.incr(key)
                except ValueError:  # expired between add and incr
                    cache.set(key, 1, self.window)
        elif 300 <= response.status_code < 400 and name:
            cache.delete_many([k for k in limits if not k.startswith("nguon:login:ip:")])
            device = signing.dumps(
                {"u": _digest(name), "d": secrets.token_hex(8)}, salt=self.device_salt
            )
            response.set_cookie(
                self.device_cookie,
                device,
                max_age=self.device_max_age,
                httponly=True,
                secure=request.is_secure(),
                samesite="Lax",
                path=request.path,
            )
        return response
