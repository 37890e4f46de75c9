"""The outage drill: a subscriber's receiver refuses connections, then answers 500, then
hangs past the timeout, then recovers; meanwhile 200 items are published and the Celery
worker sending them is SIGKILLed once. Afterwards every item reached the receiver exactly
once by its dedupe, in publication order."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from django.utils import timezone

from newsroom.models import NewsItem
from syndication.models import Delivery
from tests.support import wait_for

from .helpers import make_subscriber, publish

ITEMS = 200


def start_process(args, log: Path) -> subprocess.Popen:
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "tests.syndication.worker_settings"
    env["NGUON_WORKER_DB_NAME"] = str(db["NAME"])
    env["SYNDICATION_SWEEP_SECONDS"] = "1"
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "cms", *args],
            cwd=Path(settings.BASE_DIR),
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def start_worker(log: Path, name: str) -> subprocess.Popen:
    offset = log.stat().st_size if log.exists() else 0
    proc = start_process(
        [
            "worker",
            "--pool",
            "solo",
            "-Q",
            "publish",
            "-n",
            f"{name}@%h",
            "--loglevel",
            "INFO",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        log,
    )
    deadline = time.monotonic() + 60
    while b"ready." not in log.read_bytes()[offset:]:
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("worker did not start:\n" + log.read_text()[-3000:])
        time.sleep(0.2)
    return proc


@pytest.fixture
def broker_not_eager(settings):
    from cms.celery import app

    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    yield
    app.conf.task_always_eager = True


@pytest.mark.slow
@pytest.mark.worker
@pytest.mark.timeout(300)
@pytest.mark.django_db(transaction=True)
def test_every_item_arrives_once_and_in_order_through_an_outage_and_a_killed_worker(
    units, receiver, broker_not_eager, tmp_path
):
    subscriber = make_subscriber(
        receiver,
        timeout_seconds=1,
        retry_base_seconds=0.3,
        retry_max_seconds=1.5,
        max_attempts=1000,
    )
    # A second subscriber whose receiver is fine all along: one outage blocks no one else.
    from .receiver import Receiver

    healthy = Receiver(secret="khoe")
    make_subscriber(healthy, "Tỉnh bạn", timeout_seconds=1)
    receiver.set_mode("refuse")
    log = tmp_path / "celery.log"
    beat = start_process(
        ["beat", "--schedule", str(tmp_path / "beat-schedule"), "--loglevel", "INFO"], log
    )
    first = start_worker(log, "eins")
    second = None
    killed = threading.Event()
    try:
        # The receiver's bad afternoon. Each phase lasts until the senders have met it (so
        # a slow machine cannot skip one), then a little longer.
        met: dict[str, bool] = {}

        def until(what, predicate, *, extra: float):
            deadline = time.monotonic() + 90
            while not predicate():
                if time.monotonic() > deadline:
                    met[what] = False
                    return
                time.sleep(0.05)
            met[what] = True
            time.sleep(extra)

        def requests_in(mode, n):
            return lambda: sum(r["mode"] == mode for r in receiver.requests) >= n

        def refused():
            return Delivery.objects.filter(last_error__contains="PushConnectError").exists()

        def outage():
            try:
                until("refuse", refused, extra=1.0)
                receiver.set_mode("status:500")
                until("500", requests_in("status:500", 2), extra=0.5)
                receiver.set_mode("hang")
                until("hang", requests_in("hang", 1), extra=1.5)  # past the 1 s timeout
            finally:
                receiver.set_mode("ok")
                connections.close_all()  # this thread's database connection

        timeline = threading.Thread(target=outage, daemon=True)
        timeline.start()

        # Kill the worker once it is busy delivering after the recovery.
        def killer():
            wait_for(
                lambda: len(receiver.seen) >= 20,
                timeout=120,
                interval=0.02,
                what="deliveries after the recovery",
            )
            first.send_signal(signal.SIGKILL)
            killed.set()

        assassin = threading.Thread(target=killer, daemon=True)
        assassin.start()

        items = []
        for i in range(ITEMS):
            item = NewsItem.objects.create(unit=units["ABC"[i % 3]], headline=f"Tin {i:03d}")
            items.append(publish(item, when=timezone.now()))

        assert killed.wait(120), "the worker was never killed"
        assert first.wait(10) == -signal.SIGKILL
        second = start_worker(log, "zwei")

        expected = [f"urn:uuid:{item.uuid}@1" for item in items]
        timeline.join(120)
        wait_for(
            lambda: len(receiver.seen) == ITEMS,
            timeout=90,
            interval=0.5,
            what=f"all {ITEMS} items at the receiver",
        )
        wait_for(
            lambda: len(healthy.seen) == ITEMS,
            timeout=60,
            interval=0.5,
            what=f"all {ITEMS} items at the healthy receiver",
        )
        wait_for(
            lambda: not Delivery.objects.exclude(state=Delivery.State.SUCCESS).exists(),
            timeout=30,
            what="every delivery marked delivered",
        )
    finally:
        if sys.exc_info()[0] is not None and log.exists():
            print("celery log (tail):\n" + log.read_text(errors="replace")[-6000:])
        healthy.stop()
        for proc in (first, second, beat):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()

    accepted = [r for r in receiver.requests if r["mode"] == "ok"]
    print(
        f"\noutage drill: {len(receiver.seen)} unique, {len(accepted)} accepted in total, "
        f"{len(receiver.requests)} requests reached the receiver"
    )
    assert len(receiver.seen) == ITEMS  # each exactly once after dedupe
    assert receiver.first_seen == expected  # in publication order
    assert len(accepted) >= ITEMS
    assert met == {"refuse": True, "500": True, "hang": True}  # the outage really was met
    assert receiver.bad_signatures == 0
    assert Delivery.objects.filter(subscriber=subscriber).count() == ITEMS
    assert healthy.first_seen == expected and healthy.bad_signatures == 0
