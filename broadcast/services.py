"""Writes for loudspeakers: tokens, programmes (TT39 classes), emergencies, commands,
heartbeats and play logs.

Each state change checks permission, writes in one transaction, logs to the audit trail
(Wagtail's ``ModelLogEntry``) and queues its side effects with ``transaction.on_commit``:
timeline versions are bumped (so devices see a new ETag) and MQTT pushes are queued on the
``broadcast`` queue.
"""

from __future__ import annotations

import secrets
import uuid as uuid_lib
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.log_actions import log

from newsroom.models import AdministrativeUnit, NewsItem

from . import cache as bcache
from . import heartbeats
from .models import (
    Alert,
    BulletinClass,
    Cluster,
    Command,
    Device,
    DeviceDay,
    PlayLog,
    Programme,
    ProgrammeTarget,
    Slot,
    SlotItem,
    Zone,
)
from .permissions import user_can_emergency, user_can_schedule
from .timeline import LOCAL_TZ, RRuleError, first_occurrence_after, parse_rrule
from .tokens import token_digest

__all__ = ["token_digest"]

# A one-off slot may start this long ago (the form was open while the minute turned).
PAST_TOLERANCE = timedelta(minutes=1)
MAX_DURATION = 24 * 3600


def now_and_on_commit(func) -> None:
    """Run a cache invalidation now and again after commit: a poll between the two sees a
    new version (one extra 200, never a stale 304), and the second run covers a poll that
    read the old rows before the commit."""
    func()
    transaction.on_commit(func)


# --- tokens -------------------------------------------------------------------------------


def device_token_issue(*, device: Device, token: str | None = None, user=None) -> str:
    """Give the device a new token (revoking the old one) and return it; it is shown once
    and only its digest is stored."""
    old = device.token_hash
    token = token or secrets.token_urlsafe(32)
    device.token_hash = token_digest(token)
    device.token_prefix = token[:8]
    device.token_issued_at = timezone.now()
    device.save(update_fields=["token_hash", "token_prefix", "token_issued_at"])
    now_and_on_commit(lambda: bcache.identity_forget([old]))
    if user is not None:
        log(instance=device, action="broadcast.token_issue", user=user)
    return token


device_token_rotate = device_token_issue


def device_token_revoke(*, device: Device, user=None) -> None:
    """The device's token stops working at once (401 on the next request)."""
    old = device.token_hash
    device.token_hash = None
    device.token_prefix = ""
    device.save(update_fields=["token_hash", "token_prefix"])
    now_and_on_commit(lambda: bcache.identity_forget([old]))
    if user is not None:
        log(instance=device, action="broadcast.token_revoke", user=user)


def clusters_invalidate(cluster_ids) -> None:
    """Forget cached identities of the clusters' devices and bump the clusters' versions
    (a cluster changed commune, zones or was disabled)."""
    cluster_ids = list(cluster_ids)
    digests = Device.objects.filter(cluster_id__in=cluster_ids).values_list("token_hash", flat=True)
    bcache.identity_forget(list(digests))
    bcache.versions_bump(f"c{pk}" for pk in cluster_ids)


# --- programmes ---------------------------------------------------------------------------


def _target_unit(target: dict) -> AdministrativeUnit:
    if target.get("cluster") is not None:
        return target["cluster"].commune
    if target.get("zone") is not None:
        return target["zone"].commune
    return target["unit"]


def target_scopes(targets) -> set[str]:
    scopes = set()
    for t in targets:
        cluster = t.get("cluster") if isinstance(t, dict) else t.cluster
        zone = t.get("zone") if isinstance(t, dict) else t.zone
        unit = t.get("unit") if isinstance(t, dict) else t.unit
        if cluster is not None:
            scopes.add(f"c{cluster.pk}")
        elif zone is not None:
            scopes.add(f"z{zone.pk}")
        elif unit is not None:
            scopes.add(f"u{unit.pk}")
    return scopes


def programme_scopes(programme_ids) -> set[str]:
    targets = ProgrammeTarget.objects.filter(programme_id__in=list(programme_ids))
    scopes = set()
    for cluster_id, zone_id, unit_id in targets.values_list("cluster_id", "zone_id", "unit_id"):
        if cluster_id:
            scopes.add(f"c{cluster_id}")
        elif zone_id:
            scopes.add(f"z{zone_id}")
        elif unit_id:
            scopes.add(f"u{unit_id}")
    return scopes


