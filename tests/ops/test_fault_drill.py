"""Fault drill: workers killed mid-delivery, dropped database connections, a full disk.

In every case nothing already published is lost, the failure is visible where an operator
looks (the delivery's state and attempts, /readyz, the refused upload), and the system
recovers by itself or by an ordinary admin action — no database edits.

The worker killed during transcoding is drilled in ``tests/media/test_crash.py`` (the media
pipeline's own test, part of this drill in CI). The workers here are this file's own
``celery worker`` subprocesses on private queues, so killing one never touches the
session's shared worker.
"""

import errno
import hashlib
import os
import shutil
import signal
import subprocess
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from broadcast.services import programme_create
from media.models import MediaAsset, Rendition
from media.services import asset_create
from newsroom.models import NewsItem
from tests.factories import (
    make_audio,
    make_audio_asset,
    make_device,
    make_published_item,
    make_tree,
    make_upload,
    make_user,
)
from tests.support import wait_for
from tests.workers import start_worker, stop_worker

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def real_broker():
    """Send tasks to the broker for this test (the suite runs them in-process otherwise)."""
    from cms.celery import app

    app.conf.task_always_eager = False
    yield app
    app.conf.task_always_eager = True


# --- push delivery ------------------------------------------------------------------------


@pytest.mark.worker
def test_worker_killed_during_push_delivery_delivers_once_the_lease_expires(tmp_path, real_broker):
    from syndication import services as syndication
    from syndication.models import Delivery, Subscriber
    from syndication.tasks import subscriber_drain
    from tests.syndication.receiver import Receiver

    units = make_tree(three_level=True)
    receiver = Receiver(secret="bi-mat-dien-tap")
    receiver.mode = "hang"  # the national system accepts the connection, then stalls
    subscriber = Subscriber.objects.create(
        name="Hệ thống quốc gia (diễn tập)",
        endpoint_url=receiver.url,
        secret=receiver.secret,
        format=Subscriber.Format.NINJS,
        timeout_seconds=6,
        retry_base_seconds=1,
        retry_max_seconds=2,
    )
    item = make_published_item(units["A"], "Diễn tập: tin gửi đi khi worker bị tắt", version=1)
    queue = f"publish-drill-{uuid.uuid4().hex[:8]}"
    first = second = None
    try:
        syndication.deliveries_fanout_publish(item_id=item.pk, version=1)
        delivery = Delivery.objects.get(subscriber=subscriber)
        first = start_worker(queue, tmp_path / "worker-a.log")
        subscriber_drain.apply_async((subscriber.pk,), queue=queue)
        wait_for(lambda: receiver.requests, timeout=60, what="the push to reach the receiver")
        first.send_signal(signal.SIGKILL)  # mid-request: no answer, no ack, lease held
        first.wait(timeout=10)
        delivery.refresh_from_db()
        assert delivery.state == Delivery.State.IN_PROGRESS  # what the admin list shows
        assert item.pk in NewsItem.objects.filter(live=True).values_list("pk", flat=True)

        # The national system recovers; the dead worker's lease runs out on its own and the
        # sweep (beat) finds the subscriber due again.
        receiver.release.set()
        receiver.mode = "ok"
        wait_for(
            lambda: subscriber.pk in syndication.subscriber_ids_due(),
            timeout=60,
            what="the dead worker's lease to expire",
        )
        second = start_worker(queue, tmp_path / "worker-b.log")
        subscriber_drain.apply_async((subscriber.pk,), queue=queue)
        wait_for(
            lambda: Delivery.objects.filter(pk=delivery.pk, state=Delivery.State.SUCCESS).exists(),
            timeout=90,
            what="the delivery to succeed",
        )
    finally:
        receiver.release.set()
        for proc in (first, second):
            if proc is not None:
                stop_worker(proc)
        receiver.stop()
    delivery.refresh_from_db()
    assert delivery.attempts >= 2  # the lost attempt is counted, not hidden
    keys = [r["key"] for r in receiver.requests]
    assert len(keys) >= 2 and len(set(keys)) == 1  # the same idempotency key: no duplicate


