"""Play logs: what a device reports it played, stored idempotently (proof of play)."""

from __future__ import annotations

import uuid as uuid_lib
from datetime import datetime, timedelta

from django.db.models import F
from django.utils import timezone

from ..models import DeviceDay, PlayLog, Slot
from ..timeline import LOCAL_TZ


def _entry_slot(entry_id: str) -> int | None:
    head = (entry_id or "").split("-", 1)[0]
    return int(head) if head.isdigit() else None


def playlogs_record(
    *,
    device_id: int,
    commune_id: int,
    events: list[dict],
    sent_at: datetime | None = None,
    now=None,
) -> dict:
    """Store a batch of play events; ids already stored (replays, retries, duplicates in
    the batch) are skipped, so any order and any number of replays give the same rows.

    Device clocks drift: with ``sent_at`` (the device's clock when sending) every event is
    shifted by the measured skew; no event is dated in the future."""
    now = now or timezone.now()
    skew = (now - sent_at).total_seconds() if sent_at is not None else 0.0
    seen: dict[str, dict] = {}
    for event in events:
        seen.setdefault(event["id"], event)
    existing = set(
        PlayLog.objects.filter(device_id=device_id, event_id__in=list(seen)).values_list(
            "event_id", flat=True
        )
    )
    fresh = [e for key, e in seen.items() if key not in existing]
    slot_ids = {
        slot_id
        for e in fresh
        if (slot_id := e.get("slot_id") or _entry_slot(e.get("entry_id", ""))) is not None
    }
    slots: dict[int | None, int] = dict(
        Slot.objects.filter(pk__in=slot_ids).values_list("pk", "programme_id")
    )
    rows = []
    for event in fresh:
        device_start = event["started_at"]
        if timezone.is_naive(device_start):
            device_start = device_start.replace(tzinfo=LOCAL_TZ)
        started = device_start + timedelta(seconds=skew)
        if started > now:
            started = now
        slot_id = event.get("slot_id") or _entry_slot(event.get("entry_id", ""))
        if slot_id not in slots:
            slot_id = None
        item_uuid = event.get("item")
        try:
            item_uuid = uuid_lib.UUID(str(item_uuid)) if item_uuid else None
        except ValueError:
            item_uuid = None
        rows.append(
            PlayLog(
                device_id=device_id,
                commune_id=commune_id,
                event_id=event["id"],
                entry_id=(event.get("entry_id") or "")[:64],
                slot_id=slot_id,
                programme_id=slots.get(slot_id),
                item_uuid=item_uuid,
                started_at=started,
                device_started_at=device_start,
                clock_skew_seconds=skew,
                duration_seconds=float(event.get("duration") or 0),
                status=event.get("status") or PlayLog.Status.COMPLETED,
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
        "duplicates": len(events) - len(rows),
        "clock_skew_seconds": round(skew, 3),
    }
