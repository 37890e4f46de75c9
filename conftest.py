"""Project-wide pytest set-up: required services, the real Celery worker, and factories.

``NGUON_REQUIRE_SERVICES`` (comma separated: postgres, redis, worker) makes tests that need
one of those services fail instead of skip; CI sets it so a missing service is red.
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.support import require


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
        Page.add_root(
            instance=Page(title="Gốc", draft_title="Gốc", slug="root", locale=locale, live=True)
        )
    if not Collection.objects.exists():
        Collection.add_root(name="Gốc")
    importlib.import_module("cms.migrations.0002_create_homepage").create_homepage(
        apps, None, app_label="portal"
    )
    importlib.import_module("newsroom.migrations.0002_seed_categories").seed(apps, None)
    from core.identity import identity_forget

    identity_forget()  # cached per process; a flushed database has no identity


@pytest.fixture(autouse=True)
def _base_data(request):
    """Every database test starts with the migrations' data, whatever ran before it."""
    if not request.node.get_closest_marker("django_db"):
        return
    request.getfixturevalue("db")
    seed_base_data()


SESSION_WORKER_NAME = f"session@{socket.gethostname()}"
_session_worker: list[subprocess.Popen] = []


def _workers_busy() -> str:
    """Why the broker or the session worker is not quiet yet ("" when it is): messages
    waiting in a queue, or tasks the worker is running, holds in reserve or has scheduled."""
    from cms.celery import app

    consumer = bool(_session_worker) and _session_worker[0].poll() is None
    with app.connection_for_write() as conn:
        channel = conn.default_channel
        waiting = {}
        for queue in settings.CELERY_TASK_QUEUES_ALL:
            if consumer:
                waiting[queue] = channel.queue_declare(queue).message_count
            else:  # nobody will run them: drop them rather than leak them into later tests
                channel.queue_purge(queue)
    waiting = {q: n for q, n in waiting.items() if n}
    if waiting:
        return f"messages waiting: {waiting}"
    if (busy := _other_sessions_busy()) or not consumer:
        return busy
    inspect = app.control.inspect(destination=[SESSION_WORKER_NAME], timeout=1.0, limit=1)
    for what in ("active", "reserved", "scheduled"):
        # A solo worker answers only between tasks: no answer means it is busy.
        replies = getattr(inspect, what)() or {}
        if replies.get(SESSION_WORKER_NAME) is None:
            return f"the session worker did not answer {what}()"
        if replies[SESSION_WORKER_NAME]:
            return f"the session worker has {len(replies[SESSION_WORKER_NAME])} {what} task(s)"
    return ""


def _other_sessions_busy() -> str:
    """PostgreSQL sessions on the test database, other than this one, that are running a
    statement or hold a transaction open (a worker's task, or what a killed one left)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return ""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT state, left(query, 80) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND backend_type = 'client backend'"
            " AND state IN ('active', 'idle in transaction', 'idle in transaction (aborted)')"
        )
        rows = cursor.fetchall()
    return f"other database sessions busy: {rows}" if rows else ""


@pytest.fixture(autouse=True)
def _workers_quiet_before_flush(request):
    """After a test that ran tasks through the broker, wait until nothing is queued or running
    before the transactional test's flush. A task still writing (the search index of items a
    test published, say) can deadlock with the flush's TRUNCATE; the flush then fails and
    leaves the rows behind for every later test."""
    if not request.node.get_closest_marker("worker"):
        yield
        return
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        yield
        return
    request.getfixturevalue("_django_db_helper")  # set up first, so torn down after this
    yield
    deadline = time.monotonic() + 120
    while (busy := _workers_busy()) and time.monotonic() < deadline:
        time.sleep(0.2)
    if busy:
        pytest.fail(f"the Celery workers were still busy 120 s after the test: {busy}")


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
                "-n",
                SESSION_WORKER_NAME,
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
    _session_worker.append(proc)
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
