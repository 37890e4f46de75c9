"""The embedded cache (no Redis: files under var/cache/): every process of `make run` — the
web server, the Celery worker, beat — reads and writes the same timeline versions, so a
change one process makes is seen by the others (with per-process memory it was not, until
the hourly roll-over)."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import Client

from .helpers import bearer
from .test_device_api import schedule_daily, url

pytestmark = pytest.mark.django_db


def test_the_default_cache_without_redis_is_the_shared_file_cache(monkeypatch, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("CACHE_URL", "REDIS_URL")}
    env.update(NGUON_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="cms.settings.dev")
    proc = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings;"
         " c = settings.CACHES['default']; print(c['BACKEND'], c['LOCATION'])"],
        env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [
        "django.core.cache.backends.filebased.FileBasedCache",
        str(tmp_path / "cache"),
    ]


def test_an_unknown_cache_url_stops_the_start_with_a_clear_message(tmp_path):
    env = dict(os.environ, CACHE_URL="memcached://127.0.0.1:11211", NGUON_VAR_DIR=str(tmp_path),
               DJANGO_SETTINGS_MODULE="cms.settings.dev")  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "CACHE_URL must start with redis://" in proc.stderr and "'memcached'" in proc.stderr
    assert not (tmp_path / "cache").exists() and not any(tmp_path.glob("memcached*"))


def test_a_change_made_in_another_process_changes_the_etag(world, settings, tmp_path):
    location = tmp_path / "cache"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(location),
        }
    }
    device, token = world["devices"]["A1"]
    schedule_daily(world)
    client = Client()
    first = client.get(url(device, "timeline"), **bearer(token))
    assert first.status_code == 200
    again = client.get(url(device, "timeline"), HTTP_IF_NONE_MATCH=first["ETag"], **bearer(token))
    assert again.status_code == 304

    # Another OS process (as the worker does when an MP3 it made becomes playable) bumps
    # the version of the device's commune.
    env = dict(
        os.environ, CACHE_URL=f"file://{location}", DJANGO_SETTINGS_MODULE="cms.settings.test"
    )
    code = (
        "import django; django.setup();"
        "from broadcast.device_api import cache;"
        f"cache.versions_bump(['u{world['units']['A'].pk}'])"
    )
    proc = subprocess.run([sys.executable, "-c", code], env=env, cwd=settings.BASE_DIR,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert proc.returncode == 0, proc.stderr

    changed = client.get(url(device, "timeline"), HTTP_IF_NONE_MATCH=first["ETag"], **bearer(token))
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]
