"""Dashboard panels: what awaits my approval (counts per level), my unread notices."""

from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.components import Component

from .models import Notice, StepLevel
from .selectors import awaiting_states_for_user, awaiting_summary


class AwaitingApprovalPanel(Component):
    name = "nguon_awaiting"
    order = 50
    template_name = "newsroom/panels/awaiting.html"

    def __init__(self, user):
        self.user = user

    def get_context_data(self, parent_context):
        summary = awaiting_summary(user=self.user)
        labels = dict(StepLevel.choices)
        summary["levels"] = [
            (labels[level], summary["counts"][level])
            for level in StepLevel.values
            if summary["counts"].get(level)
        ]
        summary["title"] = _("Awaiting my approval")
        return summary

    def render_html(self, parent_context=None):
        if not self.user.is_superuser and not self.user.memberships.exists():
            return ""
        return super().render_html(parent_context)


class NoticesPanel(Component):
    name = "nguon_notices"
    order = 60
    template_name = "newsroom/panels/notices.html"

    def __init__(self, user):
        self.user = user

    def get_context_data(self, parent_context):
        """Unread notices of steps the reader can still decide: a step already decided (or
        moved on, or cancelled), or one they no longer approve, is not listed, so no notice
        leads where its reader cannot go. One query."""
        notices = list(
            Notice.objects.filter(
                user=self.user,
                read_at__isnull=True,
                task_state_id__in=awaiting_states_for_user(user=self.user).values("pk"),
            ).select_related("item")[:10]
        )
        return {"notices": notices}

    def render_html(self, parent_context=None):
        context = self.get_context_data(parent_context)
        if not context["notices"]:
            return ""
        from django.template.loader import render_to_string

        return render_to_string(self.template_name, context)


class ReporterHomePanel(Component):
    """A reporter's "what do I need to do": returned to me (who and why), drafts, waiting
    for approval (at which level), published."""

    name = "nguon_reporter_home"
    order = 40
    template_name = "newsroom/panels/reporter_home.html"

    def __init__(self, user):
        self.user = user

    def get_context_data(self, parent_context):
        from .review import reporter_home

        return reporter_home(user=self.user)

    def render_html(self, parent_context=None):
        from .models import Membership, Role

        if not Membership.objects.filter(user=self.user, role=Role.REPORTER).exists():
            return ""
        return super().render_html(parent_context)
