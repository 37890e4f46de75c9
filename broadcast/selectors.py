"""Reads for loudspeakers: token → device, compiled timelines, conflicts, monitoring, reports."""

from __future__ import annotations

import html
import re
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Count, Prefetch, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from media.models import Rendition
from newsroom.models import AdministrativeUnit, NewsItem
from newsroom.selectors import item_list_published

from . import cache as bcache
from .models import (
    Alert,
    BulletinClass,
    Cluster,
    Device,
    DeviceDay,
    PlayLog,
    Programme,
    ProgrammeTarget,
    Slot,
    SlotItem,
)
from .timeline import LOCAL_TZ, Occurrence, occurrences, resolve, to_local_iso
from .tokens import token_digest

# An occurrence that started this long before the window may still be playing.
LOOKBACK = timedelta(hours=6)
TTS_CHARS_PER_SECOND = 14.0
_TAGS = re.compile(r"<[^>]+>")


# --- devices and tokens -------------------------------------------------------------------


def device_for_token(token: str) -> Device | None:
    if not token:
        return None
    return (
        Device.objects.select_related("cluster__commune")
        .filter(token_hash=token_digest(token), enabled=True, cluster__enabled=True)
        .first()
    )


def _ancestor_paths(path: str, steplen: int) -> list[str]:
    return [path[:i] for i in range(steplen, len(path) + 1, steplen)]


def device_identity(token: str) -> tuple[bcache.DeviceIdentity | None, dict | None]:
    """The device behind a bearer token, from the cache (one round trip that also reads its
    timeline versions), else from the database (then cached). Revoked, rotated-away and
    disabled devices get ``(None, None)``."""
    if not token or len(token) > 200:
        return None, None
    digest = token_digest(token)
    identity, known = bcache.identity_lookup(digest)
    if identity is not None:
        return identity, known
    device = (
        Device.objects.select_related("cluster__commune")
        .filter(token_hash=digest, enabled=True, cluster__enabled=True)
        .first()
    )
    if device is None:
        return None, None
    commune = device.cluster.commune
    unit_ids = AdministrativeUnit.objects.filter(
        path__in=_ancestor_paths(commune.path, commune.steplen)
    ).values_list("pk", flat=True)
    zone_ids = device.cluster.zones.values_list("pk", flat=True)
    scopes = (
        (f"c{device.cluster_id}",)
        + tuple(f"z{z}" for z in sorted(zone_ids))
        + tuple(f"u{u}" for u in sorted(unit_ids))
    )
    identity = bcache.DeviceIdentity(
        device_id=device.pk,
        cluster_id=device.cluster_id,
        commune_id=commune.pk,
        kind=device.kind,
        scopes=scopes,
        token_digest=digest,
    )
    bcache.identity_set(identity)
    return identity, None


def identity_for_token(token: str) -> bcache.DeviceIdentity | None:
    return device_identity(token)[0]


def device_schedule_items(*, device: Device):
    """Legacy ``/schedule``: published audio for the device's commune and the units above."""
    commune = device.cluster.commune
    ancestors = [commune.path[: i * commune.steplen] for i in range(1, commune.depth + 1)]
    return (
        item_list_published()
        .filter(kind=NewsItem.Kind.AUDIO, audio__isnull=False)
        .filter(Q(unit__path__in=ancestors))
        .filter(
            audio__renditions__profile="loudspeaker",
            audio__renditions__status=Rendition.Status.READY,
        )
        .distinct()
    )


# --- which programmes reach which clusters ----------------------------------------------


def target_rank(target: ProgrammeTarget) -> int:
    """0 for a cluster target (narrowest), 1 for a zone, then wider units rank higher."""
    if target.cluster_id:
        return 0
    if target.zone_id:
        return 1
    return 10 - min(target.unit.depth, 8)


