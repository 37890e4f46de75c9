"""Processing an asset: claim it, measure once, transcode once, verify, publish atomically.

``asset_process`` is what the Celery task runs. It is safe to run twice, concurrently, or
after a worker was killed half-way:

* **claim** — under a row lock (``select_for_update``; ``BEGIN IMMEDIATE`` on SQLite) the
  asset is marked ``processing`` by this worker (``host:pid``) with a heartbeat. A second
  runner that finds a live claim returns at once; a claim whose worker is dead (same host)
  or whose heartbeat is older than ``NGUON_MEDIA_LEASE_SECONDS`` is taken over.
* **work** — ffmpeg writes into a private work folder beside ``MEDIA_ROOT``
  (``NGUON_MEDIA_WORK_DIR``), never under a served path; ffmpeg dies with its worker.
* **publish** — each verified output is moved to its deterministic name
  (``renditions/ab/<uuid>-<profile>.<suffix>``) with an atomic rename, then the rows are
  marked ready in one transaction that first checks the claim is still ours: an asset
  completes exactly once, and a reader never sees a half-written file.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .ffmpeg import FFmpegError, run_ffmpeg_progress
from .loudness import Loudness, measure
from .models import MediaAsset, Rendition
from .pipeline import (
    Branch,
    SourceInfo,
    draw_waveform,
    measure_chains,
    out_channels,
    output_demuxer,
    plan_transcode,
)
from .probe import open_media
from .profiles import Profile, get_profile
from .signals import renditions_ready

logger = logging.getLogger(__name__)


class AssetFailed(Exception):
    """A permanent failure: retrying with the same source cannot help."""


@dataclass
class OutputInfo:
    """What an output holds, read back with PyAV (``describe_output``); None where the
    output has no such stream or the container does not say."""

    duration: float | None = None
    bit_rate: int | None = None
    audio_codec: str | None = None
    channels: int | None = None
    sample_rate: int | None = None
    audio_bit_rate: int | None = None
    audio_duration: float | None = None
    video_codec: str | None = None
    width: int | None = None
    height: int | None = None
    frame_rate: float | None = None


@dataclass
class BranchResult:
    """One output after verification (``_verify``): where it is, what it holds, how loud
    it measured, and what is wrong with it (``problem``, empty when nothing is)."""

    path: Path
    gain_db: float | None
    info: OutputInfo | None = None
    # As stored on the rendition: the measurement, the gain applied and the target.
    loudness: dict[str, float | None] = field(default_factory=dict)
    # Measured minus target (LU); None when not measured or the source is silent.
    loudness_error: float | None = None
    # Measured true peak minus the ceiling (dB; negative: room left); None if unmeasured.
    peak_over: float | None = None
    problem: str = ""


@dataclass(frozen=True)
class PlacedFile:
    """A verified output moved to its storage name, with what the rendition row records."""

    result: BranchResult
    name: str
    size: int
    sha256: str


# profile name -> its verified output; profile name -> why it failed.
Results = dict[str, BranchResult]
Failures = dict[str, str]


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _lease() -> timedelta:
    return timedelta(seconds=settings.NGUON_MEDIA_LEASE_SECONDS)


def work_root() -> Path:
    """The local folder ffmpeg works in: ``NGUON_MEDIA_WORK_DIR``, else beside the local
    storage's folder (one file system, so publishing is a rename), else (an object store,
    where no local media folder exists) under the system's temporary folder."""
    if settings.NGUON_MEDIA_WORK_DIR:
        return Path(settings.NGUON_MEDIA_WORK_DIR)
    if isinstance(default_storage, FileSystemStorage):
        return Path(default_storage.location).parent / "media-work"
    return Path(tempfile.gettempdir()) / "nguon-media-work"


