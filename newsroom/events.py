"""Events the newsroom announces; channels (portal, feeds, search, broadcast) react.

Each signal is sent after the transaction that caused it commits, with plain ids, so a
receiver may queue a Celery task and the task will see the committed row.

- ``item_published(sender=NewsItem, item_id=int, version=int, first=bool)``: an item went
  live (``first`` True, ``version`` 1), or a new version of a live item was published: a
  correction (``first`` False, ``version`` > 1). Channels that got an older version must
  replace it.
- ``item_withdrawn(sender=NewsItem, item_id=int, version=int)``: a published item was taken
  back (pubstatus ``canceled``): off the portal, off loudspeaker timelines, a cancel goes to
  every feed consumer that received it.
"""

from django.db import transaction
from django.dispatch import Signal

item_published = Signal()
item_withdrawn = Signal()


def announce_item_published(item, *, first: bool) -> None:
    item_id, sender, version = item.pk, type(item), item.version
    transaction.on_commit(
        lambda: item_published.send(sender=sender, item_id=item_id, version=version, first=first)
    )


def announce_item_withdrawn(item) -> None:
    item_id, sender, version = item.pk, type(item), item.version
    transaction.on_commit(
        lambda: item_withdrawn.send(sender=sender, item_id=item_id, version=version)
    )
