"""Writes for syndication: the feed state, the outbox fan-out, sending, resending.

Delivery rules (after Superdesk's publish queue):

- publish / correction: every active subscriber whose filters match the item, plus every
  subscriber that already received (or is about to receive) an earlier version;
- withdrawal: only those previous recipients, with ``pubstatus: canceled``.

Each (subscriber, idempotency key) is one row, so a replayed event or a sweeper pass never
queues a push twice. A subscriber's rows are sent one at a time in ``(queued_at, id)`` order
by whoever holds the subscriber's lease (``subscriber_drain``); a row that fails waits with
exponential backoff and jitter and holds back the rows behind it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from newsroom.models import NewsItem

from .feeds import FeedContext, feed_build_rss_item
from .models import Alert, Delivery, FanoutRecord, FeedChange, Subscriber, SyndicatedItem
from .ninjs import item_to_ninjs, item_uri
from .selectors import WEB_DISTRIBUTIONS, item_list_syndicated, subscriber_list_matching
from .transport import PushError, http_post

logger = logging.getLogger(__name__)

USER_AGENT = "Nguon-Syndication/1"
CONTENT_TYPES = {
    Subscriber.Format.NINJS: "application/json; charset=utf-8",
    Subscriber.Format.RSS: "application/rss+xml; charset=utf-8",
}


# --- feeds --------------------------------------------------------------------------------


def feed_changed() -> None:
    """Mark a change feed readers will see (inside the changing transaction)."""
    FeedChange.objects.create()


def feed_changes_prune(*, older_than_minutes: int = 60) -> int:
    """Delete old marks, always keeping the newest (the validators only need it)."""
    newest = FeedChange.objects.order_by("-id").values_list("id", flat=True).first()
    if newest is None:
        return 0
    cutoff = timezone.now() - timedelta(minutes=older_than_minutes)
    deleted, _rows = FeedChange.objects.filter(created_at__lt=cutoff, id__lt=newest).delete()
    return deleted


def outbox_prune(*, batch: int = 5000) -> int:
    """Delete finished deliveries older than ``SYNDICATION_DELIVERY_RETENTION_DAYS`` and
    fan-out records older than the reconciliation window (at most ``batch`` rows each)."""
    now = timezone.now()
    cutoff = now - timedelta(days=settings.SYNDICATION_DELIVERY_RETENTION_DAYS)
    old = Delivery.objects.filter(
        state__in=[Delivery.State.SUCCESS, Delivery.State.FAILED], finished_at__lt=cutoff
    ).values_list("pk", flat=True)[:batch]
    deleted, _rows = Delivery.objects.filter(pk__in=list(old)).delete()
    records = FanoutRecord.objects.filter(created_at__lt=now - timedelta(days=7)).values_list(
        "pk", flat=True
    )[:batch]
    gone, _rows = FanoutRecord.objects.filter(pk__in=list(records)).delete()
    return deleted + gone


# --- the API index ----------------------------------------------------------------------


def syndicated_item_refresh(*, item_id: int) -> SyndicatedItem | None:
    """Bring the item's API index row in line with the item (create, update or delete)."""
    item = (
        NewsItem.objects.filter(pk=item_id)
        .select_related("unit")
        .only(
            "pk",
            "live",
            "version",
            "version_created_at",
            "last_published_at",
            "withdrawn_at",
            "distribution",
            "category_id",
            "kind",
            "unit__path",
        )
        .first()
    )
    listed = (
        item is not None
        and item.version > 0
        and item.distribution in WEB_DISTRIBUTIONS
        and (item.live or item.withdrawn_at is not None)
    )
    if item is None or not listed:
        SyndicatedItem.objects.filter(item_id=item_id).delete()
        return None
    entry, _created = SyndicatedItem.objects.update_or_create(
        item_id=item.pk,
        defaults={
            "synced_at": item.withdrawn_at or item.version_created_at or item.last_published_at,
            "unit_path": item.unit.path,
            "category_id": item.category_id,
            "kind": item.kind,
            "version": item.version,
        },
    )
    return entry


def syndicated_items_rebuild() -> int:
    """Rebuild the whole API index (after bulk imports that bypassed the events)."""
    rows = (
        NewsItem.objects.filter(version__gt=0, distribution__in=WEB_DISTRIBUTIONS)
        .filter(Q(live=True) | Q(withdrawn_at__isnull=False))
        .values_list(
            "pk",
            "withdrawn_at",
            "version_created_at",
            "last_published_at",
            "unit__path",
            "category_id",
            "kind",
            "version",
        )
    )
    with transaction.atomic():
        SyndicatedItem.objects.all().delete()
        batch, total = [], 0
        for pk, withdrawn, created, last, path, category, kind, version in rows.iterator():
            synced = withdrawn or created or last
            if synced is None:
                continue
            batch.append(
                SyndicatedItem(
                    item_id=pk,
                    synced_at=synced,
                    unit_path=path,
                    category_id=category,
                    kind=kind,
                    version=version,
                )
            )
            if len(batch) >= 5000:
                SyndicatedItem.objects.bulk_create(batch)
                total, batch = total + len(batch), []
        SyndicatedItem.objects.bulk_create(batch)
    return total + len(batch)