def time_limits(duration: float | None, kind: str) -> tuple[int, int]:
    """(soft, hard) seconds for processing ``duration`` seconds of ``kind``."""
    factors = settings.NGUON_MEDIA_TIME_FACTOR
    soft = int(300 + (duration or 600) * factors.get(kind, 1.0))
    return soft, soft + 120


def claim_is_dead(asset: MediaAsset, *, now: datetime | None = None) -> bool:
    """True when an asset marked processing has nobody working on it any more."""
    now = now or timezone.now()
    if not asset.heartbeat_at or now - asset.heartbeat_at > _lease():
        return True
    host, _sep, pid = asset.worker.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        if int(pid) == os.getpid():
            return False
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
    return False


# --- progress and heartbeat ----------------------------------------------------------------


class _Heartbeat:
    """Writes stage, percent and heartbeat every ``interval`` seconds, from a side thread, so
    the admin sees progress and other workers see a live claim even during a long decode.

    Inside an open transaction (tests, eager tasks in a request) another connection could
    not see or would wait on the locked row: then the writes happen inline instead.
    """

    def __init__(self, asset_id: int, worker: str, *, interval: float = 1.0):
        self.asset_id, self.worker, self.interval = asset_id, worker, interval
        self.stage, self.progress = MediaAsset.Stage.MEASURING, 0.0
        self.threaded = not connection.in_atomic_block
        self._last = 0.0
        self._stop = threading.Event()
        self._dirty = threading.Event()
        self._thread = threading.Thread(target=self._run, name="media-heartbeat", daemon=True)

    def set(self, stage: str | None = None, progress: float | None = None) -> None:
        if stage is not None:
            self.stage = stage
        if progress is not None:
            self.progress = max(0.0, min(100.0, progress))
        if self.threaded:
            self._dirty.set()
        elif stage is not None or time.monotonic() - self._last >= self.interval:
            self._write()

    def _write(self) -> None:
        self._last = time.monotonic()
        MediaAsset.objects.filter(
            pk=self.asset_id, worker=self.worker, status=MediaAsset.Status.PROCESSING
        ).update(stage=self.stage, progress=round(self.progress, 1), heartbeat_at=timezone.now())

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self._dirty.wait(self.interval)
                self._dirty.clear()
                if self._stop.is_set():
                    break
                try:
                    self._write()
                except Exception:  # a busy SQLite file: the next beat will do
                    logger.debug("heartbeat write failed", exc_info=True)
        finally:
            connection.close()

    def __enter__(self) -> _Heartbeat:
        if self.threaded:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._dirty.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)


# --- claim ---------------------------------------------------------------------------------


def _needs_build(rendition: Rendition) -> bool:
    return not (
        rendition.status == Rendition.Status.READY
        and rendition.file
        and default_storage.exists(rendition.file.name)
    )


def _claim(
    asset_id: int, profiles: list[str] | None, me: str
) -> tuple[MediaAsset | None, list[Rendition] | None]:
    """Lock the asset, decide what to build, mark it ours. Returns (asset, [renditions]) or
    (asset, None) when there is nothing for this runner to do, or (None, None) if gone."""
    with transaction.atomic():
        asset = MediaAsset.objects.select_for_update().filter(pk=asset_id).first()
        if asset is None:
            return None, None
        if profiles:
            for name in profiles:
                Rendition.objects.get_or_create(asset=asset, profile=name)
        rows = list(
            Rendition.objects.select_for_update()
            .filter(asset=asset, **({"profile__in": profiles} if profiles else {}))
            .order_by("pk")
        )
        todo = [r for r in rows if _needs_build(r)]
        if not todo:
            if not profiles and asset.status != MediaAsset.Status.READY:
                _finish_status(asset)
            return asset, None
        if (
            asset.status == MediaAsset.Status.PROCESSING
            and asset.worker != me
            and not claim_is_dead(asset)
        ):
            logger.info("asset %s is being processed by %s", asset_id, asset.worker)
            return asset, None
        now = timezone.now()
        asset.status = MediaAsset.Status.PROCESSING
        asset.stage = MediaAsset.Stage.MEASURING
        asset.progress = 0.0
        asset.attempts += 1
        asset.worker = me
        asset.heartbeat_at = now
        asset.error = ""
        asset.save(
            update_fields=[
                "status",
                "stage",
                "progress",
                "attempts",
                "worker",
                "heartbeat_at",
                "error",
            ]  # fmt: skip
        )
        for r in todo:
            r.status = Rendition.Status.PROCESSING
            r.attempts += 1
            r.save(update_fields=["status", "attempts", "updated_at"])
        return asset, todo


