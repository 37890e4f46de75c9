"""Reads for the statistics dashboard: every number comes from data the system already writes.

- Newsroom activity from Wagtail's log entries on news items (``wagtail.workflow.start``,
  ``wagtail.workflow.approve``, ``wagtail.workflow.reject``, ``wagtail.publish``,
  ``wagtail.unpublish`` / ``nguon.withdraw``), by item kind and category.
- Time to approve from the approval steps' ``TaskState.started_at`` / ``finished_at``, per
  level of the approving unit (``UnitApprovalTaskState.unit``).
- Loudspeaker hours and device uptime from ``broadcast.selectors``; feed and push
  deliveries from ``syndication.selectors`` (when those apps provide them).

Every selector is confined to one unit's subtree and a half-open period ``[start, end)``.
"""

import math
import statistics
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_lazy as _
from wagtail.models import ModelLogEntry, TaskState

from newsroom import models as newsroom_models
from newsroom.models import AdministrativeUnit, NewsItem, UnitApprovalTaskState

# The chain's step levels (commune, district, province and, where the newsroom has it, the
# provincial editorial board); older code used the unit levels.
StepLevel = getattr(newsroom_models, "StepLevel", AdministrativeUnit.Type)

# Measure → the log actions that count for it.
ACTIONS = {
    "submitted": ("wagtail.workflow.start",),
    "approved": ("wagtail.workflow.approve",),
    "returned": ("wagtail.workflow.reject",),
    "published": ("wagtail.publish",),
    "withdrawn": ("nguon.withdraw", "wagtail.unpublish"),
}
MEASURE_LABELS = {
    "submitted": _("Submitted"),
    "approved": _("Approval steps"),
    "returned": _("Returned"),
    "published": _("Published"),
    "withdrawn": _("Withdrawn"),
}
MEASURES = list(ACTIONS)
LEVELS = [t.value for t in StepLevel]


@dataclass
class Period:
    start: datetime
    end: datetime


@dataclass
class Activity:
    totals: dict[str, int]
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)
    by_category: dict[str, dict[str, int]] = field(default_factory=dict)


def _items_in(unit: AdministrativeUnit):
    return NewsItem.objects.filter(unit__path__startswith=unit.path)


def activity_summary(*, unit: AdministrativeUnit, start: datetime, end: datetime) -> Activity:
    """Counts of each measure in ``[start, end)`` for items owned under ``unit``.

    Submissions, approval steps, returns and publications count log events (a resubmitted
    item counts twice; a correction is a publication). A withdrawal is counted once even if
    both ``nguon.withdraw`` and ``wagtail.unpublish`` were logged for it at that moment.
    """
    content_type = ContentType.objects.get_for_model(NewsItem)
    items = {str(row["pk"]): row for row in _items_in(unit).values("pk", "kind", "category__name")}
    wanted = [action for actions in ACTIONS.values() for action in actions]
    entries = (
        ModelLogEntry.objects.filter(
            content_type=content_type,
            action__in=wanted,
            timestamp__gte=start,
            timestamp__lt=end,
            object_id__in=list(items),
        )
        .values_list("object_id", "action")
        .order_by()
    )
    measure_of = {action: m for m, actions in ACTIONS.items() for action in actions}
    # Withdrawals: per item, the larger of the two action counts (they may both be logged).
    withdraw_counts: dict[str, dict[str, int]] = {}
    events: list[tuple[str, str]] = []
    for object_id, action in entries:
        measure = measure_of[action]
        if measure == "withdrawn":
            per = withdraw_counts.setdefault(object_id, {})
            per[action] = per.get(action, 0) + 1
        else:
            events.append((object_id, measure))
    for object_id, per in withdraw_counts.items():
        events.extend([(object_id, "withdrawn")] * max(per.values()))

    activity = Activity(totals=dict.fromkeys(MEASURES, 0))
    kind_labels = dict(NewsItem.Kind.choices)
    no_category = str(_("(no category)"))
    for object_id, measure in events:
        row = items[object_id]
        kind = str(kind_labels.get(row["kind"], row["kind"]))
        category = row["category__name"] or no_category
        activity.totals[measure] += 1
        for bucket, key in ((activity.by_kind, kind), (activity.by_category, category)):
            bucket.setdefault(key, dict.fromkeys(MEASURES, 0))[measure] += 1
    activity.by_kind = dict(sorted(activity.by_kind.items()))
    activity.by_category = dict(sorted(activity.by_category.items()))
    return activity


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..100): a value that was actually observed."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def approval_times(*, unit: AdministrativeUnit, start: datetime, end: datetime) -> list[dict]:
    """Per step level (commune, district, province, board): approved steps finished in
    ``[start, end)`` on items owned under ``unit``, with median and p90 hours from step start
    to approval."""
    content_type = ContentType.objects.get_for_model(NewsItem)
    item_ids = [str(pk) for pk in _items_in(unit).values_list("pk", flat=True)]
    rows = (
        UnitApprovalTaskState.objects.filter(
            status=TaskState.STATUS_APPROVED,
            finished_at__gte=start,
            finished_at__lt=end,
            workflow_state__base_content_type=content_type,
            workflow_state__object_id__in=item_ids,
            unit__isnull=False,
        )
        .values_list("task__unitapprovaltask__level", "started_at", "finished_at")
        .order_by()
    )
    hours: dict[str, list[float]] = {level: [] for level in LEVELS}
    for level, started, finished in rows:
        if started and finished:
            hours.setdefault(level, []).append((finished - started).total_seconds() / 3600)
    labels = dict(StepLevel.choices)
    result = []
    for level, values in hours.items():
        result.append(
            {
                "level": level,
                "label": str(labels.get(level, level)),
                "steps": len(values),
                "median_hours": round(statistics.median(values), 2) if values else None,
                "p90_hours": round(percentile(values, 90), 2) if values else None,
            }
        )
    return result


