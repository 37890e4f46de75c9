"""Admin registration: news items (with the approval workflow), units, people, categories."""

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from wagtail import hooks
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import ObjectList
from wagtail.admin.ui.tables import BooleanColumn, Column
from wagtail.admin.views.generic import CreateView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.chooser import (
    ChooseResultsView,
    ChooseView,
    SnippetChooserViewSet,
    SnippetChosenMultipleView,
    SnippetChosenView,
    SnippetCreateView,
)
from wagtail.snippets.views.snippets import SnippetViewSet

from core.names import display_name

from . import policy
from .audit import register_actions
from .forms import NewsItemForm
from .models import AdministrativeUnit, Category, Membership, NewsItem, Role
from .views import (
    GuardedEditMixin,
    GuardedWorkflowActionMixin,
    ItemListingMixin,
    MembershipScopeMixin,
    NoAutosaveCreateMixin,
    NoChooserCreateMixin,
    ScopedItemChooserMixin,
    UnitScopedObjectMixin,
    audit_view,
    people_for_manager,
    scoped_queryset,
    withdraw_view,
)


class NewsItemChooserViewSet(SnippetChooserViewSet):
    choose_view_class = type("ChooseView", (ScopedItemChooserMixin, ChooseView), {})
    choose_results_view_class = type(
        "ChooseResultsView", (ScopedItemChooserMixin, ChooseResultsView), {}
    )
    chosen_view_class = type("ChosenView", (ScopedItemChooserMixin, SnippetChosenView), {})
    chosen_multiple_view_class = type(
        "ChosenMultipleView", (ScopedItemChooserMixin, SnippetChosenMultipleView), {}
    )
    create_view_class = type("CreateView", (NoChooserCreateMixin, SnippetCreateView), {})


class NewsItemViewSet(SnippetViewSet):
    model = NewsItem
    chooser_viewset_class = NewsItemChooserViewSet
    icon = "doc-full"
    menu_label = _("News items")
    menu_name = "news-items"
    menu_order = 100
    add_to_admin_menu = True
    list_display = ["headline", "unit", "kind", "category", "review_status", "updated_at"]
    list_filter = ["kind", "live"]
    search_fields = ["headline"]
    edit_handler = ObjectList(NewsItem.panels, base_form_class=NewsItemForm)

    def get_queryset(self, request):
        return scoped_queryset(request)

    def construct_view(self, view_class, **kwargs):
        mixins = [UnitScopedObjectMixin]
        if view_class is self.index_view_class:  # the listing and its results view
            mixins.insert(0, ItemListingMixin)
            # Higher apps add to the listing from above (the search app answers its
            # search box): each ``nguon_item_listing_mixin`` hook returns a view mixin.
            for hook in hooks.get_hooks("nguon_item_listing_mixin"):
                mixins.insert(0, hook())
        if view_class is self.edit_view_class:
            mixins.insert(0, GuardedEditMixin)
        if view_class is self.add_view_class:
            mixins.insert(0, NoAutosaveCreateMixin)
        if view_class is self.workflow_action_view_class:
            mixins.insert(0, GuardedWorkflowActionMixin)
        scoped = type(view_class.__name__, (*mixins, view_class), {})
        return super().construct_view(scoped, **kwargs)


class AdministrativeUnitForm(WagtailAdminModelForm):
    """Units are tree nodes: a new one is added under the chosen parent (or as a province)."""

    parent = forms.ModelChoiceField(
        label=_("Parent unit"),
        queryset=AdministrativeUnit.objects.exclude(unit_type=AdministrativeUnit.Type.COMMUNE),
        required=False,
        help_text=_("Leave empty for a province."),
    )

    def save(self, commit=True):
        if self.instance.pk:
            return super().save(commit=commit)
        data = {
            f: self.cleaned_data[f]
            for f in ("code", "name", "unit_type", "division_type", "is_active")
        }
        parent = self.cleaned_data.get("parent")
        node = parent.add_child(**data) if parent else AdministrativeUnit.add_root(**data)
        self.instance = node
        return node


class AdministrativeUnitCreateView(CreateView):
    def save_instance(self):
        return self.form.save()


class AdministrativeUnitViewSet(ModelViewSet):
    model = AdministrativeUnit
    icon = "site"
    menu_label = _("Administrative units")
    add_to_settings_menu = True
    list_display = ["name", "code", "unit_type", BooleanColumn("is_active", label=_("active"))]
    list_filter = ["unit_type", "is_active"]
    search_fields = ["name", "code"]
    form_fields = ["code", "name", "unit_type", "division_type", "is_active"]
    inspect_view_enabled = True
    add_view_class = AdministrativeUnitCreateView

    def get_form_class(self, for_update=False):
        if for_update:
            return super().get_form_class(for_update)
        return forms.modelform_factory(
            self.model, form=AdministrativeUnitForm, fields=self.form_fields
        )


