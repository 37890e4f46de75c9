"""The approval chain's steps as Wagtail task models: the data, and the hooks Wagtail calls.

What a step *does* (start where the latest revision needs it, who may act, approve, return,
re-scope under the step lock) lives in ``newsroom.workflow``, beside ``newsroom.chain``,
above the models. ``NewsroomConfig.ready`` installs it as ``UnitApprovalTask.rules``, so the
models import nothing from the modules that use them (an import-linter contract holds it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from wagtail.models import Task, TaskState, WorkflowState

from .units import AdministrativeUnit, Role, StepLevel

if TYPE_CHECKING:
    from django import forms


class StepAlreadyDecided(ValidationError):
    """Two approvers acted on the same step at once; the first one won."""


class StepRules(Protocol):
    """What a chain step does; implemented by ``newsroom.workflow.ChainStepRules``."""

    def start(
        self, task: UnitApprovalTask, workflow_state: WorkflowState, user: Any
    ) -> TaskState | None: ...

    def may_act(self, task: UnitApprovalTask, obj: Any, user: Any) -> bool: ...

    def actions(
        self, task: UnitApprovalTask, obj: Any, user: Any
    ) -> list[tuple[str, Any, bool]]: ...

    def form_for_action(self, task: UnitApprovalTask, action: str) -> type[forms.Form] | None: ...

    def decide(
        self,
        task: UnitApprovalTask,
        task_state: TaskState,
        user: Any,
        action_name: str,
        **kwargs: Any,
    ) -> Any: ...


class UnitApprovalTask(Task):
    """One step of the chain, approved at the owner's ancestor of the step's level.

    The workflow lists commune, district, province and the provincial editorial board. At
    start a step is skipped when the owning unit has no ancestor of that level (a two-level
    province has no district) or the item's distribution scope does not reach it (see
    ``newsroom.chain``). Only users holding the step's role *at that unit* act on it.

    Approvals are tied to revisions: a step approved for an older revision whose content
    differs counts again (``WAGTAIL_WORKFLOW_REQUIRE_REAPPROVAL_ON_EDIT``); ``start`` sends
    the chain back to the first such step, and carries unchanged approvals forward. The
    behaviour is ``rules`` (``newsroom.workflow``); the methods below hand Wagtail's calls
    to it.
    """

    level = models.CharField(_("level"), max_length=16, choices=StepLevel.choices)

    admin_form_fields = Task.admin_form_fields + ["level"]

    task_state_class: type[TaskState] | None = None  # set below, after UnitApprovalTaskState
    rules: ClassVar[StepRules]  # installed by NewsroomConfig.ready (newsroom.workflow)

    @property
    def role(self) -> str:
        return Role.EDITORIAL_BOARD if self.level == StepLevel.BOARD else Role.APPROVER

    def start(self, workflow_state: WorkflowState, user: Any = None) -> TaskState | None:
        return self.rules.start(self, workflow_state, user)

    def user_can_access_editor(self, obj: Any, user: Any) -> bool:
        return self.rules.may_act(self, obj, user)

    def locked_for_user(self, obj: Any, user: Any) -> bool:
        return not self.rules.may_act(self, obj, user)

    def user_can_lock(self, obj: Any, user: Any) -> bool:
        return self.rules.may_act(self, obj, user)

    def get_actions(self, obj: Any, user: Any) -> list[tuple[str, Any, bool]]:
        return self.rules.actions(self, obj, user)

    def get_form_for_action(self, action: str) -> Any:
        return self.rules.form_for_action(self, action) or super().get_form_for_action(action)

    def on_action(self, task_state: TaskState, user: Any, action_name: str, **kwargs: Any) -> Any:
        return self.rules.decide(self, task_state, user, action_name, **kwargs)

    def get_task_states_user_can_moderate(self, user: Any, **kwargs: Any) -> QuerySet[TaskState]:
        # Base TaskState rows: Wagtail ORs these with other task types' querysets.
        states: QuerySet[TaskState] = TaskState.objects.filter(
            task=self, status=TaskState.STATUS_IN_PROGRESS
        )
        if user.is_superuser:
            return states
        return states.filter(
            unitapprovaltaskstate__unit__memberships__user=user,
            unitapprovaltaskstate__unit__memberships__role=self.role,
        )

    @classmethod
    def get_description(cls) -> Any:
        return _("Approvers of the item's unit at this level approve or return it")

    class Meta:
        verbose_name = _("unit approval step")
        verbose_name_plural = _("unit approval steps")


class UnitApprovalTaskState(TaskState):
    """A step's state, remembering which unit approves it.

    ``unit`` follows administrative reforms (it is relinked like every unit reference);
    the log entries keep the unit's code and name at the time (see ``newsroom.audit``).
    """

    unit = models.ForeignKey(
        AdministrativeUnit,
        verbose_name=_("unit"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reminded_at = models.DateTimeField(_("reminder sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("unit approval step state")
        verbose_name_plural = _("unit approval step states")


UnitApprovalTask.task_state_class = UnitApprovalTaskState
