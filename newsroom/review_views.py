"""The approver's review screen, bulk approval, and a reporter deleting a draft.

Views parse input and call the one service (``services.item_review``,
``services.item_delete_draft``); what the screen shows comes from ``newsroom.review``.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from wagtail.admin import messages

from . import policy
from .models import NewsItem
from .review import decision_message, review_context
from .selectors import awaiting_states_for_user
from .services import item_delete_draft, item_review

ACTIONS = {"approve": "approve", "approve-comment": "approve", "reject": "reject"}


def _error_text(exc: Exception) -> str:
    return " ".join(getattr(exc, "messages", [])) or str(exc) or _("You cannot act on this step.")


@require_http_methods(["GET", "POST"])
def review_view(request, pk):
    """The item as readers will see it, what changed, the chain; approve, approve with a
    comment, or return with a comment: one click each (``item_review`` decides)."""
    item = get_object_or_404(NewsItem.objects.select_related("unit"), pk=pk)
    if not policy.user_can(request.user, "view", item):
        raise PermissionDenied
    if request.method == "POST":
        pressed = request.POST.get("action", "")
        action = ACTIONS.get(pressed)
        comment = request.POST.get("comment", "").strip()
        if action is None:
            messages.error(request, _("Unknown action."))
            return redirect("newsroom_item_review", pk=item.pk)
        if pressed == "approve-comment" and not comment:
            messages.error(request, _("Write the comment that goes with the approval."))
            return redirect("newsroom_item_review", pk=item.pk)
        try:
            item_review(
                user=request.user,
                item=item,
                action=action,
                comment=comment,
                revision_id=request.POST.get("revision_id") or None,
                task_state_id=request.POST.get("task_state_id") or None,
            )
        except (PermissionDenied, ValidationError) as exc:
            messages.error(request, _error_text(exc))
            return redirect("newsroom_item_review", pk=item.pk)
        messages.success(request, decision_message(item, action))
        return redirect("wagtailadmin_home")
    context = review_context(item=item, user=request.user)
    task_state = context["task_state"]
    can_decide = task_state is not None and policy.user_can(request.user, "return", item)
    context.update(
        {
            "can_decide": can_decide,
            "can_approve": can_decide and not context["self_blocked"],
            "page_title": _("Review: %(headline)s") % {"headline": context["draft"].headline},
            "header_title": _("Review an item"),
        }
    )
    return TemplateResponse(request, "newsroom/review.html", context)


@require_http_methods(["GET", "POST"])
def bulk_approve_view(request):
    """Approve several items waiting at the user's own steps: GET lists them for
    confirmation, POST approves each through ``item_review`` (each in its own transaction:
    one refusal does not undo the others) and says what happened to each."""
    ids = [
        int(i) for i in request.POST.getlist("item") or request.GET.getlist("item") if i.isdigit()
    ]
    waiting = {
        int(state.workflow_state.object_id): state
        for state in awaiting_states_for_user(user=request.user).select_related(
            "workflow_state", "unit", "task"
        )
    }
    items = NewsItem.objects.select_related("unit").in_bulk([i for i in ids if i in waiting])
    chosen = [(items[i], waiting[i]) for i in ids if i in items]
    if not chosen:
        messages.error(request, _("Choose the items to approve among those waiting for you."))
        return redirect("wagtailadmin_home")
    if request.method == "POST" and request.POST.get("confirm"):
        for item, state in chosen:
            try:
                item_review(user=request.user, item=item, action="approve", task_state_id=state.pk)
            except (PermissionDenied, ValidationError) as exc:
                messages.error(request, f"“{item.headline}”: {_error_text(exc)}")
            else:
                messages.success(request, decision_message(item, "approve"))
        return redirect("wagtailadmin_home")
    return TemplateResponse(
        request,
        "newsroom/bulk_approve.html",
        {
            "chosen": chosen,
            "page_title": _("Approve several items"),
            "header_title": _("Approve several items"),
        },
    )


@require_http_methods(["GET", "POST"])
def delete_draft_view(request, pk):
    """A reporter deletes their own never-submitted draft (``item_delete_draft`` checks)."""
    item = get_object_or_404(NewsItem, pk=pk)
    if not policy.user_can(request.user, "view", item):
        raise PermissionDenied
    if request.method == "POST":
        headline = item.headline
        try:
            item_delete_draft(user=request.user, item=item)
        except (PermissionDenied, ValidationError) as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, _("Draft “%(headline)s” deleted.") % {"headline": headline})
        return redirect("wagtailadmin_home")
    return TemplateResponse(
        request,
        "newsroom/delete_draft.html",
        {
            "item": item,
            "page_title": _("Delete a draft"),
            "header_title": _("Delete a draft"),
            "cancel_url": reverse("wagtailsnippets_newsroom_newsitem:edit", args=[item.pk]),
        },
    )
