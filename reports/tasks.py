"""Operations tasks: a no-op that proves a worker consumes a queue and logs with its ids."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, time_limit=60)
def ops_echo(note: str = "") -> str:
    """Log ``note`` (the record carries the task id and the queuing request's id)."""
    logger.info("ops echo %s", note, extra={"note": note})
    return note


@shared_task(acks_late=True, time_limit=60)
def ops_db_roundtrip(note: str = "") -> int:
    """Read from the database (the fault drill checks a worker survives a dropped
    connection); logs ``ops db <note> <published items>``."""
    from newsroom.models import NewsItem

    count = NewsItem.objects.filter(live=True).count()
    logger.info("ops db %s %s", note, count)
    return count
