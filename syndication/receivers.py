"""Reactions to newsroom events and row changes: feed validators and push fan-out.

The fan-out runs inline, right after the publishing transaction committed, so the outbox
rows are in publication order; if it fails (or the process dies first) the beat sweeper's
``fanout_reconcile`` finds the publication without a fan-out record and does it then.
"""

import logging

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from wagtail.images import get_image_model

from newsroom.events import item_published, item_withdrawn
from newsroom.models import NewsItem

from . import services

logger = logging.getLogger(__name__)


@receiver(post_save, sender=NewsItem, dispatch_uid="syndication_item_saved")
def on_item_saved(sender, instance, **kwargs):
    # A draft of a never-published item cannot change a feed.
    if instance.live or instance.first_published_at or instance.withdrawn_at:
        services.feed_changed()


@receiver(post_delete, sender=NewsItem, dispatch_uid="syndication_item_deleted")
def on_item_deleted(sender, instance, **kwargs):
    if instance.live:
        services.feed_changed()


@receiver(post_save, sender=get_image_model(), dispatch_uid="syndication_image_saved")
@receiver(post_delete, sender=get_image_model(), dispatch_uid="syndication_image_deleted")
def on_image_changed(sender, instance, **kwargs):
    # A picture's alt text (its library description) travels in the feeds.
    services.feed_changed()


def _fanout(item_id: int, version: int, action: str) -> None:
    try:
        services.syndicated_item_refresh(item_id=item_id)
        if action == "cancel":
            ids = services.deliveries_fanout_withdraw(item_id=item_id, version=version)
        else:
            ids = services.deliveries_fanout_publish(item_id=item_id, version=version)
    except Exception:
        logger.exception(
            "fan-out of item %s v%s (%s) failed; the sweeper retries", item_id, version, action
        )
        return
    for subscriber_id in ids:
        try:
            services.queue_drain(subscriber_id)
        except Exception:  # the broker is down: the sweeper dispatches it later
            logger.exception("could not queue the drain of subscriber %s", subscriber_id)


@receiver(item_published, dispatch_uid="syndication_item_published")
def on_item_published(sender, item_id, version, **kwargs):
    _fanout(item_id, version, "publish")


@receiver(item_withdrawn, dispatch_uid="syndication_item_withdrawn")
def on_item_withdrawn(sender, item_id, version, **kwargs):
    _fanout(item_id, version, "cancel")