# --- fan-out ------------------------------------------------------------------------------


def _base_url() -> str:
    return settings.SYNDICATION_BASE_URL.rstrip("/") + "/"


def _rss_context(item) -> FeedContext:
    base = _base_url()
    return FeedContext(
        site_url=base,
        feed_url=base + "feeds/rss/",
        item_url=lambda it: base.rstrip("/") + it.public_path,
    )


def _bodies(item: NewsItem, *, canceled: bool) -> dict[str, str]:
    base = _base_url()
    doc = item_to_ninjs(item, base_url=base, portal_url=base.rstrip("/") + item.public_path)
    if canceled:
        doc["pubstatus"] = "canceled"
    return {
        Subscriber.Format.NINJS: json.dumps(doc, ensure_ascii=False, separators=(",", ":")),
        Subscriber.Format.RSS: feed_build_rss_item(
            item=item, ctx=_rss_context(item), canceled=canceled
        ).decode("utf-8"),
    }


def _previous_recipient_ids(uri: str) -> set[int]:
    """Subscribers that received a version of the item, or have one still queued."""
    return set(
        Delivery.objects.filter(item_uri=uri, action=Delivery.Action.PUBLISH)
        .exclude(state=Delivery.State.FAILED)
        .values_list("subscriber_id", flat=True)
    )


def _enqueue(item, *, version: int, action: str, subscribers, queued_at) -> list[int]:
    uri = item_uri(item)
    canceled = action == Delivery.Action.CANCEL
    key = f"{uri}@{version}" + (":canceled" if canceled else "")
    bodies = _bodies(item, canceled=canceled) if subscribers else {}
    rows = [
        Delivery(
            subscriber=subscriber,
            item=item,
            item_uri=uri,
            version=version,
            action=action,
            headline=item.headline[:255],
            idempotency_key=key,
            content_type=CONTENT_TYPES[subscriber.format],
            body=bodies[subscriber.format],
            queued_at=queued_at,
        )
        for subscriber in subscribers
    ]
    with transaction.atomic():
        Delivery.objects.bulk_create(rows, ignore_conflicts=True)
        FanoutRecord.objects.get_or_create(item=item, version=version, action=action)
    return [s.pk for s in subscribers]


def deliveries_fanout_publish(*, item_id: int, version: int) -> list[int]:
    """Queue version ``version`` of a live item for matching and previous subscribers.

    Returns the subscriber ids queued. Does nothing if the item is gone, no longer live, or
    already at a newer version (that version's own event queues it).
    """
    item = item_list_syndicated().filter(pk=item_id).first()
    if item is None or not item.live or item.version != version:
        return []
    uri = item_uri(item)
    targets = {s.pk: s for s in subscriber_list_matching(item=item)}
    previous = _previous_recipient_ids(uri) - set(targets)
    if previous:
        for s in Subscriber.objects.filter(pk__in=previous, active=True):
            targets[s.pk] = s
    queued_at = item.version_created_at or timezone.now()
    return _enqueue(
        item,
        version=version,
        action=Delivery.Action.PUBLISH,
        subscribers=list(targets.values()),
        queued_at=queued_at,
    )


def deliveries_fanout_withdraw(*, item_id: int, version: int) -> list[int]:
    """Queue a cancel of a withdrawn item for its previous recipients only."""
    item = item_list_syndicated().filter(pk=item_id).first()
    if item is None or item.withdrawn_at is None or item.version != version:
        return []
    previous = _previous_recipient_ids(item_uri(item))
    subscribers = list(Subscriber.objects.filter(pk__in=previous, active=True))
    return _enqueue(
        item,
        version=version,
        action=Delivery.Action.CANCEL,
        subscribers=subscribers,
        queued_at=item.withdrawn_at,
    )


