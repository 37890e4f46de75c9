"""Admin views: unit-scoped item views, the audit trail, withdrawal, scoped memberships."""

from django.contrib.admin.utils import quote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections
from django.db.models import Q, QuerySet
from django.http import HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.admin import messages
from wagtail.admin.paginator import WagtailPaginator

from . import policy
from .audit import audit_csv, audit_trail
from .models import Membership, NewsItem, StepAlreadyDecided
from .selectors import item_list_for_user, item_user_can_edit, item_user_can_view
from .services import item_withdraw, stale_message

# Views that change the object; everything else only needs "can view".
_EDITING_VIEWS = {"edit", "delete", "unpublish", "revisions_revert", "revisions_unschedule"}


class UnitScopedObjectMixin:
    """Deny access to an item outside the user's subtrees, whatever the view."""

    def get_object(self, *args, **kwargs):
        obj = super().get_object(*args, **kwargs)
        if obj is None:  # create views have no object yet
            return obj
        user = self.request.user
        if not item_user_can_view(user=user, item=obj):
            raise PermissionDenied
        if getattr(self, "view_name", "") in _EDITING_VIEWS and not item_user_can_edit(
            user=user, item=obj
        ):
            raise PermissionDenied
        if getattr(self, "view_name", "") == "unpublish" and not policy.user_can(
            user, "withdraw", obj
        ):
            raise PermissionDenied
        return obj


