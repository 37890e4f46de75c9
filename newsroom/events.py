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
- ``units_reformed(sender=AdministrativeUnit, unit_ids=list[int])``: the administrative tree
  changed (``newsroom.reform.units_reform``: units moved or merged): the listed units, and
  every unit under them, may have new ancestors. Channels that cache who is under whom
  (the loudspeakers' scopes in ``broadcast``) forget it.
"""

from collections.abc import Iterable

from django.db import transaction
from django.dispatch import Signal

from .models import AdministrativeUnit, NewsItem

item_published = Signal()
item_withdrawn = Signal()
units_reformed = Signal()


def announce_item_published(item: NewsItem, *, first: bool) -> None:
    item_id, sender, version = item.pk, type(item), item.version
    transaction.on_commit(
        lambda: item_published.send(sender=sender, item_id=item_id, version=version, first=first)
    )


def announce_item_withdrawn(item: NewsItem) -> None:
    item_id, sender, version = item.pk, type(item), item.version
    transaction.on_commit(
        lambda: item_withdrawn.send(sender=sender, item_id=item_id, version=version)
    )


def announce_units_reformed(unit_ids: Iterable[int]) -> None:
    ids = sorted(set(unit_ids))
    if ids:
        transaction.on_commit(lambda: units_reformed.send(sender=AdministrativeUnit, unit_ids=ids))
