"""Reads for the live page: broadcasts on air, recent ones with their recordings, relay
alerts."""

from __future__ import annotations

from ..models import Alert, LiveBroadcast
from ..registry import subtrees_q


def live_list_on_air():
    return LiveBroadcast.objects.filter(status=LiveBroadcast.Status.ON_AIR).select_related(
        "user", "programme"
    )


def live_list_recent(*, units, limit: int = 20):
    """Recent broadcasts of programmes owned inside ``units`` (the archive to hear again)."""
    unit_ids = list(units.values_list("pk", flat=True)[:500])
    return (
        LiveBroadcast.objects.filter(subtrees_q(unit_ids, "programme__unit__"))
        .select_related("user", "programme", "recording", "item")
        .order_by("-started_at")[:limit]
    )


def relay_alerts_open():
    return Alert.objects.filter(relay__isnull=False, closed_at__isnull=True).select_related("relay")
