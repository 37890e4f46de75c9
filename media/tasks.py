"""Celery tasks for media: plain ids in, re-fetch, idempotent, on the ``media`` queue."""

from celery import shared_task

from .ffmpeg import FFmpegError
from .services import rendition_build


@shared_task(
    bind=True,
    acks_late=True,
    soft_time_limit=3 * 3600,
    time_limit=3 * 3600 + 60,
    max_retries=2,
)
def asset_transcode(self, asset_id: int, profile: str) -> None:
    """Build one rendition; a failed ffmpeg run is recorded on the rendition and retried
    twice with backoff (a full disk or an OOM kill are temporary)."""
    try:
        rendition_build(asset_id=asset_id, profile=profile)
    except FFmpegError as exc:
        raise self.retry(exc=exc, countdown=30 * (2**self.request.retries)) from exc
