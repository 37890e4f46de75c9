"""Reads for the approver's review screen and the reporter's home: the item as readers will
see it, what changed since its last approved version, the chain it needs, the words that
say what a decision did, and "what do I need to do" for a reporter.

Reads only: every decision goes through ``services.item_review`` (the one path).
"""

from __future__ import annotations

import difflib
import re
from html import escape, unescape

from django.db.models import IntegerField, Q
from django.db.models.functions import Cast
from django.utils.html import strip_tags
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.models import Revision, TaskState, WorkflowState

from core.names import display_name

from .chain import chain_plan, self_approval_blocked
from .models import NewsItem, StepLevel, UnitApprovalTaskState
from .pictures import item_pictures

TEXT_FIELDS = [
    ("headline", gettext_lazy("headline")),
    ("summary", gettext_lazy("summary")),
    ("body", gettext_lazy("body")),
    ("byline", gettext_lazy("byline")),
    ("transcript", gettext_lazy("transcript")),
    ("image_caption", gettext_lazy("caption")),
    ("image_credit", gettext_lazy("credit")),
]
OTHER_FIELDS = [
    ("unit", gettext_lazy("unit")),
    ("kind", gettext_lazy("kind")),
    ("category", gettext_lazy("category")),
    ("image", gettext_lazy("image")),
    ("gallery", gettext_lazy("more pictures")),
    ("audio", gettext_lazy("audio")),
    ("video", gettext_lazy("video")),
    ("distribution", gettext_lazy("distribution")),
]
_BLOCK_KEY = re.compile(r'\s+data-block-key="[^"]*"')


def _plain(value) -> str:
    """Rich text as the words a reader reads (block boundaries become line breaks)."""
    text = _BLOCK_KEY.sub("", str(value or ""))
    text = re.sub(r"</(p|h2|h3|li)>", "\n", text)
    return unescape(strip_tags(text)).strip()


