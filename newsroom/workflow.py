"""The approval chain as a Wagtail workflow: commune → district → province → board.

One workflow serves every unit and scope: a step the owning unit lacks, or the item's
distribution does not reach, is skipped (see ``ChainStepRules.start`` and
``newsroom.chain``), so a two-level province runs commune → province and only national
items reach the provincial editorial board.

``ChainStepRules`` is what a step does; ``UnitApprovalTask`` (``newsroom.models``) hands
Wagtail's calls to it (``NewsroomConfig.ready`` installs it). ``step_lock`` is the one
place a step's row is locked: the admin's workflow actions and the services
(``item_review``, ``item_scope_change``) both decide a step through ``ChainStepRules.decide``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.log_actions import log
from wagtail.models import (
    Revision,
    Task,
    TaskState,
    Workflow,
    WorkflowContentType,
    WorkflowState,
    WorkflowTask,
)
from wagtail.signals import task_submitted

from . import policy
from .chain import self_approval_blocked, step_unit, version_authors
from .forms import ScopeChangeForm
from .models import (
    AdministrativeUnit,
    Membership,
    NewsItem,
    Notice,
    StepAlreadyDecided,
    StepLevel,
    UnitApprovalTask,
    UnitApprovalTaskState,
    content_differs,
)

WORKFLOW_NAME = "Chuỗi duyệt tin theo cấp"
STEPS = [
    (StepLevel.COMMUNE, "Duyệt cấp xã"),
    (StepLevel.DISTRICT, "Duyệt cấp huyện"),
    (StepLevel.PROVINCE, "Duyệt cấp tỉnh"),
    (StepLevel.BOARD, "Hội đồng biên tập tỉnh"),
]


def workflow_ensure() -> Workflow:
    """Create the chain (adding steps missing from older installs) and assign it to news
    items. Idempotent."""
    workflow, _created = Workflow.objects.get_or_create(name=WORKFLOW_NAME)
    present = set(
        UnitApprovalTask.objects.filter(workflow_tasks__workflow=workflow).values_list(
            "level", flat=True
        )
    )
    for level, name in STEPS:
        if level in present:
            continue
        task = UnitApprovalTask.objects.filter(level=level).first()
        if task is None:
            task = UnitApprovalTask.objects.create(name=name, level=level)
        last = workflow.workflow_tasks.aggregate(m=Max("sort_order"))["m"]
        WorkflowTask.objects.create(
            workflow=workflow, task=task, sort_order=0 if last is None else last + 1
        )
    content_type = ContentType.objects.get_for_model(NewsItem)
    WorkflowContentType.objects.get_or_create(
        content_type=content_type, defaults={"workflow": workflow}
    )
    return workflow


# --- the step lock ------------------------------------------------------------------------


def step_check_open(task_state: TaskState) -> None:
    """Raise ``StepAlreadyDecided`` (naming who decided) unless the step is in progress."""
    if task_state.status != TaskState.STATUS_IN_PROGRESS:
        raise StepAlreadyDecided(
            _("This step was already decided by %(user)s. Reload the item.")
            % {"user": task_state.finished_by or "?"}
        )


def step_lock(task_state: TaskState) -> TaskState:
    """Lock the step's row for the caller's transaction and check it is still open: of two
    approvers acting at once, the second waits here, then gets ``StepAlreadyDecided``. The
    one place a step is locked (every decision goes through ``ChainStepRules.decide``)."""
    locked = TaskState.objects.select_for_update().get(pk=task_state.pk)
    step_check_open(locked)
    return locked


# --- what a step does ---------------------------------------------------------------------


def chain_tasks(workflow: Workflow) -> list[UnitApprovalTask]:
    """The workflow's active steps, in chain order."""
    return list(
        UnitApprovalTask.objects.filter(workflow_tasks__workflow=workflow, active=True).order_by(
            "workflow_tasks__sort_order"
        )
    )


def step_unit_for(task: UnitApprovalTask, obj: Any) -> AdministrativeUnit | None:
    """The unit whose approvers decide ``task`` for ``obj`` (an item or a draft of it)."""
    unit = getattr(obj, "unit", None)
    if unit is None:
        return None
    return step_unit(task.level, unit, obj.distribution)