def programmes_invalidate(programme_ids) -> None:
    """Bump the timeline versions of every scope the programmes target."""
    bcache.versions_bump(programme_scopes(programme_ids))


def items_invalidate(item_ids) -> None:
    """An item changed (withdrawn, corrected, its MP3 became ready): every timeline whose
    programmes use it gets a new version."""
    programme_ids = set(
        SlotItem.objects.filter(item_id__in=list(item_ids)).values_list(
            "slot__programme_id", flat=True
        )
    )
    if programme_ids:
        programmes_invalidate(programme_ids)


def _check_items(item_ids, *, field: str, audio: bool) -> list[NewsItem]:
    items = {i.pk: i for i in NewsItem.objects.filter(pk__in=item_ids).select_related("audio")}
    result = []
    for item_id in item_ids:
        item = items.get(item_id)
        if item is None or not item.live or item.withdrawn_at:
            raise ValidationError(
                {
                    field: _("Only approved, published items can be scheduled (item %(id)s).")
                    % {"id": item_id}
                }
            )
        if audio and (item.kind != NewsItem.Kind.AUDIO or not item.audio_id):
            raise ValidationError(
                {field: _("“%(headline)s” has no audio bulletin.") % {"headline": item.headline}}
            )
        result.append(item)
    return result


def slot_check(slot: dict, *, now: datetime, index: int = 0) -> dict:
    """Validate one slot dict and return it normalised; errors name ``slots.<n>.<field>``.

    Keys: ``starts_at`` (aware), ``rrule``, ``valid_until``, ``content``, ``items`` (ids),
    ``tts_text``, ``tts_voice``, ``tts_speed``, ``relay_url``, ``duration_seconds``."""
    prefix = f"slots.{index}."
    starts_at = slot.get("starts_at")
    if not isinstance(starts_at, datetime):
        raise ValidationError({prefix + "starts_at": _("Enter a start date and time.")})
    if timezone.is_naive(starts_at):
        starts_at = starts_at.replace(tzinfo=LOCAL_TZ)
    rrule = (slot.get("rrule") or "").strip()
    valid_until = slot.get("valid_until")
    if valid_until is not None and timezone.is_naive(valid_until):
        valid_until = valid_until.replace(tzinfo=LOCAL_TZ)
    if valid_until is not None and valid_until < now:
        raise ValidationError({prefix + "valid_until": _("The validity window has ended.")})
    if rrule:
        try:
            parse_rrule(rrule, starts_at)
            nxt = first_occurrence_after(
                starts_at=starts_at, rrule=rrule, valid_until=valid_until, after=now
            )
        except RRuleError as exc:
            raise ValidationError(
                {
                    prefix + "rrule": _("This recurrence rule is not valid: %(error)s")
                    % {"error": exc}
                }
            ) from exc
        if nxt is None:
            raise ValidationError(
                {prefix + "rrule": _("This recurrence never plays in its validity window.")}
            )
    elif starts_at < now - PAST_TOLERANCE:
        raise ValidationError({prefix + "starts_at": _("This time is in the past.")})

    content = slot.get("content") or Slot.Content.PLAYLIST
    if content not in Slot.Content.values:
        raise ValidationError({prefix + "content": _("Unknown content type.")})
    duration = slot.get("duration_seconds")
    if duration is not None and not (0 < int(duration) <= MAX_DURATION):
        raise ValidationError({prefix + "duration_seconds": _("Enter a duration up to 24 hours.")})
    items = list(slot.get("items") or [])
    if content == Slot.Content.PLAYLIST:
        if not items:
            raise ValidationError({prefix + "items": _("Choose at least one audio bulletin.")})
        _check_items(items, field=prefix + "items", audio=True)
    elif content == Slot.Content.DISPLAY:
        if not items:
            raise ValidationError({prefix + "items": _("Choose at least one item to display.")})
        _check_items(items, field=prefix + "items", audio=False)
    elif content == Slot.Content.TTS:
        if not (slot.get("tts_text") or "").strip():
            raise ValidationError({prefix + "tts_text": _("Enter the bulletin text.")})
    elif content == Slot.Content.RELAY:
        url = slot.get("relay_url") or ""
        if not url.startswith(("http://", "https://", "rtsp://", "rtmp://", "icecast://")):
            raise ValidationError({prefix + "relay_url": _("Enter the stream URL.")})
        if not duration:
            raise ValidationError(
                {prefix + "duration_seconds": _("A live relay needs a duration.")}
            )
    return {
        "starts_at": starts_at,
        "rrule": rrule,
        "valid_until": valid_until,
        "content": content,
        "items": items,
        "tts_text": (slot.get("tts_text") or "").strip(),
        "tts_voice": slot.get("tts_voice") or "",
        "tts_speed": float(slot.get("tts_speed") or 1.0),
        "relay_url": slot.get("relay_url") or "",
        "duration_seconds": int(duration) if duration else None,
    }


