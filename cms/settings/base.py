"""Settings shared by every environment.

Every external service is chosen by an environment variable; with none set, the embedded
defaults apply (SQLite, a filesystem Celery broker, the embedded search backend, files under
``var/``), so ``make run`` needs no server.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from cms.logging import logging_config

from .env import env_bool, env_float, env_int, env_list  # noqa: F401 - used by the others

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("NGUON_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


DEV_SECRET_KEY = "dev-insecure-nguon-secret-key-change-me"  # noqa: S105 - refused in production
SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # project apps, lowest layer first
    "core",
    "media",
    "newsroom",
    "syndication",
    "broadcast",
    "search",
    "reports",
    "portal",
    "cms",
    # wagtail
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.routable_page",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    # django
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
]

MIDDLEWARE = [
    "cms.middleware.RequestIDMiddleware",
    # A declared body over the limit is a 413 before anything reads it (cms/errors.py).
    "cms.errors.RequestSizeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Loudspeakers' unchanged timelines (304) and heartbeats end here: broadcast/device_api/.
    "broadcast.device_api.middleware.DeviceFastPathMiddleware",
    # Stored portal pages are answered here, before sessions and Wagtail's page routing
    # (no database query); it stores what the portal's views mark (portal/cache.py).
    "portal.cache.PortalPageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # Failed admin logins per client and user name (429); Content-Security-Policy for HTML.
    "cms.middleware.LoginRateLimitMiddleware",
    "cms.middleware.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "cms.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.portal_chrome",
            ],
        },
    },
]

WSGI_APPLICATION = "cms.wsgi.application"

# --- database ---------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
# Persistent connections (DATABASE_CONN_MAX_AGE > 0) are checked before reuse, so web and
# workers reconnect after a database restart or failover instead of failing once.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env_bool("DATABASE_CONN_HEALTH_CHECKS", True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the Celery worker share the file: wait for locks, don't fail.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- locale -----------------------------------------------------------------------------
LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", "Tiếng Việt")]
WAGTAIL_CONTENT_LANGUAGES = LANGUAGES
WAGTAILADMIN_PERMITTED_LANGUAGES = LANGUAGES
WAGTAILADMIN_USER_LOGIN_FORM = "django.contrib.auth.forms.AuthenticationForm"
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "translations" / "wagtail"]
DATE_INPUT_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]
WAGTAIL_DATE_FORMAT = "%d/%m/%Y"
WAGTAIL_DATETIME_FORMAT = "%d/%m/%Y %H:%M"
WAGTAIL_TIME_FORMAT = "%H:%M"

# --- files ------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
MEDIA_URL = os.environ.get("MEDIA_URL", "/media/")
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# Django serves MEDIA_URL itself (DEBUG does too): a one-machine site with no web server in
# front. Behind nginx (docs/deploy.md) the web server serves var/media and this stays off.
NGUON_SERVE_MEDIA = env_bool("NGUON_SERVE_MEDIA", False)
STORAGES = {
    "default": {
        "BACKEND": os.environ.get("STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage")
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# S3-compatible object storage (django-storages, a dependency): STORAGE_BACKEND=
# storages.backends.s3.S3Storage and the S3_* variables. Uploads, renditions and Wagtail's
# images and documents then live in the bucket; web and media workers share nothing local
# (docs/deploy.md "S3-compatible storage"). MEDIA_ROOT is then unused.


def s3_storage_options() -> dict:
    """The S3Storage options, from the S3_* environment variables."""
    return {
        "bucket_name": os.environ.get("S3_BUCKET", ""),
        "endpoint_url": os.environ.get("S3_ENDPOINT_URL") or None,
        "region_name": os.environ.get("S3_REGION") or None,
        "access_key": os.environ.get("S3_ACCESS_KEY_ID") or None,
        "secret_key": os.environ.get("S3_SECRET_ACCESS_KEY") or None,
        # "path" for servers without a wildcard DNS name (MinIO on an address, most
        # self-hosted ones); "virtual" or empty (botocore decides) for AWS and clouds.
        "addressing_style": os.environ.get("S3_ADDRESSING_STYLE") or None,
        "custom_domain": os.environ.get("S3_CUSTOM_DOMAIN") or None,
        "url_protocol": os.environ.get("S3_URL_PROTOCOL", "https:"),
        # Off (default): portal pages and feeds link the object's plain URL, stable and
        # cacheable, so the bucket (or S3_DEFAULT_ACL=public-read) must allow anonymous
        # reads, as nginx's /media/ does with local files. On: signed URLs that expire after
        # S3_QUERYSTRING_EXPIRE seconds (a feed reader may then hold a dead link).
        "querystring_auth": env_bool("S3_QUERYSTRING_AUTH", False),
        "querystring_expire": env_int("S3_QUERYSTRING_EXPIRE", 3600),
        "default_acl": os.environ.get("S3_DEFAULT_ACL") or None,
        # A generated name is never reused: an upload never replaces another file.
        "file_overwrite": False,
        # Files read back (a device's download, a Wagtail image being resized) spill to a
        # temporary file past this many bytes instead of staying in memory.
        "max_memory_size": env_int("S3_MAX_MEMORY_SIZE", 8 * 1024 * 1024),
    }


def s3_media_origins(options: dict) -> list[str]:
    """The origins pages load S3 media from (production's Content-Security-Policy): the
    custom domain, else the endpoint (and its subdomains: virtual-host addressing puts the
    bucket in front of the host), else AWS."""
    if options.get("custom_domain"):
        return [f"{options.get('url_protocol') or 'https:'}//{options['custom_domain']}"]
    if options.get("endpoint_url"):
        scheme, _sep, rest = options["endpoint_url"].partition("://")
        host = rest.split("/", 1)[0]
        return [f"{scheme}://{host}", f"{scheme}://*.{host}"]
    return ["https://*.amazonaws.com"]


if STORAGES["default"]["BACKEND"].startswith("storages.backends.s3"):
    STORAGES["default"]["OPTIONS"] = s3_storage_options()
FILE_UPLOAD_PERMISSIONS = 0o640
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- celery -----------------------------------------------------------------------------
# With no CELERY_BROKER_URL, a filesystem broker under var/ lets a real worker process run
# beside the web server without Redis or RabbitMQ.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_DIR = Path(os.environ.get("CELERY_BROKER_DIR", VAR_DIR / "celery-broker"))
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "out"),
        "data_folder_out": str(CELERY_BROKER_DIR / "out"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Queues: default (newsroom, search), media (ffmpeg), publish (feeds, pushes, ingest),
# broadcast (loudspeaker timelines, MQTT pushes). Production runs a worker per queue.
CELERY_TASK_QUEUES_ALL = ("default", "media", "publish", "broadcast")
CELERY_TASK_ROUTES = {
    "media.tasks.*": {"queue": "media"},
    "syndication.tasks.*": {"queue": "publish"},
    "broadcast.tasks.*": {"queue": "broadcast"},
}
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_BEAT_SCHEDULE: dict = {}

# --- wagtail ----------------------------------------------------------------------------
WAGTAIL_SITE_NAME = os.environ.get("NGUON_SITE_NAME", "Nguồn — Cổng thông tin nguồn")
WAGTAILADMIN_BASE_URL = os.environ.get("WAGTAILADMIN_BASE_URL", "http://127.0.0.1:8000")
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAIL_I18N_ENABLED = False
WAGTAILDOCS_EXTENSIONS = ["pdf", "doc", "docx", "odt", "txt"]
WAGTAIL_WORKFLOW_REQUIRE_APPROVAL_TO_RESUME = False
WAGTAIL_FINISH_WORKFLOW_ACTION = "newsroom.publishing.publish_on_chain_end"
# Pictures: 50 megapixels (a 48 MP phone sensor's full-resolution photo) of all frames
# together, 12,000 pixels a side, 200 frames of animation, 30 MB a file; checked from the
# header before decoding (media/images.py, docs/media.md "Pictures").
WAGTAILIMAGES_MAX_IMAGE_PIXELS = env_int("NGUON_IMAGE_MAX_PIXELS", 50_000_000)
WAGTAILIMAGES_MAX_UPLOAD_SIZE = env_int("NGUON_IMAGE_MAX_UPLOAD_BYTES", 30 * 1024 * 1024)
NGUON_IMAGE_MAX_SIDE = env_int("NGUON_IMAGE_MAX_SIDE", 12_000)
NGUON_IMAGE_MAX_FRAMES = env_int("NGUON_IMAGE_MAX_FRAMES", 200)
# The image library's form: alt text required, every upload checked by content and rebuilt
# from its pixels (no GPS or other metadata kept), the chooser and multiple upload alike.
WAGTAILIMAGES_IMAGE_FORM_BASE = "media.forms.LibraryImageForm"
LOGIN_URL = "/admin/login/"

# --- logging ----------------------------------------------------------------------------
# Logs: LOG_FORMAT=json writes one JSON object per line; every record carries the request
# id (X-Request-ID, see cms/middleware.py) or the Celery task id (cms/logging.py).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text").strip().lower()
LOGGING = logging_config(log_format=LOG_FORMAT, level=os.environ.get("LOG_LEVEL", "INFO"))
# Celery keeps Django's handlers (and their ids) instead of installing its own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- portal -----------------------------------------------------------------------------
# Where an item lives on the portal (the HomePage route); feeds and search link to it.
NGUON_ITEM_PATH = "/tin/{uuid}/"

# --- app settings: one block per app, each appended by its owner -------------------------
# (newsroom) ------------------------------------------------------------------------------
# Editing an item after an approval makes that approval stale (the changed version is
# approved again); unchanged steps carry forward (newsroom/workflow.py ChainStepRules.start).
WAGTAIL_WORKFLOW_REQUIRE_REAPPROVAL_ON_EDIT = True
# Approvers get a reminder when an item waits at their step longer than this.
NGUON_APPROVAL_REMINDER_HOURS = env_float("NGUON_APPROVAL_REMINDER_HOURS", 4)
# One official may write and approve the same item (a commune with one official). Off: the
# version's author or submitter never approves it; on: each such approval is logged as
# ``nguon.self_approve`` in the item's audit trail.
NGUON_ALLOW_SELF_APPROVAL = env_bool("NGUON_ALLOW_SELF_APPROVAL", False)
# Intake API: largest accepted JSON body / text field, in bytes.
NGUON_INTAKE_MAX_BODY_BYTES = env_int("NGUON_INTAKE_MAX_BODY_BYTES", 512 * 1024)
CELERY_BEAT_SCHEDULE["newsroom-publish-due"] = {
    "task": "newsroom.tasks.items_publish_due",
    "schedule": 60.0,
}
CELERY_BEAT_SCHEDULE["newsroom-remind-approvers"] = {
    "task": "newsroom.tasks.steps_remind",
    "schedule": 900.0,
}
# (media) ---------------------------------------------------------------------------------
# The ffmpeg binary (empty: ``ffmpeg`` on PATH, else the one bundled with imageio-ffmpeg).
FFMPEG_PATH = os.environ.get("FFMPEG_PATH", "")
# Uploads longer or larger than this are refused.
NGUON_MEDIA_MAX_DURATION_SECONDS = env_int("NGUON_MEDIA_MAX_DURATION_SECONDS", 2 * 3600)
NGUON_MEDIA_MAX_UPLOAD_BYTES = env_int("NGUON_MEDIA_MAX_UPLOAD_BYTES", 2 * 1024**3)
# A multipart request (an audio and a video upload and the form fields) declaring more is
# answered 413 before it is read (cms.errors.RequestSizeMiddleware).
NGUON_REQUEST_MAX_BYTES = env_int(
    "NGUON_REQUEST_MAX_BYTES", 2 * NGUON_MEDIA_MAX_UPLOAD_BYTES + DATA_UPLOAD_MAX_MEMORY_SIZE
)
# Delivery profiles are data (media/profiles.py DEFAULT_PROFILES); override any key, e.g.
# NGUON_MEDIA_PROFILES = {"loudspeaker": {"codec_args": [..., "96k", ...], "bitrate": 96000}}.
NGUON_MEDIA_PROFILES: dict = {}
# Which renditions each kind of asset gets (None = media.profiles.DEFAULT_KIND_PROFILES).
NGUON_MEDIA_KIND_PROFILES: dict = {}
# Local work folder of the media workers: the source fetched from an object store, ffmpeg's
# outputs before their atomic rename or upload. Empty: beside MEDIA_ROOT with local files (so
# the rename stays on one file system), the system's temporary folder with an object store.
NGUON_MEDIA_WORK_DIR = os.environ.get("NGUON_MEDIA_WORK_DIR", "")
# The Celery queue media jobs are sent to (routes send media.tasks.* to "media" too).
NGUON_MEDIA_QUEUE = os.environ.get("NGUON_MEDIA_QUEUE", "media")
# A processing claim whose heartbeat is older than this is taken over by another worker.
NGUON_MEDIA_LEASE_SECONDS = env_int("NGUON_MEDIA_LEASE_SECONDS", 120)
# Celery time limit: 300 s + duration x factor, per kind.
NGUON_MEDIA_TIME_FACTOR = {
    "audio": env_float("NGUON_MEDIA_TIME_FACTOR_AUDIO", 0.5),
    "video": env_float("NGUON_MEDIA_TIME_FACTOR_VIDEO", 4.0),
}
# Loudness: the largest gain applied to a quiet source; an output further than this from its
# target (LU) gets up to NGUON_MEDIA_CORRECT_PASSES corrective passes (0: none).
NGUON_MEDIA_MAX_GAIN_DB = env_float("NGUON_MEDIA_MAX_GAIN_DB", 40)
NGUON_MEDIA_CORRECT_ABOVE_LU = env_float("NGUON_MEDIA_CORRECT_ABOVE_LU", 0.5)
NGUON_MEDIA_CORRECT_PASSES = env_int("NGUON_MEDIA_CORRECT_PASSES", 3)
# Stills larger than this many pixels are refused (decompression bombs).
NGUON_MEDIA_MAX_IMAGE_PIXELS = WAGTAILIMAGES_MAX_IMAGE_PIXELS
# What Pillow here decodes (AVIF natively, HEIC through pillow-heif). Never "svg": an SVG
# is a document that can carry script, not a picture.
WAGTAILIMAGES_EXTENSIONS = ["avif", "gif", "jpg", "jpeg", "png", "webp", "heic"]
# Text-to-speech engine (dotted path to a media.tts.TTSEngine subclass), voice and speed.
NGUON_TTS_ENGINE = os.environ.get("NGUON_TTS_ENGINE", "media.tts.EspeakNGEngine")
NGUON_TTS_VOICE = os.environ.get("NGUON_TTS_VOICE", "vi")
NGUON_TTS_SPEED = env_int("NGUON_TTS_SPEED", 150)
CELERY_BEAT_SCHEDULE["media-recover-abandoned"] = {
    "task": "media.tasks.assets_recover_abandoned",
    "schedule": 120.0,
}
# (broadcast) -----------------------------------------------------------------------------
# The device API answers an unchanged timeline from the cache alone (token → device,
# timeline versions): Redis when CACHE_URL or REDIS_URL names one; else files under
# var/cache/ (or CACHE_URL=file:///path), which the web server, the Celery worker and beat
# of `make run` share, so a change made by one process (a loudspeaker MP3 made by the
# worker) changes the timeline's ETag the others answer with. locmem: CACHE_URL=locmem://.
LOCMEM_CACHE = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "nguon-default",
    "OPTIONS": {"MAX_ENTRIES": 200_000},
}
_cache_url = os.environ.get("CACHE_URL") or os.environ.get("REDIS_URL", "")
if _cache_url.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {
        "default": {
            "BACKEND": "core.cache.RedisCache",
            "LOCATION": _cache_url,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "nguon"),
        }
    }
elif _cache_url.startswith("locmem://"):
    CACHES = {"default": dict(LOCMEM_CACHE)}
elif _cache_url and not _cache_url.startswith("file://"):
    raise ImproperlyConfigured(
        "CACHE_URL must start with redis://, rediss://, unix://, file:// or locmem:// "
        f"(got {_cache_url.split('://')[0]!r})"
    )
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": _cache_url.removeprefix("file://") or str(VAR_DIR / "cache"),
            "OPTIONS": {"MAX_ENTRIES": 20_000},
        }
    }
# With a Redis cache, each web process keeps device identities and timeline versions in
# memory, invalidated over Redis pub/sub (broadcast.device_api.cache.LocalLayer): an unchanged
# timeline is answered without a network round trip. "0" turns the layer off.
BROADCAST_LOCAL_CACHE = env_bool("BROADCAST_LOCAL_CACHE", True)
# Minutes without heartbeat before a device shows offline / before an alert opens.
BROADCAST_OFFLINE_AFTER_MINUTES = env_int("BROADCAST_OFFLINE_AFTER_MINUTES", 3)
BROADCAST_OFFLINE_ALERT_MINUTES = env_int("BROADCAST_OFFLINE_ALERT_MINUTES", 15)
BROADCAST_TIMELINE_HOURS = 48
BROADCAST_PLAYLOG_MAX_BATCH = env_int("BROADCAST_PLAYLOG_MAX_BATCH", 500)
# Push to devices over MQTT when MQTT_URL names a broker (Mosquitto); else devices poll.
MQTT_URL = os.environ.get("MQTT_URL", "")
BROADCAST_MQTT_TOPIC_PREFIX = os.environ.get("BROADCAST_MQTT_TOPIC_PREFIX", "nguon/devices")
# Heartbeats: "auto" buffers them in Redis when the cache is Redis and writes them in bulk
# every BROADCAST_HEARTBEAT_FLUSH_SECONDS (broadcast.device_api.heartbeats); "off" writes each one.
BROADCAST_HEARTBEAT_BUFFER = os.environ.get("BROADCAST_HEARTBEAT_BUFFER", "auto")
BROADCAST_HEARTBEAT_FLUSH_SECONDS = env_float("BROADCAST_HEARTBEAT_FLUSH_SECONDS", 10)
if CACHES["default"]["BACKEND"] == "core.cache.RedisCache":  # nothing to flush otherwise
    CELERY_BEAT_SCHEDULE["broadcast-heartbeats-flush"] = {
        "task": "broadcast.tasks.heartbeats_flush",
        "schedule": BROADCAST_HEARTBEAT_FLUSH_SECONDS,
    }
CELERY_BEAT_SCHEDULE["broadcast-offline-alerts"] = {
    "task": "broadcast.tasks.devices_check_offline",
    "schedule": 60.0,
}
# Live broadcasting and relays through Icecast 2 (broadcast.live). ICECAST_URL is where
# devices listen (and the server sends its sources); unset: `manage.py serve` starts one when
# icecast2 is installed (ICECAST_BINARY), else live broadcasting is off and says so.
ICECAST_URL = os.environ.get("ICECAST_URL", "").rstrip("/")
ICECAST_SOURCE_USER = os.environ.get("ICECAST_SOURCE_USER", "source")
ICECAST_SOURCE_PASSWORD = os.environ.get("ICECAST_SOURCE_PASSWORD", "nguon-dev-source")
ICECAST_ADMIN_PASSWORD = os.environ.get("ICECAST_ADMIN_PASSWORD", "nguon-dev-admin")
ICECAST_BINARY = os.environ.get("ICECAST_BINARY", "icecast2")
ICECAST_PORT = env_int("ICECAST_PORT", 8010)
# Listeners one Icecast accepts in all (the server's protection) and per mount.
ICECAST_MAX_LISTENERS = env_int("ICECAST_MAX_LISTENERS", 2000)
# Where the Icecast started by `manage.py serve` keeps its configuration (relays are
# written there and Icecast is told to re-read it).
ICECAST_CONFIG_DIR = Path(os.environ.get("ICECAST_CONFIG_DIR", VAR_DIR / "icecast"))
# Seconds without audio from the browser before a live broadcast ends on every device.
BROADCAST_LIVE_SOURCE_TIMEOUT = env_float("BROADCAST_LIVE_SOURCE_TIMEOUT", 5)
# A normal live broadcast waits at most this long for the bulletin on air, else is refused.
BROADCAST_LIVE_MAX_WAIT_SECONDS = env_int("BROADCAST_LIVE_MAX_WAIT_SECONDS", 120)
# The live entry's length in the timeline until it is stopped (it ends when stopped).
BROADCAST_LIVE_MAX_SECONDS = env_int("BROADCAST_LIVE_MAX_SECONDS", 2 * 3600)
# More than this many bytes a second from a browser is not a microphone: cut off.
BROADCAST_LIVE_MAX_BYTES_PER_SECOND = env_int("BROADCAST_LIVE_MAX_BYTES_PER_SECOND", 64_000)
# A relay silent or without source longer than this raises a monitoring alert.
BROADCAST_RELAY_ALERT_SECONDS = env_int("BROADCAST_RELAY_ALERT_SECONDS", 30)
CELERY_BEAT_SCHEDULE["broadcast-relays-check"] = {
    "task": "broadcast.tasks.relays_check",
    "schedule": 15.0,
}
# (syndication) ---------------------------------------------------------------------------
# Absolute links in pushes and feeds built outside a request (ninjs renditions, hrefs).
SYNDICATION_BASE_URL = os.environ.get("SYNDICATION_BASE_URL", WAGTAILADMIN_BASE_URL)
# Feed validators are re-read at most this often per process (0: on every request).
SYNDICATION_FEED_STATE_TTL = env_float("SYNDICATION_FEED_STATE_TTL", 1)
# Push defaults (each subscriber may override them in the admin).
SYNDICATION_PUSH_MAX_ATTEMPTS = env_int("SYNDICATION_PUSH_MAX_ATTEMPTS", 10)
SYNDICATION_PUSH_TIMEOUT_SECONDS = env_float("SYNDICATION_PUSH_TIMEOUT_SECONDS", 10)
SYNDICATION_PUSH_RETRY_BASE_SECONDS = env_float("SYNDICATION_PUSH_RETRY_BASE_SECONDS", 30)
SYNDICATION_PUSH_RETRY_MAX_SECONDS = env_float("SYNDICATION_PUSH_RETRY_MAX_SECONDS", 3600)
# At most this much of a receiver's answer is read (the rest is never downloaded).
SYNDICATION_PUSH_MAX_RESPONSE_BYTES = env_int("SYNDICATION_PUSH_MAX_RESPONSE_BYTES", 64 * 1024)
# Delivered or failed deliveries are kept this long in the log, then pruned by the sweeper.
SYNDICATION_DELIVERY_RETENTION_DAYS = env_int("SYNDICATION_DELIVERY_RETENTION_DAYS", 90)
# The beat sweeper re-dispatches due or stuck deliveries and fans out missed publications.
SYNDICATION_SWEEP_SECONDS = env_float("SYNDICATION_SWEEP_SECONDS", 30)
# Upstream ingest: how often beat looks for sources due a poll; the largest document read.
SYNDICATION_INGEST_TICK_SECONDS = env_float("SYNDICATION_INGEST_TICK_SECONDS", 60)
SYNDICATION_INGEST_MAX_BYTES = env_int("SYNDICATION_INGEST_MAX_BYTES", 10 * 1024 * 1024)
SYNDICATION_INGEST_TIMEOUT_SECONDS = env_float("SYNDICATION_INGEST_TIMEOUT_SECONDS", 30)
# Pushes and ingest connect only to globally routable addresses (checked after resolving the
# name at send time), except inside these networks (CIDR, comma separated): a province's own
# network where its receivers or sources live, e.g. "10.20.0.0/16".
SYNDICATION_ALLOWED_NETWORKS = env_list("SYNDICATION_ALLOWED_NETWORKS")
CELERY_BEAT_SCHEDULE["syndication-deliveries-sweep"] = {
    "task": "syndication.tasks.deliveries_sweep",
    "schedule": SYNDICATION_SWEEP_SECONDS,
}
CELERY_BEAT_SCHEDULE["syndication-sources-poll"] = {
    "task": "syndication.tasks.sources_poll_due",
    "schedule": SYNDICATION_INGEST_TICK_SECONDS,
}
# (portal) --------------------------------------------------------------------------------
# Seconds browsers and proxies may keep a portal page (Cache-Control: public, max-age).
NGUON_PORTAL_MAX_AGE = env_int("NGUON_PORTAL_MAX_AGE", 60)
# Seconds a rendered portal page is served from the cache (portal/cache.py; 0 = off).
# Publication, correction, withdrawal and edits retire cached pages at once.
NGUON_PORTAL_PAGE_CACHE = env_int("NGUON_PORTAL_PAGE_CACHE", 300)
# (search) --------------------------------------------------------------------------------
# Elasticsearch when ELASTICSEARCH_URL names one, else the embedded backend (docs/search.md).
ELASTICSEARCH_URL = os.environ.get("ELASTICSEARCH_URL", "")
NGUON_SEARCH_BACKEND = (
    "search.backends.elasticsearch.ElasticsearchBackend"
    if ELASTICSEARCH_URL
    else "search.backends.embedded.EmbeddedBackend"
)
NGUON_SEARCH_INDEX = os.environ.get("NGUON_SEARCH_INDEX", "nguon-items")
# (reports / operations) ------------------------------------------------------------------
# Failed admin logins per client address and per user name (cache-based, 429 past the limit).
NGUON_LOGIN_MAX_FAILURES = env_int("NGUON_LOGIN_MAX_FAILURES", 10)
NGUON_LOGIN_WINDOW_SECONDS = env_int("NGUON_LOGIN_WINDOW_SECONDS", 900)
NGUON_LOGIN_PATHS = ["/admin/login/"]
NGUON_TRUST_X_FORWARDED_FOR = env_bool("NGUON_TRUST_X_FORWARDED_FOR", False)
# Content-Security-Policy for HTML (empty: none). Production sets both; see production.py.
NGUON_CSP = os.environ.get("NGUON_CSP", "")
NGUON_CSP_ADMIN = os.environ.get("NGUON_CSP_ADMIN", "")
# /readyz fails when the media folder has less free space than this.
NGUON_READYZ_MIN_FREE_MB = env_int("NGUON_READYZ_MIN_FREE_MB", 100)
# The key backup manifests are signed with (restore refuses a manifest it does not verify);
# empty: SECRET_KEY. Set it where backups are restored on another site or after a key change.
NGUON_BACKUP_SIGNING_KEY = os.environ.get("NGUON_BACKUP_SIGNING_KEY", "")
# Backups (manage.py backup): where they go by default.
NGUON_BACKUP_DIR = Path(os.environ.get("NGUON_BACKUP_DIR", VAR_DIR / "backups"))