def unchanged_approval(
    task: UnitApprovalTask,
    workflow_state: WorkflowState,
    revision: Revision | None,
    approving: AdministrativeUnit,
    floor: datetime | None = None,
) -> TaskState | None:
    """Carry this step's latest approval in this workflow forward when it covered the
    same content, at the same approving unit (a reform or a new owner asks again), and
    came after the step below approved that content (``floor``): a step never counts
    as having approved a version before the steps below it did."""
    previous = (
        TaskState.objects.filter(workflow_state=workflow_state, task=task)
        .exclude(status=TaskState.STATUS_SKIPPED)
        .exclude(revision=revision)
        .select_related("revision")
        .order_by("-id")
        .first()
    )
    if previous is None or revision is None or previous.status != TaskState.STATUS_APPROVED:
        return None
    previous = previous.specific
    if previous.unit_id != approving.pk:
        return None
    if floor is not None and (previous.finished_at is None or previous.finished_at < floor):
        return None
    if content_differs(previous.revision.content, revision.content):
        return None
    return previous.copy(update_attrs={"revision": revision})


def _current_state(task: UnitApprovalTask, obj: Any) -> UnitApprovalTaskState | None:
    workflow_state = getattr(obj, "current_workflow_state", None)
    if workflow_state is None:
        return None
    state = workflow_state.current_task_state
    if state is None or state.task_id != task.pk:
        return None
    return cast(UnitApprovalTaskState, state.specific)


def scope_change(*, user: Any, item: NewsItem, distribution: str, comment: str = "") -> None:
    """Change the distribution scope in the latest revision in place (no new content, so
    earlier approvals stay valid); later steps read it when they start. The caller holds
    the step lock. Logged as ``nguon.scope``."""
    if distribution not in NewsItem.Distribution.values:
        raise ValidationError({"distribution": _("Choose a valid distribution scope.")})
    if not policy.user_can(user, "approve", item):
        raise PermissionDenied(_("Only the approvers of the current step change the scope."))
    revision = item.get_latest_revision()
    before = revision.content.get("distribution", item.distribution)
    if before == distribution:
        return
    revision.content["distribution"] = distribution
    revision.save(update_fields=["content"])
    if not item.live:
        NewsItem.objects.filter(pk=item.pk).update(distribution=distribution)
        item.distribution = distribution
    log(
        instance=item,
        action="nguon.scope",
        user=user,
        revision=revision,
        data={"from": before, "to": distribution, "comment": comment},
    )