def _slot_queryset():
    return Slot.objects.select_related("tts_asset").prefetch_related(
        "tts_asset__renditions",
        Prefetch(
            "entries",
            queryset=SlotItem.objects.select_related("item__audio", "item__image").prefetch_related(
                "item__audio__renditions"
            ),
        ),
    )


def programmes_for_clusters(
    clusters: list[Cluster], *, start: datetime
) -> dict[int, list[tuple[Programme, int]]]:
    """For each cluster, the (programme, narrowest target rank) pairs that reach it and are
    not stopped before ``start``. Clusters need ``commune`` and ``zones`` loaded."""
    cluster_ids = {c.pk for c in clusters}
    zone_ids = {z.pk for c in clusters for z in c.zones.all()}
    paths = {p for c in clusters for p in _ancestor_paths(c.commune.path, c.commune.steplen)}
    targets = list(
        ProgrammeTarget.objects.filter(
            Q(cluster_id__in=cluster_ids) | Q(zone_id__in=zone_ids) | Q(unit__path__in=paths)
        )
        .filter(Q(programme__stopped_at__isnull=True) | Q(programme__stopped_at__gt=start))
        .select_related("unit", "programme")
        .prefetch_related(Prefetch("programme__slots", queryset=_slot_queryset()))
    )
    result: dict[int, list[tuple[Programme, int]]] = {}
    for cluster in clusters:
        c_zones = {z.pk for z in cluster.zones.all()}
        c_paths = set(_ancestor_paths(cluster.commune.path, cluster.commune.steplen))
        best: dict[int, tuple[Programme, int]] = {}
        for target in targets:
            if not (
                target.cluster_id == cluster.pk
                or (target.zone_id and target.zone_id in c_zones)
                or (target.unit_id and target.unit.path in c_paths)
            ):
                continue
            rank = target_rank(target)
            previous = best.get(target.programme_id)
            if previous is None or rank < previous[1]:
                best[target.programme_id] = (target.programme, rank)
        result[cluster.pk] = list(best.values())
    return result


def _playable_item(item: NewsItem) -> bool:
    return bool(item.live and not item.withdrawn_at)


def _plain(text: str) -> str:
    return html.unescape(_TAGS.sub(" ", text or "")).strip()


