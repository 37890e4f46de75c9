"""Programmes: create, revise, stop, emergencies, and keeping device timelines current.

Each state change checks permission (``validation``), writes in one transaction, logs to
the audit trail (Wagtail's ``ModelLogEntry``) and queues its side effects with
``transaction.on_commit``: the versions of the scopes it targets are bumped (devices see a
new ETag) and emergency commands are pushed over MQTT on the ``broadcast`` queue.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.log_actions import log

from media.services import tts_bulletin_create
from newsroom.models import AdministrativeUnit

from ..commands import commands_create
from ..device_api import cache as bcache
from ..models import BulletinClass, Command, Programme, ProgrammeTarget, Slot, SlotItem
from ..permissions import user_can_emergency, user_can_schedule
from ..registry import devices_for_targets, now_and_on_commit
from ..targets import Target, parse_targets, scopes_of
from .validation import programme_check


def programme_targets(programme_ids) -> list[Target]:
    """The targets of the programmes (ids only, without objects)."""
    rows = ProgrammeTarget.objects.filter(programme_id__in=list(programme_ids)).values_list(
        "cluster_id", "zone_id", "unit_id", "unit__depth"
    )
    return [Target.from_values(*row) for row in rows]


def programmes_invalidate(programme_ids) -> None:
    """Bump the timeline versions of every scope the programmes target."""
    bcache.versions_bump(scopes_of(programme_targets(programme_ids)))


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


def _owner_unit(targets: list[Target]) -> AdministrativeUnit:
    return min((t.audience_unit for t in targets), key=lambda u: u.depth)


@transaction.atomic
def programme_create(
    *,
    user,
    name: str,
    bulletin_class: str = BulletinClass.NORMAL,
    targets: list,
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
    targets = parse_targets(targets)
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
        [ProgrammeTarget(programme=programme, **t.row_fields()) for t in targets]
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
        data={"class": bulletin_class, "targets": sorted(scopes_of(targets))},
    )
    scopes = scopes_of(targets)
    now_and_on_commit(lambda: bcache.versions_bump(scopes))
    if tts_slots:
        from ..tasks import slot_tts_render  # the task module imports the services

        for slot_id in tts_slots:
            transaction.on_commit(lambda slot_id=slot_id: slot_tts_render.delay(slot_id))
    if bulletin_class == BulletinClass.EMERGENCY:
        _emergency_commands(programme, targets=targets, user=user, now=now)
    return programme


def _emergency_commands(programme: Programme, *, targets: list[Target], user, now) -> None:
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
    targets: list,
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


def _loaded_targets(programme: Programme) -> list[Target]:
    return [
        Target.parse(t)
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
    targets = _loaded_targets(programme) if targets is None else targets
    return all(check(user, target.audience_unit) for target in targets)


def programme_revise(
    *,
    user,
    programme: Programme,
    name: str,
    bulletin_class: str,
    targets: list,
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
    targets = _loaded_targets(programme)
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
    scopes = scopes_of(targets)
    now_and_on_commit(lambda: bcache.versions_bump(scopes))
    if emergency:
        commands_create(
            device_ids=list(devices_for_targets(targets).values_list("pk", flat=True)),
            kind=Command.Kind.EMERGENCY_STOP,
            payload={"programme_id": programme.pk},
            programme=programme,
            user=user,
        )
    return programme


def slot_tts_render(*, slot_id: int) -> bool:
    """Render a TTS slot to audio (``media.services.tts_bulletin_create``); until it is
    ready the device reads the text itself. Returns True when an asset was made."""
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
        kwargs["speed"] = round(settings.NGUON_TTS_SPEED * slot.tts_speed)
    asset = tts_bulletin_create(**kwargs)
    Slot.objects.filter(pk=slot.pk).update(tts_asset=asset)
    programmes_invalidate([slot.programme_id])
    return True
