from celery import shared_task

from .services import item_index


class TemporarySearchError(Exception):
    pass


@shared_task(
    bind=True,
    acks_late=True,
    soft_time_limit=60,
    time_limit=90,
    max_retries=8,
    autoretry_for=(ConnectionError, TimeoutError),
    retry_backoff=True,
    retry_jitter=True,
)
def index_item(self, item_id: int) -> None:
    """Re-read the item and (re)index it; an unreachable cluster retries with backoff."""
    item_index(item_id=item_id)