class GuardedEditMixin:
    """The item editor refuses to overwrite a newer revision saved by someone else since
    the form was opened (Wagtail only refuses that for autosave), and refuses to submit a
    withdrawn item."""

    def post(self, request, *args, **kwargs):
        item = self.get_object()
        if item.withdrawn_at is not None and (
            request.POST.get("action-submit") or request.POST.get("action-restart-workflow")
        ):
            messages.error(request, _("This item was withdrawn and cannot be submitted again."))
            return redirect(reverse(self.edit_url_name, args=[quote(item.pk)]))
        return super().post(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        """A returned item opens with the approver's comment at the top, naming them."""
        from .review import return_note

        note = return_note(self.get_object()) if not self.expects_json_response else None
        if note is not None:
            messages.warning(
                request,
                _("Returned by %(who)s (%(unit)s) at %(when)s: “%(comment)s”")
                % {
                    "who": note["by"],
                    "unit": note["unit"],
                    "when": timezone.localtime(note["at"]).strftime("%H:%M %d/%m/%Y")
                    if note["at"]
                    else "",
                    "comment": note["comment"],
                },
            )
        return super().get(request, *args, **kwargs)

    def get_success_message(self, *args, **kwargs):
        """After approving or returning in the editor, say what happened (as the review
        screen does), not "updated"."""
        if self.action == "workflow-action" and getattr(self, "workflow_action", "") in (
            "approve",
            "reject",
        ):
            from .review import decision_message

            return decision_message(self.object, self.workflow_action)
        return super().get_success_message(*args, **kwargs)

    def is_valid(self, form):
        if not self.expects_json_response and self.is_out_of_date:
            self.produced_error_code = "invalid_revision"
            self.produced_error_message = stale_message(self.latest_revision)
            return False
        return super().is_valid(form)


class NoAutosaveCreateMixin:
    """The "Thêm tin bài" form does not autosave: Wagtail's autosave would create the item
    on the first keystroke and leave a phantom draft when the form is abandoned. An item
    exists once its reporter saves it (autosave still runs in the editor of an existing
    item). A JSON post to the create view (an autosave) is refused."""

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.autosave_enabled = False

    def post(self, request, *args, **kwargs):
        if self.expects_json_response:
            return self.json_error_response(
                "autosave_disabled", _("A new item is created when you save it.")
            )
        return super().post(request, *args, **kwargs)


class GuardedWorkflowActionMixin:
    """Of two approvers acting on one step at once, the second gets a clear message."""

    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except StepAlreadyDecided as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(self.redirect_url)
        except (PermissionDenied, ValidationError) as exc:
            text = " ".join(getattr(exc, "messages", [])) or str(exc)
            messages.error(request, text or _("You cannot act on this step."))
            return redirect(self.redirect_url)


def scoped_queryset(request):
    return item_list_for_user(user=request.user)


class NarrowPagePaginator(WagtailPaginator):
    """Reads a page of a large ordered listing in two steps of one query ("deferred join").

    The plain ``queryset[bottom:top]`` makes the database build every matching row, with
    its joins and per-row subqueries, and sort them all before keeping one page. Here the
    page's keys come from the narrow query (filter and order only, which the
    ``(unit, -created_at, -id)`` index answers); the full rows, joins and annotations are read
    for those keys alone, in the same order. Search results and unordered listings are
    paged as usual."""

    def page(self, number):
        rows = self.object_list
        if not isinstance(rows, QuerySet) or rows.query.is_sliced or not rows.ordered:
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        keys = rows.values_list("pk", flat=True)[bottom:top]
        if not connections[rows.db].features.allow_sliced_subqueries_with_in:
            keys = list(keys)
        return self._get_page(rows.filter(pk__in=keys), number, self)


class ItemListingMixin:
    """The item listing (and its results view) pages with ``NarrowPagePaginator``, and
    breaks ties of the chosen ordering by the newest key so that pages never overlap."""

    paginator_class = NarrowPagePaginator

    def order_queryset(self, queryset):
        queryset = super().order_queryset(queryset)
        if not isinstance(queryset, QuerySet) or not queryset.ordered:
            return queryset
        ordering = list(queryset.query.order_by or queryset.model._meta.ordering)
        if any(str(key).lstrip("-") in ("pk", "id") for key in ordering):
            return queryset
        return queryset.order_by(*ordering, "-pk")


def _viewable_item(request, pk) -> NewsItem:
    item = get_object_or_404(NewsItem.objects.select_related("unit"), pk=pk)
    if not policy.user_can(request.user, "view", item):
        raise PermissionDenied
    return item


def audit_view(request, pk):
    """The item's audit trail; ``?format=csv`` downloads it."""
    item = _viewable_item(request, pk)
    if request.GET.get("format") == "csv":
        response = HttpResponse(audit_csv(item), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="nhat-ky-tin-{item.pk}.csv"'
        return response
    return TemplateResponse(
        request,
        "newsroom/audit.html",
        {
            "item": item,
            "rows": audit_trail(item),
            "page_title": _("Audit trail"),
            "header_title": _("Audit trail: %(headline)s") % {"headline": item.headline},
        },
    )


def withdraw_view(request, pk):
    """Confirm and withdraw a published item (with a reason)."""
    item = _viewable_item(request, pk)
    if not policy.user_can(request.user, "withdraw", item):
        raise PermissionDenied
    if request.method == "POST":
        try:
            item_withdraw(user=request.user, item=item, reason=request.POST.get("reason", ""))
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(
                request, _("“%(headline)s” was withdrawn.") % {"headline": item.headline}
            )
        return redirect(reverse("wagtailsnippets_newsroom_newsitem:list"))
    return TemplateResponse(
        request,
        "newsroom/withdraw.html",
        {"item": item, "page_title": _("Withdraw"), "header_title": _("Withdraw an item")},
    )


class MembershipScopeMixin:
    """Unit admins see and change memberships only inside their subtrees (the listing
    reads ``membership_queryset``; every object view checks the membership's unit)."""

    def get_base_queryset(self):
        return membership_queryset(self.request)

    def get_object(self, *args, **kwargs):
        obj = super().get_object(*args, **kwargs)
        if obj is not None and not policy.user_can(self.request.user, "manage_members", obj.unit):
            raise PermissionDenied
        return obj


def membership_queryset(request):
    units = policy.units_for(request.user, "manage_members")
    return Membership.objects.filter(unit__in=units).select_related("user", "unit")


def people_for_manager(user):
    """The people a unit admin may see and give roles to: those holding a role inside
    the subtrees they manage, and those with no role anywhere yet (new accounts). Never
    themselves (no self-grants) and never people who belong only to other units."""
    from django.contrib.auth import get_user_model

    people = get_user_model().objects.filter(is_active=True)
    if user.is_superuser:
        return people
    units = policy.units_for(user, "manage_members")
    inside = Membership.objects.filter(unit__in=units).values("user_id")
    return people.filter(
        Q(pk__in=inside) | ~Q(pk__in=Membership.objects.values("user_id"))
    ).exclude(pk=user.pk)


# --- the item chooser: only the user's subtrees ------------------------------------------


class ScopedItemChooserMixin:
    """The item chooser lists and returns only items the user may view (walking ids finds
    nothing else: another unit's item is a 404, like an item that does not exist)."""

    def get_object_list(self):
        return item_list_for_user(user=self.request.user)

    def get_object(self, pk):
        return item_list_for_user(user=self.request.user).get(pk=pk)

    def get_objects(self, pks):
        return item_list_for_user(user=self.request.user).filter(pk__in=pks)


class NoChooserCreateMixin:
    """Items are created in the editor, through the chain's rules; the chooser creates none.
    A 403 said plainly (Wagtail would turn ``PermissionDenied`` into a redirect to the
    dashboard, a 302 that hides the refusal from an API client or a script)."""

    def dispatch(self, request, *args, **kwargs):
        return HttpResponseForbidden(
            _("News items are created in the editor, not from the chooser."),
            content_type="text/plain; charset=utf-8",
        )


def superuser_only(view):
    """Wrap a Wagtail view that lists every unit's history (the site history report):
    superusers only; everyone else reads an item's own audit trail within their scope."""

    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect(f"{reverse('wagtailadmin_login')}?next={request.path}")
        if not request.user.is_superuser:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped
