"""Writes for media: validate and store uploads, process them, retry, recover, speak.

``asset_validate_upload`` checks an upload by content (PyAV for sound and picture, Pillow
for stills) and raises a ValidationError in Vietnamese; ``asset_create`` stores what it
accepted under a generated name and queues the processing on commit; ``asset_process``
(``media.processing``) builds every rendition from one decode; ``rendition_build`` builds
one; ``asset_retry`` and ``assets_recover`` put failed or abandoned assets back in the
queue; ``tts_bulletin_create`` (``media.tts``) turns text into a loudspeaker bulletin.
"""

import contextlib
import contextvars
import hashlib
import logging
import os
import threading

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.signals import request_finished
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .image_services import (
    image_normalise_upload,
    image_rebuild_original,
    image_validate_upload,
)
from .models import MediaAsset, Rendition
from .probe import ProbeError, ProbeResult, probe_file
from .processing import asset_process, claim_is_dead, time_limits
from .profiles import get_profile, profiles_for_kind
from .uploads import check_name_and_size

logger = logging.getLogger(__name__)

# Formats PyAV reports for accepted audio containers, mapped to the suffix we store under.
_AUDIO_CONTAINERS = {
    "mp3": "mp3",
    "wav": "wav",
    "mov,mp4,m4a,3gp,3g2,mj2": "m4a",
    "ogg": "ogg",
    "amr": "amr",
    "flac": "flac",
    "aac": "aac",
    "matroska,webm": "webm",
}
# MP4, MOV and 3GP share one demuxer; MKV and WebM another.
_VIDEO_CONTAINERS = {
    "mov,mp4,m4a,3gp,3g2,mj2": "mp4",
    "matroska,webm": "mkv",
}
# Kept for callers of the first version: what is built for each kind.
DEFAULT_PROFILES = {kind: profiles_for_kind(kind) for kind in ("audio", "video")}


def _open_for_probe(upload):
    path = getattr(upload, "temporary_file_path", None)
    if callable(path):
        return path()
    upload.seek(0)
    return upload


def asset_validate_upload(*, upload, kind: str):
    """Check an uploaded file is the media it claims to be; return its probe result.

    Raises ValidationError with a Vietnamese message for anything a reporter must fix.
    Nothing is written anywhere.
    """
    if kind == MediaAsset.Kind.IMAGE:
        return image_validate_upload(upload=upload)
    check_name_and_size(upload)
    name = getattr(upload, "name", "") or ""
    try:
        result = probe_file(_open_for_probe(upload))
    except ProbeError as exc:
        logger.info("rejected upload %r: %s", name, exc)
        raise ValidationError(
            _("The file is not a readable audio or video file, or it is damaged.")
        ) from exc
    finally:
        if hasattr(upload, "seek"):
            upload.seek(0)
    if kind == MediaAsset.Kind.AUDIO:
        if not result.has_audio or result.has_video:
            raise ValidationError(_("This is not an audio file: no audio stream was found."))
        if result.container not in _AUDIO_CONTAINERS:
            raise ValidationError(_("This audio format is not accepted."))
    elif kind == MediaAsset.Kind.VIDEO:
        if not result.has_video:
            raise ValidationError(_("This is not a video file: no video stream was found."))
        if result.container not in _VIDEO_CONTAINERS:
            raise ValidationError(_("This video format is not accepted."))
    limit = settings.NGUON_MEDIA_MAX_DURATION_SECONDS
    if not result.duration or result.duration <= 0:
        raise ValidationError(
            _("The file is not a readable audio or video file, or it is damaged.")
        )
    if result.duration > limit:
        if limit >= 60:
            message = _("The recording is too long (limit %(minutes)s minutes).") % {
                "minutes": limit // 60
            }
        else:
            message = _("The recording is too long (limit %(seconds)s seconds).") % {
                "seconds": limit
            }
        raise ValidationError(message)
    return result


def _sha256_of(fileobj) -> str:
    digest = hashlib.sha256()
    fileobj.seek(0)
    for chunk in iter(lambda: fileobj.read(1024 * 1024), b""):
        digest.update(chunk)
    fileobj.seek(0)
    return digest.hexdigest()


# Files stored by ``asset_create`` whose row is not committed yet, per thread: the name
# leaves the set when its transaction commits; what is left once no transaction is open
# was rolled back, and its file is deleted (``asset_files_discard_uncommitted``).
_uncommitted = threading.local()
# The files stored inside the innermost ``asset_files_kept_on_success`` block.
_block_files: contextvars.ContextVar[list | None] = contextvars.ContextVar(
    "media_block_files", default=None
)


