"""Production settings: secure defaults, and refuse to start with unsafe values.

Everything here can be tuned by environment variables, but a value that would weaken the
site (DEBUG on, a short or dev SECRET_KEY, no host names, cookies over plain HTTP, HSTS off
or short, overlong sessions, short passwords, login throttling off) stops the process with
``ImproperlyConfigured`` naming the variable. ``manage.py check --deploy`` passes.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403

DEBUG = env_bool("DEBUG", False)

# --- HTTPS, cookies, HSTS ----------------------------------------------------------------
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# The reverse proxy terminates TLS and says so in X-Forwarded-Proto (see docs/deploy.md).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# Probes from the load balancer talk plain HTTP to gunicorn.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "SAMEORIGIN"  # Wagtail's preview frames the admin's own pages
SILENCED_SYSTEM_CHECKS = [
    "security.W019",  # X_FRAME_OPTIONS is SAMEORIGIN on purpose (Wagtail preview)
    "security.W021",  # HSTS preload is a decision for the site owner (SECURE_HSTS_PRELOAD)
]

# --- sessions and passwords ----------------------------------------------------------------
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)  # a work day
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", True)
NGUON_PASSWORD_MIN_LENGTH = env_int("NGUON_PASSWORD_MIN_LENGTH", 12)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": NGUON_PASSWORD_MIN_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Content-Security-Policy (cms.middleware.ContentSecurityPolicyMiddleware) -------------
# Media may come from the S3 bucket (its origins are added) or elsewhere: list extra origins
# in NGUON_CSP_MEDIA_HOSTS.
_s3 = STORAGES["default"].get("OPTIONS") if "s3" in STORAGES["default"]["BACKEND"] else None
_media = " ".join(
    ["'self'", "blob:", *(s3_media_origins(_s3) if _s3 else []), *env_list("NGUON_CSP_MEDIA_HOSTS")]
)
NGUON_CSP = os.environ.get("NGUON_CSP") or "; ".join(
    [
        "default-src 'self'",
        f"img-src {_media} data:",
        f"media-src {_media}",
        "style-src 'self' 'unsafe-inline'",
        "script-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'self'",
        "base-uri 'self'",
        "form-action 'self'",
    ]
)
# Wagtail's admin uses inline scripts and styles; it still may not load foreign code.
NGUON_CSP_ADMIN = os.environ.get("NGUON_CSP_ADMIN") or "; ".join(
    [
        "default-src 'self'",
        f"img-src {_media} data: https:",
        f"media-src {_media}",
        "style-src 'self' 'unsafe-inline'",
        "script-src 'self' 'unsafe-inline'",
        "object-src 'none'",
        "frame-ancestors 'self'",
        "base-uri 'self'",
        "form-action 'self'",
    ]
)

# --- refuse unsafe values ------------------------------------------------------------------
_problems = []
if DEBUG:
    _problems.append("DEBUG must be off in production (unset DEBUG).")
if (
    not SECRET_KEY
    or SECRET_KEY == DEV_SECRET_KEY
    or len(SECRET_KEY) < 32
    or len(set(SECRET_KEY)) < 5
):
    _problems.append("Set SECRET_KEY to a random value of at least 32 characters.")
if not os.environ.get("ALLOWED_HOSTS"):
    _problems.append("Set ALLOWED_HOSTS to the site's host names.")
elif "*" in ALLOWED_HOSTS:
    _problems.append("ALLOWED_HOSTS must name the site's hosts, not '*'.")
if not SESSION_COOKIE_SECURE or not CSRF_COOKIE_SECURE:
    _problems.append("SESSION_COOKIE_SECURE and CSRF_COOKIE_SECURE must stay on (HTTPS only).")
if SECURE_HSTS_SECONDS < 86400:
    _problems.append("SECURE_HSTS_SECONDS must be at least 86400 (one day).")
if SESSION_COOKIE_AGE > 24 * 3600 or SESSION_COOKIE_AGE <= 0:
    _problems.append("SESSION_COOKIE_AGE must be between 1 second and 24 hours.")
if NGUON_PASSWORD_MIN_LENGTH < 10:
    _problems.append("NGUON_PASSWORD_MIN_LENGTH must be at least 10.")
if NGUON_LOGIN_MAX_FAILURES <= 0 or NGUON_LOGIN_MAX_FAILURES > 50:
    _problems.append("NGUON_LOGIN_MAX_FAILURES must be between 1 and 50 (login throttling on).")
if _problems:
    raise ImproperlyConfigured(" ".join(_problems))
