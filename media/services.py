"""Writes for media: validate and store uploads, build renditions.

``asset_create`` stores an upload that ``asset_validate_upload`` accepted and queues the
transcodes on commit; ``rendition_build`` (run by a Celery task) produces one profile's file
with a deterministic name and an atomic rename, so replaying it is harmless.
"""

import hashlib
import logging
import os
import re
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .ffmpeg import run_ffmpeg
from .models import MediaAsset, Rendition
from .probe import ProbeError, ProbeResult, probe_file
from .profiles import get_profile

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
_VIDEO_CONTAINERS = {
    "mov,mp4,m4a,3gp,3g2,mj2": "mp4",
    "matroska,webm": "mkv",
    "avi": "avi",
}
# Django already strips directories from upload names; control characters and stray
# separators still mean a hostile or broken client.
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")
DEFAULT_PROFILES = {MediaAsset.Kind.AUDIO: ["loudspeaker"], MediaAsset.Kind.VIDEO: []}


def _open_for_probe(upload):
    path = getattr(upload, "temporary_file_path", None)
    if callable(path):
        return path()
    upload.seek(0)
    return upload


def asset_validate_upload(*, upload, kind: str) -> ProbeResult:
    """Check an uploaded file is the media it claims to be; return its probe result.

    Raises ValidationError with a Vietnamese message for anything a reporter must fix.
    """
    name = getattr(upload, "name", "") or ""
    if _UNSAFE_NAME.search(name):
        raise ValidationError(_("The file name contains forbidden characters."))
    size = getattr(upload, "size", None) or 0
    if size == 0:
        raise ValidationError(_("The file is empty."))
    if size > settings.NGUON_MEDIA_MAX_UPLOAD_BYTES:
        raise ValidationError(
            _("The file is too large (limit %(limit)s MB).")
            % {"limit": settings.NGUON_MEDIA_MAX_UPLOAD_BYTES // (1024 * 1024)}
        )
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
    if result.duration and result.duration > limit:
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


def asset_create(*, upload, kind: str, user=None, probe: ProbeResult | None = None) -> MediaAsset:
    """Validate (unless ``probe`` is given), store the file under a generated name, and
    queue its delivery profiles on commit."""
    probe = probe or asset_validate_upload(upload=upload, kind=kind)
    table = _AUDIO_CONTAINERS if kind == MediaAsset.Kind.AUDIO else _VIDEO_CONTAINERS
    asset = MediaAsset(
        kind=kind,
        original_name=os.path.basename(getattr(upload, "name", "") or "")[:255],
        container_suffix=table.get(probe.container, "bin"),
        size=upload.size,
        sha256=_sha256_of(upload),
        probe=probe.as_dict(),
        duration=probe.duration,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    profiles = DEFAULT_PROFILES.get(kind, [])
    asset.file.save("upload", File(upload), save=False)
    try:
        with transaction.atomic():
            asset.save()
            for profile in profiles:
                Rendition.objects.get_or_create(asset=asset, profile=profile)
    except BaseException:
        # No row, no file: a failed save must not leave an orphan under MEDIA_ROOT.
        asset.file.delete(save=False)
        raise
    # Robust: the upload is stored whatever happens to the queueing (with eager tasks, a
    # failed transcode is recorded on its rendition and must not turn the upload into a 500).
    transaction.on_commit(lambda: _queue_transcodes(asset.pk, profiles), robust=True)
    return asset


def _queue_transcodes(asset_id: int, profiles: list[str]) -> None:
    from .tasks import asset_transcode

    for profile in profiles:
        asset_transcode.delay(asset_id, profile)


def rendition_build(*, asset_id: int, profile: str) -> Rendition | None:
    """Produce ``profile`` for the asset; idempotent. Returns None if the asset is gone.

    Any failure (ffmpeg, an unreadable output, a missing source file) marks the rendition
    failed with the error recorded, then propagates so the task can retry.
    """
    spec = get_profile(profile)
    with transaction.atomic():
        asset = MediaAsset.objects.filter(pk=asset_id).first()
        if asset is None:
            return None
        rendition, _created = Rendition.objects.select_for_update().get_or_create(
            asset=asset, profile=profile
        )
        if (
            rendition.status == Rendition.Status.READY
            and rendition.file
            and default_storage.exists(rendition.file.name)
        ):
            return rendition
        rendition.status = Rendition.Status.PROCESSING
        rendition.attempts += 1
        rendition.save(update_fields=["status", "attempts", "updated_at"])

    target_name = f"renditions/{asset.uuid.hex[:2]}/{asset.uuid.hex}-{spec.name}.{spec.suffix}"
    try:
        with tempfile.TemporaryDirectory(prefix="nguon-") as tmp:
            output = _transcode(asset, spec, Path(tmp))
            out_probe = probe_file(str(output))
            with open(output, "rb") as fh:
                size = output.stat().st_size
                sha = _sha256_of(fh)
                # The name is deterministic: replace a leftover of an earlier or failed build.
                if default_storage.exists(target_name):
                    default_storage.delete(target_name)
                stored_name = default_storage.save(target_name, File(fh))
    except Exception as exc:
        Rendition.objects.filter(pk=rendition.pk).update(
            status=Rendition.Status.FAILED,
            error=str(exc)[:4000] or type(exc).__name__,
            updated_at=timezone.now(),  # update() does not touch auto_now fields
        )
        logger.warning("rendition %s of asset %s failed: %s", profile, asset_id, exc)
        raise

    updated = Rendition.objects.filter(pk=rendition.pk).update(
        status=Rendition.Status.READY,
        file=stored_name,
        mime_type=spec.mime_type,
        size=size,
        sha256=sha,
        duration=out_probe.duration,
        channels=out_probe.channels,
        sample_rate=out_probe.sample_rate,
        bitrate=out_probe.audio_bit_rate or out_probe.bit_rate,
        error="",
        updated_at=timezone.now(),  # feeds use it to notice a new enclosure
    )
    if not updated:  # the asset was deleted while ffmpeg ran
        default_storage.delete(stored_name)
        return None
    rendition.refresh_from_db()
    return rendition


def _transcode(asset: MediaAsset, spec, tmp: Path) -> Path:
    source = tmp / f"source.{asset.container_suffix or 'bin'}"
    with asset.file.open("rb") as src, open(source, "wb") as dst:
        for chunk in iter(lambda: src.read(1024 * 1024), b""):
            dst.write(chunk)
    output = tmp / f"out.{spec.suffix}"
    args = ["-i", str(source), "-vn", "-map", "0:a:0"]
    if spec.filters:
        args += ["-af", spec.filters]
    args += ["-ac", str(spec.channels), "-ar", str(spec.sample_rate), *spec.codec_args]
    args.append(str(output))
    run_ffmpeg(args, timeout=max(120.0, (asset.duration or 60) * 2))
    return output