class MembershipForm(WagtailAdminModelForm):
    """Unit choices limited to the subtrees the user manages; the board sits at provinces."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.for_user is not None and "unit" in self.fields:
            self.fields["unit"].queryset = policy.units_for(
                self.for_user, "manage_members"
            ).order_by("path")
        if self.for_user is not None and "user" in self.fields:
            # Themselves stay in the choices so that a self-grant reads as a refusal
            # with its reason, not as "not one of the available choices".
            model = self.fields["user"].queryset.model
            self.fields["user"].queryset = model.objects.filter(
                Q(pk__in=people_for_manager(self.for_user).values("pk")) | Q(pk=self.for_user.pk)
            ).order_by("username")

    def clean(self):
        data = super().clean()
        user = data.get("user")
        if (
            user is not None
            and self.for_user is not None
            and user.pk == self.for_user.pk
            and not self.for_user.is_superuser
        ):
            self.add_error("user", _("You cannot give yourself a role: ask another administrator."))
        unit, role = data.get("unit"), data.get("role")
        if unit is not None and role == Role.EDITORIAL_BOARD and unit.unit_type != "province":
            self.add_error("role", _("The editorial board role is held at a province."))
        return data


class MembershipViewSet(ModelViewSet):
    model = Membership
    icon = "group"
    menu_label = _("Memberships")
    add_to_settings_menu = True
    list_display = [
        Column("user", label=_("Person"), accessor=lambda m: display_name(m.user), sort_key="user"),
        Column("unit", label=_("Unit"), sort_key="unit"),
        "role",
    ]
    list_filter = ["role"]
    form_fields = ["user", "unit", "role"]

    def get_form_class(self, for_update=False):
        return forms.modelform_factory(self.model, form=MembershipForm, fields=self.form_fields)

    def construct_view(self, view_class, **kwargs):
        scoped = type(view_class.__name__, (MembershipScopeMixin, view_class), {})
        return super().construct_view(scoped, **kwargs)


class CategoryViewSet(SnippetViewSet):
    model = Category
    icon = "tag"
    menu_label = _("Categories")
    list_display = ["name", "slug", "sort_order"]


register_snippet(NewsItemViewSet)
register_snippet(CategoryViewSet)


from django.urls import path, reverse  # noqa: E402
from wagtail.admin.menu import AdminOnlyMenuItem, MenuItem  # noqa: E402
from wagtail.admin.widgets import ListingButton  # noqa: E402

from .intake_views import may_manage_tokens, token_index  # noqa: E402
from .panels import AwaitingApprovalPanel, NoticesPanel, ReporterHomePanel  # noqa: E402
from .reform_views import reform_view  # noqa: E402
from .review_views import bulk_approve_view, delete_draft_view, review_view  # noqa: E402


@hooks.register("register_admin_viewset")
def register_unit_viewsets():
    return [
        AdministrativeUnitViewSet("units"),
        MembershipViewSet("memberships"),
    ]


@hooks.register("register_log_actions")
def register_nguon_log_actions(actions):
    register_actions(actions)


@hooks.register("register_log_actions", order=100)
def name_the_create_action(actions):
    """Wagtail's "Created" is one msgid for a date column and for the create action; the
    action's entry in history reads "Đã tạo", not "Ngày tạo" (runs after Wagtail's own)."""
    actions.register_action("wagtail.create", _("Create"), pgettext_lazy("log", "Created"))


@hooks.register("register_admin_urls")
def register_newsroom_urls():
    return [
        path("newsroom/items/<int:pk>/audit/", audit_view, name="newsroom_item_audit"),
        path("newsroom/items/<int:pk>/withdraw/", withdraw_view, name="newsroom_item_withdraw"),
        path("newsroom/reform/", reform_view, name="newsroom_reform"),
        path("newsroom/items/<int:pk>/review/", review_view, name="newsroom_item_review"),
        path(
            "newsroom/items/<int:pk>/delete-draft/",
            delete_draft_view,
            name="newsroom_item_delete_draft",
        ),
        path("newsroom/review/approve/", bulk_approve_view, name="newsroom_bulk_approve"),
        path("newsroom/intake-tokens/", token_index, name="newsroom_intake_tokens"),
    ]


class IntakeTokensMenuItem(MenuItem):
    def is_shown(self, request):
        return may_manage_tokens(request.user)


@hooks.register("register_settings_menu_item")
def register_intake_tokens_menu_item():
    return IntakeTokensMenuItem(
        _("Intake app tokens"), reverse("newsroom_intake_tokens"), icon_name="key", order=850
    )


@hooks.register("register_settings_menu_item")
def register_reform_menu_item():
    return AdminOnlyMenuItem(
        _("Administrative reform"), reverse("newsroom_reform"), icon_name="site", order=900
    )


@hooks.register("register_snippet_listing_buttons")
def newsroom_listing_buttons(snippet, user, next_url=None):
    if not isinstance(snippet, NewsItem):
        return []
    buttons = [
        ListingButton(
            _("Audit trail"),
            reverse("newsroom_item_audit", args=[snippet.pk]),
            icon_name="history",
            priority=60,
        )
    ]
    if snippet.pk in _awaiting_item_ids(user):
        buttons.append(
            ListingButton(
                _("Review"),
                reverse("newsroom_item_review", args=[snippet.pk]),
                icon_name="tick",
                priority=10,
            )
        )
    ever_submitted = getattr(snippet, "_ever_submitted", None)
    if (
        snippet.created_by_id == user.pk
        and not snippet.live
        and snippet.withdrawn_at is None
        and not (snippet.workflow_states.exists() if ever_submitted is None else ever_submitted)
    ):
        buttons.append(
            ListingButton(
                _("Delete"),
                reverse("newsroom_item_delete_draft", args=[snippet.pk]),
                icon_name="bin",
                priority=80,
            )
        )
    if snippet.live and policy.user_can(user, "withdraw", snippet):
        buttons.append(
            ListingButton(
                _("Withdraw"),
                reverse("newsroom_item_withdraw", args=[snippet.pk]),
                icon_name="cross",
                priority=70,
            )
        )
    return buttons


def _awaiting_item_ids(user) -> set[int]:
    """Items waiting at one of the user's steps, read once per request (listing rows ask)."""
    cache = user.__dict__
    if "_nguon_awaiting_item_ids" not in cache:
        from .selectors import awaiting_states_for_user

        cache["_nguon_awaiting_item_ids"] = {
            int(pk)
            for pk in awaiting_states_for_user(user=user).values_list(
                "workflow_state__object_id", flat=True
            )
        }
    return cache["_nguon_awaiting_item_ids"]


