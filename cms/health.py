"""``/healthz``: JSON with the state of the database, the task queue and search."""

import time

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


@never_cache
@require_GET
def healthz(request):
    checks = {"database": _timed(_database), "queue": _timed(_queue), "search": _timed(_search)}
    ok = all(check["ok"] for check in checks.values())
    return JsonResponse(
        {"status": "ok" if ok else "degraded", "checks": checks}, status=200 if ok else 503
    )
