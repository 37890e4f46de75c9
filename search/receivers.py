"""Keep the index in step with the newsroom: publication, correction, withdrawal, edits,
the approval chain, deletions.

Every reaction queues ``index_item(item_id)`` after the transaction commits; the task
re-reads the row, so a correction (``item_published`` with ``first=False``) replaces the
document and a withdrawal (``item_withdrawn``) makes it non-public at once. The events
arrive after the newsroom's transaction committed: a broker that cannot take the task must
not turn a done publication into an error page, so that is logged (and
``manage.py search_rebuild`` repairs the index) instead of raised.
"""

import logging

from celery.exceptions import Retry
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from kombu.exceptions import OperationalError
from wagtail.signals import (
    workflow_approved,
    workflow_cancelled,
    workflow_rejected,
    workflow_submitted,
)

from newsroom.events import item_published, item_withdrawn
from newsroom.models import NewsItem

from .backends.base import TemporarySearchError
from .tasks import index_item

logger = logging.getLogger(__name__)


def _queue_index(item_id: int) -> None:
    try:
        index_item.delay(item_id)
    except OperationalError:
        logger.exception("could not queue search indexing of item %s", item_id)
    except (TemporarySearchError, Retry):
        # Only when tasks run eagerly (in-process) and the cluster is down after every retry.
        logger.warning("search index not updated for item %s: search unreachable", item_id)


def _queue_on_commit(item_id: int) -> None:
    transaction.on_commit(lambda: _queue_index(item_id))


@receiver(item_published)
def on_item_published(sender, item_id, **kwargs):
    _queue_index(item_id)


@receiver(item_withdrawn)
def on_item_withdrawn(sender, item_id, **kwargs):
    _queue_index(item_id)


@receiver(post_save, sender=NewsItem)
def on_item_saved(sender, instance, raw=False, **kwargs):
    """Drafts and edits, so that editors find them (the public filter hides them)."""
    if not raw:
        _queue_on_commit(instance.pk)


def _on_workflow(sender, instance, **kwargs):
    """Submitted, returned, approved, cancelled: the item's editorial status changed."""
    obj = getattr(instance, "content_object", None)
    if isinstance(obj, NewsItem):
        _queue_on_commit(obj.pk)


for _signal in (workflow_submitted, workflow_rejected, workflow_approved, workflow_cancelled):
    _signal.connect(_on_workflow, dispatch_uid=f"search-{id(_signal)}")


@receiver(post_delete, sender=NewsItem)
def on_item_deleted(sender, instance, **kwargs):
    """A deleted item sends no ``item_withdrawn``; the task finds it gone and drops it."""
    _queue_on_commit(instance.pk)