def programme_check(
    *, user, bulletin_class: str, targets: list[dict], slots: list[dict], now=None
) -> list[dict]:
    """Check permission and input for a programme draft; return the normalised slots.
    Raises ``PermissionDenied`` or ``ValidationError`` naming the field."""
    now = now or timezone.now()
    if bulletin_class not in BulletinClass.values:
        raise ValidationError({"bulletin_class": _("Unknown class.")})
    if not targets:
        raise ValidationError({"targets": _("Choose at least one cluster, zone or unit.")})
    if not slots:
        raise ValidationError({"slots": _("Add at least one slot.")})
    for target in targets:
        unit = _target_unit(target)
        if not user_can_schedule(user, unit):
            raise PermissionDenied(
                _("You cannot schedule broadcasts for %(unit)s.") % {"unit": unit.name}
            )
        if bulletin_class == BulletinClass.EMERGENCY and not user_can_emergency(user, unit):
            raise PermissionDenied(
                _("You cannot start emergency broadcasts for %(unit)s.") % {"unit": unit.name}
            )
    return [slot_check(s, now=now, index=i) for i, s in enumerate(slots)]


def _owner_unit(targets: list[dict]) -> AdministrativeUnit:
    units = [_target_unit(t) for t in targets]
    return min(units, key=lambda u: u.depth)