# --- dropped database connections ---------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.worker
def test_dropped_database_connections_are_reopened_by_web_and_worker(
    tmp_path, real_broker, portal_home, live_server
):
    from urllib.request import urlopen

    from reports.tasks import ops_db_roundtrip

    units = make_tree(three_level=True)
    make_published_item(units["A"], "Tin đã xuất bản trước sự cố")
    queue = f"default-drill-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "worker.log"
    # Production settings: persistent connections with health checks.
    worker = start_worker(queue, log, DATABASE_CONN_MAX_AGE="600")
    try:
        ops_db_roundtrip.apply_async(("truoc",), queue=queue)
        wait_for(lambda: "ops db truoc 1" in log.read_text(), timeout=60, what="first task")
        assert urlopen(f"{live_server.url}/healthz", timeout=30).status == 200  # noqa: S310
        # A failover: every other connection to the database is cut (the web server's, the
        # worker's if it holds one — Celery closes its own after each task by default).
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            cursor.fetchall()
        for _ in range(3):
            with urlopen(f"{live_server.url}/healthz", timeout=30) as response:  # noqa: S310
                assert response.status == 200
        with urlopen(f"{live_server.url}/", timeout=30) as response:  # noqa: S310
            assert "Tin đã xuất bản trước sự cố" in response.read().decode()
        ops_db_roundtrip.apply_async(("sau",), queue=queue)
        wait_for(lambda: "ops db sau 1" in log.read_text(), timeout=60, what="task after drop")
        assert "OperationalError" not in log.read_text()
    finally:
        stop_worker(worker)


# --- a full media disk --------------------------------------------------------------------


@pytest.fixture
def small_media_disk(tmp_path, settings):
    """MEDIA_ROOT on a 3 MB tmpfs (root), so the disk really fills up."""
    mount = tmp_path / "media-small"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m,mode=0755", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    settings.MEDIA_ROOT = mount
    settings.NGUON_MEDIA_WORK_DIR = str(mount / ".work")
    settings.NGUON_READYZ_MIN_FREE_MB = 1
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(folder: Path) -> Path:
    filler = folder / "filler.bin"
    with open(filler, "wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_full_media_disk_keeps_published_audio_refuses_uploads_and_recovers(
    tmp_path, small_media_disk
):
    units = make_tree(three_level=True)
    asset = make_audio_asset(tmp_path / "src", seconds=1.0)
    item = make_published_item(units["A"], "Bản tin trước khi đầy đĩa", audio=asset)
    mp3 = Rendition.objects.get(asset=asset, profile="loudspeaker", status="ready")
    device, token = make_device(units["A"], "LOA-DAY-DIA")
    programme_create(
        user=make_user("quantri-day-dia", is_superuser=True, is_staff=True),
        name="Bản tin sáng",
        targets=[{"unit": units["A"]}],
        slots=[{"starts_at": timezone.now() + timedelta(hours=1), "items": [item.pk]}],
    )
    filler = _fill(small_media_disk)
    client = Client()

    # The operator sees it: /readyz says storage is not ready (and why).
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["storage"]["ok"] is False

    # What was published and scheduled still plays: the loudspeaker downloads the full MP3.
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    entries = client.get(f"/api/v1/devices/{device.pk}/timeline", **auth).json()["entries"]
    listed = [p for e in entries for p in e["parts"]]
    assert [e["headline"] for e in listed] == [item.headline]
    data = b"".join(client.get(listed[0]["url"], **auth).streaming_content)
    assert hashlib.sha256(data).hexdigest() == mp3.sha256

    # A new upload is refused whole: no row, no partial file.
    before_rows, before_files = MediaAsset.objects.count(), _files(small_media_disk)
    wav = make_audio(tmp_path / "moi", seconds=20, channels=2)  # ~3.5 MB: cannot fit
    with pytest.raises(OSError) as refused:
        asset_create(upload=make_upload(wav), kind="audio")
    assert refused.value.errno in (errno.ENOSPC, errno.EFBIG)
    assert MediaAsset.objects.count() == before_rows
    # The partly written file (Django's FileSystemStorage leaves it on ENOSPC) is removed.
    assert _files(small_media_disk) == before_files

    # Space comes back (the operator grows or cleans the volume): everything works again.
    filler.unlink()
    assert client.get("/readyz").status_code == 200
    small = make_audio(tmp_path / "nho", seconds=1, channels=1)
    recovered = asset_create(upload=make_upload(small), kind="audio")
    recovered.refresh_from_db()
    assert Rendition.objects.filter(
        asset=recovered, profile="loudspeaker", status=Rendition.Status.READY
    ).exists()
