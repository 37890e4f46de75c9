"""Admin registration: subscribers and sources (model viewsets), the delivery log with
resend, alerts (and a home-page panel while any is open), received items."""

from django import forms
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.menu import Menu, MenuItem, SubmenuMenuItem
from wagtail.admin.ui.components import Component
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets import Button

from newsroom.models import NewsItem

from . import admin_views
from .models import Alert, Source, Subscriber


class SubscriberForm(WagtailAdminModelForm):
    kinds = forms.MultipleChoiceField(
        label=_("Types"),
        choices=NewsItem.Kind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Empty: articles, audio and video."),
    )

    def clean_kinds(self):
        return list(self.cleaned_data.get("kinds") or [])


class SubscriberViewSet(ModelViewSet):
    model = Subscriber
    icon = "globe"
    menu_label = _("Subscribers")
    add_to_admin_menu = False
    list_display = ["name", "endpoint_url", "format", "active"]
    list_filter = ["format", "active"]
    search_fields = ["name", "endpoint_url"]
    form_fields = [
        "name",
        "endpoint_url",
        "format",
        "active",
        "min_distribution",
        "units",
        "categories",
        "kinds",
        "secret",
        "max_attempts",
        "timeout_seconds",
        "retry_base_seconds",
        "retry_max_seconds",
    ]
    copy_view_enabled = False

    def get_form_class(self, for_update=False):
        return forms.modelform_factory(Subscriber, form=SubscriberForm, fields=self.form_fields)


class SourceViewSet(ModelViewSet):
    model = Source
    icon = "download"
    menu_label = _("Sources")
    add_to_admin_menu = False
    list_display = ["name", "url", "format", "unit", "active", "last_success_at"]
    list_filter = ["format", "active"]
    search_fields = ["name", "url"]
    form_fields = [
        "name",
        "url",
        "format",
        "unit",
        "poll_interval_minutes",
        "expected_interval_minutes",
        "active",
    ]
    copy_view_enabled = False


subscriber_viewset = SubscriberViewSet("syndication_subscribers")
source_viewset = SourceViewSet("syndication_sources")


@hooks.register("register_admin_viewset")
def register_viewsets():
    return [subscriber_viewset, source_viewset]


@hooks.register("register_admin_urls")
def register_admin_urls():
    return [
        path("phan-phoi/giao-tin/", admin_views.delivery_log, name="syndication_deliveries"),
        path(
            "phan-phoi/giao-tin/<int:pk>/gui-lai/",
            admin_views.delivery_resend_view,
            name="syndication_delivery_resend",
        ),
        path("phan-phoi/canh-bao/", admin_views.alert_list, name="syndication_alerts"),
        path(
            "phan-phoi/canh-bao/<int:pk>/dong/",
            admin_views.alert_resolve,
            name="syndication_alert_resolve",
        ),
        path("phan-phoi/tin-nhan-ve/", admin_views.received_list, name="syndication_received"),
    ]


class _PermMenuItem(MenuItem):
    def __init__(self, *args, perm: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.perm = perm

    def is_shown(self, request):
        return request.user.has_perm(self.perm)


def _menu_items():
    return [
        _PermMenuItem(
            _("Subscribers"),
            reverse("syndication_subscribers:index"),
            icon_name="globe",
            order=10,
            perm="syndication.view_subscriber",
        ),
        _PermMenuItem(
            _("Delivery log"),
            reverse("syndication_deliveries"),
            icon_name="resubmit",
            order=20,
            perm="syndication.view_delivery",
        ),
        _PermMenuItem(
            _("Sources"),
            reverse("syndication_sources:index"),
            icon_name="download",
            order=30,
            perm="syndication.view_source",
        ),
        _PermMenuItem(
            _("Received items"),
            reverse("syndication_received"),
            icon_name="doc-full",
            order=40,
            perm="syndication.view_ingesteditem",
        ),
        _PermMenuItem(
            _("Syndication alerts"),
            reverse("syndication_alerts"),
            icon_name="warning",
            order=50,
            perm="syndication.view_alert",
        ),
    ]


class _SyndicationMenu(SubmenuMenuItem):
    def is_shown(self, request):
        return request.user.has_perm("syndication.view_delivery") or request.user.has_perm(
            "syndication.view_subscriber"
        )


@hooks.register("register_admin_menu_item")
def register_menu():
    return _SyndicationMenu(
        _("Syndication"), Menu(items=_menu_items()), icon_name="globe", order=600
    )


class AlertPanel(Component):
    name = "syndication_alerts"
    order = 90
    template_name = "syndication/home_panel.html"

    def __init__(self, alerts, count):
        self.alerts, self.count = alerts, count

    def get_context_data(self, parent_context):
        return {"alerts": self.alerts, "count": self.count}


@hooks.register("construct_homepage_panels")
def add_alert_panel(request, panels):
    if not request.user.has_perm("syndication.view_alert"):
        return
    open_alerts = Alert.objects.filter(resolved_at__isnull=True)
    count = open_alerts.count()
    if count:
        panels.append(AlertPanel(list(open_alerts[:5]), count))


@hooks.register("register_snippet_listing_buttons")
def item_delivery_log_button(snippet, user, next_url=None):
    if (
        isinstance(snippet, NewsItem)
        and snippet.version
        and user.has_perm("syndication.view_delivery")
    ):
        yield Button(
            _("Delivery log"),
            reverse("syndication_deliveries") + f"?item={snippet.pk}",
            icon_name="resubmit",
            priority=60,
        )
