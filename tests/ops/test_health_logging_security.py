"""Operations: readiness detail, request and task ids in logs, CSP and login throttling."""

import io
import json
import logging
import os
import subprocess
import sys
import time

import pytest
from django.core.cache import cache
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings

from cms.logging import ContextFilter, JsonFormatter, request_id_var
from cms.middleware import (
    ContentSecurityPolicyMiddleware,
    LoginRateLimitMiddleware,
    RequestIDMiddleware,
)
from reports.tasks import ops_echo
from tests.factories import make_user
from tests.support import wait_for

pytestmark = pytest.mark.django_db


def test_readyz_details_database_broker_search_and_storage_to_staff():
    client = Client()
    client.force_login(make_user("truc_ky_thuat", is_staff=True))
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "broker", "search", "storage"}
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["storage"]["free_mb"] > 0


def test_readyz_tells_a_stranger_only_what_is_ready(settings):
    body = Client().get("/readyz").json()
    assert body == {
        "status": "ready",
        "checks": {name: {"ok": True} for name in ("database", "broker", "search", "storage")},
    }
    settings.NGUON_READYZ_MIN_FREE_MB = 10**9
    refused = Client().get("/readyz")
    assert refused.status_code == 503
    assert refused.json()["checks"]["storage"] == {"ok": False}  # no path, no free space


def test_healthz_tells_a_stranger_only_what_is_up_and_staff_everything():
    """Same address, statuses and keys as before; a stranger no longer reads the database
    vendor, broker transport, search backend, timings or error text."""
    body = Client().get("/healthz").json()
    assert body == {
        "status": "ok",
        "checks": {name: {"ok": True} for name in ("database", "queue", "search")},
    }
    staff = Client()
    staff.force_login(make_user("truc_ban", is_staff=True))
    checks = staff.get("/healthz").json()["checks"]
    assert checks["database"]["vendor"] and checks["queue"]["transport"]
    assert checks["search"]["backend"] and all("ms" in c for c in checks.values())


def test_readyz_does_not_write_a_file_for_every_anonymous_call(settings, tmp_path):
    from cms import health

    settings.MEDIA_ROOT = tmp_path / "media"
    health._last_write["at"] = None
    client = Client()
    assert client.get("/readyz").status_code == 200  # the first call tests a write
    folder = tmp_path / "media" / "readyz"
    before = folder.stat().st_mtime_ns  # every file made or removed there changes it
    time.sleep(0.01)
    for _ in range(20):
        assert client.get("/readyz").status_code == 200
    assert folder.stat().st_mtime_ns == before and list(folder.iterdir()) == []


def test_readyz_reports_a_full_media_folder_as_not_ready(settings):
    settings.NGUON_READYZ_MIN_FREE_MB = 10**9  # more than any disk here
    staff = Client()
    staff.force_login(make_user("truc_dia", is_staff=True))
    response = staff.get("/readyz")
    assert response.status_code == 503
    storage = response.json()["checks"]["storage"]
    assert storage["ok"] is False and "MB free" in storage["error"]


def test_readyz_checks_mqtt_when_configured(settings):
    settings.MQTT_URL = os.environ.get("NGUON_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")
    body = Client().get("/readyz").json()
    if not body["checks"]["mqtt"]["ok"] and "NGUON_TEST_MQTT_URL" not in os.environ:
        pytest.skip("no MQTT broker on 127.0.0.1:1883: " + body["checks"]["mqtt"]["error"])
    assert body["checks"]["mqtt"]["ok"], body
    settings.MQTT_URL = "mqtt://127.0.0.1:1"  # nothing listens there
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["mqtt"]["ok"] is False


def test_every_response_carries_a_request_id_and_honours_the_proxys():
    client = Client()
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert len(first) == 32 and first != second
    assert client.get("/", HTTP_X_REQUEST_ID="nginx-42.abc")["X-Request-ID"] == "nginx-42.abc"
    # A header that could forge log lines is replaced, not echoed.
    forged = client.get("/", HTTP_X_REQUEST_ID="x\ny")["X-Request-ID"]
    assert forged != "x\ny" and len(forged) == 32


def _json_handler():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter())
    return stream, handler


def test_json_log_lines_carry_the_request_id():
    stream, handler = _json_handler()
    log = logging.getLogger("nguon.test.request")
    log.addHandler(handler)
    log.setLevel(logging.INFO)

    def view(request):
        log.info("xử lý yêu cầu", extra={"unit": "90001"})
        return HttpResponse("ok")

    try:
        request = RequestFactory().get("/", HTTP_X_REQUEST_ID="req-123")
        response = RequestIDMiddleware(view)(request)
    finally:
        log.removeHandler(handler)
    record = json.loads(stream.getvalue().splitlines()[0])
    assert response["X-Request-ID"] == "req-123"
    assert record["request_id"] == "req-123"
    assert record["message"] == "xử lý yêu cầu" and record["unit"] == "90001"
    assert record["level"] == "INFO" and record["time"].endswith("+00:00")


