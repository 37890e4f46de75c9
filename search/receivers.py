"""Keep the index in step with publication events (and deletions).

The events arrive after the newsroom's transaction committed: a broker that cannot take
the task must not turn a done publication into an error page, so that is logged (and
``manage.py search_reindex`` repairs the index) instead of raised.
"""

import logging

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver
from kombu.exceptions import OperationalError

from newsroom.events import item_published, item_unpublished
from newsroom.models import NewsItem

from .tasks import index_item

logger = logging.getLogger(__name__)


def _queue_index(item_id: int) -> None:
    try:
        index_item.delay(item_id)
    except OperationalError:
        logger.exception("could not queue search indexing of item %s", item_id)


@receiver(item_published)
def on_item_published(sender, item_id, **kwargs):
    _queue_index(item_id)


@receiver(item_unpublished)
def on_item_unpublished(sender, item_id, **kwargs):
    _queue_index(item_id)


@receiver(post_delete, sender=NewsItem)
def on_item_deleted(sender, instance, **kwargs):
    """A deleted item sends no ``item_unpublished``; the task finds it gone and drops it."""
    item_id = instance.pk
    transaction.on_commit(lambda: _queue_index(item_id))
