"""Monitoring: devices online and offline, offline alerts, proof of play and uptime.

Proof of play compares what the compiler (``broadcast.reach.timeline_for_clusters``, the
same code the device API runs) scheduled on each loudspeaker with the play logs devices
reported; ``playback_summary`` and ``device_uptime_summary`` feed the reports app.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from .compile import LOOKBACK
from .device_api import heartbeats
from .models import Alert, Cluster, Device, DeviceDay, PlayLog
from .reach import clusters_loaded, timeline_for_clusters
from .registry import subtrees_q
from .timeline import LOCAL_TZ


def device_is_online(device: Device, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    limit = timedelta(minutes=settings.BROADCAST_OFFLINE_AFTER_MINUTES)
    return bool(device.last_seen_at and now - device.last_seen_at <= limit)


def device_list_monitoring(*, unit_ids, only_offline: bool = False):
    """Devices under the units' subtrees with cluster and commune, and open alerts
    counted (one query)."""
    qs = (
        Device.objects.filter(subtrees_q(unit_ids, "cluster__commune__"))
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
        .filter(subtrees_q(unit_ids, "device__cluster__commune__"))
        .select_related("device__cluster__commune")
    )


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
        Device.objects.filter(subtrees_q(unit_ids, "cluster__commune__"))
        .filter(kind=Device.Kind.LOUDSPEAKER, enabled=True)
        .select_related("cluster__commune")
    )
    clusters = clusters_loaded(Cluster.objects.filter(pk__in={d.cluster_id for d in devices}))
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
        Device.objects.filter(subtrees_q(unit_ids, "cluster__commune__"), enabled=True)
        .values("cluster__commune_id", "cluster__commune__code", "cluster__commune__name")
        .annotate(n=Count("pk"))
    )
    stats = (
        DeviceDay.objects.filter(subtrees_q(unit_ids, "device__cluster__commune__"))
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
