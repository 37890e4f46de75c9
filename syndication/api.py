"""``/api/v1/items/``: published items as IPTC ninjs 2.2 documents (public, JSON).

The list is cursor-paginated: ``next`` is an opaque, signed token (tampering or garbage is
a 400, never a 500 or a silently wrong page). Filters: ``since`` (version time, ISO 8601),
``unit`` (official code, the unit's whole subtree), ``category`` (slug), ``type`` (ninjs
type: text, audio, video). An unknown unit or category gives an empty list. Withdrawn items
stay listed and retrievable with ``pubstatus: canceled``.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from uuid import UUID

from django.core import signing
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.errors import HttpError

from core.openapi import operation
from newsroom.picture_renditions import items_pictures_rendered

from .models import SyndicatedItem
from .ninjs import item_to_ninjs
from .selectors import feed_filters_resolve, item_list_syndicated

router = Router(tags=["items"])


class ItemPage(Schema):
    items: list[dict] = Field(..., description="IPTC ninjs 2.2 documents")
    next: str | None = Field(..., description="cursor of the next page; null on the last")


CURSOR_SALT = "syndication.items.cursor"
KINDS = {"text": "article", "audio": "audio", "video": "video"}


def cursor_encode(*, when: datetime, pk: int, order: str) -> str:
    return signing.dumps({"t": when.isoformat(), "id": pk, "o": order}, salt=CURSOR_SALT)


def cursor_decode(value: str) -> tuple[datetime, int, str]:
    """The position a cursor names; HttpError 400 for anything not made by us."""
    try:
        data = signing.loads(value, salt=CURSOR_SALT)
        when = datetime.fromisoformat(data["t"])
        pk, order = int(data["id"]), data["o"]
        if order not in ("asc", "desc") or timezone.is_naive(when):
            raise ValueError(order)
    except (signing.BadSignature, ValueError, KeyError, TypeError) as exc:
        raise HttpError(400, _("Invalid cursor.")) from exc
    return when, pk, order


def parse_since(value: str) -> datetime:
    """ISO 8601 date or date-time; a time without offset is Vietnam time. 400 otherwise."""
    value = value.strip()
    try:
        when = parse_datetime(value.replace(" ", "+")) if "T" in value else None
        if when is None and (day := parse_date(value)) is not None:
            when = datetime.combine(day, time.min)
    except ValueError:
        when = None
    if when is None:
        raise HttpError(
            400, _("Invalid date in “since”: use ISO 8601, e.g. 2025-07-01T08:00:00+07:00.")
        )
    try:
        if timezone.is_naive(when):
            when = timezone.make_aware(when)
        when.astimezone(UTC)  # 0001-01-01 in Vietnam time is before the calendar in UTC
    except (OverflowError, ValueError) as exc:
        raise HttpError(
            400, _("Invalid date in “since”: use ISO 8601, e.g. 2025-07-01T08:00:00+07:00.")
        ) from exc
    return when


def _base_url(request) -> str:
    return request.build_absolute_uri("/")


def _document(request, item, pictures=None) -> dict:
    base = _base_url(request)
    portal = request.build_absolute_uri(item.public_path) if item.pubstatus == "usable" else None
    return item_to_ninjs(item, base_url=base, portal_url=portal, pictures=pictures)


@router.get(
    "/",
    response=ItemPage,
    summary="Published items as ninjs 2.2, cursor-paginated",
    openapi_extra=operation(errors=(400, 422)),
)
def item_list(
    request,
    since: str = "",
    unit: str = "",
    category: str = "",
    type: str = "",  # noqa: A002 - the ninjs name
    order: str = "desc",
    cursor: str = "",
    limit: int = 20,
):
    """Newest version first (``order=asc``: oldest first, to walk forward from ``since``).
    ``limit`` is 1–100. Follow ``next`` until it is null."""
    limit = min(max(limit, 1), 100)
    if type and type not in KINDS:
        raise HttpError(400, _("Unknown type: use text, audio or video."))
    if order not in ("asc", "desc"):
        raise HttpError(400, _("Unknown order: use asc or desc."))
    position = cursor_decode(cursor) if cursor else None
    if position is not None:
        order = position[2]
    since_at = parse_since(since) if since else None
    unit_obj, category_obj, known = feed_filters_resolve(unit_code=unit, category_slug=category)
    if not known:
        return {"items": [], "next": None}
    # A page is a range of the API index (SyndicatedItem), then one query for the items.
    qs = SyndicatedItem.objects.all()
    if unit_obj is not None:
        qs = qs.filter(unit_path__startswith=unit_obj.path)
    if category_obj is not None:
        qs = qs.filter(category_id=category_obj.pk)
    if type:
        qs = qs.filter(kind=KINDS[type])
    if since_at is not None:
        qs = qs.filter(synced_at__gte=since_at)
    if position is not None:
        when, pk = position[0], position[1]
        if order == "desc":
            qs = qs.filter(Q(synced_at__lt=when) | Q(synced_at=when, item_id__lt=pk))
        else:
            qs = qs.filter(Q(synced_at__gt=when) | Q(synced_at=when, item_id__gt=pk))
    ordering = ("-synced_at", "-item_id") if order == "desc" else ("synced_at", "item_id")
    keys = list(qs.order_by(*ordering).values_list("item_id", "synced_at")[: limit + 1])
    more = len(keys) > limit
    keys = keys[:limit]
    items = {item.pk: item for item in item_list_syndicated().filter(pk__in=[k for k, _ in keys])}
    page = [items[pk] for pk, _when in keys if pk in items]
    next_cursor = None
    if more and keys:
        last_pk, last_when = keys[-1]
        next_cursor = cursor_encode(when=last_when, pk=last_pk, order=order)
    # The pages' pictures and their files at once (one query for every picture's files).
    pictures = items_pictures_rendered([item for item in page if item.pubstatus == "usable"])
    return {
        "items": [_document(request, item, pictures.get(item.pk, [])) for item in page],
        "next": next_cursor,
    }


@router.get(
    "/{item_uuid}/",
    response=dict,
    summary="One item as a ninjs 2.2 document",
    openapi_extra=operation(errors=(404,)),
)
def item_detail(request, item_uuid: str):
    """The current version of a published (or withdrawn: ``canceled``) item."""
    try:
        uuid = UUID(item_uuid)
    except ValueError as exc:
        raise Http404 from exc
    from .selectors import item_get_syndicated

    item = item_get_syndicated(uuid=uuid)
    if item is None:
        raise Http404
    return _document(request, item)