def _finish_status(asset: MediaAsset) -> None:
    """Asset status from its renditions (called under the asset's row lock)."""
    states = dict(Rendition.objects.filter(asset=asset).values_list("profile", "status"))
    failed = [p for p, s in states.items() if s == Rendition.Status.FAILED]
    pending = [p for p, s in states.items() if s != Rendition.Status.READY and p not in failed]
    if failed:
        asset.status, asset.stage = MediaAsset.Status.FAILED, MediaAsset.Stage.FAILED
    elif pending:
        asset.status, asset.stage = MediaAsset.Status.PENDING, MediaAsset.Stage.QUEUED
    else:
        asset.status, asset.stage = MediaAsset.Status.READY, MediaAsset.Stage.DONE
        asset.progress = 100.0
        asset.error = ""
    asset.processed_at = timezone.now()
    asset.worker = ""
    asset.save(update_fields=["status", "stage", "progress", "error", "processed_at", "worker"])


# --- files ---------------------------------------------------------------------------------


def _target_name(asset: MediaAsset, profile: Profile) -> str:
    return f"renditions/{asset.uuid.hex[:2]}/{asset.uuid.hex}-{profile.name}.{profile.suffix}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _publish_file(local: Path, name: str) -> str:
    """Place ``local`` at storage ``name`` so that readers see either nothing, the previous
    complete file, or the new complete file: ``os.replace`` on a local storage (same file
    system as the work folder, else a copy to a hidden sibling first); ``save`` elsewhere
    (object stores make an object visible only once it is complete)."""
    if isinstance(default_storage, FileSystemStorage):
        final = Path(default_storage.path(name))
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(local, final)
        except OSError:  # another file system: copy next to it, then rename
            hidden = final.parent / f".{final.name}.{uuid.uuid4().hex}.part"
            shutil.copyfile(local, hidden)
            os.replace(hidden, final)
        return name
    if default_storage.exists(name):
        default_storage.delete(name)
    with open(local, "rb") as fh:
        return default_storage.save(name, File(fh))


def _local_source(asset: MediaAsset, workdir: Path) -> Path:
    try:
        path = Path(asset.file.path)
    except NotImplementedError:  # a remote storage: fetch it once into the work folder
        path = workdir / f"source.{asset.container_suffix or 'bin'}"
        with asset.file.storage.open(asset.file.name, "rb") as src:
            obj = getattr(src, "obj", None)
            if hasattr(obj, "download_file"):
                # django-storages' S3File: boto3 writes the object straight to the work
                # folder (ranged GETs in parallel), instead of spooling a copy first.
                obj.download_file(str(path))
            else:
                with open(path, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1024 * 1024)
        return path
    if not path.is_file():
        raise FileNotFoundError(f"source file is missing: {asset.file.name}")
    return path


# --- verification --------------------------------------------------------------------------