def fanout_reconcile(*, grace_seconds: float = 10, window_hours: int = 48) -> int:
    """Fan out publications and withdrawals that have no fan-out record (the process that
    committed them died before its after-commit event ran). Returns how many were done."""
    now = timezone.now()
    since, until = now - timedelta(hours=window_hours), now - timedelta(seconds=grace_seconds)
    # (record action, the rows that should have one, their time field, the fan-out to redo):
    # publications first, then withdrawals, each oldest first.
    kinds = (
        ("publish", Q(live=True), "version_created_at", deliveries_fanout_publish),
        ("cancel", Q(live=False), "withdrawn_at", deliveries_fanout_withdraw),
    )
    done = 0
    for action, state, at, fanout in kinds:
        missed = (
            NewsItem.objects.filter(
                state, version__gt=0, **{f"{at}__gte": since, f"{at}__lt": until}
            )
            .exclude(
                Exists(
                    FanoutRecord.objects.filter(
                        item=OuterRef("pk"), version=OuterRef("version"), action=action
                    )
                )
            )
            .order_by(at, "pk")
            .values_list("pk", "version")
        )
        for pk, version in missed:
            syndicated_item_refresh(item_id=pk)
            fanout(item_id=pk, version=version)
            done += 1
    return done


# --- sending ------------------------------------------------------------------------------


def delivery_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256(secret, timestamp + "." + body)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _backoff(subscriber: Subscriber, attempts: int, retry_after: float | None) -> float:
    """Exponential backoff with "equal jitter": half the step fixed, half random."""
    step = min(subscriber.retry_max_seconds, subscriber.retry_base_seconds * 2 ** (attempts - 1))
    delay = step / 2 + random.uniform(0, step / 2)
    if retry_after is not None:
        delay = max(delay, min(retry_after, subscriber.retry_max_seconds))
    return delay


def _lease_seconds(subscriber: Subscriber) -> float:
    return subscriber.timeout_seconds * 2 + 5


def _lease_acquire(subscriber: Subscriber, token: str) -> bool:
    now = timezone.now()
    return bool(
        Subscriber.objects.filter(pk=subscriber.pk, active=True)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + timedelta(seconds=_lease_seconds(subscriber)), lease_token=token)
    )


def _lease_renew(subscriber: Subscriber, token: str) -> bool:
    until = timezone.now() + timedelta(seconds=_lease_seconds(subscriber))
    return bool(
        Subscriber.objects.filter(pk=subscriber.pk, lease_token=token).update(lease_until=until)
    )


def _lease_release(subscriber: Subscriber, token: str) -> None:
    Subscriber.objects.filter(pk=subscriber.pk, lease_token=token).update(
        lease_until=None, lease_token=""
    )


def delivery_send(*, delivery: Delivery, subscriber: Subscriber) -> Delivery:
    """Make one attempt and record its outcome on the row (caller holds the lease)."""
    now = timezone.now()
    attempts = delivery.attempts + 1
    Delivery.objects.filter(pk=delivery.pk).update(
        state=Delivery.State.IN_PROGRESS, started_at=now, attempts=attempts
    )
    body = delivery.body.encode("utf-8")
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": delivery.content_type,
        "User-Agent": USER_AGENT,
        "X-Timestamp": timestamp,
        "X-Signature": delivery_signature(secret=subscriber.secret, timestamp=timestamp, body=body),
        "Idempotency-Key": delivery.idempotency_key,
        "X-Nguon-Delivery": str(delivery.pk),
        "X-Nguon-Attempt": str(attempts),
        "X-Nguon-Pubstatus": "canceled" if delivery.action == Delivery.Action.CANCEL else "usable",
    }
    status, error, retryable, retry_after = None, "", True, None
    try:
        response = http_post(
            subscriber.endpoint_url,
            body,
            headers,
            timeout=subscriber.timeout_seconds,
            max_bytes=settings.SYNDICATION_PUSH_MAX_RESPONSE_BYTES,
        )
    except PushError as exc:
        error, retryable = f"{type(exc).__name__}: {exc}", exc.retryable
    else:
        status = response.status
        if 200 <= status < 300:
            return _record(delivery, state=Delivery.State.SUCCESS, status=status, attempts=attempts)
        snippet = response.body[:500].decode("utf-8", "replace")
        error = f"HTTP {status} {response.reason}".strip() + (f": {snippet}" if snippet else "")
        retryable = status in (408, 429) or status >= 500
        retry_after = response.retry_after
    if retryable and attempts < subscriber.max_attempts:
        delay = _backoff(subscriber, attempts, retry_after)
        return _record(
            delivery,
            state=Delivery.State.RETRYING,
            status=status,
            error=error,
            attempts=attempts,
            next_try_at=timezone.now() + timedelta(seconds=delay),
        )
    delivery = _record(
        delivery, state=Delivery.State.FAILED, status=status, error=error, attempts=attempts
    )
    Alert.objects.create(
        kind=Alert.Kind.DELIVERY_FAILED,
        subscriber=subscriber,
        delivery=delivery,
        message=_(
            "Delivery of “%(headline)s” (v%(version)s) to %(subscriber)s failed after "
            "%(attempts)s attempt(s): %(error)s"
        )
        % {
            "headline": delivery.headline,
            "version": delivery.version,
            "subscriber": subscriber.name,
            "attempts": attempts,
            "error": error[:300],
        },
    )
    logger.warning("delivery %s to %s failed: %s", delivery.pk, subscriber.pk, error)
    return delivery