def word_diff(old: str, new: str) -> str:
    """HTML of ``new`` with removed words in ``<del>`` and added words in ``<ins>``."""
    a, b = re.findall(r"\S+|\s+", old), re.findall(r"\S+|\s+", new)
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(escape("".join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append(f"<del>{escape(''.join(a[i1:i2]))}</del>")
        if j2 > j1:
            out.append(f"<ins>{escape(''.join(b[j1:j2]))}</ins>")
    # Every piece of text above went through escape(); only our own tags are markup.
    return mark_safe("".join(out).replace("\n", "<br>"))  # noqa: S308


def last_approved_revision(item: NewsItem) -> Revision | None:
    """The revision the item's latest approval covered (any step, any run of the chain),
    else the live revision; None for an item never approved."""
    state = (
        TaskState.objects.filter(
            workflow_state__base_content_type__app_label="newsroom",
            workflow_state__base_content_type__model="newsitem",
            workflow_state__object_id=str(item.pk),
            status=TaskState.STATUS_APPROVED,
        )
        .select_related("revision")
        .order_by("-finished_at", "-pk")
        .first()
    )
    if state is not None and state.revision is not None:
        return state.revision
    return item.live_revision


def changes_since(approved: Revision | None, latest: Revision | None) -> list[dict]:
    """What changed between two revisions: ``[{"label", "diff" (HTML) or "changed"}]``."""
    if approved is None or latest is None or approved.pk == latest.pk:
        return []
    old, new = approved.content, latest.content
    changes = []
    for name, label in TEXT_FIELDS:
        a, b = _plain(old.get(name)), _plain(new.get(name))
        if a != b:
            changes.append({"label": label, "diff": word_diff(a, b)})
    for name, label in OTHER_FIELDS:
        a, b = old.get(name), new.get(name)
        if a != b and not (a in (None, "", "[]", []) and b in (None, "", "[]", [])):
            changes.append({"label": label, "changed": True})
    return changes


def chain_drawing(item: NewsItem, draft: NewsItem, current_level: str | None) -> list[dict]:
    """The steps this item needs, in order (only those: a province item shows no board),
    each marked done, current or to come."""
    plan = chain_plan(draft.unit, draft.distribution)
    labels = dict(StepLevel.choices)
    levels = [level for level, _unit in plan]
    current = levels.index(current_level) if current_level in levels else None
    steps = []
    for index, (level, unit) in enumerate(plan):
        if current is None:
            state = "done" if item.live and not item.has_unpublished_changes else "todo"
        else:
            state = "done" if index < current else ("current" if index == current else "todo")
        steps.append({"level": level, "label": labels[level], "unit": unit, "state": state})
    return steps


def needed_tasks(obj, tasks: list) -> list:
    """Of a workflow's tasks, those the item's chain needs (``chain.chain_plan`` of its
    latest revision); tasks of other kinds, and other objects' tasks, are kept."""
    from .models import UnitApprovalTask

    if not isinstance(obj, NewsItem) or not obj.unit_id or not tasks:
        return tasks
    latest = obj.get_latest_revision()
    draft = latest.as_object() if latest is not None else obj
    needed = {level for level, _unit in chain_plan(draft.unit, draft.distribution)}
    levels = dict(
        UnitApprovalTask.objects.filter(pk__in=[t.pk for t in tasks]).values_list("pk", "level")
    )
    return [t for t in tasks if t.pk not in levels or levels[t.pk] in needed]


def audio_url(item: NewsItem) -> str:
    """What the review screen plays: the web rendition when ready, else the loudspeaker
    one, else the uploaded file."""
    if not item.audio_id:
        return ""
    for profile in ("web_audio", "loudspeaker"):
        rendition = item.audio.rendition(profile)
        if rendition is not None and rendition.file:
            return rendition.url
    return item.audio.file.url if item.audio.file else ""


def review_context(*, item: NewsItem, user) -> dict:
    """Everything the review screen shows, read once."""
    item = NewsItem.objects.select_related("unit").get(pk=item.pk)
    latest = item.get_latest_revision()
    draft = latest.as_object() if latest is not None else item
    workflow_state = item.current_workflow_state
    task_state = None
    if workflow_state is not None and workflow_state.status == WorkflowState.STATUS_IN_PROGRESS:
        task_state = workflow_state.current_task_state
        task_state = task_state.specific if task_state is not None else None
    level = getattr(getattr(task_state, "task", None), "specific", None)
    level = getattr(level, "level", None)
    approved = last_approved_revision(item)
    return {
        "item": item,
        "draft": draft,
        "revision": latest,
        "task_state": task_state,
        "level": level,
        "level_label": dict(StepLevel.choices).get(level, ""),
        "chain": chain_drawing(item, draft, level),
        "approved_revision": approved,
        "changes": changes_since(approved, latest),
        "audio_url": audio_url(draft),
        "pictures": item_pictures(draft),
        "self_blocked": task_state is not None and self_approval_blocked(item, user),
        "submitted_by": display_name(workflow_state.requested_by) if workflow_state else "",
    }


NEXT_STEP_MESSAGES = {
    "commune": gettext_lazy("Approved, sent on to the commune level."),
    "district": gettext_lazy("Approved, sent on to the district level."),
    "province": gettext_lazy("Approved, sent on to the province level."),
    "board": gettext_lazy("Approved, sent on to the provincial editorial board."),
}


def decision_message(item: NewsItem, action: str) -> str:
    """What a decision did, in words: "Đã duyệt, chuyển lên cấp huyện", "Đã trả lại cho
    phóng viên", "Đã xuất bản" (read after the decision, from the item's state)."""
    item = NewsItem.objects.get(pk=item.pk)
    headline = item.headline
    if action == "reject":
        return _("Returned to the reporter: “%(headline)s”.") % {"headline": headline}
    state = item.current_workflow_state
    if state is not None and state.status == WorkflowState.STATUS_IN_PROGRESS:
        task = state.current_task_state.task.specific
        message = NEXT_STEP_MESSAGES.get(getattr(task, "level", ""))
        if message:
            return f"{message} “{headline}”"
    scheduled = (
        Revision.objects.filter(
            base_content_type__app_label="newsroom",
            base_content_type__model="newsitem",
            object_id=str(item.pk),
            approved_go_live_at__isnull=False,
        )
        .order_by("-pk")
        .first()
    )
    if scheduled is not None:
        when = scheduled.approved_go_live_at
        from django.utils import timezone

        return _("Approved; it will be published at %(when)s: “%(headline)s”.") % {
            "when": timezone.localtime(when).strftime("%H:%M %d/%m/%Y"),
            "headline": headline,
        }
    if item.live:
        return _("Published: “%(headline)s”.") % {"headline": headline}
    return _("Approved: “%(headline)s”.") % {"headline": headline}


# --- the reporter's home -----------------------------------------------------------------


def _returned_step(state: WorkflowState):
    """The step that returned the item: who returned it, their comment, when."""
    return (
        UnitApprovalTaskState.objects.filter(workflow_state=state, status=TaskState.STATUS_REJECTED)
        .select_related("finished_by", "unit", "task")
        .order_by("-finished_at", "-pk")
        .first()
    )


def return_note(item: NewsItem) -> dict | None:
    """When the item waits for its reporter after a return: who returned it (name and
    unit), when, and the comment; else None."""
    state = item.current_workflow_state
    if state is None or state.status != WorkflowState.STATUS_NEEDS_CHANGES:
        return None
    step = _returned_step(state)
    if step is None:
        return None
    return {
        "by": display_name(step.finished_by),
        "unit": step.unit.name if step.unit_id else "",
        "at": step.finished_at,
        "comment": step.comment or "",
    }


def reporter_home(*, user, limit: int = 10) -> dict:
    """A reporter's "what do I need to do": drafts never submitted, items returned to them
    (with the approver's name and comment), items in the chain (at which level), published.

    "Mine" is what they created or sent for approval. A bounded number of queries: one per
    section, one for the return notes, one for the levels."""
    states = WorkflowState.objects.filter(
        base_content_type__app_label="newsroom", base_content_type__model="newsitem"
    ).annotate(item_id=Cast("object_id", IntegerField()))
    mine = NewsItem.objects.filter(
        Q(created_by=user) | Q(pk__in=states.filter(requested_by=user).values("item_id"))
    )
    never_submitted = ~Q(pk__in=states.values("item_id"))
    open_states = states.filter(
        status__in=[WorkflowState.STATUS_IN_PROGRESS, WorkflowState.STATUS_NEEDS_CHANGES]
    )
    drafts = list(
        mine.filter(never_submitted, live=False, withdrawn_at__isnull=True)
        .select_related("unit")
        .order_by("-updated_at")[:limit]
    )
    open_rows = list(
        open_states.filter(object_id__in=[str(i) for i in mine.values_list("pk", flat=True)])
        .select_related("current_task_state__task")
        .order_by("-created_at")
    )
    items = NewsItem.objects.select_related("unit").in_bulk([int(s.object_id) for s in open_rows])
    rejected = {
        s.workflow_state_id: s
        for s in UnitApprovalTaskState.objects.filter(
            workflow_state__in=[s for s in open_rows if s.status == s.STATUS_NEEDS_CHANGES],
            status=TaskState.STATUS_REJECTED,
        )
        .select_related("finished_by", "unit")
        .order_by("finished_at", "pk")
    }
    levels = dict(
        UnitApprovalTaskState.objects.filter(
            pk__in=[s.current_task_state_id for s in open_rows if s.current_task_state_id]
        ).values_list("pk", "task__unitapprovaltask__level")
    )
    labels = dict(StepLevel.choices)
    returned, in_progress = [], []
    for state in open_rows:
        item = items.get(int(state.object_id))
        if item is None:
            continue
        if state.status == state.STATUS_NEEDS_CHANGES:
            step = rejected.get(state.pk)
            returned.append(
                {
                    "item": item,
                    "by": display_name(step.finished_by) if step else "",
                    "unit": step.unit.name if step and step.unit_id else "",
                    "at": step.finished_at if step else None,
                    "comment": step.comment if step else "",
                }
            )
        else:
            level = levels.get(state.current_task_state_id)
            in_progress.append({"item": item, "level": labels.get(level, "")})
    published = list(
        mine.filter(live=True, withdrawn_at__isnull=True)
        .select_related("unit")
        .order_by("-last_published_at")[:limit]
    )
    return {
        "drafts": drafts,
        "returned": returned[:limit],
        "in_progress": in_progress[:limit],
        "published": published,
    }
