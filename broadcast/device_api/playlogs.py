"""Play logs: what a device reports it played, stored idempotently (proof of play).

A batch is validated event by event: the good events are stored and each refused one is
named in the answer (its index, id, field and a message), so one malformed event never
makes a device resend, and lose, the whole batch. A refused event is refused for good: the
device drops it instead of retrying (``docs/broadcast.md``, "Play logs").
"""

from __future__ import annotations

import uuid as uuid_lib
from datetime import UTC, datetime, timedelta
from typing import Literal

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import ValidationError

from core.openapi import ObjectSchema

from ..models import DeviceDay, PlayLog, Slot
from ..timeline import LOCAL_TZ

# Primary keys are 64-bit; a larger number is no slot of ours.
MAX_ID = 2**63 - 1
# A played event, once corrected for the device's clock, is at most this far from now:
# older is a broken clock or a replay of another life, not proof of play to keep.
MAX_AGE = timedelta(days=366)


class PlayEvent(ObjectSchema):
    id: str = Field(..., min_length=1, max_length=64, description="device-generated, unique")
    entry_id: str = Field("", max_length=64, description="timeline entry id")
    slot_id: int | None = Field(None, ge=1, le=MAX_ID)
    item: str | None = Field(None, max_length=36)
    started_at: datetime = Field(
        ..., description="ISO 8601; without an offset, Vietnam time (Asia/Ho_Chi_Minh)"
    )
    duration: float = Field(0, ge=0, le=86400)
    status: Literal["completed", "interrupted", "failed"] = "completed"


class PlayEventError(Schema):
    index: int | None = Field(None, description="position in ``events``; null for ``sent_at``")
    id: str | None = Field(None, description="the event's ``id`` when it had a readable one")
    field: str = Field(..., description="the refused field (``event`` when not an object)")
    error: str


class PlayEventRefused(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def _entry_slot(entry_id: str) -> int | None:
    head = (entry_id or "").split("-", 1)[0]
    if not head.isdigit() or len(head) > 19:
        return None
    value = int(head)
    return value if 1 <= value <= MAX_ID else None


def _aware_utc(value: datetime) -> datetime:
    """``value`` in UTC (a naive time is Vietnam time); OverflowError at the calendar's
    edges (0001-01-01 with a positive offset, 9999-12-31 with a negative one)."""
    if timezone.is_naive(value):
        value = value.replace(tzinfo=LOCAL_TZ)
    return value.astimezone(UTC)


def _event_check(raw, *, skew: timedelta, now: datetime) -> dict:
    """One event, validated and dated on the server's clock; ``PlayEventRefused`` names
    the field otherwise."""
    if not isinstance(raw, dict):
        raise PlayEventRefused("event", _("An event must be a JSON object."))
    try:
        event = PlayEvent.model_validate(raw).dict()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ())) or "event"
        message = _("Invalid value: %(reason)s") % {"reason": first["msg"]}
        raise PlayEventRefused(field, message) from None
    try:
        device_start = _aware_utc(event["started_at"])
        started = device_start + skew
    except OverflowError:
        started = None
    if started is None or abs(started - now) > MAX_AGE:
        raise PlayEventRefused(
            "started_at", _("This time is more than a year away from the server's clock.")
        )
    event["device_started_at"] = device_start
    event["started_at"] = min(started, now)  # no event is dated in the future
    item = event.get("item")
    try:
        event["item_uuid"] = uuid_lib.UUID(item) if item else None
    except ValueError:
        event["item_uuid"] = None
    event["slot_id"] = event.get("slot_id") or _entry_slot(event.get("entry_id", ""))
    return event


def playlogs_record(
    *,
    device_id: int,
    commune_id: int,
    events: list,
    sent_at=None,
    now=None,
) -> dict:
    """Store the valid events of a batch and name the refused ones; ids already stored
    (replays, retries, duplicates in the batch) are skipped, so any order and any number of
    replays give the same rows.

    Device clocks drift: with ``sent_at`` (the device's clock when sending; naive is
    Vietnam time) every event is shifted by the measured skew; no event is dated in the
    future. A ``sent_at`` that is not a usable time is reported and no skew is applied."""
    now = now or timezone.now()
    errors: list[dict] = []
    skew = timedelta(0)
    if sent_at is not None:
        try:
            if isinstance(sent_at, str):
                sent_at = datetime.fromisoformat(sent_at)
            skew = now - _aware_utc(sent_at)
        except (OverflowError, ValueError, TypeError):
            errors.append(
                {
                    "index": None,
                    "id": None,
                    "field": "sent_at",
                    "error": _("Not a usable time; no clock correction was applied."),
                }
            )
    checked: dict[str, dict] = {}
    refused = 0
    for index, raw in enumerate(events):
        try:
            event = _event_check(raw, skew=skew, now=now)
        except PlayEventRefused as exc:
            refused += 1
            event_id = raw.get("id") if isinstance(raw, dict) else None
            errors.append(
                {
                    "index": index,
                    "id": event_id if isinstance(event_id, str) else None,
                    "field": exc.field,
                    "error": exc.message,
                }
            )
            continue
        checked.setdefault(event["id"], event)
    existing = set(
        PlayLog.objects.filter(device_id=device_id, event_id__in=list(checked)).values_list(
            "event_id", flat=True
        )
    )
    fresh = [e for key, e in checked.items() if key not in existing]
    slot_ids = {e["slot_id"] for e in fresh if e["slot_id"] is not None}
    slots: dict[int | None, int] = dict(
        Slot.objects.filter(pk__in=slot_ids).values_list("pk", "programme_id")
    )
    rows = []
    for event in fresh:
        slot_id = event["slot_id"] if event["slot_id"] in slots else None
        rows.append(
            PlayLog(
                device_id=device_id,
                commune_id=commune_id,
                event_id=event["id"],
                entry_id=event["entry_id"],
                slot_id=slot_id,
                programme_id=slots.get(slot_id),
                item_uuid=event["item_uuid"],
                started_at=event["started_at"],
                device_started_at=event["device_started_at"],
                clock_skew_seconds=skew.total_seconds(),
                duration_seconds=event["duration"],
                status=event["status"],
            )
        )
    PlayLog.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    failures = sum(1 for r in rows if r.status == PlayLog.Status.FAILED)
    if failures:
        day = timezone.localtime(now, LOCAL_TZ).date()
        if not DeviceDay.objects.filter(device_id=device_id, day=day).update(
            failures=F("failures") + failures
        ):
            DeviceDay.objects.get_or_create(
                device_id=device_id, day=day, defaults={"failures": failures}
            )
    return {
        "accepted": len(rows),
        "duplicates": len(events) - refused - len(rows),
        "refused": refused,
        "clock_skew_seconds": round(skew.total_seconds(), 3),
        "errors": errors,
    }