def slot_parts(slot: Slot, *, kind: str) -> tuple[list[dict], float]:
    """What a device of ``kind`` plays for the slot, and how long (seconds).

    Withdrawn, unpublished and not-yet-transcoded items are left out, so a withdrawn item
    disappears from every timeline at the next compile."""
    parts: list[dict] = []
    if kind == Device.Kind.BOARD:
        if slot.content == Slot.Content.DISPLAY:
            for entry in slot.entries.all():
                item = entry.item
                if not _playable_item(item):
                    continue
                parts.append(
                    {
                        "type": "display",
                        "item": str(item.uuid),
                        "headline": item.headline,
                        "summary": item.summary,
                        "text": _plain(item.body),
                        "image_id": item.image_id,
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
            if not _playable_item(item) or item.kind != NewsItem.Kind.AUDIO:
                continue
            rendition = item.audio_rendition
            if rendition is None:
                continue
            duration = float(rendition.duration or item.audio.duration or 0)
            total += duration
            parts.append(
                {
                    "type": "audio",
                    "item": str(item.uuid),
                    "headline": item.headline,
                    "rendition_id": rendition.pk,
                    "duration": duration,
                    "size": rendition.size,
                    "sha256": rendition.sha256,
                    "mime_type": rendition.mime_type,
                }
            )
        return parts, total
    if slot.content == Slot.Content.TTS:
        rendition = slot.tts_asset.rendition("loudspeaker") if slot.tts_asset_id else None
        if rendition is not None:
            duration = float(rendition.duration or 0)
            return [
                {
                    "type": "audio",
                    "tts": True,
                    "headline": slot.tts_text[:80],
                    "rendition_id": rendition.pk,
                    "duration": duration,
                    "size": rendition.size,
                    "sha256": rendition.sha256,
                    "mime_type": rendition.mime_type,
                }
            ], duration
        if not slot.tts_text:
            return [], 0.0
        speed = slot.tts_speed or 1.0
        duration = round(len(slot.tts_text) / TTS_CHARS_PER_SECOND / speed, 1)
        part = {"type": "tts", "text": slot.tts_text, "voice": slot.tts_voice, "speed": speed}
        return [part], duration
    if slot.content == Slot.Content.RELAY and slot.relay_url:
        duration = float(slot.duration_seconds or 0)
        return [{"type": "relay", "url": slot.relay_url, "duration": duration}], duration
    return [], 0.0


def programme_occurrences(
    programme: Programme, *, rank: int, kind: str, start: datetime, end: datetime
) -> list[Occurrence]:
    found = []
    for slot in programme.slots.all():
        parts, duration = slot_parts(slot, kind=kind)
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
                target_rank=rank,
                hard_end=programme.stopped_at,
            )
            if occ.end > start - LOOKBACK:
                found.append(occ)
    return found


def timeline_for_clusters(
    clusters: list[Cluster], *, kind: str, start: datetime, end: datetime
) -> dict[int, list[Occurrence]]:
    """Resolved entries overlapping ``[start, end)`` per cluster (one query set for all)."""
    reach = programmes_for_clusters(clusters, start=start)
    result = {}
    for cluster in clusters:
        occs: list[Occurrence] = []
        for programme, rank in reach[cluster.pk]:
            occs.extend(
                programme_occurrences(programme, rank=rank, kind=kind, start=start, end=end)
            )
        resolved = resolve(occs, window_end=end)
        result[cluster.pk] = [o for o in resolved if o.end > start and o.start < end]
    return result


def _clusters_loaded(qs):
    return list(qs.select_related("commune").prefetch_related("zones"))


def device_timeline(*, device_id: int, now: datetime | None = None) -> dict | None:
    """The device's compiled timeline for the next ``BROADCAST_TIMELINE_HOURS`` hours."""
    device = Device.objects.filter(pk=device_id).only("pk", "kind", "cluster_id").first()
    if device is None:
        return None
    now = now or timezone.now()
    end = now + timedelta(hours=settings.BROADCAST_TIMELINE_HOURS)
    clusters = _clusters_loaded(Cluster.objects.filter(pk=device.cluster_id))
    entries = timeline_for_clusters(clusters, kind=device.kind, start=now, end=end)[
        device.cluster_id
    ]
    return {"device": device, "cluster": clusters[0], "now": now, "end": end, "entries": entries}


def _scope_ids(identity: bcache.DeviceIdentity, prefix: str) -> list[int]:
    return [int(s[1:]) for s in identity.scopes if s[0] == prefix]


def occurrence_data(occ: Occurrence) -> dict:
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


def device_timeline_data(
    *, identity: bcache.DeviceIdentity, versions: dict[str, str], now: datetime | None = None
) -> list[dict]:
    """The device's timeline entries for the API, without reading the device rows.

    One query finds the programmes that reach the device's cluster (through its cluster,
    zones and ancestor units, all known from the identity); the compiled entries are cached
    under the programmes, their ranks and the versions of the scopes they target, so every
    cluster reached by the same programmes shares one compile (e.g. a provincial emergency)."""
    now = now or timezone.now()
    end = now + timedelta(hours=settings.BROADCAST_TIMELINE_HOURS)
    rows = (
        ProgrammeTarget.objects.filter(
            Q(cluster_id=identity.cluster_id)
            | Q(zone_id__in=_scope_ids(identity, "z"))
            | Q(unit_id__in=_scope_ids(identity, "u"))
        )
        .filter(Q(programme__stopped_at__isnull=True) | Q(programme__stopped_at__gt=now))
        .values_list("programme_id", "cluster_id", "zone_id", "unit_id", "unit__depth")
    )
    ranks: dict[int, int] = {}
    used: dict[str, str] = {}
    for programme_id, cluster_id, zone_id, unit_id, depth in rows:
        if cluster_id:
            rank, scope = 0, f"c{cluster_id}"
        elif zone_id:
            rank, scope = 1, f"z{zone_id}"
        else:
            rank, scope = 10 - min(depth, 8), f"u{unit_id}"
        ranks[programme_id] = min(rank, ranks.get(programme_id, rank))
        used[scope] = versions.get(scope, "")
    if not ranks:
        return []
    key = bcache.entries_key(kind=identity.kind, reach=list(ranks.items()), versions=used)
    cached = bcache.entries_get(key)
    if cached is not None:
        return cached
    programmes = Programme.objects.filter(pk__in=list(ranks)).prefetch_related(
        Prefetch("slots", queryset=_slot_queryset())
    )
    occs: list[Occurrence] = []
    for programme in programmes:
        occs.extend(
            programme_occurrences(
                programme, rank=ranks[programme.pk], kind=identity.kind, start=now, end=end
            )
        )
    entries = [
        occurrence_data(o) for o in resolve(occs, window_end=end) if o.end > now and o.start < end
    ]
    bcache.entries_set(key, entries)
    return entries


# --- conflicts shown before saving -------------------------------------------------------

RULES = {
    "emergency": "emergency_preempts",
    "priority": "priority_ahead",
    "same": "queued_in_start_order",
}


def coverage_q(targets: list[dict]) -> Q:
    """A Q on Cluster selecting the clusters covered by target dicts
    (``{"cluster": Cluster}``, ``{"zone": Zone}`` or ``{"unit": AdministrativeUnit}``)."""
    q = Q(pk__in=[])
    for target in targets:
        if target.get("cluster") is not None:
            q |= Q(pk=target["cluster"].pk)
        elif target.get("zone") is not None:
            q |= Q(zones=target["zone"].pk)
        elif target.get("unit") is not None:
            q |= Q(commune__path__startswith=target["unit"].path)
    return q


def _target_dicts(programme: Programme) -> list[dict]:
    return [
        {"cluster": t.cluster, "zone": t.zone, "unit": t.unit}
        for t in programme.targets.select_related("cluster", "zone", "unit")
    ]


def schedule_conflicts(
    *,
    bulletin_class: str,
    targets: list[dict],
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
    covered = Cluster.objects.filter(coverage_q(targets), enabled=True).distinct()
    clusters = _clusters_loaded(covered[:2000])
    if not clusters:
        return []
    reach = programmes_for_clusters(clusters, start=now)
    others: dict[int, tuple[Programme, set[int]]] = {}
    for cluster in clusters:
        for programme, _rank in reach[cluster.pk]:
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


# --- monitoring and reports --------------------------------------------------------------


def _units_q(unit_ids, prefix: str) -> Q:
    paths = AdministrativeUnit.objects.filter(pk__in=list(unit_ids)).values_list("path", flat=True)
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{prefix}path__startswith": path})
    return q


def device_is_online(device: Device, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    limit = timedelta(minutes=settings.BROADCAST_OFFLINE_AFTER_MINUTES)
    return bool(device.last_seen_at and now - device.last_seen_at <= limit)


def device_list_monitoring(*, unit_ids, only_offline: bool = False):
    """Devices under the units' subtrees with cluster and commune, and open alerts
    counted (one query)."""
    qs = (
        Device.objects.filter(_units_q(unit_ids, "cluster__commune__"))
        .select_related("cluster__commune")
        .annotate(open_alerts=Count("alerts", filter=Q(alerts__closed_at__isnull=True)))
        .order_by("cluster__commune__name", "cluster__name", "serial")
    )
    if only_offline:
        limit = timezone.now() - timedelta(minutes=settings.BROADCAST_OFFLINE_AFTER_MINUTES)
        qs = qs.filter(Q(last_seen_at__isnull=True) | Q(last_seen_at__lt=limit))
    return qs


def alert_list_open(*, unit_ids):
    return (
        Alert.objects.filter(closed_at__isnull=True)
        .filter(_units_q(unit_ids, "device__cluster__commune__"))
        .select_related("device__cluster__commune")
    )


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=LOCAL_TZ)
    return start, start + timedelta(days=1)


def _days(start: datetime, end: datetime) -> list[date]:
    first = timezone.localtime(start, LOCAL_TZ).date()
    last = timezone.localtime(end - timedelta(microseconds=1), LOCAL_TZ).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def proof_of_play(*, unit_ids, start: datetime, end: datetime, gap_limit: int = 500) -> dict:
    """Scheduled versus played seconds per commune and local day, and the gaps: scheduled
    entries on a loudspeaker with no play log of that entry.

    Returns ``{"rows": [...], "gaps": [...]}``; rows hold ``commune``, ``day``,
    ``scheduled_seconds``, ``played_seconds``, ``devices``."""
    devices = list(
        Device.objects.filter(_units_q(unit_ids, "cluster__commune__"))
        .filter(kind=Device.Kind.LOUDSPEAKER, enabled=True)
        .select_related("cluster__commune")
    )
    clusters = _clusters_loaded(Cluster.objects.filter(pk__in={d.cluster_id for d in devices}))
    rows: dict[tuple[int, date], dict] = {}
    communes = {c.commune_id: c.commune for c in clusters}
    for day in _days(start, end):
        for commune in communes.values():
            rows[(commune.pk, day)] = {
                "commune": commune,
                "day": day,
                "scheduled_seconds": 0.0,
                "played_seconds": 0.0,
                "devices": 0,
            }
    timelines = timeline_for_clusters(clusters, kind=Device.Kind.LOUDSPEAKER, start=start, end=end)
    played_keys = set(
        PlayLog.objects.filter(device__in=devices, started_at__gte=start - LOOKBACK)
        .filter(started_at__lt=end)
        .exclude(entry_id="")
        .values_list("device_id", "entry_id")
    )
    gaps = []
    by_cluster: dict[int, list[Device]] = defaultdict(list)
    for device in devices:
        by_cluster[device.cluster_id].append(device)
    for cluster in clusters:
        for device in by_cluster[cluster.pk]:
            for day in _days(start, end):
                rows[(cluster.commune_id, day)]["devices"] += 1
            for occ in timelines[cluster.pk]:
                o_start, o_end = max(occ.start, start), min(occ.end, end)
                if o_end <= o_start:
                    continue
                day = timezone.localtime(o_start, LOCAL_TZ).date()
                row = rows[(cluster.commune_id, day)]
                row["scheduled_seconds"] += (o_end - o_start).total_seconds()
                if (device.pk, occ.key) not in played_keys and len(gaps) < gap_limit:
                    gaps.append(
                        {
                            "commune": cluster.commune,
                            "cluster": cluster,
                            "device": device,
                            "start": occ.start,
                            "end": occ.end,
                            "programme": occ.programme_name,
                            "bulletin_class": occ.bulletin_class,
                            "entry_id": occ.key,
                        }
                    )
    played = (
        PlayLog.objects.filter(device__in=devices, started_at__gte=start, started_at__lt=end)
        .exclude(status=PlayLog.Status.FAILED)
        .values_list("commune_id", "started_at", "duration_seconds")
    )
    for commune_id, started_at, seconds in played:
        day = timezone.localtime(started_at, LOCAL_TZ).date()
        if (commune_id, day) in rows:
            rows[(commune_id, day)]["played_seconds"] += seconds
    ordered = sorted(rows.values(), key=lambda r: (r["day"], r["commune"].name))
    for row in ordered:
        row["scheduled_seconds"] = round(row["scheduled_seconds"], 1)
        row["played_seconds"] = round(row["played_seconds"], 1)
    return {"rows": ordered, "gaps": gaps}


def playback_summary(*, unit_ids, start: datetime, end: datetime) -> list[dict]:
    """Per commune under ``unit_ids``: seconds scheduled on its loudspeakers and seconds
    they reported played in ``[start, end)``. For the reports app.

    Each dict: ``commune_id``, ``commune_code``, ``commune_name``, ``scheduled_seconds``,
    ``played_seconds``, ``devices``."""
    data = proof_of_play(unit_ids=unit_ids, start=start, end=end, gap_limit=0)
    summary: dict[int, dict] = {}
    for row in data["rows"]:
        commune = row["commune"]
        entry = summary.setdefault(
            commune.pk,
            {
                "commune_id": commune.pk,
                "commune_code": commune.code,
                "commune_name": commune.name,
                "scheduled_seconds": 0.0,
                "played_seconds": 0.0,
                "devices": row["devices"],
            },
        )
        entry["scheduled_seconds"] += row["scheduled_seconds"]
        entry["played_seconds"] += row["played_seconds"]
    return sorted(summary.values(), key=lambda r: r["commune_name"])


def device_uptime_summary(*, unit_ids, start: datetime, end: datetime) -> list[dict]:
    """Per commune under ``unit_ids``: devices, heartbeats received and the uptime ratio
    (one heartbeat = one minute online) over the local days of ``[start, end)``.

    Each dict: ``commune_id``, ``commune_code``, ``commune_name``, ``devices``,
    ``heartbeats``, ``expected_heartbeats``, ``uptime_ratio`` (0..1), ``failures``."""
    days = _days(start, end)
    minutes = max(int((end - start).total_seconds() // 60), 1)
    devices = (
        Device.objects.filter(_units_q(unit_ids, "cluster__commune__"), enabled=True)
        .values("cluster__commune_id", "cluster__commune__code", "cluster__commune__name")
        .annotate(n=Count("pk"))
    )
    stats = (
        DeviceDay.objects.filter(_units_q(unit_ids, "device__cluster__commune__"))
        .filter(day__gte=days[0], day__lte=days[-1])
        .values("device__cluster__commune_id")
        .annotate(heartbeats=Sum("heartbeats"), failures=Sum("failures"))
    )
    by_commune = {s["device__cluster__commune_id"]: s for s in stats}
    result = []
    for row in devices:
        stat = by_commune.get(row["cluster__commune_id"], {})
        expected = row["n"] * minutes
        heartbeats = stat.get("heartbeats") or 0
        result.append(
            {
                "commune_id": row["cluster__commune_id"],
                "commune_code": row["cluster__commune__code"],
                "commune_name": row["cluster__commune__name"],
                "devices": row["n"],
                "heartbeats": heartbeats,
                "expected_heartbeats": expected,
                "uptime_ratio": round(min(heartbeats / expected, 1.0), 4) if expected else 0.0,
                "failures": stat.get("failures") or 0,
            }
        )
    return sorted(result, key=lambda r: r["commune_name"])


def programme_list_for_units(*, unit_ids):
    return (
        Programme.objects.filter(_units_q(unit_ids, "unit__"))
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
        if not _playable_item(item):
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
        qs = qs.filter(_units_q(unit_ids, "unit__"))
    return [p for p in qs.prefetch_related("slots") if _emergency_running(p, now)]


def _emergency_running(programme: Programme, now: datetime) -> bool:
    for slot in programme.slots.all():
        _parts, duration = slot_parts(slot, kind=Device.Kind.LOUDSPEAKER)
        if slot.starts_at <= now < slot.starts_at + timedelta(seconds=duration or 0):
            return True
    return False


def devices_for_targets(targets: list[dict]):
    return Device.objects.filter(
        cluster__in=Cluster.objects.filter(coverage_q(targets), enabled=True), enabled=True
    )


def programme_targets(programme: Programme) -> list[dict]:
    return _target_dicts(programme)