def describe_output(path: Path) -> OutputInfo:
    """Codec, channels, rate, size and duration of an output, read back with PyAV; one frame
    of each stream is decoded, so a muxed-but-undecodable file fails here."""
    info = OutputInfo()
    demuxer = output_demuxer(path)
    with open_media(path, container=demuxer) as container:
        if container.duration:
            info.duration = container.duration / 1_000_000
        info.bit_rate = container.bit_rate or None
        for stream in container.streams:
            ctx = stream.codec_context
            if ctx is None:
                continue
            if stream.type == "audio" and info.audio_codec is None:
                info.audio_codec = ctx.name
                info.channels = ctx.channels
                info.sample_rate = ctx.sample_rate
                info.audio_bit_rate = ctx.bit_rate or None
                if stream.duration and stream.time_base:
                    info.audio_duration = float(stream.duration * stream.time_base)
            elif stream.type == "video" and info.video_codec is None:
                info.video_codec, info.width, info.height = ctx.name, ctx.width, ctx.height
                rate = stream.average_rate or stream.guessed_rate
                info.frame_rate = float(rate) if rate else None
    for kind, codec in (("audio", info.audio_codec), ("video", info.video_codec)):
        if codec is not None:
            with open_media(path, container=demuxer) as container:
                stream = getattr(container.streams, kind)[0]
                if next(iter(container.decode(stream)), None) is None:
                    raise ValueError(f"no decodable {kind} frame")
    return info


def _check_output(branch: Branch, info: OutputInfo, source: SourceInfo) -> str:
    """An empty string if ``info`` is what ``branch.profile`` promises, else the reason."""
    p = branch.profile
    if p.has_audio and source.has_audio:
        want = p.codec if p.type == "audio" else "aac"
        got = info.audio_codec
        if got is None:
            return "no audio stream in the output"
        if not got.startswith(want.split("_")[0]):
            return f"audio codec {got} instead of {want}"
        if info.channels != out_channels(p, source):
            return f"{info.channels} channels instead of {out_channels(p, source)}"
        if p.sample_rate and info.sample_rate != p.sample_rate:
            return f"{info.sample_rate} Hz instead of {p.sample_rate}"
    if p.type == "video":
        if info.video_codec != "h264":
            return f"video codec {info.video_codec} instead of h264"
        short = min(info.width or 0, info.height or 0)
        if short > (p.short_side or 10**6):
            return f"picture {info.width}x{info.height} over {p.short_side}p"
    if p.type in ("poster", "waveform") and not info.video_codec:
        return "no picture in the output"
    return ""


# --- the job -------------------------------------------------------------------------------


def asset_process(*, asset_id: int, profiles: list[str] | None = None) -> MediaAsset | None:
    """Build the asset's renditions (all that are not ready, or only ``profiles``).

    Returns the asset (refreshed), or None when it was deleted. Raises FFmpegError or
    OSError after recording them on the asset and its renditions (the task decides whether
    to retry); returns quietly when another live worker holds the asset.
    """
    me = worker_id()
    asset, todo = _claim(asset_id, profiles, me)
    if asset is None:
        return None
    if todo is None:
        asset.refresh_from_db()
        return asset

    specs = {r.profile: get_profile(r.profile) for r in todo}
    workdir = work_root() / asset.uuid.hex / uuid.uuid4().hex
    # Leftovers of earlier, killed attempts of this asset go first.
    if workdir.parent.exists():
        for old in workdir.parent.iterdir():
            shutil.rmtree(old, ignore_errors=True)
    workdir.mkdir(parents=True, exist_ok=True)
    results: Results = {}
    failures: Failures = {}
    try:
        with _Heartbeat(asset.pk, me) as beat:
            results, failures = _run(asset, specs, workdir, beat)
        _publish(asset, specs, results, failures, me)
    except Exception as exc:
        _record_failure(asset, [r.profile for r in todo], exc, me)
        raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        try:
            workdir.parent.rmdir()
        except OSError:
            pass
    asset.refresh_from_db()
    return asset


