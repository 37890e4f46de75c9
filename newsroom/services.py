"""Writes for the newsroom: create, submit, approve and return items; grant roles.

The Wagtail admin drives the same engine through its own views; these services are what
code, the demo data, the intake API and tests call. Each checks permission first and raises
``PermissionDenied`` with a message the user can act on.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from wagtail.models import TaskState

from .models import AdministrativeUnit, Membership, NewsItem, Role
from .selectors import item_user_can_edit, unit_paths_for_user
from .workflow import workflow_ensure


def membership_grant(*, user, unit: AdministrativeUnit, role: str) -> Membership:
    membership, _created = Membership.objects.get_or_create(user=user, unit=unit, role=role)
    user.__dict__.pop("_nguon_unit_paths", None)
    return membership


@transaction.atomic
def item_create(*, user, unit: AdministrativeUnit, headline: str, **fields) -> NewsItem:
    """Create a draft item owned by ``unit``; the user must report for that unit."""
    headline = (headline or "").strip()
    if not headline:
        raise ValidationError({"headline": _("Enter a headline.")})
    if not user.is_superuser and not any(
        unit.path.startswith(p)
        for p in unit_paths_for_user(user=user, roles=[Role.REPORTER, Role.UNIT_ADMIN])
    ):
        raise PermissionDenied(_("You are not a reporter of this unit."))
    item = NewsItem(unit=unit, headline=headline, created_by=user, live=False, **fields)
    item.full_clean(exclude=["slug"])
    item.save()
    item.save_revision(user=user, log_action=True)
    return item


@transaction.atomic
def item_submit(*, user, item: NewsItem):
    """Start the approval chain for the item's latest revision."""
    if not item_user_can_edit(user=user, item=item):
        raise PermissionDenied(_("You cannot submit this item."))
    if item.workflow_in_progress:
        raise ValidationError(_("This item is already awaiting approval."))
    workflow = item.get_workflow() or workflow_ensure()
    state = item.current_workflow_state
    if state is not None and state.status == state.STATUS_NEEDS_CHANGES:
        item.save_revision(user=user)
        state.resume(user=user)
        return state
    if item.latest_revision is None:
        item.save_revision(user=user)
    return workflow.start(item, user)


def _current_task_state(item: NewsItem) -> TaskState:
    item = NewsItem.objects.get(pk=item.pk)  # fresh workflow state, not a cached one
    state = item.current_workflow_state
    if state is None or state.current_task_state is None:
        raise ValidationError(_("This item is not awaiting approval."))
    return item, state.current_task_state


@transaction.atomic
def item_review(*, user, item: NewsItem, action: str, comment: str = "") -> NewsItem:
    """Approve (``action="approve"``) or return (``action="reject"``) the current step."""
    item, task_state = _current_task_state(item)
    task = task_state.task.specific
    allowed = {name for name, _label, _modal in task.get_actions(item, user)}
    if action not in allowed:
        raise PermissionDenied(_("You cannot act on this step of the approval chain."))
    if action == "reject" and not comment.strip():
        raise ValidationError({"comment": _("Say why the item is returned.")})
    task.on_action(task_state, user, action, comment=comment)
    item.refresh_from_db()
    return item
