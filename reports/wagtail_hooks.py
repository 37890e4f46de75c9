"""Admin menu and URL of the statistics dashboard."""

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from . import views


@hooks.register("register_admin_urls")
def register_reports_urls():
    return [path("reports/", views.dashboard, name="reports_dashboard")]


class ReportsMenuItem(MenuItem):
    def is_shown(self, request):
        user = request.user
        return user.is_superuser or user.memberships.exists()


@hooks.register("register_admin_menu_item")
def register_reports_menu_item():
    return ReportsMenuItem(
        _("Statistics"), reverse("reports_dashboard"), icon_name="table", order=900
    )