def _run(
    asset: MediaAsset, specs: dict[str, Profile], workdir: Path, beat: _Heartbeat
) -> tuple[Results, Failures]:
    """Measure, transcode, verify and correct in ``workdir``; nothing is published."""
    source_path = _local_source(asset, workdir)
    source = SourceInfo.from_probe(asset.probe)
    soft, _hard = time_limits(asset.duration, asset.kind)
    profiles = list(specs.values())
    failures: Failures = {}

    # 1. Measure once (one decode, every distinct pre-gain chain).
    measured: dict[str, Loudness] = {}
    waveform = next(
        (Branch(p, workdir / f"{p.name}.{p.suffix}") for p in profiles if p.type == "waveform"),
        None,
    )
    if source.has_audio and any(p.has_audio or p.type == "waveform" for p in profiles):
        beat.set(MediaAsset.Stage.MEASURING, 1.0)
        measured = measure_chains(source_path, profiles, source, timeout=soft,
                                  waveform=waveform)  # fmt: skip
        MediaAsset.objects.filter(pk=asset.pk).update(loudness=measured[""].as_dict())
        if measured[""].silent:
            for p in profiles:
                if p.type == "audio":
                    failures[p.name] = _("The recording is silent: there is nothing to play.")
    buildable = [p for p in profiles if p.name not in failures]
    if not source.has_audio:
        for p in buildable:
            if p.type in ("audio", "waveform"):
                failures[p.name] = _("The file has no sound track.")
        buildable = [p for p in buildable if p.name not in failures]
    if not source.has_video:
        for p in buildable:
            if p.type in ("video", "poster"):
                failures[p.name] = _("The file has no picture.")
        buildable = [p for p in buildable if p.name not in failures]
    drawn = [waveform] if waveform and measured and waveform.profile.name not in failures else []
    for branch in drawn:
        draw_waveform(branch.profile, branch.path)
    buildable = [p for p in buildable if p.type != "waveform"]
    if not buildable:
        return _collect(_verify(drawn, source, measured), failures)

    # 2. Decode once: every rendition from one ffmpeg run.
    meta = _bext(asset)
    max_gain = settings.NGUON_MEDIA_MAX_GAIN_DB
    plan = plan_transcode(source_path, buildable, source, measured, workdir,
                          max_gain_db=max_gain, metadata=meta)  # fmt: skip
    beat.set(MediaAsset.Stage.TRANSCODING, 5.0)
    run_ffmpeg_progress(
        plan.args,
        duration=source.duration,
        on_progress=lambda f: beat.set(progress=5.0 + 80.0 * f),
        timeout=soft,
    )

    # 3. Verify: read every output back, measure every audio output again.
    beat.set(MediaAsset.Stage.VERIFYING, 86.0)
    results = _verify(plan.branches + drawn, source, measured)
    # A peak limiter that took more than half a LU gets corrective passes, for those
    # branches only (not needed for most speech; synthetic speech, noise and very peaky
    # sources need them). See ``_correct``.
    correct_above = settings.NGUON_MEDIA_CORRECT_ABOVE_LU
    passes = settings.NGUON_MEDIA_CORRECT_PASSES
    # An output whose true peak is over its profile's ceiling gets them too, with its
    # limiter forced on and its ceiling lowered by what the encoder added.
    redo = [
        name
        for name, r in results.items()
        if _needs_correction(r, correct_above)
        and specs[name].type == "audio"
        and not measured[""].silent
    ]
    if redo and passes > 0:
        beat.set(MediaAsset.Stage.CORRECTING, 90.0)
        _correct(
            redo, results, specs=specs, passes=passes, threshold=correct_above,
            transcode=lambda again, adjust, trim, n: _corrective_pass(
                source_path, again, source, measured, workdir / f"fix{n}", beat=beat,
                max_gain=max_gain, metadata=meta, adjust=adjust, trim=trim, soft=soft, n=n,
                of=passes,
            ),
        )  # fmt: skip
    beat.set(progress=96.0)
    return _collect(results, failures)


