"""Events the newsroom announces; channels (portal, feeds, search, broadcast) react.

Each signal is sent after the transaction that caused it commits, with plain ids, so a
receiver may queue a Celery task and the task will see the committed row.

- ``item_published(sender=NewsItem, item_id=int, first=bool)``: an item went live, or a new
  version of a live item was published (``first`` is False for corrections).
- ``item_unpublished(sender=NewsItem, item_id=int)``: an item was withdrawn from publication.
"""

from django.db import transaction
from django.dispatch import Signal

item_published = Signal()
item_unpublished = Signal()


def announce_item_published(item, *, first: bool) -> None:
    item_id, sender = item.pk, type(item)
    transaction.on_commit(lambda: item_published.send(sender=sender, item_id=item_id, first=first))


def announce_item_unpublished(item) -> None:
    item_id, sender = item.pk, type(item)
    transaction.on_commit(lambda: item_unpublished.send(sender=sender, item_id=item_id))