def _pending() -> dict:
    if not hasattr(_uncommitted, "files"):
        _uncommitted.files = {}
    return _uncommitted.files


def _track_stored(name: str, storage) -> None:
    block = _block_files.get()
    if block is not None:
        block.append((name, storage))
    if connection.in_atomic_block:
        _pending()[name] = storage
        transaction.on_commit(lambda: _pending().pop(name, None))


def _delete_quietly(name: str, storage) -> None:
    with contextlib.suppress(OSError):
        if storage.exists(name):
            storage.delete(name)
            logger.info("deleted %s: its asset was never committed", name)


@contextlib.contextmanager
def asset_files_kept_on_success():
    """Files that ``asset_create`` stores inside this block are deleted if the block
    raises (its transaction, or savepoint, is rolled back: no row points at them).

    Wrap it around the ``transaction.atomic`` that creates the assets and what refers to
    them (an intake, an admin save), so a refused request leaves no byte under MEDIA_ROOT.
    """
    files: list = []
    token = _block_files.set(files)
    try:
        yield
    except BaseException:
        for name, storage in files:
            _pending().pop(name, None)
            _delete_quietly(name, storage)
        raise
    finally:
        _block_files.reset(token)


def asset_files_discard_uncommitted(**_kwargs) -> None:
    """Delete the files of assets whose transaction was rolled back, once no transaction is
    open on this thread (connected to ``request_finished``: with ATOMIC_REQUESTS a view's
    transaction ends before its response is finished)."""
    if connection.in_atomic_block:
        return  # still open (a test's transaction): nothing is decided yet
    pending = _pending()
    while pending:
        name, storage = pending.popitem()
        _delete_quietly(name, storage)


request_finished.connect(asset_files_discard_uncommitted, dispatch_uid="media_uncommitted_files")


def asset_profiles(*, kind: str, probe: dict) -> list[str]:
    """The renditions an asset of ``kind`` gets (those it has material for)."""
    names = []
    for name in profiles_for_kind(kind):
        spec = get_profile(name)
        if spec.type in ("audio", "waveform") and not probe.get("audio_codec"):
            continue  # a silent video has no loudspeaker MP3
        if spec.type in ("video", "poster") and not probe.get("video_codec"):
            continue
        names.append(name)
    return names


def asset_create(*, upload, kind: str, user=None, probe=None, profiles=None) -> MediaAsset:
    """Validate (unless ``probe`` is given), store the file under a generated name, create
    its pending renditions and queue their processing on commit.

    Nothing is left behind when anything fails: no row, no file.
    """
    original_name = os.path.basename(getattr(upload, "name", "") or "")[:255]
    if probe is None and kind == MediaAsset.Kind.IMAGE:
        probe = image_normalise_upload(upload=upload)  # stored without metadata
    probe = probe or asset_validate_upload(upload=upload, kind=kind)
    if kind == MediaAsset.Kind.IMAGE:
        suffix, duration = probe.suffix, None
    else:
        table = _AUDIO_CONTAINERS if kind == MediaAsset.Kind.AUDIO else _VIDEO_CONTAINERS
        suffix, duration = table.get(probe.container, "bin"), probe.duration
    probe_data = probe.as_dict()
    if profiles is None and kind == MediaAsset.Kind.IMAGE:
        profiles = []
    elif profiles is None:
        profiles = asset_profiles(kind=kind, probe=probe_data)
    asset = MediaAsset(
        kind=kind,
        original_name=original_name,
        container_suffix=suffix,
        size=upload.size,
        sha256=_sha256_of(upload),
        probe=probe_data,
        duration=duration,
        created_by=user if getattr(user, "is_authenticated", False) else None,
        status=MediaAsset.Status.PENDING if profiles else MediaAsset.Status.READY,
        stage=MediaAsset.Stage.QUEUED if profiles else MediaAsset.Stage.DONE,
    )
    # The name is the asset's own (its uuid): nothing else can refer to it.
    name = asset.file.field.generate_filename(asset, "upload")
    try:
        asset.file.save("upload", File(upload), save=False)
    except BaseException:
        # FileSystemStorage leaves a partly written file behind on ENOSPC or EFBIG.
        with contextlib.suppress(OSError):
            if asset.file.storage.exists(name):
                asset.file.storage.delete(name)
        raise
    try:
        with transaction.atomic():
            asset.save()
            Rendition.objects.bulk_create([Rendition(asset=asset, profile=p) for p in profiles])
    except BaseException:
        # No row, no file: a failed save must not leave an orphan under MEDIA_ROOT.
        asset.file.delete(save=False)
        raise
    # An enclosing transaction may still roll back (an intake refused after its media was
    # stored): then the file goes too (``asset_files_kept_on_success``, or at the end of
    # the request).
    _track_stored(asset.file.name, asset.file.storage)
    if profiles:
        # Robust: the upload is stored whatever happens to the queueing (with eager tasks,
        # a failed transcode is recorded on the asset and must not turn it into a 500).
        transaction.on_commit(lambda: asset_queue(asset=asset), robust=True)
    return asset