def _record(delivery, *, state, status=None, error="", attempts, next_try_at=None) -> Delivery:
    final = state in (Delivery.State.SUCCESS, Delivery.State.FAILED)
    fields = {
        "state": state,
        "last_status": status,
        "last_error": error[:4000],
        "next_try_at": next_try_at,
        "finished_at": timezone.now() if final else None,
    }
    Delivery.objects.filter(pk=delivery.pk).update(**fields)
    for name, value in fields.items():
        setattr(delivery, name, value)
    delivery.attempts = attempts
    return delivery


def subscriber_drain(
    *, subscriber_id: int, max_deliveries: int = 500, budget_seconds: float = 60
) -> tuple[str, float | None]:
    """Send a subscriber's due deliveries in order while holding its lease.

    Returns ``(outcome, wait)``: ``("idle", None)`` when nothing is queued, ``("busy", None)``
    when another worker holds the lease, ``("waiting", seconds)`` when the head of the queue
    is not due yet, ``("more", 0)`` when the budget ran out with rows still due.
    """
    subscriber = Subscriber.objects.filter(pk=subscriber_id, active=True).first()
    if subscriber is None:
        return "idle", None
    token = uuid.uuid4().hex
    if not _lease_acquire(subscriber, token):
        return "busy", None
    started, sent = time.monotonic(), 0
    renewed = started
    try:
        batch: list[Delivery] = []
        while True:
            if not batch:
                # The next rows in order; re-read per batch, not per row (one query saved
                # per delivery). A row queued meanwhile goes out with the next batch.
                batch = list(
                    Delivery.objects.filter(
                        subscriber=subscriber, state__in=Delivery.OPEN_STATES
                    ).order_by("queued_at", "id")[:50]
                )
                if not batch:
                    return "idle", None
            head = batch[0]
            now = timezone.now()
            # An IN_PROGRESS head was left by a worker that died: we hold the lease now.
            if head.next_try_at and head.next_try_at > now:
                return "waiting", (head.next_try_at - now).total_seconds()
            if sent >= max_deliveries or time.monotonic() - started > budget_seconds:
                return "more", 0.0
            # One send lasts at most the timeout: renew before the lease could run out.
            if time.monotonic() - renewed > subscriber.timeout_seconds:
                if not _lease_renew(subscriber, token):
                    return "busy", None
                renewed = time.monotonic()
            result = delivery_send(delivery=head, subscriber=subscriber)
            sent += 1
            if result.state == Delivery.State.SUCCESS or result.state == Delivery.State.FAILED:
                batch.pop(0)
            else:
                batch = []  # retrying: re-read (the head now waits for its next try)
    finally:
        _lease_release(subscriber, token)


def subscriber_ids_due() -> list[int]:
    """Active subscribers with a delivery due now and nobody holding their lease."""
    now = timezone.now()
    due = Delivery.objects.filter(subscriber=OuterRef("pk"), state__in=Delivery.OPEN_STATES).filter(
        Q(next_try_at__isnull=True) | Q(next_try_at__lte=now)
    )
    return list(
        Subscriber.objects.filter(active=True)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .filter(Exists(due))
        .values_list("pk", flat=True)
    )


# --- admin actions ------------------------------------------------------------------------


def delivery_resend(*, user, delivery: Delivery) -> Delivery:
    """Queue ``delivery`` again (at the back of its subscriber's queue) and close its
    alerts. Needs the change permission on deliveries."""
    if not user.has_perm("syndication.change_delivery"):
        raise PermissionDenied(_("You cannot resend deliveries."))
    now = timezone.now()
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(
            state=Delivery.State.PENDING,
            attempts=0,
            next_try_at=None,
            last_error="",
            last_status=None,
            queued_at=now,
            started_at=None,
            finished_at=None,
        )
        Alert.objects.filter(delivery=delivery, resolved_at__isnull=True).update(resolved_at=now)
    delivery.refresh_from_db()
    subscriber_id = delivery.subscriber_id
    transaction.on_commit(lambda: queue_drain(subscriber_id))
    return delivery


def queue_drain(subscriber_id: int, countdown: float | None = None) -> None:
    from .tasks import subscriber_drain as task

    if countdown:
        task.apply_async((subscriber_id,), countdown=countdown)
    else:
        task.delay(subscriber_id)
