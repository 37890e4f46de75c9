"""Reads for media: the admin list and the progress feed."""

from django.db.models import Prefetch, QuerySet

from .models import MediaAsset, Rendition


def asset_list_for_admin(*, status: str = "") -> QuerySet[MediaAsset]:
    """Newest first, renditions prefetched (the list shows them without more queries)."""
    qs = MediaAsset.objects.order_by("-created_at", "-pk").prefetch_related(
        Prefetch("renditions", queryset=Rendition.objects.order_by("pk"))
    )
    if status in MediaAsset.Status.values:
        qs = qs.filter(status=status)
    return qs


def asset_status_map(*, ids: list[int]) -> dict[str, dict]:
    """``{id: {status, stage, stage_label, progress, error}}`` for the progress bars."""
    stages = dict(MediaAsset.Stage.choices)
    statuses = dict(MediaAsset.Status.choices)
    rows = MediaAsset.objects.filter(pk__in=ids).values(
        "pk", "status", "stage", "progress", "error"
    )
    return {
        str(r["pk"]): {
            "status": r["status"],
            "status_label": str(statuses.get(r["status"], r["status"])),
            "stage": r["stage"],
            "stage_label": str(stages.get(r["stage"], "")),
            "progress": round(r["progress"] or 0.0, 1),
            "error": r["error"][:300],
        }
        for r in rows
    }