@hooks.register("construct_reports_menu")
def hide_site_history(request, menu_items):
    """Site history lists every unit's log entries: superusers only (cms/urls.py guards
    the URL itself); everyone else reads each item's audit trail within their scope."""
    if not request.user.is_superuser:
        menu_items[:] = [i for i in menu_items if getattr(i, "name", "") != "site-history"]


@hooks.register("construct_homepage_panels")
def add_newsroom_panels(request, panels):
    panels.insert(0, ReporterHomePanel(request.user))
    panels.insert(1, AwaitingApprovalPanel(request.user))
    panels.insert(2, NoticesPanel(request.user))


RESUBMIT_FROM = {
    "commune": _("Resubmit for approval from the commune"),
    "district": _("Resubmit for approval from the district"),
    "province": _("Resubmit for approval from the province"),
    "board": _("Resubmit for approval from the editorial board"),
}
SUBMIT_TO = {
    "commune": _("Submit for approval to the commune"),
    "district": _("Submit for approval to the district"),
    "province": _("Submit for approval to the province"),
    "board": _("Submit for approval to the editorial board"),
}


@hooks.register("construct_snippet_action_menu")
def name_the_submit_button(menu_items, request, context):
    """The submit button says where the chain starts: a returned item is approved again
    from the chain's first step (steps whose approved content is unchanged carry their
    approval forward, see ``newsroom.workflow.ChainStepRules.start``), never from the
    returning step."""
    from .chain import chain_plan

    instance = context.get("instance")
    if not isinstance(instance, NewsItem) or not instance.unit_id:
        return
    revision = instance.get_latest_revision() if instance.pk else None
    draft = revision.as_object() if revision is not None else instance
    plan = chain_plan(draft.unit, draft.distribution)
    if not plan:
        return
    first_level = plan[0][0]
    state = instance.current_workflow_state if instance.pk else None
    returned = state is not None and state.status == state.STATUS_NEEDS_CHANGES
    label = (RESUBMIT_FROM if returned else SUBMIT_TO)[first_level]
    for menu_item in menu_items:
        if menu_item.name == "action-submit":
            menu_item.get_context_data = _with_label(menu_item.get_context_data, label)


def _with_label(get_context_data, label):
    def wrapped(parent_context):
        context = get_context_data(parent_context)
        context["label"] = label
        return context

    return wrapped
