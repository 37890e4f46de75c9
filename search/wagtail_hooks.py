"""The admin's item search ("Tìm kiếm tin"): the editor's subtree, every status, facets."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.search import SearchArea

from .listing import SearchAppListingMixin
from .views import search_context

ADMIN_PERMISSION = "newsroom.view_newsitem"


@require_GET
def admin_search(request):
    """Search every item of the user's subtrees (superusers: all), with status filter and
    facets; an empty query lists the newest items."""
    if not request.user.has_perm(ADMIN_PERMISSION):
        raise PermissionDenied
    context, status = search_context(request, editor=True)
    context["page_title"] = _("Search news items")
    return render(request, "search/admin_search.html", context, status=status)


@hooks.register("register_admin_urls")
def register_admin_urls():
    return [path("tim-kiem-tin/", admin_search, name="search_admin")]


class _SearchMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm(ADMIN_PERMISSION)


@hooks.register("register_admin_menu_item")
def register_menu_item():
    return _SearchMenuItem(
        _("Search news items"), reverse("search_admin"), icon_name="search", order=110
    )


@hooks.register("nguon_item_listing_mixin")
def item_listing_searches_here():
    """The newsroom's item listing asks this app for its search box (wired from above:
    the newsroom never imports the search app)."""
    return SearchAppListingMixin


class ItemSearchArea(SearchArea):
    """The sidebar's search box: news items within the user's own scope, for every role
    (Wagtail's page search answers "permission denied" to everyone but superusers)."""

    def is_shown(self, request):
        return request.user.has_perm(ADMIN_PERMISSION)


@hooks.register("register_admin_search_area")
def register_item_search_area():
    return ItemSearchArea(
        _("News items"), reverse("search_admin"), name="nguon-items", icon_name="doc-full", order=50
    )