@transaction.atomic
def programme_create(
    *,
    user,
    name: str,
    bulletin_class: str = BulletinClass.NORMAL,
    targets: list[dict],
    slots: list[dict],
    now=None,
) -> Programme:
    """Create a programme with its targets and slots (see :func:`slot_check`).

    Emergencies also queue emergency-start commands to every targeted device (pushed over
    MQTT). Devices see the change at their next poll (new timeline ETag)."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Enter a name.")})
    now = now or timezone.now()
    clean = programme_check(
        user=user, bulletin_class=bulletin_class, targets=targets, slots=slots, now=now
    )
    programme = Programme.objects.create(
        name=name,
        unit=_owner_unit(targets),
        bulletin_class=bulletin_class,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    ProgrammeTarget.objects.bulk_create(
        [
            ProgrammeTarget(
                programme=programme,
                cluster=t.get("cluster"),
                zone=t.get("zone") if t.get("cluster") is None else None,
                unit=t.get("unit") if t.get("cluster") is None and t.get("zone") is None else None,
            )
            for t in targets
        ]
    )
    tts_slots = []
    for data in clean:
        slot = Slot.objects.create(
            programme=programme,
            starts_at=data["starts_at"],
            rrule=data["rrule"],
            valid_until=data["valid_until"],
            content=data["content"],
            duration_seconds=data["duration_seconds"],
            tts_text=data["tts_text"],
            tts_voice=data["tts_voice"],
            tts_speed=data["tts_speed"],
            relay_url=data["relay_url"],
        )
        SlotItem.objects.bulk_create(
            [
                SlotItem(slot=slot, item_id=item_id, position=i)
                for i, item_id in enumerate(data["items"])
            ]
        )
        if slot.content == Slot.Content.TTS:
            tts_slots.append(slot.pk)
    action = (
        "broadcast.emergency_start"
        if bulletin_class == BulletinClass.EMERGENCY
        else "broadcast.schedule"
    )
    log(
        instance=programme,
        action=action,
        user=user,
        data={"class": bulletin_class, "targets": sorted(target_scopes(targets))},
    )
    scopes = target_scopes(targets)
    now_and_on_commit(lambda: bcache.versions_bump(scopes))
    if tts_slots:
        from .tasks import slot_tts_render

        for slot_id in tts_slots:
            transaction.on_commit(lambda slot_id=slot_id: slot_tts_render.delay(slot_id))
    if bulletin_class == BulletinClass.EMERGENCY:
        _emergency_commands(programme, targets=targets, user=user, now=now)
    return programme


def _emergency_commands(programme: Programme, *, targets: list[dict], user, now) -> None:
    from .selectors import devices_for_targets

    payload = {"programme_id": programme.pk, "name": programme.name, "started_at": now.isoformat()}
    device_ids = list(devices_for_targets(targets).values_list("pk", flat=True))
    commands_create(
        device_ids=device_ids,
        kind=Command.Kind.EMERGENCY_START,
        payload=payload,
        programme=programme,
        user=user,
    )


def emergency_start(
    *,
    user,
    name: str,
    targets: list[dict],
    tts_text: str = "",
    items: list[int] | None = None,
    relay_url: str = "",
    duration_seconds: int | None = None,
    now=None,
) -> Programme:
    """Start an emergency (khẩn cấp) broadcast now on every targeted device: it preempts
    whatever plays until it ends or is stopped. Needs the emergency permission."""
    now = now or timezone.now()
    if relay_url:
        content = Slot.Content.RELAY
    elif items:
        content = Slot.Content.PLAYLIST
    else:
        content = Slot.Content.TTS
    return programme_create(
        user=user,
        name=name,
        bulletin_class=BulletinClass.EMERGENCY,
        targets=targets,
        slots=[
            {
                "starts_at": now,
                "content": content,
                "items": items or [],
                "tts_text": tts_text,
                "relay_url": relay_url,
                "duration_seconds": duration_seconds,
            }
        ],
        now=now,
    )


def _programme_targets(programme: Programme) -> list[dict]:
    return [
        {"cluster": t.cluster, "zone": t.zone, "unit": t.unit}
        for t in programme.targets.select_related("cluster__commune", "zone__commune", "unit")
    ]


def user_can_manage_programme(user, programme: Programme, *, targets=None) -> bool:
    """Whether ``user`` may stop (or edit) ``programme``: every target must be in their
    scheduling subtrees (their emergency rights for an emergency)."""
    check = (
        user_can_emergency
        if programme.bulletin_class == BulletinClass.EMERGENCY
        else (user_can_schedule)
    )
    targets = _programme_targets(programme) if targets is None else targets
    return all(check(user, _target_unit(target)) for target in targets)


def programme_revise(
    *,
    user,
    programme: Programme,
    name: str,
    bulletin_class: str,
    targets: list[dict],
    slots: list[dict],
    now=None,
) -> Programme:
    """Edit a programme: this version stops now and a new one, which ``replaces`` it, is
    scheduled from now on, in one transaction (audit-logged as ``broadcast.revise``).

    What already played keeps the schedule it played under (proof of play). The user must
    be allowed to stop the old version and to schedule the new one; emergencies are stopped,
    not edited; a stopped version cannot be edited."""
    now = now or timezone.now()
    if programme.bulletin_class == BulletinClass.EMERGENCY or bulletin_class == (
        BulletinClass.EMERGENCY
    ):
        raise ValidationError({"bulletin_class": _("Emergencies are stopped, not edited.")})
    with transaction.atomic():
        current = Programme.objects.select_for_update().get(pk=programme.pk)
        if current.stopped_at is not None:
            raise ValidationError(_("This programme has stopped; it cannot be edited."))
        if not user_can_manage_programme(user, current):
            raise PermissionDenied(_("You cannot stop this programme."))
        revised = programme_create(
            user=user,
            name=name,
            bulletin_class=bulletin_class,
            targets=targets,
            slots=slots,
            now=now,
        )
        programme_stop(user=user, programme=current, now=now)
        revised.replaces = current
        revised.save(update_fields=["replaces", "updated_at"])
        log(instance=revised, action="broadcast.revise", user=user, data={"replaces": current.pk})
    return revised


@transaction.atomic
def programme_stop(*, user, programme: Programme, now=None) -> Programme:
    """Stop a programme now (an emergency ends on every device); audit-logged."""
    programme = Programme.objects.select_for_update().get(pk=programme.pk)
    if programme.stopped_at is not None:
        return programme
    targets = _programme_targets(programme)
    if not user_can_manage_programme(user, programme, targets=targets):
        raise PermissionDenied(_("You cannot stop this programme."))
    now = now or timezone.now()
    programme.stopped_at = now
    programme.stopped_by = user if getattr(user, "is_authenticated", False) else None
    programme.save(update_fields=["stopped_at", "stopped_by", "updated_at"])
    emergency = programme.bulletin_class == BulletinClass.EMERGENCY
    log(
        instance=programme,
        action="broadcast.emergency_stop" if emergency else "broadcast.stop",
        user=user,
    )
    scopes = target_scopes(targets)
    now_and_on_commit(lambda: bcache.versions_bump(scopes))
    if emergency:
        from .selectors import devices_for_targets

        commands_create(
            device_ids=list(devices_for_targets(targets).values_list("pk", flat=True)),
            kind=Command.Kind.EMERGENCY_STOP,
            payload={"programme_id": programme.pk},
            programme=programme,
            user=user,
        )
    return programme


emergency_stop = programme_stop


# --- commands -----------------------------------------------------------------------------


def _command_payload(kind: str, payload: dict) -> dict:
    payload = dict(payload or {})
    if kind == Command.Kind.SET_VOLUME:
        volume = payload.get("volume")
        if not isinstance(volume, int) or isinstance(volume, bool) or not 0 <= volume <= 100:
            raise ValidationError({"payload.volume": _("Volume is a whole number 0–100.")})
        return {"volume": volume}
    if kind == Command.Kind.PLAY_NOW:
        item_id = payload.get("item_id")
        item = NewsItem.objects.filter(pk=item_id).select_related("audio").first()
        if item is None or not item.live or item.withdrawn_at or item.audio_rendition is None:
            raise ValidationError(
                {"payload.item_id": _("Only approved audio with a ready MP3 can be played.")}
            )
        rendition = item.audio_rendition
        return {
            "item": str(item.uuid),
            "headline": item.headline,
            "rendition_id": rendition.pk,
            "sha256": rendition.sha256,
            "size": rendition.size,
        }
    return {}


def commands_create(
    *, device_ids, kind: str, payload: dict, programme=None, user=None
) -> list[int]:
    """Queue one command per device (bulk) and push them over MQTT after commit."""
    now = timezone.now()
    commands = Command.objects.bulk_create(
        [
            Command(
                device_id=device_id,
                kind=kind,
                payload=payload,
                programme=programme,
                created_by=user if getattr(user, "is_authenticated", False) else None,
                created_at=now,
            )
            for device_id in device_ids
        ],
        batch_size=1000,
    )
    ids = [c.pk for c in commands if c.pk]
    if not ids:  # backends that don't return bulk ids (none here, but be safe)
        ids = list(
            Command.objects.filter(created_at=now, kind=kind, device_id__in=device_ids).values_list(
                "pk", flat=True
            )
        )
    if ids:
        per_device: dict[int, int] = {}
        for device_id in device_ids:
            per_device[device_id] = per_device.get(device_id, 0) + 1
        transaction.on_commit(lambda: heartbeats.pending_changed(per_device))
    if ids and settings.MQTT_URL:
        from .tasks import commands_push

        for i in range(0, len(ids), 1000):
            chunk = ids[i : i + 1000]
            transaction.on_commit(lambda chunk=chunk: commands_push.delay(chunk))
    return ids


@transaction.atomic
def command_issue(*, user, devices: list[Device], kind: str, payload: dict | None = None):
    """An operator's remote control order (volume, power, stop, play now) for devices of
    clusters they schedule for; audit-logged."""
    if kind not in {
        Command.Kind.SET_VOLUME,
        Command.Kind.POWER_ON,
        Command.Kind.POWER_OFF,
        Command.Kind.STOP,
        Command.Kind.PLAY_NOW,
    }:
        raise ValidationError({"kind": _("Unknown command.")})
    for device in devices:
        if not user_can_schedule(user, device.cluster.commune):
            raise PermissionDenied(_("You cannot control this device."))
    clean = _command_payload(kind, payload or {})
    ids = commands_create(device_ids=[d.pk for d in devices], kind=kind, payload=clean, user=user)
    for device in devices:
        log(instance=device, action="broadcast.command", user=user, data={"command": kind, **clean})
    return ids


def command_acknowledge(*, device_id: int, command_id: int, status: str, detail: str = "") -> bool:
    """Mark a device's own command done (or failed); replays are harmless. False if the
    command is not this device's."""
    fields = {"acknowledged_at": timezone.now(), "ack_status": status[:16],
              "ack_detail": detail[:500]}  # fmt: skip
    mine = Command.objects.filter(pk=command_id, device_id=device_id)
    if mine.filter(acknowledged_at__isnull=True).update(**fields):
        transaction.on_commit(lambda: heartbeats.pending_changed({device_id: -1}))
        return True
    return bool(mine.update(**fields))  # a replay: the latest status wins


