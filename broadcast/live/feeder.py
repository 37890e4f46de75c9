"""Starting and ending the feeder of a live broadcast (the process is
``broadcast.live.stream``, which imports no Django; this module prepares it and takes over
at the end through ``manage.py live_end``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from media.ffmpeg import ffmpeg_binary, local_inputs_only

from ..models import LiveBroadcast
from . import icecast
from .services import live_archive, live_stop, spool_dir


def ffmpeg_args(*, mount: str, archive: str, name: str) -> list[str]:
    """Browser audio (WebM/Ogg, Opus) on stdin → MP3 64 kbps mono to Icecast and to a file.

    Low latency: no input buffering, a tiny probe (the codec is in the header), packets
    flushed as they are made; ``-xerror`` stops ffmpeg on input that is not audio instead
    of skipping it."""
    encode = ["-map", "0:a:0", "-ac", "1", "-ar", "48000", "-c:a", "libmp3lame", "-b:a", "64k"]
    return [
        "-loglevel", "error", "-xerror",
        "-fflags", "+nobuffer", "-probesize", "4096", "-analyzeduration", "0",
        "-protocol_whitelist", "pipe", "-i", "pipe:0",
        *encode, "-flush_packets", "1", "-content_type", "audio/mpeg", "-ice_name", name,
        "-f", "mp3", icecast.source_url(mount),
        *encode, "-f", "mp3", archive,
    ]  # fmt: skip


def _env() -> dict:
    env = dict(os.environ)
    module = env.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.dev")
    if module.endswith(".test"):
        # The test database and cache of this process, as for the tests' Celery worker.
        env["NGUON_WORKER_DB_NAME"] = str(settings.DATABASES["default"]["NAME"])
        cache = settings.CACHES["default"]
        if cache["BACKEND"].endswith("FileBasedCache"):
            env["CACHE_URL"] = f"file://{cache['LOCATION']}"
    env["ICECAST_URL"] = settings.ICECAST_URL
    env["ICECAST_SOURCE_PASSWORD"] = settings.ICECAST_SOURCE_PASSWORD
    return env


def feeder_spawn(*, live_id: int) -> subprocess.Popen:
    """Start the feeder of one broadcast in its own process (it outlives the request)."""
    live = LiveBroadcast.objects.select_related("programme").get(pk=live_id)
    folder = spool_dir(live)
    folder.mkdir(parents=True, exist_ok=True)
    argv = [ffmpeg_binary(), "-hide_banner", "-nostdin", "-y"]
    argv += local_inputs_only(
        ffmpeg_args(
            mount=live.mount, archive=str(folder / "archive.mp3"), name=live.programme.name
        )  # fmt: skip
    )
    config = {
        "source": str(folder / "source.bin"),
        "stop": str(folder / "stop"),
        "log": str(folder / "ffmpeg.log"),
        "timeout": settings.BROADCAST_LIVE_SOURCE_TIMEOUT,
        "ffmpeg_argv": argv,
        "end_argv": [
            sys.executable,
            str(Path(settings.BASE_DIR) / "manage.py"),
            "live_end",
            str(live.pk),
        ],  # fmt: skip
    }
    (folder / "feeder.json").write_text(json.dumps(config), encoding="utf-8")
    with open(folder / "feeder.log", "ab") as out:
        return subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "broadcast.live.stream", str(folder / "feeder.json")],
            cwd=settings.BASE_DIR,
            env=_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def feeder_ended(*, live_id: int, reason: str) -> LiveBroadcast | None:
    """The feeder finished: end the broadcast if the source was lost or bad, and archive
    the recording."""
    live = LiveBroadcast.objects.get(pk=live_id)
    if reason in LiveBroadcast.EndReason.values and reason != LiveBroadcast.EndReason.STOPPED:
        live_stop(user=None, live=live, reason=reason)
    return live_archive(live_id=live_id)
