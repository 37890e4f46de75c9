"""Validation of a programme draft: permission per target, slots, and the items it plays.

``check_*`` functions raise ``ValidationError`` naming ``slots.<n>.<field>`` (the admin
form maps the last part to its own field) or ``PermissionDenied``; they never write.
An item is accepted only if its approved distribution reaches the loudspeakers of every
chosen target (``newsroom.audience.items_reaching_all``); the compiler checks it again
when a device's timeline is built.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from newsroom.audience import items_reaching_all
from newsroom.models import NewsItem

from ..compile import plain_text
from ..models import BulletinClass, Slot
from ..permissions import user_can_emergency, user_can_schedule
from ..targets import parse_targets
from ..timeline import LOCAL_TZ, RRuleError, first_occurrence_after, parse_rrule

# A one-off slot may start this long ago (the form was open while the minute turned).
PAST_TOLERANCE = timedelta(minutes=1)
MAX_DURATION = 24 * 3600


def _check_items(item_ids, *, field: str, audio: bool, units) -> list[NewsItem]:
    """The items, in order, if each is live, not withdrawn, has audio when ``audio`` and
    is approved for the loudspeakers of every unit in ``units`` (the targets' units,
    ``newsroom.audience``); else a ``ValidationError`` naming ``field``."""
    items = {i.pk: i for i in NewsItem.objects.filter(pk__in=item_ids).select_related("audio")}
    reaching = set(
        items_reaching_all(units).filter(pk__in=list(items)).values_list("pk", flat=True)
    )
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
        if item.pk not in reaching:
            raise ValidationError(
                {
                    field: _(
                        "“%(headline)s” was not approved for the loudspeakers of every chosen"
                        " target."
                    )
                    % {"headline": item.headline}
                }
            )
        result.append(item)
    return result


def article_speech_text(item: NewsItem) -> str:
    """What the speech engine reads for an article: headline, summary, then the body."""
    parts = [item.headline, item.summary, plain_text(item.body)]
    return "\n".join(p.strip() for p in parts if p and p.strip())


def slot_check(slot: dict, *, now: datetime, index: int = 0, units=()) -> dict:
    """Validate one slot dict and return it normalised; errors name ``slots.<n>.<field>``.

    Keys: ``starts_at`` (aware), ``rrule``, ``valid_until``, ``content``, ``items`` (ids),
    ``tts_text``, ``tts_voice``, ``tts_speed``, ``relay_url``, ``duration_seconds``.
    Playlist and display items must be approved for the loudspeakers of every unit in
    ``units`` (the audience units of the programme's targets)."""
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
        _check_items(items, field=prefix + "items", audio=True, units=units)
    elif content == Slot.Content.DISPLAY:
        if not items:
            raise ValidationError({prefix + "items": _("Choose at least one item to display.")})
        _check_items(items, field=prefix + "items", audio=False, units=units)
    elif content == Slot.Content.TTS:
        if slot.get("tts_item") and not (slot.get("tts_text") or "").strip():
            # An article reaches a loudspeaker only read aloud: its approved text, if the
            # article is approved for every chosen target.
            (article,) = _check_items(
                [slot["tts_item"]], field=prefix + "tts_item", audio=False, units=units
            )
            slot = {**slot, "tts_text": article_speech_text(article)}
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
    elif content == Slot.Content.LIVE:
        # Made only by broadcast.live.services.live_start: the stream is an Icecast mount.
        if not (slot.get("relay_url") or "").startswith(("http://", "https://")):
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
    *, user, bulletin_class: str, targets: list, slots: list[dict], now=None
) -> list[dict]:
    """Check permission and input for a programme draft; return the normalised slots.
    ``targets`` are ``Target`` values (or anything ``Target.parse`` reads). Raises
    ``PermissionDenied`` or ``ValidationError`` naming the field."""
    now = now or timezone.now()
    targets = parse_targets(targets)
    if bulletin_class not in BulletinClass.values:
        raise ValidationError({"bulletin_class": _("Unknown class.")})
    if not targets:
        raise ValidationError({"targets": _("Choose at least one cluster, zone or unit.")})
    if not slots:
        raise ValidationError({"slots": _("Add at least one slot.")})
    units = [target.audience_unit for target in targets]
    for unit in units:
        if not user_can_schedule(user, unit):
            raise PermissionDenied(
                _("You cannot schedule broadcasts for %(unit)s.") % {"unit": unit.name}
            )
        if bulletin_class == BulletinClass.EMERGENCY and not user_can_emergency(user, unit):
            raise PermissionDenied(
                _("You cannot start emergency broadcasts for %(unit)s.") % {"unit": unit.name}
            )
    return [slot_check(s, now=now, index=i, units=units) for i, s in enumerate(slots)]
