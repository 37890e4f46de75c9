from celery import shared_task

from .backends.base import TemporarySearchError
from .services import item_index

__all__ = ["TemporarySearchError", "index_item"]


@shared_task(
    bind=True,
    acks_late=True,
    soft_time_limit=60,
    time_limit=90,
    max_retries=8,
    autoretry_for=(TemporarySearchError, ConnectionError, TimeoutError),
    retry_backoff=True,
    retry_jitter=True,
)
def index_item(self, item_id: int) -> None:
    """Re-read the item and (re)index it; an unreachable cluster retries with backoff.

    Backends raise ``TemporarySearchError`` for failures worth retrying (connection
    refused, timeout, 429/502/503/504); anything else is a bug and fails at once.
    """
    item_index(item_id=item_id)