# --- heartbeats and play logs -------------------------------------------------------------


def heartbeat_record(*, device_id: int, data: dict, now=None) -> None:
    """Store the latest state on the device row, count the heartbeat for the day's uptime,
    and close an open offline alert: three short statements in one transaction."""
    now = now or timezone.now()
    fields, failed = heartbeats.heartbeat_fields(data)
    fields["last_seen_at"] = now
    day = timezone.localtime(now, LOCAL_TZ).date()
    bump = {"heartbeats": F("heartbeats") + 1}
    if failed:
        bump["failures"] = F("failures") + 1
    # One transaction: one commit (one WAL flush) per heartbeat.
    with transaction.atomic():
        Device.objects.filter(pk=device_id).update(**fields)
        if Device.objects.filter(pk=device_id, offline_alerted_at__isnull=False).update(
            offline_alerted_at=None
        ):
            Alert.objects.filter(device_id=device_id, closed_at__isnull=True).update(closed_at=now)
        if not DeviceDay.objects.filter(device_id=device_id, day=day).update(**bump):
            try:
                with transaction.atomic():
                    DeviceDay.objects.create(
                        device_id=device_id, day=day, heartbeats=1, failures=int(failed)
                    )
            except IntegrityError:
                DeviceDay.objects.filter(device_id=device_id, day=day).update(**bump)


