"""Test settings: the real services named by the environment, isolated files.

With DATABASE_URL unset the suite runs on a file-backed SQLite database so that a real
Celery worker process (tests marked ``worker``) can share it.
"""

import os
import tempfile
from pathlib import Path

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
_test_var = Path(os.environ.get("NGUON_TEST_VAR_DIR") or tempfile.mkdtemp(prefix="nguon-test-"))
os.environ["NGUON_TEST_VAR_DIR"] = str(_test_var)
MEDIA_ROOT = _test_var / "media"
STATIC_ROOT = _test_var / "static"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["NAME"] = str(_test_var / "db.sqlite3")
    DATABASES["default"]["TEST"] = {"NAME": str(_test_var / "test-db.sqlite3")}
# A Celery worker started by the tests is pointed at the test database by name.
if os.environ.get("NGUON_WORKER_DB_NAME"):
    DATABASES["default"]["NAME"] = os.environ["NGUON_WORKER_DB_NAME"]
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_DIR = _test_var / "celery-broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "out"),
        "data_folder_out": str(CELERY_BROKER_DIR / "out"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
# Without Redis, each test process keeps its cache in memory (cleared per test where it
# matters); `tests/broadcast/test_file_cache.py` covers the shared file cache.
if not (os.environ.get("CACHE_URL") or os.environ.get("REDIS_URL")):
    CACHES = {"default": dict(LOCMEM_CACHE)}  # noqa: F405
# The suite's receivers and sources listen on this machine; tests/syndication/
# test_outbound.py empties the list to see every inward address refused.
SYNDICATION_ALLOWED_NETWORKS = ["127.0.0.0/8", "::1/128"]
# Tasks run in-process unless a test asks for the real worker (see tests/conftest.py).
CELERY_TASK_ALWAYS_EAGER = True
WAGTAILADMIN_BASE_URL = "http://testserver"

# Tests that publish rows directly and read pages again would read cached pages; the page
# cache's own tests (tests/portal/test_page_cache.py) turn it on.
NGUON_PORTAL_PAGE_CACHE = 0
