"""Reads for the scheduler's screens: the items a scheduler may offer, conflicts shown
before saving, the programme list with its playlist problems, active emergencies."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from media.models import Rendition
from newsroom.audience import items_reaching_q
from newsroom.models import NewsItem

from ..compile import LOOKBACK, playable, slot_parts
from ..models import BulletinClass, Cluster, Device, Programme, Slot, SlotItem
from ..reach import clusters_loaded, reach_for_clusters
from ..registry import subtrees_q
from ..targets import coverage_q, parse_targets
from ..timeline import LOCAL_TZ, occurrences


def items_offered(units) -> QuerySet:
    """Published items a scheduler of ``units`` (whole subtrees) may put in a programme:
    those approved for the loudspeakers of one of the units, or of a unit inside their
    subtrees (``newsroom.audience``). Whether an item reaches every *chosen* target is
    checked when the programme is saved (``validation.programme_check``)."""
    roots: list = []
    for unit in sorted(units, key=lambda u: u.path):
        if not any(unit.path.startswith(r.path) for r in roots):
            roots.append(unit)
    q = Q(pk__in=[])
    for unit in roots:
        q |= items_reaching_q(unit) | Q(unit__path__startswith=unit.path)
    return NewsItem.objects.filter(q, live=True, withdrawn_at__isnull=True)


def items_playable(units) -> QuerySet:
    """The offered items a loudspeaker can play now: audio bulletins whose loudspeaker MP3
    is ready, each annotated with ``play_seconds`` (the MP3's length). Articles are not
    here: they reach a loudspeaker only read aloud (:func:`articles_for_tts`)."""
    ready = Rendition.objects.filter(
        asset_id=OuterRef("audio_id"), profile="loudspeaker", status=Rendition.Status.READY
    )
    return (
        items_offered(units)
        .filter(kind=NewsItem.Kind.AUDIO, audio__isnull=False)
        .annotate(
            play_seconds=Subquery(ready.values("duration")[:1]),
            has_ready=Exists(ready),
        )
        .filter(has_ready=True)
    )


def articles_for_tts(units) -> QuerySet:
    """Offered articles, which a loudspeaker plays only through text-to-speech."""
    return items_offered(units).filter(kind=NewsItem.Kind.ARTICLE)


def slot_duration_estimate(slot: dict) -> float:
    """How long a draft slot plays, in seconds, for the conflict preview: the ready MP3s of
    its playlist, the bulletin text at ``NGUON_TTS_SPEED`` words a minute, a relay's or a
    display's duration; at least a minute when nothing says."""
    if slot.get("duration_seconds"):
        return float(slot["duration_seconds"])
    content = slot.get("content")
    if content == Slot.Content.PLAYLIST and slot.get("items"):
        durations = Rendition.objects.filter(
            asset_id__in=NewsItem.objects.filter(pk__in=list(slot["items"])).values("audio_id"),
            profile="loudspeaker",
            status=Rendition.Status.READY,
        ).values_list("duration", flat=True)
        total = sum(d or 0 for d in durations)
        if total:
            return float(total)
    if content == Slot.Content.TTS and slot.get("tts_text"):
        words = len(slot["tts_text"].split())
        speed = settings.NGUON_TTS_SPEED * float(slot.get("tts_speed") or 1.0)
        return max(words * 60.0 / max(speed, 1.0), 5.0)
    return 60.0


# --- conflicts shown before saving -------------------------------------------------------

RULES = {
    "emergency": "emergency_preempts",
    "priority": "priority_ahead",
    "same": "queued_in_start_order",
}


def schedule_conflicts(
    *,
    bulletin_class: str,
    targets: list,
    slots: list[dict],
    now: datetime | None = None,
    days: int = 7,
    exclude_programme_id: int | None = None,
) -> list[dict]:
    """Overlaps between a draft programme and the existing ones on shared clusters in the
    next ``days`` days, each with the rule that will resolve it (nothing is dropped).

    ``slots`` are dicts with ``starts_at``, ``rrule``, ``valid_until`` and ``duration``
    (seconds)."""
    now = now or timezone.now()
    end = now + timedelta(days=days)
    draft = []
    for slot in slots:
        for when in occurrences(
            starts_at=slot["starts_at"],
            rrule=slot.get("rrule", ""),
            valid_until=slot.get("valid_until"),
            start=now,
            end=end,
        ):
            draft.append((when, when + timedelta(seconds=max(slot.get("duration") or 60, 1))))
    if not draft:
        return []
    targets = parse_targets(targets)
    covered = Cluster.objects.filter(coverage_q(targets), enabled=True).distinct()
    clusters = clusters_loaded(covered[:2000])
    if not clusters:
        return []
    reach = reach_for_clusters(clusters, at=now)
    others: dict[int, tuple[Programme, set[int]]] = {}
    for cluster in clusters:
        for one in reach[cluster.pk]:
            programme = one.programme
            if programme.pk == exclude_programme_id:
                continue
            others.setdefault(programme.pk, (programme, set()))[1].add(cluster.pk)
    conflicts = []
    for programme, cluster_ids in others.values():
        for slot in programme.slots.all():
            _parts, duration = slot_parts(slot, kind=Device.Kind.LOUDSPEAKER)
            duration = duration or slot.duration_seconds or 60
            for when in occurrences(
                starts_at=slot.starts_at,
                rrule=slot.rrule,
                valid_until=slot.valid_until,
                start=now - LOOKBACK,
                end=end,
            ):
                o_end = when + timedelta(seconds=duration)
                if programme.stopped_at and o_end > programme.stopped_at:
                    o_end = programme.stopped_at
                for d_start, d_end in draft:
                    if d_start < o_end and when < d_end:
                        classes = {bulletin_class, programme.bulletin_class}
                        if "emergency" in classes and len(classes) > 1:
                            rule = RULES["emergency"]
                        elif "priority" in classes and len(classes) > 1:
                            rule = RULES["priority"]
                        else:
                            rule = RULES["same"]
                        conflicts.append(
                            {
                                "programme": programme,
                                "bulletin_class": programme.bulletin_class,
                                "start": max(d_start, when),
                                "end": min(d_end, o_end),
                                "clusters": len(cluster_ids),
                                "rule": rule,
                            }
                        )
    conflicts.sort(key=lambda c: (c["start"], c["programme"].pk))
    return conflicts


def conflicts_grouped(conflicts: list[dict]) -> list[dict]:
    """Conflicts as the scheduler reads them: one row per programme, rule and local
    time of day ("06:00 – 06:02:35"), with the days it happens on, instead of one row
    per occurrence. Rows keep ``programme``, ``bulletin_class``, ``clusters`` and
    ``rule`` and add ``start_time``, ``end_time`` (``HH:MM`` or ``HH:MM:SS``) and
    ``days`` (local dates, sorted)."""
    rows: dict[tuple, dict] = {}
    for conflict in conflicts:
        start = conflict["start"].astimezone(LOCAL_TZ)
        end = conflict["end"].astimezone(LOCAL_TZ)
        key = (
            conflict["programme"].pk,
            conflict["rule"],
            start.time(),
            end.time(),
            (end.date() - start.date()).days,
        )
        row = rows.get(key)
        if row is None:
            row = rows[key] = {
                **conflict,
                "start_time": _clock(start),
                "end_time": _clock(end),
                "days": [],
            }
        row["clusters"] = max(row["clusters"], conflict["clusters"])
        if start.date() not in row["days"]:
            row["days"].append(start.date())
    for row in rows.values():
        row["days"].sort()
    return sorted(rows.values(), key=lambda r: (r["days"][0], r["start_time"], r["programme"].pk))


def _clock(value: datetime) -> str:
    return f"{value:%H:%M:%S}" if value.second else f"{value:%H:%M}"


def programme_list_for_units(*, unit_ids):
    return (
        Programme.objects.filter(subtrees_q(unit_ids, "unit__"))
        .select_related("unit", "created_by")
        .prefetch_related("targets__cluster", "targets__zone", "targets__unit", "slots")
        .order_by("-created_at")
    )


def programme_playlist_problems(programmes) -> dict[int, list[str]]:
    """Per active programme, the playlist items its devices skip and why, for the
    scheduler: the loudspeaker MP3 is still being made (it will play once ready), it could
    not be made, or the item was withdrawn. Two queries for the whole list."""
    active = [p.pk for p in programmes if not p.stopped_at]
    entries = list(
        SlotItem.objects.filter(slot__programme_id__in=active, slot__content=Slot.Content.PLAYLIST)
        .select_related("item", "slot")
        .order_by("slot__programme_id", "slot_id", "position", "pk")
    )
    asset_ids = {e.item.audio_id for e in entries if e.item.audio_id}
    status = dict(
        Rendition.objects.filter(asset_id__in=asset_ids, profile="loudspeaker").values_list(
            "asset_id", "status"
        )
    )
    problems: dict[int, list[str]] = defaultdict(list)
    for entry in entries:
        item, programme_id = entry.item, entry.slot.programme_id
        names = {"headline": item.headline}
        if not playable(item):
            message = _("“%(headline)s” was withdrawn: devices skip it.") % names
        elif status.get(item.audio_id) in (Rendition.Status.PENDING, Rendition.Status.PROCESSING):
            message = (
                _(
                    "“%(headline)s”: the loudspeaker file is being made; devices play it"
                    " once it is ready."
                )
                % names
            )
        elif status.get(item.audio_id) != Rendition.Status.READY:
            message = (
                _("“%(headline)s”: the loudspeaker file could not be made: devices skip it.")
                % names
            )
        else:
            continue
        if message not in problems[programme_id]:
            problems[programme_id].append(message)
    return dict(problems)


def emergency_list_active(*, unit_ids=None, now: datetime | None = None):
    now = now or timezone.now()
    qs = Programme.objects.filter(
        bulletin_class=BulletinClass.EMERGENCY, stopped_at__isnull=True
    ).select_related("unit")
    if unit_ids is not None:
        qs = qs.filter(subtrees_q(unit_ids, "unit__"))
    return [p for p in qs.prefetch_related("slots") if _emergency_running(p, now)]


def _emergency_running(programme: Programme, now: datetime) -> bool:
    for slot in programme.slots.all():
        _parts, duration = slot_parts(slot, kind=Device.Kind.LOUDSPEAKER)
        if slot.starts_at <= now < slot.starts_at + timedelta(seconds=duration or 0):
            return True
    return False