# The loudness a limited branch gains per dB of gain lies between these (1.0: the limiter
# never acts; a hard-limited peaky source can give well under half a LU per dB).
_SLOPE_MIN, _SLOPE_MAX = 0.2, 1.0
# Lowered below the overshoot just measured, the limiter's ceiling gets this much more room
# (the encoder's overshoot is not exactly proportional to the level it is fed).
_TRIM_MARGIN_DB = 0.3


def _peak_over(result: BranchResult) -> float:
    """dB by which an output's measured true peak exceeds its ceiling (0 when within)."""
    return max(0.0, result.peak_over or 0.0)


def _needs_correction(result: BranchResult, threshold: float) -> bool:
    error = result.loudness_error
    return _peak_over(result) > 0 or (error is not None and abs(error) > threshold)


def _badness(result: BranchResult) -> tuple[float, float]:
    """How far an output is from its promises: a true peak over the ceiling first (a broken
    promise), then the distance from the loudness target."""
    return _peak_over(result), abs(result.loudness_error or 0.0)


# A corrective transcode: (profiles, gain adjustments, ceiling trims, pass number) -> results.
Transcode = Callable[[list[Profile], dict[str, float], dict[str, float], int], Results]


def _correct(
    names: list[str],
    results: Results,
    *,
    specs: dict[str, Profile],
    passes: int,
    threshold: float,
    transcode: Transcode,
) -> None:
    """Move each branch in ``names`` to its target by changing its gain, and under its
    true-peak ceiling by forcing and lowering its limiter, at most ``passes`` times,
    keeping the best output in ``results`` (``_badness``: within the ceiling first, then
    the closest to the target).

    The limiter makes loudness a concave function of the gain, so the measured error is
    not the gain to add. The first step assumes one LU per dB; later steps use the secant
    slope through the two latest (gain, loudness) points, bounded to
    [``_SLOPE_MIN``, ``_SLOPE_MAX``]. A true peak over the ceiling lowers the limiter's
    ceiling by the overshoot measured plus ``_TRIM_MARGIN_DB``, cumulatively; an output
    too quiet whose measured peak stayed further than that below the ceiling gets its
    limiter raised by the unused room (a limiter-bound source, such as sawtooth bursts
    through the loudspeaker's speech band, cannot get louder any other way)."""
    # name -> [(gain adjustment, error)], starting from the first transcode (adjustment 0).
    tried = {name: [(0.0, results[name].loudness_error or 0.0)] for name in names}
    latest = {name: results[name] for name in names}
    trim: dict[str, float] = {}
    for n in range(1, passes + 1):
        adjust: dict[str, float] = {}
        for name, points in tried.items():
            (g0, e0), (g1, e1) = points[-2] if len(points) > 1 else (None, None), points[-1]
            slope = 1.0
            if g0 is not None and g1 != g0:
                slope = min(_SLOPE_MAX, max(_SLOPE_MIN, (e1 - e0) / (g1 - g0)))
            adjust[name] = g1 - e1 / slope if abs(e1) > threshold else g1
            over, headroom = _peak_over(latest[name]), -(latest[name].peak_over or 0.0)
            if over:  # kept in later passes, deepened while the peak is still over
                trim[name] = trim.get(name, 0.0) + over + _TRIM_MARGIN_DB
            elif e1 < -threshold and headroom > _TRIM_MARGIN_DB:
                # Too quiet, held down by a limiter whose fixed margin the encoder did not
                # use: raise its ceiling to just under what was measured to be safe.
                trim[name] = trim.get(name, 0.0) - (headroom - _TRIM_MARGIN_DB)
        fixed = transcode([specs[name] for name in adjust], adjust,
                          {k: v for k, v in trim.items() if k in adjust}, n)  # fmt: skip
        for name, r in fixed.items():
            logger.info("correction %d of %s: gain %+.2f dB, limiter %+.2f dB -> %s", n, name,
                        adjust[name], -trim.get(name, 0.0), r.loudness)  # fmt: skip
            if r.loudness_error is None:
                continue
            latest[name] = r
            tried[name].append((adjust[name], r.loudness_error))
            if _badness(r) <= _badness(results[name]):
                results[name] = r
        tried = {
            name: points
            for name, points in tried.items()
            if _needs_correction(results[name], threshold) and len(points) == n + 1
        }
        if not tried:
            return