def commands_pending_count(*, device_id: int) -> int:
    """Unacknowledged commands of a device, for heartbeat answers when there is no Redis
    counter (``heartbeats.buffer`` reads that one)."""
    return Command.objects.filter(device_id=device_id, acknowledged_at__isnull=True).count()


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
    slot_ids = {e.get("slot_id") or _entry_slot(e.get("entry_id", "")) for e in fresh} - {None}
    slots = dict(Slot.objects.filter(pk__in=slot_ids).values_list("pk", "programme_id"))
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


# --- monitoring ---------------------------------------------------------------------------


def devices_check_offline(*, now=None) -> int:
    """Open an alert for each enabled device silent longer than
    ``BROADCAST_OFFLINE_ALERT_MINUTES`` (once per outage); returns how many were opened.
    Buffered heartbeats are written first, so a device is never called silent while its
    heartbeats wait in Redis."""
    heartbeats.flush(wait_seconds=60)
    now = now or timezone.now()
    limit = now - timedelta(minutes=settings.BROADCAST_OFFLINE_ALERT_MINUTES)
    silent = Device.objects.filter(
        enabled=True, cluster__enabled=True, offline_alerted_at__isnull=True
    ).exclude(last_seen_at__gte=limit)
    ids = list(silent.values_list("pk", flat=True)[:10000])
    if not ids:
        return 0
    with transaction.atomic():
        Device.objects.filter(pk__in=ids).update(offline_alerted_at=now)
        Alert.objects.bulk_create(
            [
                Alert(
                    device_id=pk,
                    kind="offline",
                    opened_at=now,
                    message=_("No heartbeat for more than %(minutes)s minutes.")
                    % {"minutes": settings.BROADCAST_OFFLINE_ALERT_MINUTES},
                )
                for pk in ids
            ],
            batch_size=1000,
        )
    return len(ids)


def slot_tts_render(*, slot_id: int) -> bool:
    """Render a TTS slot to audio once the media app offers ``tts_bulletin_create``;
    until then the device reads the text itself. Returns True when an asset was made."""
    try:
        from media.services import tts_bulletin_create
    except ImportError:
        return False
    slot = (
        Slot.objects.filter(pk=slot_id, content=Slot.Content.TTS)
        .select_related("programme")
        .first()
    )
    if slot is None or slot.tts_asset_id or not slot.tts_text:
        return False
    kwargs = {"text": slot.tts_text, "title": slot.programme.name}
    if slot.tts_voice:
        kwargs["voice"] = slot.tts_voice
    if slot.tts_speed and abs(slot.tts_speed - 1.0) > 0.01:
        # The slot keeps a multiplier; the engine speaks in words per minute.
        kwargs["speed"] = round(getattr(settings, "NGUON_TTS_SPEED", 150) * slot.tts_speed)
    asset = tts_bulletin_create(**kwargs)
    Slot.objects.filter(pk=slot.pk).update(tts_asset=asset)
    programmes_invalidate([slot.programme_id])
    return True


def zone_create(*, commune: AdministrativeUnit, name: str) -> Zone:
    return Zone.objects.create(commune=commune, name=name)


def cluster_set_zones(*, cluster: Cluster, zones: list[Zone]) -> None:
    for zone in zones:
        if zone.commune_id != cluster.commune_id:
            raise ValidationError({"zones": _("A zone must be in the cluster's commune.")})
    cluster.zones.set(zones)
    now_and_on_commit(lambda: clusters_invalidate([cluster.pk]))