def loudspeaker_summary(*, unit: AdministrativeUnit, start: datetime, end: datetime) -> dict:
    """Hours scheduled vs played and device uptime per commune (from the broadcast app)."""
    from broadcast import selectors as broadcast

    data = {"available": False, "playback": [], "uptime": []}
    if hasattr(broadcast, "playback_summary"):
        data["available"] = True
        for row in broadcast.playback_summary(unit_ids=[unit.pk], start=start, end=end):
            scheduled = row.get("scheduled_seconds") or 0.0
            played = row.get("played_seconds") or 0.0
            data["playback"].append(
                {
                    "commune": row.get("commune_name", ""),
                    "code": row.get("commune_code", ""),
                    "devices": row.get("devices", 0),
                    "scheduled_hours": round(scheduled / 3600, 2),
                    "played_hours": round(played / 3600, 2),
                    "played_ratio": round(played / scheduled, 4) if scheduled else None,
                }
            )
    if hasattr(broadcast, "device_uptime_summary"):
        data["available"] = True
        for row in broadcast.device_uptime_summary(unit_ids=[unit.pk], start=start, end=end):
            data["uptime"].append(
                {
                    "commune": row.get("commune_name", ""),
                    "code": row.get("commune_code", ""),
                    "devices": row.get("devices", 0),
                    "uptime_ratio": row.get("uptime_ratio", 0.0),
                    "failures": row.get("failures", 0),
                }
            )
    return data


def delivery_summary(*, start: datetime, end: datetime) -> dict:
    """Feed and push deliveries by subscriber and state (from the syndication app)."""
    from syndication import selectors as syndication

    if not hasattr(syndication, "delivery_summary"):
        return {"available": False, "subscribers": [], "totals": {}}
    data = syndication.delivery_summary(start=start, end=end)
    return {"available": True, **data}


@dataclass
class Report:
    unit: AdministrativeUnit
    period: Period
    activity: Activity
    approval: list[dict]
    loudspeakers: dict
    deliveries: dict


def report_build(*, unit: AdministrativeUnit, start: datetime, end: datetime) -> Report:
    return Report(
        unit=unit,
        period=Period(start, end),
        activity=activity_summary(unit=unit, start=start, end=end),
        approval=approval_times(unit=unit, start=start, end=end),
        loudspeakers=loudspeaker_summary(unit=unit, start=start, end=end),
        deliveries=delivery_summary(start=start, end=end),
    )