def _corrective_pass(
    source_path: Path,
    again: list[Profile],
    source: SourceInfo,
    measured: dict[str, Loudness],
    workdir: Path,
    *,
    beat: _Heartbeat,
    max_gain: float,
    metadata: dict[str, str],
    adjust: dict[str, float],
    trim: dict[str, float],
    soft: int,
    n: int,
    of: int,
) -> Results:
    """Transcode the branches in ``again`` with their gains moved by ``adjust`` (dB) and
    their limiter ceilings lowered by ``trim`` (dB)."""
    fix = plan_transcode(source_path, again, source, measured, workdir, max_gain_db=max_gain,
                         metadata=metadata, gain_adjust=adjust, ceiling_trim=trim)  # fmt: skip
    workdir.mkdir(exist_ok=True)
    low, high = 90.0 + 6.0 * (n - 1) / of, 90.0 + 6.0 * n / of
    run_ffmpeg_progress(
        fix.args,
        duration=source.duration,
        timeout=soft,
        on_progress=lambda f: beat.set(progress=low + (high - low) * f),
    )
    return _verify(fix.branches, source, measured)


def _collect(results: Results, failures: Failures) -> tuple[Results, Failures]:
    """Move the outputs with a problem from ``results`` to ``failures``."""
    for name, r in list(results.items()):
        if r.problem:
            failures[name] = r.problem
            del results[name]
    return results, failures


def _bext(asset: MediaAsset) -> dict[str, str]:
    when = timezone.localtime(asset.created_at) if asset.created_at else timezone.localtime()
    title = (asset.original_name or asset.uuid.hex).replace("\n", " ")[:250]
    return {
        "description": title,
        "originator": "Nguon",
        "originator_reference": asset.uuid.hex[:32],
        "origination_date": when.strftime("%Y-%m-%d"),
        "origination_time": when.strftime("%H:%M:%S"),
    }


def _verify(branches: list[Branch], source: SourceInfo, measured: dict[str, Loudness]) -> Results:
    def one(branch: Branch) -> tuple[str, BranchResult]:
        p = branch.profile
        result = BranchResult(path=branch.path, gain_db=branch.gain_db)
        try:
            if not branch.path.is_file() or branch.path.stat().st_size == 0:
                raise OSError("ffmpeg wrote no output")
            info = describe_output(branch.path)
        except Exception as exc:
            result.problem = f"unreadable output: {exc}"
            return p.name, result
        result.info = info
        problem = _check_output(branch, info, source)
        if not problem and p.has_audio and source.has_audio and p.target is not None:
            loud = measure(branch.path, container=output_demuxer(branch.path))
            result.loudness = {**loud.as_dict(), "gain_db": round(branch.gain_db or 0, 2),
                               "target": p.target}  # fmt: skip
            if measured and not measured[""].silent:
                error = loud.integrated - p.target
                result.loudness_error = error
                if abs(error) > p.tolerance:
                    problem = (
                        f"loudness {loud.integrated:.1f} LUFS is outside "
                        f"{p.target:g} ± {p.tolerance:g} LU"
                    )
            # The ceiling is a promise like the target: enforced on the delivered file.
            if p.true_peak is not None and loud.true_peak is not None:
                result.peak_over = loud.true_peak - p.true_peak
                if loud.true_peak > p.true_peak:
                    over = (
                        f"true peak {loud.true_peak:.1f} dBTP is above the "
                        f"{p.true_peak:g} dBTP ceiling"
                    )
                    problem = f"{problem}; {over}" if problem else over
        result.problem = problem
        return p.name, result

    # Every output at once, each its own process (at most four): on two cores three
    # re-measures side by side finish sooner than two then one, and a broken output fails
    # alone. Each re-measure keeps ``peak=true``: the encoders add overshoot after the
    # limiter, and the output's own true peak is the only evidence that the delivered file
    # honours its ceiling (about 0.5 s of CPU per 10 minutes of audio and output).
    with ThreadPoolExecutor(max_workers=max(1, min(len(branches), 4))) as pool:
        return dict(pool.map(one, branches))


