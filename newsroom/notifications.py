"""Tell approvers that an item reached their step: an email and an admin notice.

``step_notify`` runs when a step starts (the ``task_submitted`` signal); the email goes out
after commit through Django's mail backend (locmem in tests). ``steps_remind`` is the beat
task's body: steps waiting longer than ``NGUON_APPROVAL_REMINDER_HOURS`` (default 4) get
one reminder each.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.models import TaskState

from .models import Membership, NewsItem, Notice, UnitApprovalTaskState


def step_approvers(task_state: UnitApprovalTaskState):
    """Active users holding the step's role at exactly the step's unit."""
    if task_state.unit_id is None:
        return get_user_model().objects.none()
    role = task_state.task.specific.role
    user_ids = Membership.objects.filter(unit_id=task_state.unit_id, role=role).values("user_id")
    return get_user_model().objects.filter(pk__in=user_ids, is_active=True)


def _item_url(item: NewsItem) -> str:
    path = reverse("wagtailsnippets_newsroom_newsitem:edit", args=[item.pk])
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + path


def step_notify(*, task_state: UnitApprovalTaskState, reminder: bool = False) -> int:
    """Notice + email to each approver of the step. Returns how many people were told."""
    item = task_state.workflow_state.content_object
    unit = task_state.unit
    approvers = list(step_approvers(task_state))
    if not approvers:
        return 0
    if reminder:
        subject = _("Reminder: “%(headline)s” is still waiting for your approval") % {
            "headline": item.headline
        }
    else:
        subject = _("“%(headline)s” is waiting for your approval") % {"headline": item.headline}
    body = _(
        "The item “%(headline)s” is at the approval step of %(unit)s.\n"
        "Open it to approve it or return it with a comment:\n%(url)s\n"
    ) % {"headline": item.headline, "unit": unit.name if unit else "", "url": _item_url(item)}
    Notice.objects.bulk_create(
        [Notice(user=u, item_id=item.pk, task_state=task_state, text=subject) for u in approvers]
    )
    recipients = [u.email for u in approvers if u.email]
    if recipients:
        transaction.on_commit(
            lambda: send_mail(
                subject,
                body,
                settings.DEFAULT_FROM_EMAIL,
                recipients,
                fail_silently=True,
            )
        )
    return len(approvers)


def steps_remind(*, now=None) -> int:
    """Send one reminder for every step waiting longer than the configured time."""
    now = now or timezone.now()
    hours = settings.NGUON_APPROVAL_REMINDER_HOURS
    due = UnitApprovalTaskState.objects.filter(
        status=TaskState.STATUS_IN_PROGRESS,
        started_at__lte=now - timedelta(hours=hours),
        reminded_at__isnull=True,
    ).select_related("unit", "workflow_state")
    count = 0
    for state in due:
        with transaction.atomic():
            locked = (
                UnitApprovalTaskState.objects.select_for_update()
                .filter(pk=state.pk, reminded_at__isnull=True)
                .update(reminded_at=now)
            )
            if locked:
                step_notify(task_state=state, reminder=True)
                count += 1
    return count
