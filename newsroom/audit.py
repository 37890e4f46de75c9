"""The audit trail of an item, built on Wagtail's log entries.

Standard actions stay Wagtail's (``wagtail.create``, ``wagtail.edit``,
``wagtail.workflow.start``, ``wagtail.workflow.approve``, ``wagtail.workflow.reject``,
``wagtail.workflow.resume``, ``wagtail.publish``, ``wagtail.publish.scheduled``,
``wagtail.unpublish``); the newsroom adds its own under ``nguon.``:

- ``nguon.scope``: an approver changed the distribution scope (``data.from``/``data.to``);
- ``nguon.withdraw``: a published item was withdrawn (``data.version``, ``data.reason``);
- ``nguon.correct``: a new version of a live item was published (``data.version``);
- ``nguon.embargo``: the embargo was set or lifted (``data.go_live_at``);
- ``nguon.reform``: an administrative reform moved the item to another unit
  (``data.from``/``data.to`` with codes and names);
- ``nguon.recording``: a system recording (a live broadcast) was archived as this item;
- ``nguon.self_approve``: a step was approved by the version's own author or submitter,
  which ``NGUON_ALLOW_SELF_APPROVAL`` allows (off by default);
- ``nguon.intake_token_issue`` / ``nguon.intake_token_revoke`` (on the token): an intake
  API token was issued or revoked (``data.for``, ``data.prefix``, ``data.via``).

Every log entry of a news item also records, in ``data["nguon"]``, the level and the unit
(code and name *at the time*) it happened at, so history survives unit reforms.
"""

from __future__ import annotations

import io

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.models import ModelLogEntry, TaskState

from core.exports import csv_writer

from .models import NewsItem, StepLevel

NGUON_ACTIONS = {
    "nguon.scope": (_("Change distribution scope"), _("Distribution scope changed")),
    "nguon.withdraw": (_("Withdraw"), _("Withdrawn")),
    "nguon.correct": (_("Correct"), _("Correction published")),
    "nguon.embargo": (_("Embargo"), _("Embargo set")),
    "nguon.reform": (_("Administrative reform"), _("Moved by an administrative reform")),
    "nguon.intake_token_issue": (_("Issue intake token"), _("Intake API token issued")),
    "nguon.intake_token_revoke": (_("Revoke intake token"), _("Intake API token revoked")),
    "nguon.recording": (_("Archive a recording"), _("Recording archived")),
    "nguon.self_approve": (
        _("Self-approval"),
        _("Approved by its own author or submitter (allowed by the province's setting)"),
    ),
}


def register_actions(actions) -> None:
    """Called from the ``register_log_actions`` hook."""
    for action, (label, message) in NGUON_ACTIONS.items():
        actions.register_action(action, label, message)


def _newsitem_ct_id() -> int:
    return ContentType.objects.get_for_model(NewsItem).pk


def enrich_log_entry(sender, instance: ModelLogEntry, **kwargs) -> None:
    """pre_save of ModelLogEntry: stamp the level and unit (code + name) at the time."""
    if instance.pk or instance.content_type_id != _newsitem_ct_id():
        return
    data = instance.data if isinstance(instance.data, dict) else {}
    if "nguon" in data:
        return
    unit, level = None, ""
    task_state_id = (data.get("workflow") or {}).get("task_state_id")
    if task_state_id:
        state = (
            TaskState.objects.filter(pk=task_state_id)
            .select_related("unitapprovaltaskstate__unit", "task__unitapprovaltask")
            .first()
        )
        if state is not None:
            specific = getattr(state, "unitapprovaltaskstate", None)
            unit = specific.unit if specific else None
            task = getattr(state.task, "unitapprovaltask", None)
            level = task.level if task else ""
    if unit is None:
        item = NewsItem.objects.filter(pk=instance.object_id).select_related("unit").first()
        unit = item.unit if item else None
        level = level or (unit.unit_type if unit else "")
    data["nguon"] = {
        "level": level,
        "unit_code": unit.code if unit else "",
        "unit_name": unit.name if unit else "",
    }
    instance.data = data


def _comment(entry: ModelLogEntry) -> str:
    data = entry.data or {}
    return data.get("comment") or data.get("reason") or ""


def audit_trail(item: NewsItem) -> list[dict]:
    """Rows of the item's history, oldest first: time, who, action, level, unit, comment,
    revision. Two queries whatever the length."""
    entries = (
        ModelLogEntry.objects.filter(content_type_id=_newsitem_ct_id(), object_id=str(item.pk))
        .select_related("user")
        .order_by("timestamp", "pk")
    )
    rows = []
    levels = dict(StepLevel.choices)  # unit types share the first three values
    for entry in entries:
        data = entry.data or {}
        where = data.get("nguon") or {}
        detail = ""
        if entry.action == "nguon.scope":
            detail = f"{data.get('from')} → {data.get('to')}"
        elif entry.action == "nguon.embargo":
            detail = data.get("go_live_at") or ""
        elif entry.action in ("nguon.withdraw", "nguon.correct"):
            detail = f"v{data.get('version')}"
        elif entry.action == "nguon.reform":
            detail = f"{data.get('from', {}).get('code')} → {data.get('to', {}).get('code')}"
        rows.append(
            {
                "time": timezone.localtime(entry.timestamp),
                "user": entry.user.get_username() if entry.user else "",
                "user_name": (entry.user.get_full_name() if entry.user else "") or "",
                "action": entry.action,
                "message": entry.message,
                "level": where.get("level", ""),
                # What people read, on the page and in the CSV (``level`` keeps the code).
                "level_label": str(levels.get(where.get("level", ""), where.get("level", ""))),
                "unit_code": where.get("unit_code", ""),
                "unit_name": where.get("unit_name", ""),
                "comment": _comment(entry),
                "detail": detail,
                "revision": entry.revision_id or "",
            }
        )
    return rows


CSV_COLUMNS = [
    ("time", _("Time")),
    ("user", _("User")),
    ("action", _("Action")),
    ("message", _("Description")),
    ("level_label", _("Level")),
    ("unit_code", _("Unit code")),
    ("unit_name", _("Unit")),
    ("comment", _("Comment")),
    ("detail", _("Detail")),
    ("revision", _("Revision")),
]


def audit_csv(item: NewsItem) -> str:
    """The audit trail as CSV (UTF-8 with a BOM so spreadsheet programs read Vietnamese);
    comments and names that a spreadsheet would run as formulas are neutralised
    (core.exports)."""
    out = io.StringIO()
    writer = csv_writer(out, bom=True)
    writer.writerow([str(label) for _key, label in CSV_COLUMNS])
    for row in audit_trail(item):
        values = []
        for key, _label in CSV_COLUMNS:
            value = row[key]
            if key == "time":
                value = value.strftime("%d/%m/%Y %H:%M:%S")
            values.append(str(value))
        writer.writerow(values)
    return out.getvalue()
