"""``/healthz`` and ``/readyz``: JSON state of the services the site depends on.

``/healthz`` (database, task queue, search) is what the CI smoke test and simple monitors
poll: three round trips, nothing written. ``/readyz`` adds what a load balancer should know
before sending traffic: the broker, file storage (writable, free space) and, when
``MQTT_URL`` is set, the MQTT broker. Both answer 200 when every check passes and 503 otherwise.

``/readyz`` is cheap and discreet for anyone: free space is read on every call (no write),
the storage write test runs at most once per ``STORAGE_WRITE_INTERVAL`` seconds per process
(a failure is retried at the next call), and a caller who is not signed-in staff sees only
each check's ``ok`` (no free space, no error text, no backend names). ``/healthz`` says as
little to strangers (its address, statuses and ``status``/``checks`` keys are unchanged).
"""

import os
import shutil
import threading
import time
import uuid
from urllib.parse import urlparse

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from search.backends import get_backend

from .celery import app as celery_app


def _timed(check):
    started = time.perf_counter()
    try:
        detail = check() or {}
        ok = True
    except Exception as exc:  # noqa: BLE001 - a health check reports any failure
        detail, ok = {"error": f"{type(exc).__name__}: {exc}"[:300]}, False
    return {"ok": ok, "ms": round((time.perf_counter() - started) * 1000, 1), **detail}


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"vendor": connection.vendor}


def _queue():
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
        transport = conn.transport_cls
    return {"transport": str(transport)}


def _search():
    backend = get_backend()
    return {"backend": backend.name, **backend.ping()}


# Seconds between two write tests of the storage (per process); a failed test is not kept.
STORAGE_WRITE_INTERVAL = 60.0
_last_write = {"at": None}
_write_lock = threading.Lock()


def _storage_write() -> None:
    with _write_lock:
        at = _last_write["at"]
        if at is not None and time.monotonic() - at < STORAGE_WRITE_INTERVAL:
            return
        name = default_storage.save(f"readyz/{uuid.uuid4().hex}.txt", ContentFile(b"ok"))
        default_storage.delete(name)
        _last_write["at"] = time.monotonic()


def _storage():
    """Default storage accepts a write (tested at most every STORAGE_WRITE_INTERVAL); on a
    local folder, report free space too."""
    minimum = int(settings.NGUON_READYZ_MIN_FREE_MB)
    detail = {"backend": type(default_storage).__name__}
    location = getattr(default_storage, "location", None)
    if location:
        os.makedirs(location, exist_ok=True)
        usage = shutil.disk_usage(location)
        detail["free_mb"] = usage.free // (1024 * 1024)
        if detail["free_mb"] < minimum:
            raise OSError(f"only {detail['free_mb']} MB free in {location} (< {minimum} MB)")
    _storage_write()
    return detail


def _mqtt():
    """Connect to ``MQTT_URL`` (mqtt:// or mqtts://) and disconnect."""
    import paho.mqtt.client as mqtt

    url = urlparse(settings.MQTT_URL)
    tls = url.scheme in {"mqtts", "ssl"}
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=f"nguon-readyz-{uuid.uuid4().hex[:8]}"
    )
    if url.username:
        client.username_pw_set(url.username, url.password)
    if tls:
        client.tls_set()
    client.connect(url.hostname or "127.0.0.1", url.port or (8883 if tls else 1883), 5)
    try:
        rc = client.loop(timeout=2)
        if rc != mqtt.MQTT_ERR_SUCCESS:
            raise ConnectionError(mqtt.error_string(rc))
    finally:
        client.disconnect()
    return {"host": url.hostname, "port": url.port or (8883 if tls else 1883)}


@never_cache
@require_GET
def readyz(request):
    checks = {
        "database": _timed(_database),
        "broker": _timed(_queue),
        "search": _timed(_search),
        "storage": _timed(_storage),
    }
    if settings.MQTT_URL:
        checks["mqtt"] = _timed(_mqtt)
    ok = all(check["ok"] for check in checks.values())
    return JsonResponse(
        {"status": "ready" if ok else "not ready", "checks": _for(request, checks)},
        status=200 if ok else 503,
    )


def _for(request, checks: dict) -> dict:
    """Every detail for signed-in staff; only each check's ``ok`` for anyone else (no
    timings, versions, backend names, free space or error text for a stranger to map)."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_staff:
        return checks
    return {name: {"ok": check["ok"]} for name, check in checks.items()}


@never_cache
@require_GET
def healthz(request):
    checks = {"database": _timed(_database), "queue": _timed(_queue), "search": _timed(_search)}
    ok = all(check["ok"] for check in checks.values())
    return JsonResponse(
        {"status": "ok" if ok else "degraded", "checks": _for(request, checks)},
        status=200 if ok else 503,
    )