class ChainStepRules:
    """What a ``UnitApprovalTask`` does when Wagtail (or a service) calls it."""

    def start(
        self, task: UnitApprovalTask, workflow_state: WorkflowState, user: Any = None
    ) -> TaskState | None:
        """Start the chain where the item's latest revision needs it: one path for the
        first submission, a resubmission after a return (the editor's button, the
        ``item_submit`` service, the intake API) and the next step after an approval.

        Steps are walked in chain order for the latest revision, read fresh from the
        database (the editor saved it in this request; a cached object would bind the step
        to an older revision): a step the item does not need is *skipped*; a step whose
        earlier approval in this workflow covered the same content carries it forward;
        the first other step starts. So changed content is approved again from the first
        step whose approved content changed, and no step's approval counts before the
        steps below it approved the same content (an approval given earlier, such as a
        district approving its own edit, is asked again after the commune's). The
        returned state is the one started, or the last one carried or skipped (Wagtail
        then moves on and finishes the chain).
        """
        item = NewsItem.objects.get(pk=workflow_state.object_id)
        workflow_state.content_object = item  # Wagtail's next-step lookup reads it too
        revision = item.get_latest_revision()
        draft = revision.as_object() if revision is not None else item
        last = None
        floor = None  # when the step below approved this content: later steps come after
        for step in chain_tasks(workflow_state.workflow):
            done = (
                TaskState.objects.filter(
                    workflow_state=workflow_state,
                    task=step,
                    revision=revision,
                    status__in=[TaskState.STATUS_APPROVED, TaskState.STATUS_SKIPPED],
                )
                .order_by("-id")
                .first()
            )
            if done is not None and (
                done.status == TaskState.STATUS_SKIPPED
                or floor is None
                or (done.finished_at and done.finished_at >= floor)
            ):
                last = done
                if done.status == TaskState.STATUS_APPROVED:
                    floor = done.finished_at
                continue
            approving = step_unit_for(step, draft)
            if approving is None:
                last = UnitApprovalTaskState.objects.create(
                    workflow_state=workflow_state,
                    task=step,
                    revision=revision,
                    unit=None,
                    status=TaskState.STATUS_SKIPPED,
                    finished_at=timezone.now(),
                )
                continue
            carried = unchanged_approval(step, workflow_state, revision, approving, floor)
            if carried is not None:
                last = carried
                floor = carried.finished_at
                continue
            state = UnitApprovalTaskState.objects.create(
                workflow_state=workflow_state,
                task=step,
                revision=revision,
                unit=approving,
                status=TaskState.STATUS_IN_PROGRESS,
            )
            task_submitted.send(sender=UnitApprovalTaskState, instance=state, user=user)
            return state
        return last

    def may_act(self, task: UnitApprovalTask, obj: Any, user: Any) -> bool:
        """Whether ``user`` holds the step's role at the step's unit (remembered per
        request on the user object)."""
        if not user.is_authenticated:
            return False
        if user.is_superuser:
            return True
        state = _current_state(task, obj)
        if state is None or state.unit_id is None:
            return False
        cache: dict[tuple[int, str], bool] = user.__dict__.setdefault("_nguon_step_roles", {})
        key = (state.unit_id, task.role)
        if key not in cache:
            cache[key] = Membership.objects.filter(
                user=user, unit_id=state.unit_id, role=task.role
            ).exists()
        return cache[key]

    def actions(self, task: UnitApprovalTask, obj: Any, user: Any) -> list[tuple[str, Any, bool]]:
        if not self.may_act(task, obj, user):
            return []
        actions: list[tuple[str, Any, bool]] = [
            ("reject", gettext_lazy("Return with comment"), True)
        ]
        if not self_approval_blocked(obj, user):
            actions += [
                ("approve", gettext_lazy("Approve"), False),
                ("approve", gettext_lazy("Approve with comment"), True),
            ]
        return actions + [("scope", gettext_lazy("Change distribution scope"), True)]

    def form_for_action(self, task: UnitApprovalTask, action: str) -> type[forms.Form] | None:
        return ScopeChangeForm if action == "scope" else None

    def decide(
        self,
        task: UnitApprovalTask,
        task_state: TaskState,
        user: Any,
        action_name: str,
        **kwargs: Any,
    ) -> Any:
        """Approve/return/re-scope under the step lock: of two approvers acting at once,
        the second finds the step decided and gets ``StepAlreadyDecided``."""
        with transaction.atomic():
            step_lock(task_state)
            task_state = task_state.specific
            task_state.refresh_from_db()
            if action_name == "scope":
                scope_change(
                    user=user,
                    item=NewsItem.objects.get(pk=task_state.workflow_state.object_id),
                    distribution=kwargs.get("distribution", ""),
                    comment=kwargs.get("comment", ""),
                )
                return None
            if action_name == "approve":
                # The approver approves what is there now: bind the step to that revision.
                item = NewsItem.objects.get(pk=task_state.workflow_state.object_id)
                latest = item.get_latest_revision()
                if latest is not None and latest.pk != task_state.revision_id:
                    task_state.revision = latest
                # Nobody approves what they wrote or submitted (the editor path and the
                # service both come here); a province may allow it for one-official
                # communes, and every such approval is marked in the audit trail.
                if user.pk in version_authors(item):
                    if not settings.NGUON_ALLOW_SELF_APPROVAL:
                        raise PermissionDenied(
                            _("You wrote or submitted this version: another approver decides.")
                        )
                    log(
                        instance=item,
                        action="nguon.self_approve",
                        user=user,
                        revision=task_state.revision,
                        data={"task_state_id": task_state.pk},
                    )
            result = Task.on_action(task, task_state, user, action_name, **kwargs)
            # The step is decided: its notices are done, for every approver who got one.
            Notice.objects.filter(task_state_id=task_state.pk, read_at__isnull=True).update(
                read_at=timezone.now()
            )
            return result
