"""Celery tasks of the ``publish`` queue. Plain ids in, re-fetch, safe to replay.

The outbox rows are the truth; messages only say "look now". A lost message, a killed
worker or an ETA held by a dead worker costs at most one sweep interval
(``SYNDICATION_SWEEP_SECONDS``): ``deliveries_sweep`` re-dispatches everything due.
"""

import logging

from celery import current_app, shared_task

from . import ingest, services

logger = logging.getLogger(__name__)


def _eager() -> bool:
    return bool(current_app.conf.task_always_eager)


@shared_task(name="syndication.tasks.subscriber_drain", acks_late=True, time_limit=600)
def subscriber_drain(subscriber_id: int) -> str:
    """Send a subscriber's due deliveries in order; re-queue itself for the next retry."""
    outcome, wait = services.subscriber_drain(subscriber_id=subscriber_id)
    # Eager runs (tests, scripts) leave later retries to the sweeper instead of recursing.
    if not _eager():
        if outcome == "waiting" and wait is not None:
            services.queue_drain(subscriber_id, countdown=max(wait, 0.05))
        elif outcome == "more":
            services.queue_drain(subscriber_id)
    return outcome


@shared_task(name="syndication.tasks.item_fanout", acks_late=True, time_limit=300)
def item_fanout(item_id: int, version: int, action: str = "publish") -> int:
    """Turn a publication or withdrawal into deliveries (used when the event receiver
    could not do it inline); queues a drain for each subscriber touched."""
    if action == "cancel":
        ids = services.deliveries_fanout_withdraw(item_id=item_id, version=version)
    else:
        ids = services.deliveries_fanout_publish(item_id=item_id, version=version)
    for subscriber_id in ids:
        services.queue_drain(subscriber_id)
    return len(ids)


@shared_task(name="syndication.tasks.deliveries_sweep", time_limit=300)
def deliveries_sweep() -> int:
    """Beat: fan out missed publications, then queue a drain for every subscriber with a
    due delivery and no live lease (a dead worker's lease expires on its own)."""
    services.fanout_reconcile()
    services.feed_changes_prune()
    services.outbox_prune()
    due = services.subscriber_ids_due()
    for subscriber_id in due:
        services.queue_drain(subscriber_id)
    return len(due)


@shared_task(name="syndication.tasks.sources_poll_due", time_limit=120)
def sources_poll_due() -> int:
    """Beat: queue a poll for each source that is due, and raise quiet-source alerts."""
    ids = ingest.source_ids_due()
    for source_id in ids:
        source_poll.delay(source_id)
    ingest.sources_check_quiet()
    return len(ids)


@shared_task(name="syndication.tasks.source_poll", acks_late=True, time_limit=300)
def source_poll(source_id: int) -> int:
    """Fetch one source and land its new items as drafts; returns how many were new."""
    return ingest.source_poll(source_id=source_id)