def _publish(
    asset: MediaAsset, specs: dict[str, Profile], results: Results, failures: Failures, me: str
) -> None:
    """Move verified files to their names, then mark rows ready, if the claim is ours."""
    placed: dict[str, PlacedFile] = {}
    for name, r in results.items():
        placed[name] = PlacedFile(
            result=r,
            size=r.path.stat().st_size,
            sha256=_sha256(r.path),
            name=_publish_file(r.path, _target_name(asset, specs[name])),
        )
    now = timezone.now()
    with transaction.atomic():
        locked = MediaAsset.objects.select_for_update().filter(pk=asset.pk).first()
        if locked is None or locked.worker != me:
            # Deleted while ffmpeg ran, or a recovery gave the job to someone else.
            logger.warning("asset %s: claim lost, results discarded", asset.pk)
            if locked is None:
                for f in placed.values():
                    default_storage.delete(f.name)
            return
        for name, f in placed.items():
            info = f.result.info or OutputInfo()
            p = specs[name]
            Rendition.objects.filter(asset=asset, profile=name).update(
                status=Rendition.Status.READY,
                file=f.name,
                mime_type=p.mime_type,
                size=f.size,
                sha256=f.sha256,
                duration=info.audio_duration or info.duration,
                channels=info.channels,
                sample_rate=info.sample_rate,
                bitrate=info.audio_bit_rate if p.type == "audio" else info.bit_rate,
                codec=info.audio_codec if p.type == "audio" else info.video_codec or p.codec,
                width=info.width,
                height=info.height,
                loudness=f.result.loudness,
                error="",
                updated_at=now,  # feeds use it to notice a new enclosure
            )
        for name, message in failures.items():
            Rendition.objects.filter(asset=asset, profile=name).update(
                status=Rendition.Status.FAILED, error=message[:4000], updated_at=now
            )
        if failures:
            locked.error = "\n".join(f"{n}: {m}" for n, m in failures.items())[:4000]
        _finish_status(locked)
        if placed:
            ready, asset_id = sorted(placed), asset.pk
            transaction.on_commit(
                lambda: renditions_ready.send(sender=MediaAsset, asset_id=asset_id, profiles=ready)
            )
        logger.info("asset %s processed by %s: %s ready, %s failed", asset.pk, me,
                    sorted(placed), sorted(failures))  # fmt: skip


def _record_failure(asset: MediaAsset, names: list[str], exc: Exception, me: str) -> None:
    message = str(exc)[:4000] or type(exc).__name__
    logger.warning("asset %s failed: %s", asset.pk, message)
    now = timezone.now()
    with transaction.atomic():
        locked = MediaAsset.objects.select_for_update().filter(pk=asset.pk).first()
        if locked is None or locked.worker not in (me, ""):
            return
        Rendition.objects.filter(asset=asset, profile__in=names).exclude(
            status=Rendition.Status.READY
        ).update(status=Rendition.Status.FAILED, error=message, updated_at=now)
        locked.status = MediaAsset.Status.FAILED
        locked.stage = MediaAsset.Stage.FAILED
        locked.error = message
        locked.worker = ""
        locked.processed_at = now
        locked.save(update_fields=["status", "stage", "error", "worker", "processed_at"])


__all__ = ["AssetFailed", "BranchResult", "FFmpegError", "OutputInfo", "asset_process",
           "claim_is_dead", "describe_output", "time_limits", "work_root", "worker_id"]  # fmt: skip
