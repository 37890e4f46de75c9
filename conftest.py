"""Project-wide pytest set-up: required services, the real Celery worker, and factories.

``NGUON_REQUIRE_SERVICES`` (comma separated: postgres, redis, worker) makes tests that need
one of those services fail instead of skip; CI sets it so a missing service is red.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

REQUIRED = {s.strip() for s in os.environ.get("NGUON_REQUIRE_SERVICES", "").split(",") if s.strip()}


def require(service: str, available: bool, reason: str) -> None:
    """Skip when ``service`` is missing, or fail if the run requires it."""
    if available:
        return
    if service in REQUIRED:
        pytest.fail(f"{service} is required by NGUON_REQUIRE_SERVICES but {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _check_markers(request):
    if request.node.get_closest_marker("postgres"):
        require(
            "postgres",
            "postgresql" in settings.DATABASES["default"]["ENGINE"],
            "DATABASE_URL does not name a PostgreSQL database",
        )
    if request.node.get_closest_marker("redis"):
        require(
            "redis",
            settings.CELERY_BROKER_URL.startswith("redis://"),
            "CELERY_BROKER_URL does not name a Redis server",
        )


def seed_base_data() -> None:
    """Recreate, the migrations' way, the rows data migrations write (Wagtail's root page and
    root collection, the portal home page and site, the seeded categories). A transactional
    test ends with a flush that removes them; every later test must still find them."""
    import importlib

    from django.apps import apps
    from wagtail.models import Collection, Locale, Page

    if not Page.objects.filter(depth=1).exists():
        locale, _ = Locale.objects.get_or_create(language_code="vi")
        Page.add_root(instance=Page(title="Root", slug="root", locale=locale, live=True))
    if not Collection.objects.exists():
        Collection.add_root(name="Root")
    importlib.import_module("cms.migrations.0002_create_homepage").create_homepage(apps, None)
    importlib.import_module("newsroom.migrations.0002_seed_categories").seed(apps, None)


@pytest.fixture(autouse=True)
def _base_data(request):
    """Every database test starts with the migrations' data, whatever ran before it."""
    if not request.node.get_closest_marker("django_db"):
        return
    request.getfixturevalue("db")
    seed_base_data()


@pytest.fixture(scope="session")
def _worker_process(django_db_setup, django_db_blocker, tmp_path_factory):
    """A real ``celery worker`` process sharing the test database and files."""
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "cms.settings.test"
    env["NGUON_TEST_VAR_DIR"] = os.environ["NGUON_TEST_VAR_DIR"]
    if db["ENGINE"] == "django.db.backends.sqlite3":
        env["NGUON_WORKER_DB_NAME"] = str(db["NAME"])
    else:
        env["NGUON_WORKER_DB_NAME"] = db["NAME"]  # the test_… database pytest-django made
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "cms",
                "worker",
                "--pool",
                "solo",
                "-Q",
                ",".join(settings.CELERY_TASK_QUEUES_ALL),
                "--loglevel",
                "INFO",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=Path(settings.BASE_DIR),
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("celery worker exited at start:\n" + log.read_text()[-3000:])
        if b"ready." in log.read_bytes():
            break
        time.sleep(0.3)
    else:
        proc.terminate()
        raise RuntimeError("celery worker did not become ready:\n" + log.read_text()[-3000:])
    yield proc, log
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def celery_worker(_worker_process, settings):
    """Send tasks to the broker (not in-process) for the duration of a test."""
    from cms.celery import app

    proc, log = _worker_process
    if proc.poll() is not None:
        pytest.fail("celery worker died:\n" + log.read_text()[-3000:])
    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    yield proc, log
    app.conf.task_always_eager = True


def wait_for(predicate, *, timeout: float = 60, interval: float = 0.25, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
