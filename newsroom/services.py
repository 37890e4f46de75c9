"""Writes for the newsroom: memberships, items, the approval chain and life after publishing.

The Wagtail admin drives the same engine through its own views; these services are what
code, the demo data, the intake API and tests call. Each checks permission first with
``newsroom.policy`` and raises ``PermissionDenied`` (or ``ValidationError``) with a message
the user can act on. Every state change writes a Wagtail log entry (standard
``wagtail.*`` actions where Wagtail has one, ``nguon.*`` otherwise; see ``newsroom.audit``)
and events go out after commit (``newsroom.events``).
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.actions.unpublish import UnpublishAction
from wagtail.log_actions import log
from wagtail.models import Revision, TaskState

from . import policy
from .models import AdministrativeUnit, Membership, NewsItem, Role, StepAlreadyDecided
from .workflow import step_check_open, workflow_ensure


class StaleRevision(ValidationError):
    """Someone saved a newer revision since the caller loaded the item."""


# --- memberships --------------------------------------------------------------------------


def membership_grant(*, user, unit: AdministrativeUnit, role: str, by=None) -> Membership:
    """Give ``user`` ``role`` at ``unit``. With ``by``, that person must manage members of
    ``unit`` (unit admins manage only inside their subtree)."""
    if by is not None and not policy.user_can(by, "manage_members", unit):
        raise PermissionDenied(_("You cannot manage members of this unit."))
    if by is not None and by.pk == user.pk and not by.is_superuser:
        raise PermissionDenied(_("You cannot give yourself a role: ask another administrator."))
    membership = Membership(user=user, unit=unit, role=role)
    membership.clean()
    membership, _created = Membership.objects.get_or_create(user=user, unit=unit, role=role)
    policy.forget(user)
    return membership


def membership_revoke(*, membership: Membership, by=None) -> None:
    if by is not None and not policy.user_can(by, "manage_members", membership.unit):
        raise PermissionDenied(_("You cannot manage members of this unit."))
    user = membership.user
    membership.delete()
    policy.forget(user)


# --- items --------------------------------------------------------------------------------


@transaction.atomic
def item_create(*, user, unit: AdministrativeUnit, headline: str, **fields) -> NewsItem:
    """Create a draft item owned by ``unit``; the user must report for that unit."""
    headline = (headline or "").strip()
    if not headline:
        raise ValidationError({"headline": _("Enter a headline.")})
    if not policy.user_can(user, "submit", unit):
        raise PermissionDenied(_("You are not a reporter of this unit."))
    item = NewsItem(unit=unit, headline=headline, created_by=user, live=False, **fields)
    item.full_clean(exclude=["slug"])
    item.save()
    item.save_revision(user=user, log_action=True)
    return item


@transaction.atomic
def item_record_archive(
    *, unit: AdministrativeUnit, headline: str, body: str, audio, user=None
) -> NewsItem:
    """Keep a recording made by the system (a live broadcast) as an unpublished audio item
    of ``unit``, so it can be heard again and audited; it goes nowhere until someone
    submits it through the chain. Audit-logged as ``nguon.recording``."""
    item = NewsItem(
        unit=unit,
        headline=headline[:255],
        body=body,
        kind=NewsItem.Kind.AUDIO,
        audio=audio,
        created_by=user if getattr(user, "is_authenticated", False) else None,
        live=False,
    )
    item.save()
    item.save_revision(user=item.created_by, log_action=True)
    log(instance=item, action="nguon.recording", user=item.created_by)
    return item


@transaction.atomic
def item_update(*, user, item: NewsItem, loaded_revision_id: int | None = None, **fields):
    """Save an edit as a new revision (the live row is untouched until published).

    ``loaded_revision_id`` is the revision the editor started from: if someone saved a newer
    one since, nothing is saved and ``StaleRevision`` says who and when (no silent loss).
    Edits after an approval make that approval stale: the changed version is approved again.
    """
    item = NewsItem.objects.select_for_update().get(pk=item.pk)
    if not policy.user_can(user, "edit", item):
        raise PermissionDenied(_("You cannot edit this item."))
    latest = item.get_latest_revision()
    if loaded_revision_id is not None and latest and latest.pk != int(loaded_revision_id):
        raise StaleRevision(stale_message(latest))
    draft = latest.as_object() if latest else item
    for name, value in fields.items():
        setattr(draft, name, value)
    draft.full_clean(exclude=["slug"])
    draft.save_revision(user=user, log_action=True)
    return NewsItem.objects.get(pk=item.pk)


def stale_message(revision: Revision) -> str:
    when = timezone.localtime(revision.created_at).strftime("%H:%M:%S %d/%m/%Y")
    return _(
        "%(user)s saved a newer version of this item at %(when)s, after you opened it. "
        "Your changes were not saved: reload the item, then make them again."
    ) % {"user": revision.user or _("someone"), "when": when}


@transaction.atomic
def item_delete_draft(*, user, item: NewsItem) -> None:
    """A reporter deletes their own draft that was never sent for approval (an abandoned
    "Thêm tin bài" included). Anything submitted once, published or withdrawn stays: its
    history belongs to the approval chain. Logged as ``wagtail.delete``."""
    item = NewsItem.objects.select_for_update().get(pk=item.pk)
    if item.created_by_id != user.pk or not policy.user_can(user, "submit", item.unit):
        raise PermissionDenied(_("Only its reporter can delete a draft."))
    if item.live or item.withdrawn_at is not None or item.workflow_states.exists():
        raise ValidationError(
            _("This item was sent for approval: it cannot be deleted, only withdrawn.")
        )
    log(instance=item, action="wagtail.delete", user=user)
    item.delete()


@transaction.atomic
def item_submit(*, user, item: NewsItem):
    """Start the approval chain for the item's latest revision (or resume it after a
    return). A withdrawn item is never submitted again."""
    item = NewsItem.objects.get(pk=item.pk)
    if item.withdrawn_at is not None:
        raise ValidationError(_("This item was withdrawn and cannot be submitted again."))
    if item.workflow_in_progress:
        raise ValidationError(_("This item is already awaiting approval."))
    if not policy.user_can(user, "submit", item):
        raise PermissionDenied(_("You cannot submit this item."))
    workflow = item.get_workflow() or workflow_ensure()
    state = item.current_workflow_state
    if state is not None and state.status == state.STATUS_NEEDS_CHANGES:
        state.resume(user=user)
        return state
    if item.latest_revision is None:
        item.save_revision(user=user)
    return workflow.start(item, user)


def _current_step(item: NewsItem, task_state_id: int | None = None):
    """The item's in-progress step (or the step the caller saw), read without a lock: the
    workflow locks it when it decides it (``newsroom.workflow.step_lock``)."""
    item = NewsItem.objects.get(pk=item.pk)  # fresh workflow state, not a cached one
    if task_state_id is None:
        workflow_state = item.current_workflow_state
        if workflow_state is None or workflow_state.current_task_state_id is None:
            raise ValidationError(_("This item is not awaiting approval."))
        task_state_id = workflow_state.current_task_state_id
    task_state = TaskState.objects.filter(
        pk=task_state_id, workflow_state__object_id=str(item.pk)
    ).first()
    if task_state is None:
        raise ValidationError(_("This item is not awaiting approval."))
    step_check_open(task_state)
    return item, task_state.specific


@transaction.atomic
def item_review(
    *,
    user,
    item: NewsItem,
    action: str,
    comment: str = "",
    revision_id: int | None = None,
    task_state_id: int | None = None,
) -> NewsItem:
    """Approve (``action="approve"``) or return (``action="reject"``) the current step.

    The workflow decides under the step lock: of two approvers acting at once one wins,
    the other gets ``StepAlreadyDecided`` (pass ``task_state_id``, the step the approver
    saw, so that a step decided meanwhile is recognised). With ``revision_id`` (what the
    approver read), an item changed since is refused with ``StaleRevision``.
    """
    item, task_state = _current_step(item, task_state_id)
    if action not in ("approve", "reject"):
        raise ValidationError(_("Unknown action."))
    if not policy.user_can(user, "approve" if action == "approve" else "return", item):
        raise PermissionDenied(_("You cannot act on this step of the approval chain."))
    if action == "reject" and not comment.strip():
        raise ValidationError({"comment": _("Say why the item is returned.")})
    latest = item.get_latest_revision()
    if revision_id is not None and latest is not None and latest.pk != int(revision_id):
        raise StaleRevision(stale_message(latest))
    task_state.task.specific.on_action(task_state, user, action, comment=comment)
    item.refresh_from_db()
    return item


@transaction.atomic
def item_scope_change(*, user, item: NewsItem, distribution: str, comment: str = "") -> NewsItem:
    """An approver on the current step narrows or widens the distribution scope.

    The scope is changed in the latest revision in place (no new content, so earlier
    approvals stay valid); later steps read it when they start, so widening extends the
    chain and narrowing ends it sooner. Decided like an approval, under the step lock, by
    ``newsroom.workflow.scope_change`` (the admin's "change scope" action comes there too).
    Logged as ``nguon.scope``.
    """
    if distribution not in NewsItem.Distribution.values:
        raise ValidationError({"distribution": _("Choose a valid distribution scope.")})
    item, task_state = _current_step(item)
    task_state.task.specific.on_action(
        task_state, user, "scope", distribution=distribution, comment=comment
    )
    item.refresh_from_db()
    return item


@transaction.atomic
def item_withdraw(*, user, item: NewsItem, reason: str = "") -> NewsItem:
    """Take a published item back: off the portal (unpublish), ``withdrawn_at`` set,
    ``item_withdrawn`` announced after commit (receivers.py), ``nguon.withdraw`` logged.
    A correction in progress is cancelled. The item cannot be resubmitted afterwards."""
    item = NewsItem.objects.select_for_update().get(pk=item.pk)
    if not item.live:
        raise ValidationError(_("Only a published item can be withdrawn."))
    if not policy.user_can(user, "withdraw", item):
        raise PermissionDenied(_("You cannot withdraw this item."))
    workflow_state = item.current_workflow_state
    if workflow_state is not None:
        workflow_state.cancel(user=user)
    # The policy above is the permission; Wagtail's model permission is not involved.
    UnpublishAction(item, user=user, log_action=True).execute(skip_permission_checks=True)
    item.refresh_from_db()
    log(
        instance=item,
        action="nguon.withdraw",
        user=user,
        data={"version": item.version, "reason": reason},
    )
    return item


@transaction.atomic
def item_embargo(*, user, item: NewsItem, go_live_at: datetime | None) -> NewsItem:
    """Set (or lift, with None) the embargo: the item goes live no earlier than
    ``go_live_at`` even when the chain finishes before. Released by the beat task
    ``newsroom.tasks.items_publish_due``. Logged as ``nguon.embargo``."""
    item = NewsItem.objects.select_for_update().get(pk=item.pk)
    if not (policy.user_can(user, "edit", item) or policy.user_can(user, "approve", item)):
        raise PermissionDenied(_("You cannot change the embargo of this item."))
    if go_live_at is not None and timezone.is_naive(go_live_at):
        raise ValidationError({"go_live_at": _("Give the time with its time zone.")})
    revision = item.get_latest_revision()
    if revision is None:
        revision = item.save_revision(user=user)
    revision.content["go_live_at"] = go_live_at.isoformat() if go_live_at else None
    revision.save(update_fields=["content"])
    if revision.approved_go_live_at is not None:  # already approved and waiting
        revision.approved_go_live_at = go_live_at
        revision.save(update_fields=["approved_go_live_at"])
    NewsItem.objects.filter(pk=item.pk).update(go_live_at=go_live_at)
    item.refresh_from_db()
    log(
        instance=item,
        action="nguon.embargo",
        user=user,
        revision=revision,
        data={"go_live_at": go_live_at.isoformat() if go_live_at else None},
    )
    return item


def items_publish_due(*, now: datetime | None = None) -> list[int]:
    """Publish approved revisions whose embargo has passed (the beat task calls this).
    Each is published in its own transaction under a row lock; replays do nothing."""
    now = now or timezone.now()
    published = []
    due = Revision.objects.filter(
        base_content_type__app_label="newsroom",
        base_content_type__model="newsitem",
        approved_go_live_at__lte=now,
    ).values_list("pk", flat=True)
    for pk in list(due):
        with transaction.atomic():
            revision = Revision.objects.select_for_update().filter(pk=pk).first()
            if revision is None or revision.approved_go_live_at is None:
                continue
            # Due by our clock: publish now (Wagtail would compare go_live_at with its own
            # clock and schedule again), then keep the embargo time on the row.
            embargo = revision.approved_go_live_at
            revision.content["go_live_at"] = None
            revision.save(update_fields=["content"])
            revision.publish(log_action="wagtail.publish.scheduled")
            NewsItem.objects.filter(pk=revision.object_id).update(go_live_at=embargo)
            published.append(int(revision.object_id))
    return published


__all__ = [
    "Role",
    "StaleRevision",
    "StepAlreadyDecided",
    "item_create",
    "item_delete_draft",
    "item_embargo",
    "item_review",
    "item_scope_change",
    "item_submit",
    "item_update",
    "item_withdraw",
    "items_publish_due",
    "membership_grant",
    "membership_revoke",
]