def test_json_log_lines_inside_a_task_carry_the_task_id():
    stream, handler = _json_handler()
    log = logging.getLogger("reports.tasks")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        result = ops_echo.apply(args=["kiểm tra"])
    finally:
        log.removeHandler(handler)
    record = json.loads(stream.getvalue().splitlines()[0])
    assert record["task_id"] == result.id
    assert record["task_name"] == "reports.tasks.ops_echo"


def test_log_format_json_makes_every_line_json():
    env = dict(os.environ, LOG_FORMAT="json")
    code = "import logging; logging.getLogger('nguon.x').warning('xin chào')"
    proc = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stderr.splitlines() if line.strip()]
    assert {"logger": "nguon.x", "message": "xin chào", "level": "WARNING"}.items() <= lines[
        -1
    ].items()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_task_queued_by_a_request_logs_with_the_request_and_task_ids(celery_worker):
    _proc, log_path = celery_worker
    queued = {}

    def view(request):
        queued["task"] = ops_echo.delay("từ yêu cầu")
        return HttpResponse("ok")

    request = RequestFactory().get("/", HTTP_X_REQUEST_ID="req-worker-7")
    RequestIDMiddleware(view)(request)
    assert request_id_var.get() == ""  # reset after the request
    task_id = queued["task"].id
    line = wait_for(
        lambda: next(
            (ln for ln in log_path.read_text().splitlines() if "ops echo từ yêu cầu" in ln), None
        ),
        timeout=60,
        what="the worker's log line",
    )
    assert "req=req-worker-7" in line and f"task={task_id}" in line


@override_settings(NGUON_CSP="default-src 'self'", NGUON_CSP_ADMIN="default-src 'self' x")
def test_content_security_policy_on_portal_html_and_admin():
    factory = RequestFactory()
    middleware = ContentSecurityPolicyMiddleware(
        lambda r: HttpResponse("<p>x</p>", content_type="text/html; charset=utf-8")
    )
    assert middleware(factory.get("/"))["Content-Security-Policy"] == "default-src 'self'"
    admin = middleware(factory.get("/admin/"))
    assert admin["Content-Security-Policy"] == "default-src 'self' x"
    json_mw = ContentSecurityPolicyMiddleware(
        lambda r: HttpResponse("{}", content_type="application/json")
    )
    assert "Content-Security-Policy" not in json_mw(factory.get("/api/v1/x"))


def test_production_policy_allows_local_media_and_forbids_foreign_scripts():
    env = {"SECRET_KEY": "x" * 10 + "abcdefghijklmnopqrstuvwxyz0123456789", "ALLOWED_HOSTS": "x"}
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings as s;"
            "print(s.NGUON_CSP)",
        ],
        env=dict(os.environ, DJANGO_SETTINGS_MODULE="cms.settings.production", **env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    policy = proc.stdout.strip()
    assert "script-src 'self'" in policy and "object-src 'none'" in policy
    assert "media-src 'self' blob:" in policy  # the audio player plays local files


@override_settings(NGUON_LOGIN_MAX_FAILURES=3, NGUON_LOGIN_WINDOW_SECONDS=60)
def test_admin_login_is_throttled_after_repeated_failures():
    cache.clear()
    make_user("duyet", is_staff=True, is_superuser=True)
    client = Client()
    try:
        for _ in range(3):
            response = client.post(
                "/admin/login/", {"username": "duyet", "password": "sai-mat-khau"}
            )
            assert response.status_code == 200  # the form again, with an error
        blocked = client.post("/admin/login/", {"username": "duyet", "password": "x"})
        assert blocked.status_code == 429
        assert "Retry-After" in blocked
        assert "Đăng nhập sai quá nhiều lần" in blocked.content.decode()
        # Another address trying another account is not blocked.
        other = Client(REMOTE_ADDR="10.0.0.9")
        ok = other.post("/admin/login/", {"username": "khac", "password": "x"})
        assert ok.status_code == 200
    finally:
        cache.clear()


def test_login_throttle_is_off_when_the_limit_is_zero():
    with override_settings(NGUON_LOGIN_MAX_FAILURES=0):
        from django.core.exceptions import MiddlewareNotUsed

        with pytest.raises(MiddlewareNotUsed):
            LoginRateLimitMiddleware(lambda r: HttpResponse())
