"""Crash safety with real worker processes: a worker killed with SIGKILL in the middle of a
transcode, then another started, ends with the asset processed exactly once, and no reader
ever sees a partial file under MEDIA_ROOT.

The workers here are this test's own (``celery worker`` subprocesses consuming a private
queue), so the test can kill one without touching the session's shared worker.
"""

import hashlib
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from media.ffmpeg import run_ffmpeg
from media.models import MediaAsset, Rendition
from media.services import asset_create
from tests.factories import make_upload
from tests.support import wait_for
from tests.workers import start_worker, stop_worker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker, pytest.mark.slow]


class Reader(threading.Thread):
    """Looks at the renditions folder every few milliseconds, as a web server would, and
    remembers the content of every file of one asset (names containing ``marker``, its
    uuid) it ever saw there. Other assets' renditions may share the folder (it is named by
    the first two hex digits of the uuid)."""

    def __init__(self, root: Path, marker: str):
        super().__init__(daemon=True)
        self.root, self.marker, self.seen, self.names = root, marker, {}, set()
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            for path in list(self.root.rglob("*")) if self.root.exists() else []:
                if self.marker not in path.name:
                    continue
                self.names.add(path.name)
                try:
                    st = path.stat()
                    if not path.is_file() or (st.st_ino, path.name) in self.seen:
                        continue
                    data = path.read_bytes()
                except OSError:
                    continue
                self.seen[(st.st_ino, path.name)] = hashlib.sha256(data).hexdigest()
            time.sleep(0.01)


def ffmpeg_children(marker: str) -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().decode("utf-8", "replace")
            except OSError:
                continue
            if marker in cmd and "ffmpeg" in cmd:
                found.append(int(pid))
    return found


def test_a_worker_killed_mid_transcode_is_finished_by_the_next_exactly_once(tmp_path, settings):
    from cms.celery import app

    var = Path(os.environ["NGUON_TEST_VAR_DIR"])
    settings.MEDIA_ROOT = var / "media"  # what the worker processes use
    settings.NGUON_MEDIA_WORK_DIR = ""
    # A fixed name: the filesystem transport keeps one exchange file per queue name.
    queue = "media-crashtest"
    settings.NGUON_MEDIA_QUEUE = queue
    # Eight minutes of speech-like sound: long enough to be killed in the middle.
    source = tmp_path / "long.flac"
    run_ffmpeg(["-f", "lavfi", "-i",
                "anoisesrc=color=pink:d=480:a=0.2,lowpass=f=4000,"
                "volume='0.2+0.8*abs(sin(2*PI*3*t))':eval=frame",
                "-ac", "1", "-ar", "44100", str(source)], timeout=120)  # fmt: skip
    logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
    first = start_worker(queue, logs[0], NGUON_MEDIA_QUEUE=queue)
    app.conf.task_always_eager = False
    reader = None
    second = None
    try:
        asset = asset_create(upload=make_upload(source), kind="audio")  # queued on commit
        reader = Reader(Path(settings.MEDIA_ROOT) / "renditions" / asset.uuid.hex[:2],
                        asset.uuid.hex)  # fmt: skip
        reader.start()
        wait_for(
            lambda: MediaAsset.objects.filter(
                pk=asset.pk, stage=MediaAsset.Stage.TRANSCODING, progress__gte=15
            ).exists(),
            timeout=120,
            what="the first worker to be transcoding",
        )
        progress_seen = MediaAsset.objects.get(pk=asset.pk).progress
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        # Its ffmpeg died with it: nothing keeps writing into the work folder.
        wait_for(lambda: not ffmpeg_children(asset.uuid.hex), timeout=5, what="ffmpeg gone")
        killed = MediaAsset.objects.get(pk=asset.pk)
        assert killed.status == MediaAsset.Status.PROCESSING and killed.attempts == 1
        assert not Rendition.objects.filter(asset=asset, status=Rendition.Status.READY).exists()

        # The next worker picks up what the dead one left.
        second = start_worker(queue, logs[1], NGUON_MEDIA_QUEUE=queue)
        wait_for(
            lambda: MediaAsset.objects.filter(
                pk=asset.pk, status__in=[MediaAsset.Status.READY, MediaAsset.Status.FAILED]
            ).exists(),
            timeout=240,
            what="the second worker to finish",
        )
        done = MediaAsset.objects.get(pk=asset.pk)
        time.sleep(2)  # anything queued twice would run now
    finally:
        app.conf.task_always_eager = True
        if reader:
            reader.stop.set()
            reader.join(timeout=5)
        stop_worker(first)
        if second:
            stop_worker(second)

    assert done.status == MediaAsset.Status.READY, done.error
    assert done.attempts == 2 and 0 < progress_seen < 100
    again = MediaAsset.objects.get(pk=asset.pk)
    assert again.processed_at == done.processed_at and again.attempts == 2  # exactly once
    renditions = {r.profile: r for r in Rendition.objects.filter(asset=asset)}
    assert set(renditions) == {"loudspeaker", "broadcast_audio", "web_audio", "waveform"}
    assert all(r.status == Rendition.Status.READY and r.attempts == 2 for r in renditions.values())
    completions = sum(log.read_text().count(f"asset {asset.pk} processed by") for log in logs)
    assert completions == 1
    # Every file a reader ever saw was the finished file; nothing else ever appeared.
    final = {Path(r.file.name).name: r.sha256 for r in renditions.values()}
    assert reader.names == set(final)
    for (_inode, name), digest in reader.seen.items():
        assert digest == final[name], f"a partial {name} was visible"
    for name, rendition in renditions.items():
        assert (
            hashlib.sha256(Path(rendition.file.path).read_bytes()).hexdigest()
            == final[Path(rendition.file.name).name]
        ), name
    work = var / "media-work" / asset.uuid.hex
    assert not work.exists()  # the dead worker's leftovers were cleaned
