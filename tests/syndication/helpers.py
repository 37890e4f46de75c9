"""Helpers for the syndication tests: items published and withdrawn the way the newsroom
does it (events after commit), and subscribers pointed at a test receiver."""

from django.db import transaction
from django.test import TestCase
from django.utils import timezone

from newsroom.events import announce_item_published, announce_item_withdrawn
from newsroom.models import NewsItem


def publish(item: NewsItem, *, when=None) -> NewsItem:
    """What the newsroom does on publish: live, version + 1, the event after commit."""
    when = when or timezone.now()
    # Run the after-commit event even inside a test's transaction.
    with TestCase.captureOnCommitCallbacks(execute=True), transaction.atomic():
        item.live = True
        item.withdrawn_at = None
        item.first_published_at = item.first_published_at or when
        item.last_published_at = when
        item.version += 1
        item.version_created_at = when
        item.save()
        announce_item_published(item, first=item.version == 1)
    return item


def withdraw(item: NewsItem, *, when=None) -> NewsItem:
    """What the newsroom does on withdrawal: not live, withdrawn_at, the event."""
    with TestCase.captureOnCommitCallbacks(execute=True), transaction.atomic():
        item.live = False
        item.withdrawn_at = when or timezone.now()
        item.save()
        announce_item_withdrawn(item)
    return item


def make_item(unit, headline: str, *, published_at=None, **fields) -> NewsItem:
    """A published item at version 1 (the event is announced)."""
    if fields.get("audio") is not None:
        fields.setdefault("kind", NewsItem.Kind.AUDIO)
    item = NewsItem.objects.create(unit=unit, headline=headline, live=False, **fields)
    return publish(item, when=published_at)


def make_subscriber(receiver, name="Hệ thống quốc gia", **fields):
    from syndication.models import Subscriber

    units = fields.pop("units", [])
    categories = fields.pop("categories", [])
    fields.setdefault("format", Subscriber.Format.NINJS)
    fields.setdefault("timeout_seconds", 2)
    fields.setdefault("retry_base_seconds", 60)
    subscriber = Subscriber.objects.create(
        name=name, endpoint_url=receiver.url, secret=receiver.secret, **fields
    )
    subscriber.units.set(units)
    subscriber.categories.set(categories)
    return subscriber
