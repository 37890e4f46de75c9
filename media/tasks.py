"""Celery tasks for media: plain ids in, re-fetch, idempotent, on the ``media`` queue.

``asset_transcode`` runs with ``acks_late`` (a message is acknowledged only once the work
is done) and time limits that ``media.services.asset_queue`` scales to the duration.
Temporary failures (ffmpeg killed or timed out, a missing or unreadable file, a full disk)
are retried with exponential backoff and jitter; ffmpeg refusing the input is permanent and
is left on the asset for the admin. A worker that starts puts back in the queue whatever a
dead worker abandoned (``assets_recover``), and so does a periodic beat task.
"""

import logging
import random

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_ready

from .ffmpeg import FFmpegError
from .image_renditions import image_renditions_make as renditions_make
from .services import asset_process, assets_recover

logger = logging.getLogger(__name__)


def _backoff(retries: int) -> float:
    return 20 * (2**retries) + random.uniform(0, 10)


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=3 * 3600,
    time_limit=3 * 3600 + 120,
    max_retries=3,
)
def asset_transcode(self, asset_id: int, profile: str | None = None, profiles=None) -> None:
    """Build the asset's renditions (every pending one, or ``profile``/``profiles``)."""
    names = profiles or ([profile] if profile else None)
    try:
        asset_process(asset_id=asset_id, profiles=names)
    except FFmpegError as exc:
        if not exc.transient:
            logger.warning("asset %s: ffmpeg refused the input: %s", asset_id, exc)
            raise
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc
    except (OSError, SoftTimeLimitExceeded) as exc:
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180)
def assets_recover_abandoned() -> list[int]:
    """Queue again the assets whose worker died half-way."""
    return assets_recover()


@shared_task(acks_late=True, soft_time_limit=300, time_limit=360)
def image_renditions_make(image_ids: list[int]) -> int:
    """Make the pictures' channel renditions ahead of the first reader (idempotent; an
    image deleted meanwhile is skipped)."""
    return renditions_make(image_ids=image_ids)


@worker_ready.connect
def _recover_on_start(sender=None, **kwargs):
    """A worker that starts picks up what a killed one left (the filesystem broker loses an
    unacknowledged message with its worker; Redis only gives it back after its visibility
    timeout)."""
    try:
        recovered = assets_recover()
    except Exception:  # never stop a worker from starting
        logger.exception("media recovery at worker start failed")
        return
    if recovered:
        logger.warning("media: queued again %s abandoned asset(s): %s", len(recovered), recovered)
