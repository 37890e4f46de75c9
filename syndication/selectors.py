"""Reads for feeds, the ninjs API, subscriber matching and the delivery reports."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Max, Q, QuerySet

from media.models import Rendition
from media.profiles import LOUDSPEAKER, WEB_AUDIO
from newsroom.audience import PROVINCE_DISTRIBUTIONS, WEB_DISTRIBUTIONS, item_list_public
from newsroom.models import AdministrativeUnit, Category, NewsItem

from .models import Delivery, FeedChange, Subscriber

FEED_SIZE = 50

D = NewsItem.Distribution
# Like the portal, feeds read the newsroom's one public rule (``newsroom.audience``):
# "commune loudspeakers only" never leaves the loudspeakers; district-scope items appear
# only in feeds of a unit below the province.
SCOPE_RANK = {D.COMMUNE: 0, D.DISTRICT: 1, D.PROVINCE: 2, D.NATIONAL: 3}


# --- feeds --------------------------------------------------------------------------------


def feed_filters_resolve(*, unit_code: str = "", category_slug: str = ""):
    """The unit and category a feed asks for: ``(unit, category, known)``.

    ``known`` is False when a code or slug names nothing: the feed is then valid and empty
    (a reader subscribed to a renamed unit sees no items, not an error page).
    """
    unit = category = None
    if "\x00" in unit_code or "\x00" in category_slug:  # no code holds one (PostgreSQL: none can)
        return None, None, False
    known = True
    if unit_code:
        unit = AdministrativeUnit.objects.filter(code=unit_code.strip()).first()
        known = known and unit is not None
    if category_slug:
        category = Category.objects.filter(slug=category_slug.strip()).first()
        known = known and category is not None
    return unit, category, known


def feed_item_list(
    *, unit=None, category=None, known: bool = True, kind: str = "", limit: int = FEED_SIZE
) -> list[NewsItem]:
    """Live items for a feed, newest first, with enclosures prefetched (constant queries)."""
    if not known:
        return []
    if unit is None:
        qs = item_list_public().filter(distribution__in=PROVINCE_DISTRIBUTIONS)
    else:
        qs = item_list_public(unit=unit)
    qs = (
        qs.select_related("unit", "category", "image", "audio", "video")
        .prefetch_related("audio__renditions")
        .order_by("-first_published_at", "-pk")
    )
    if category is not None:
        qs = qs.filter(category=category)
    if kind:
        qs = qs.filter(kind=kind)
    return list(qs[:limit])


def feed_state_get() -> tuple[str, datetime | None]:
    """``(version key, last modified)`` for conditional GET: one aggregate over the small
    (pruned) change-mark table and one over ready audio renditions.

    An MP3 becoming ready is an ``update()`` in the media app, which sends no signal, so it
    is read here rather than marked.
    """
    marks = FeedChange.objects.aggregate(last=Max("id"), n=Count("id"), at=Max("created_at"))
    ready = Rendition.objects.filter(
        profile__in=[LOUDSPEAKER, WEB_AUDIO], status=Rendition.Status.READY
    ).aggregate(ready=Max("updated_at"))["ready"]
    key = f"{marks['last']}:{marks['n']}:{ready.isoformat() if ready else ''}"
    latest = max((d for d in (marks["at"], ready) if d is not None), default=None)
    return key, latest


# --- ninjs API ---------------------------------------------------------------------------


def item_list_syndicated() -> QuerySet[NewsItem]:
    """Items published at least once whose scope reaches the web: live ones (usable) and
    withdrawn ones (canceled)."""
    return (
        NewsItem.objects.filter(version__gt=0, distribution__in=WEB_DISTRIBUTIONS)
        .filter(Q(live=True) | Q(withdrawn_at__isnull=False))
        .select_related("unit", "category", "image", "audio", "video")
        .prefetch_related("audio__renditions", "video__renditions")
    )


def item_get_syndicated(*, uuid) -> NewsItem | None:
    return item_list_syndicated().filter(uuid=uuid).first()


# --- subscribers --------------------------------------------------------------------------


def subscriber_matches(*, subscriber: Subscriber, item: NewsItem) -> bool:
    """Whether ``item`` passes the subscriber's filters (units are subtrees; empty = all).

    Reads ``units``/``categories`` from prefetched relations when present.
    """
    if SCOPE_RANK.get(item.distribution, 0) < SCOPE_RANK[subscriber.min_distribution]:
        return False
    if subscriber.kinds and item.kind not in subscriber.kinds:
        return False
    categories = list(subscriber.categories.all())
    if categories and item.category_id not in {c.pk for c in categories}:
        return False
    units = list(subscriber.units.all())
    if units and not any(item.unit.path.startswith(u.path) for u in units):
        return False
    return True


def subscriber_list_matching(*, item: NewsItem) -> list[Subscriber]:
    subscribers = Subscriber.objects.filter(active=True).prefetch_related("units", "categories")
    return [s for s in subscribers if subscriber_matches(subscriber=s, item=item)]


# --- reports ------------------------------------------------------------------------------


def delivery_summary(*, start: datetime, end: datetime) -> dict:
    """Deliveries created in ``[start, end)``, counted by state for each subscriber.

    Returns ``{"subscribers": [{"id", "name", "total", "pending", "in_progress", "success",
    "retrying", "failed"}...], "totals": {state: n, "total": n}, "labels": {state: label}}``
    (for the reports app; the labels are what people read in column headers).
    """
    rows = (
        Delivery.objects.filter(created_at__gte=start, created_at__lt=end)
        .values("subscriber_id", "subscriber__name", "state")
        .annotate(n=Count("id"))
        .order_by("subscriber__name", "subscriber_id")
    )
    states = [s.value for s in Delivery.State]
    by_subscriber: dict[int, dict] = {}
    totals = dict.fromkeys(states, 0)
    totals["total"] = 0
    for row in rows:
        entry = by_subscriber.setdefault(
            row["subscriber_id"],
            {
                "id": row["subscriber_id"],
                "name": row["subscriber__name"],
                "total": 0,
                **dict.fromkeys(states, 0),
            },
        )
        entry[row["state"]] += row["n"]
        entry["total"] += row["n"]
        totals[row["state"]] += row["n"]
        totals["total"] += row["n"]
    return {
        "subscribers": list(by_subscriber.values()),
        "totals": totals,
        "labels": {s.value: str(s.label) for s in Delivery.State},
    }