def asset_queue(*, asset: MediaAsset, profiles: list[str] | None = None) -> None:
    """Send the asset to the ``media`` queue, with time limits scaled to its duration."""
    from .tasks import asset_transcode

    soft, hard = time_limits(asset.duration, asset.kind)
    asset_transcode.apply_async(
        args=[asset.pk],
        kwargs={"profiles": profiles},
        soft_time_limit=soft,
        time_limit=hard,
        queue=settings.NGUON_MEDIA_QUEUE,
    )


def rendition_build(*, asset_id: int, profile: str) -> Rendition | None:
    """Build one profile for the asset (idempotent); None if the asset is gone.

    A failure is recorded on the rendition (and the asset) and propagates.
    """
    get_profile(profile)  # unknown names fail before anything is locked
    asset = asset_process(asset_id=asset_id, profiles=[profile])
    if asset is None:
        return None
    return Rendition.objects.filter(asset_id=asset_id, profile=profile).first()


def asset_retry(*, asset_id: int, user=None) -> MediaAsset | None:
    """Queue a failed (or abandoned) asset again; its ready renditions are kept.

    Returns the asset, or None if it is gone or is being processed right now.
    """
    with transaction.atomic():
        asset = MediaAsset.objects.select_for_update().filter(pk=asset_id).first()
        if asset is None:
            return None
        if asset.status == MediaAsset.Status.PROCESSING and not claim_is_dead(asset):
            return None
        Rendition.objects.filter(asset=asset).exclude(status=Rendition.Status.READY).update(
            status=Rendition.Status.PENDING, error="", updated_at=timezone.now()
        )
        asset.status, asset.stage = MediaAsset.Status.PENDING, MediaAsset.Stage.QUEUED
        asset.progress, asset.error, asset.worker = 0.0, "", ""
        asset.save(update_fields=["status", "stage", "progress", "error", "worker"])
        logger.info("asset %s queued again by %s", asset_id, getattr(user, "pk", None))
        transaction.on_commit(lambda: asset_queue(asset=asset), robust=True)
    return asset


def assets_recover() -> list[int]:
    """Queue again every asset whose processing was abandoned (its worker died, or its
    heartbeat is older than the lease). Run when a worker starts and periodically."""
    recovered = []
    for asset in MediaAsset.objects.filter(status=MediaAsset.Status.PROCESSING):
        if not claim_is_dead(asset):
            continue
        with transaction.atomic():
            locked = MediaAsset.objects.select_for_update().filter(pk=asset.pk).first()
            if locked is None or locked.status != MediaAsset.Status.PROCESSING:
                continue
            if not claim_is_dead(locked):
                continue
            locked.status, locked.stage, locked.worker = (
                MediaAsset.Status.PENDING,
                MediaAsset.Stage.QUEUED,
                "",
            )
            locked.save(update_fields=["status", "stage", "worker"])
            transaction.on_commit(lambda a=locked: asset_queue(asset=a), robust=True)
        recovered.append(asset.pk)
        logger.warning("asset %s was abandoned by %s; queued again", asset.pk, asset.worker)
    return recovered


def tts_bulletin_create(*, text: str, voice: str | None = None, speed: int | None = None,
                        user=None, title: str = "") -> MediaAsset:  # fmt: skip
    """Speak ``text`` (plain or article HTML) with the configured engine and store it as an
    audio asset; its loudspeaker MP3 (and the other audio renditions) are queued on commit.
    """
    from .tts import tts_synthesize

    upload = tts_synthesize(text=text, voice=voice, speed=speed, title=title)
    try:
        return asset_create(upload=upload, kind=MediaAsset.Kind.AUDIO, user=user)
    finally:
        upload.close()


__all__ = [
    "ProbeResult",
    "asset_create",
    "asset_files_discard_uncommitted",
    "asset_files_kept_on_success",
    "asset_process",
    "asset_queue",
    "asset_retry",
    "asset_validate_upload",
    "assets_recover",
    "image_normalise_upload",
    "image_rebuild_original",
    "image_validate_upload",
    "rendition_build",
    "tts_bulletin_create",
]
