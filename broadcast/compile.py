"""The timeline compiler: programmes that reach one cluster → the entries its devices play.

Pure: no database query, no cache. The caller (``broadcast.reach``) loads each programme
with its slots, playlist items and renditions, the narrowest target through which it
reaches the cluster, and the items whose approved distribution reaches that target's unit;
:func:`compile_timeline` expands the slots in the window and applies the TT39 rules
(``broadcast.timeline.resolve``). Every reader — the device API's ``/timeline``, proof of
play, the reports — goes through it, so a rule fixed here holds everywhere.

Items are checked again here (defence in depth): a playlist or display item plays only
while it is live, not withdrawn, and in ``Reach.allowed_items``, so a programme made before
a scope change or a unit reform cannot carry an item beyond the audience it was approved
for.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Required, TypedDict

from media.image_renditions import PICTURE_LARGE
from media.models import Rendition
from newsroom.models import NewsItem

from .models import BulletinClass, Device, Programme, Slot
from .targets import Target
from .timeline import Occurrence, occurrences, resolve, to_local_iso

# The one rendition of a picture a bulletin board gets: fitted inside Full HD, JPEG.
BOARD_PICTURE_SPEC = PICTURE_LARGE
# An occurrence that started this long before the window may still be playing.
LOOKBACK = timedelta(hours=6)
TTS_CHARS_PER_SECOND = 14.0
_TAGS = re.compile(r"<[^>]+>")


class BoardPicture(TypedDict):
    """A picture a bulletin board shows with a display part: its rendition for boards
    (``BOARD_PICTURE_SPEC``), which the device API turns into a download ``url``."""

    picture_id: int  # the Wagtail rendition row
    alt: str
    caption: str
    credit: str
    lead: bool
    width: int
    height: int
    mime_type: str
    size: int
    sha256: str


class TimelinePart(TypedDict, total=False):
    """One part of a timeline entry. By ``type``: ``audio`` (an item's loudspeaker MP3, or
    a rendered TTS bulletin with ``tts``), ``display`` (an item on a bulletin board, with
    its ``pictures``),
    ``text`` (a board shows it), ``tts`` (the device reads it aloud), ``relay`` (a stream)."""

    type: Required[str]
    item: str  # the item's UUID
    headline: str
    summary: str
    text: str
    pictures: list[BoardPicture]
    rendition_id: int
    duration: float
    size: int
    sha256: str
    mime_type: str
    tts: bool
    voice: str
    speed: float
    url: str


# An entry as the device API shows it ("class" is a keyword, hence this form).
TimelineEntry = TypedDict(
    "TimelineEntry",
    {
        "id": str,
        "programme_id": int,
        "programme": str,
        "slot_id": int,
        "class": str,
        "start": str,
        "end": str,
        "scheduled_start": str,
        "delayed": bool,
        "priority_inserted": list[int],  # programme ids of priority occurrences put ahead
        "preempts": bool,
        "parts": list[dict[str, Any]],
    },
)


@dataclass(frozen=True)
class Reach:
    """A programme reaching a cluster: through its narrowest ``target``, with the items
    approved for that target's audience (``None``: no audience check, e.g. durations),
    and, for boards, the pictures of its display items by item id (``reach.load_reach``
    makes their files before the timeline names them)."""

    programme: Programme
    target: Target
    allowed_items: frozenset[int] | None
    pictures: Mapping[int, list[BoardPicture]] = field(default_factory=dict)


def playable(item: NewsItem, allowed: frozenset[int] | None = None) -> bool:
    """Live, not withdrawn and (with ``allowed``) approved for the audience."""
    if not item.live or item.withdrawn_at:
        return False
    return allowed is None or item.pk in allowed


def plain_text(text: str) -> str:
    return html.unescape(_TAGS.sub(" ", text or "")).strip()


def _audio_part(rendition: Rendition, **extra: Any) -> TimelinePart:
    return {
        **extra,  # type: ignore[typeddict-item]  # TimelinePart keys (type, tts, headline)
        "rendition_id": rendition.pk,
        "duration": float(rendition.duration or 0),
        "size": rendition.size,
        "sha256": rendition.sha256,
        "mime_type": rendition.mime_type,
    }


def slot_parts(
    slot: Slot,
    *,
    kind: str,
    allowed: frozenset[int] | None = None,
    pictures: Mapping[int, list[BoardPicture]] | None = None,
) -> tuple[list[TimelinePart], float]:
    """What a device of ``kind`` plays for the slot, and how long (seconds).

    Withdrawn, unpublished, not-yet-transcoded items and items not approved for the
    audience (``allowed``) are left out, so they disappear at the next compile."""
    parts: list[TimelinePart] = []
    if kind == Device.Kind.BOARD:
        if slot.content == Slot.Content.DISPLAY:
            for entry in slot.entries.all():
                item = entry.item
                if not playable(item, allowed):
                    continue
                parts.append(
                    {
                        "type": "display",
                        "item": str(item.uuid),
                        "headline": item.headline,
                        "summary": item.summary,
                        "text": plain_text(item.body),
                        "pictures": list((pictures or {}).get(item.pk, [])),
                    }
                )
            return parts, float(slot.duration_seconds or 60) if parts else 0.0
        if slot.content == Slot.Content.TTS and slot.tts_text:
            seconds = float(slot.duration_seconds or 60)
            return [{"type": "text", "text": slot.tts_text}], seconds
        return [], 0.0

    if slot.content == Slot.Content.PLAYLIST:
        total = 0.0
        for entry in slot.entries.all():
            item = entry.item
            if not playable(item, allowed) or item.kind != NewsItem.Kind.AUDIO:
                continue
            rendition = item.audio_rendition
            if rendition is None:
                continue
            audio_duration = item.audio.duration if item.audio is not None else None
            duration = float(rendition.duration or audio_duration or 0)
            total += duration
            parts.append(
                {
                    "type": "audio",
                    "item": str(item.uuid),
                    "headline": item.headline,
                    **_audio_part(rendition),
                    "duration": duration,
                }
            )
        return parts, total
    if slot.content == Slot.Content.TTS:
        rendition = slot.tts_asset.rendition("loudspeaker") if slot.tts_asset is not None else None
        if rendition is not None:
            part = _audio_part(rendition, type="audio", tts=True, headline=slot.tts_text[:80])
            return [part], part["duration"]
        if not slot.tts_text:
            return [], 0.0
        speed = slot.tts_speed or 1.0
        duration = round(len(slot.tts_text) / TTS_CHARS_PER_SECOND / speed, 1)
        spoken: TimelinePart = {
            "type": "tts",
            "text": slot.tts_text,
            "voice": slot.tts_voice,
            "speed": speed,
        }
        return [spoken], duration
    if slot.content == Slot.Content.RELAY and slot.relay_url:
        duration = float(slot.duration_seconds or 0)
        return [{"type": "relay", "url": slot.relay_url, "duration": duration}], duration
    if slot.content == Slot.Content.LIVE and slot.relay_url:
        # Open-ended until stopped: the programme's stop time ends the entry.
        duration = float(slot.duration_seconds or 0)
        return [{"type": "live", "url": slot.relay_url, "duration": duration}], duration
    return [], 0.0


def programme_occurrences(
    reach: Reach, *, kind: str, start: datetime, end: datetime
) -> list[Occurrence]:
    """Every occurrence of the programme's slots overlapping ``[start - LOOKBACK, end)``."""
    programme = reach.programme
    found = []
    for slot in programme.slots.all():
        parts, duration = slot_parts(
            slot, kind=kind, allowed=reach.allowed_items, pictures=reach.pictures
        )
        if not parts or duration <= 0:
            continue
        for when in occurrences(
            starts_at=slot.starts_at,
            rrule=slot.rrule,
            valid_until=slot.valid_until,
            start=start - LOOKBACK,
            end=end,
        ):
            occ = Occurrence(
                programme_id=programme.pk,
                programme_name=programme.name,
                slot_id=slot.pk,
                bulletin_class=programme.bulletin_class,
                start=when,
                duration=duration,
                parts=[dict(p) for p in parts],
                target_rank=reach.target.rank,
                hard_end=programme.stopped_at,
                live=slot.content == Slot.Content.LIVE,
            )
            if occ.end > start - LOOKBACK:
                found.append(occ)
    return found


def compile_timeline(
    reach: Iterable[Reach], *, kind: str, start: datetime, end: datetime
) -> list[Occurrence]:
    """The resolved entries a device of ``kind`` plays in ``[start, end)``."""
    occs: list[Occurrence] = []
    for one in reach:
        occs.extend(programme_occurrences(one, kind=kind, start=start, end=end))
    return [o for o in resolve(occs, window_end=end) if o.end > start and o.start < end]


def occurrence_data(occ: Occurrence) -> TimelineEntry:
    """An entry as the device API shows it (media as ``rendition_id``; the API adds URLs)."""
    scheduled = occ.scheduled_start_or_start
    return {
        "id": occ.key,
        "programme_id": occ.programme_id,
        "programme": occ.programme_name,
        "slot_id": occ.slot_id,
        "class": occ.bulletin_class,
        "start": to_local_iso(occ.start),
        "end": to_local_iso(occ.end),
        "scheduled_start": to_local_iso(scheduled),
        "delayed": occ.start != scheduled,
        "priority_inserted": occ.inserted,
        "preempts": occ.bulletin_class == BulletinClass.EMERGENCY,
        "parts": occ.parts,
    }
