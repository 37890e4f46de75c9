"""Admin: a "Media files" menu entry listing assets with their processing progress."""

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from .views import asset_list_view, asset_retry_view, asset_status_view


@hooks.register("register_admin_urls")
def register_media_urls():
    return [
        path("media/assets/", asset_list_view, name="media_asset_list"),
        path("media/assets/status/", asset_status_view, name="media_asset_status"),
        path("media/assets/<int:pk>/retry/", asset_retry_view, name="media_asset_retry"),
    ]


@hooks.register("register_admin_menu_item")
def register_media_menu_item():
    return MenuItem(
        _("Media files"),
        reverse("media_asset_list"),
        name="media-assets",
        icon_name="media",
        order=250,
    )
