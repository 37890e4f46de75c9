"""The admin's help menu: the Vietnamese user guides instead of Wagtail's English links."""

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from .guides import GUIDES, guide_index, guide_view


@hooks.register("register_admin_urls")
def register_guide_urls():
    return [
        path("huong-dan/", guide_index, name="nguon_guides"),
        path("huong-dan/<slug:slug>/", guide_view, name="nguon_guide"),
    ]


@hooks.register("register_help_menu_item")
def register_guides_index():
    return MenuItem(_("User guides"), reverse("nguon_guides"), icon_name="help", order=10)


def _guide_item(slug, label, order):
    @hooks.register("register_help_menu_item")
    def register():
        return MenuItem(
            label, reverse("nguon_guide", args=[slug]), icon_name="doc-full", order=order
        )

    return register


for _order, (_slug, _label, _template) in enumerate(GUIDES, start=20):
    _guide_item(_slug, _label, _order)


@hooks.register("construct_help_menu")
def drop_wagtails_english_links(request, menu_items):
    """Wagtail's "What's new" and "Editor Guide" open English pages on wagtail.org."""
    menu_items[:] = [
        item
        for item in menu_items
        if not (item.name == "editor-guide" or item.name.startswith("whats-new-in-wagtail"))
    ]
