"""Admin registration: news items (with the approval workflow), units, people, categories."""

from django import forms
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import ObjectList
from wagtail.admin.views.generic import CreateView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from .forms import NewsItemForm
from .models import AdministrativeUnit, Category, Membership, NewsItem
from .views import UnitScopedObjectMixin, scoped_queryset


class NewsItemViewSet(SnippetViewSet):
    model = NewsItem
    icon = "doc-full"
    menu_label = _("News items")
    menu_name = "news-items"
    menu_order = 100
    add_to_admin_menu = True
    list_display = ["headline", "unit", "kind", "category", "status_string", "updated_at"]
    list_filter = ["kind", "live"]
    search_fields = ["headline"]
    edit_handler = ObjectList(NewsItem.panels, base_form_class=NewsItemForm)

    def get_queryset(self, request):
        return scoped_queryset(request)

    def construct_view(self, view_class, **kwargs):
        scoped = type(view_class.__name__, (UnitScopedObjectMixin, view_class), {})
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
    list_display = ["name", "code", "unit_type", "is_active"]
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


class MembershipViewSet(ModelViewSet):
    model = Membership
    icon = "group"
    menu_label = _("Memberships")
    add_to_settings_menu = True
    list_display = ["user", "unit", "role"]
    list_filter = ["role"]
    form_fields = ["user", "unit", "role"]


class CategoryViewSet(SnippetViewSet):
    model = Category
    icon = "tag"
    menu_label = _("Categories")
    list_display = ["name", "slug", "sort_order"]


register_snippet(NewsItemViewSet)
register_snippet(CategoryViewSet)


from wagtail import hooks  # noqa: E402


@hooks.register("register_admin_viewset")
def register_unit_viewsets():
    return [
        AdministrativeUnitViewSet("units"),
        MembershipViewSet("memberships"),
    ]
