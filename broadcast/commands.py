"""Device commands: an operator's remote control order, an emergency's start and stop,
the device's acknowledgement, and the JSON a device receives for each.

A command is a row per device; it is pushed over MQTT after commit (``tasks.commands_push``)
and polled by the device (``GET /commands``) as the fallback. Issuing and acknowledging
move the pending-command counters that heartbeat answers read
(``device_api.heartbeats.pending_changed``).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.log_actions import log

from newsroom.audience import item_reaches_unit
from newsroom.models import NewsItem

from .device_api import heartbeats
from .models import Command, Device
from .permissions import user_can_schedule


def command_message(command: Command) -> dict:
    """The JSON a device receives for a command, by MQTT and by ``GET /commands``."""
    return {
        "id": command.pk,
        "kind": command.kind,
        "payload": command.payload,
        "created_at": command.created_at.isoformat(),
    }


def _command_payload(kind: str, payload: dict, *, devices=()) -> dict:
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
        if not all(item_reaches_unit(item, d.cluster.commune) for d in devices):
            raise ValidationError(
                {
                    "payload.item_id": _(
                        "“%(headline)s” was not approved for the loudspeakers of every chosen"
                        " target."
                    )
                    % {"headline": item.headline}
                }
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
        from .tasks import commands_push  # the task module imports this one

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
    clean = _command_payload(kind, payload or {}, devices=devices)
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


def commands_pending_count(*, device_id: int) -> int:
    """Unacknowledged commands of a device, for heartbeat answers when there is no Redis
    counter (``heartbeats.buffer`` reads that one)."""
    return Command.objects.filter(device_id=device_id, acknowledged_at__isnull=True).count()
