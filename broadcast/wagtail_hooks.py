"""Admin: loudspeaker registry, schedules, emergencies, monitoring and proof of play.

Every screen is confined to the units where the user schedules broadcasts
(``broadcast.permissions.schedulable_units``); superusers see everything.
"""

from django import forms
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.menu import Menu, MenuItem, SubmenuMenuItem
from wagtail.admin.ui.tables import BooleanColumn, Column
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet

from . import views
from .live import views as live_views
from .models import Cluster, Device, Relay, Zone
from .permissions import live_units, schedulable_units


def _scoped(request, qs, prefix: str):
    if request.user.is_superuser:
        return qs
    paths = schedulable_units(request.user).values_list("path", flat=True)
    q = Q(pk__in=[])
    for unit_path in paths:
        q |= Q(**{f"{prefix}path__startswith": unit_path})
    return qs.filter(q)


def _scoped_views(prefix: str) -> dict:
    """Index, edit and delete views that only reach rows of the user's subtrees."""

    class Index(generic.IndexView):
        def get_base_queryset(self):
            return _scoped(self.request, super().get_base_queryset(), prefix)

    class ObjectScoped:
        def get_object(self, queryset=None):
            obj = super().get_object(queryset)
            scoped = _scoped(self.request, type(obj).objects.filter(pk=obj.pk), prefix)
            if not scoped.exists():
                raise PermissionDenied
            return obj

    class Edit(ObjectScoped, generic.EditView):
        pass

    class Delete(ObjectScoped, generic.DeleteView):
        pass

    return Index, Edit, Delete


class ZoneViewSet(ModelViewSet):
    model = Zone
    icon = "group"
    menu_label = _("Loudspeaker zones")
    add_to_admin_menu = False
    list_display = ["name", "commune"]
    search_fields = ["name"]
    form_fields = ["commune", "name"]
    index_view_class, edit_view_class, delete_view_class = _scoped_views("commune__")


class ClusterForm(WagtailAdminModelForm):
    def clean(self):
        cleaned = super().clean()
        commune = cleaned.get("commune")
        for zone in cleaned.get("zones") or []:
            if commune is not None and zone.commune_id != commune.pk:
                self.add_error("zones", _("A zone must be in the cluster's commune."))
                break
        return cleaned


class ClusterViewSet(ModelViewSet):
    model = Cluster
    icon = "radio-full"
    menu_label = _("Loudspeaker clusters")
    add_to_admin_menu = False
    list_display = ["name", "commune", BooleanColumn("enabled", label=_("enabled"))]
    list_filter = ["enabled"]
    search_fields = ["name"]
    form_fields = ["name", "commune", "zones", "latitude", "longitude", "enabled"]
    index_view_class, edit_view_class, delete_view_class = _scoped_views("commune__")

    def get_form_class(self, for_update=False):
        return forms.modelform_factory(Cluster, form=ClusterForm, fields=self.form_fields)


class DeviceViewSet(ModelViewSet):
    model = Device
    icon = "mobile-alt"
    menu_label = _("Loudspeaker devices")
    add_to_admin_menu = False
    list_display = [
        "serial",
        Column("cluster", label=_("Loudspeaker cluster"), sort_key="cluster"),
        "kind",
        "vendor",
        "firmware",
        "last_seen_at",
    ]
    list_filter = ["kind", "enabled"]
    search_fields = ["serial"]
    form_fields = ["cluster", "kind", "serial", "vendor", "model", "firmware", "enabled"]
    index_view_class, edit_view_class, delete_view_class = _scoped_views("cluster__commune__")


class RelayViewSet(ModelViewSet):
    """Stations relayed through Icecast (tiếp sóng); saving one updates the managed
    Icecast's relays (broadcast.receivers)."""

    model = Relay
    icon = "radio-full"
    menu_label = _("Relayed stations")
    add_to_admin_menu = False
    list_display = ["name", "mount", "upstream_url", "enabled", "last_ok_at"]
    form_fields = ["name", "upstream_url", "mount", "enabled"]


zone_viewset = ZoneViewSet("broadcast_zones")
relay_viewset = RelayViewSet("broadcast_relays")
cluster_viewset = ClusterViewSet("broadcast_clusters")
device_viewset = DeviceViewSet("broadcast_devices")


@hooks.register("register_admin_viewset")
def register_broadcast_viewsets():
    return [zone_viewset, cluster_viewset, device_viewset, relay_viewset]


@hooks.register("register_admin_urls")
def register_broadcast_urls():
    return [
        path("phat-thanh/chuong-trinh/", views.programme_index, name="broadcast_programmes"),
        path("phat-thanh/chuong-trinh/them/", views.programme_add, name="broadcast_programme_add"),
        path(
            "phat-thanh/chuong-trinh/<int:pk>/sua/",
            views.programme_edit,
            name="broadcast_programme_edit",
        ),
        path("phat-thanh/khan-cap/", views.emergency, name="broadcast_emergency"),
        path("phat-thanh/truc-tiep/", live_views.live_page, name="broadcast_live"),
        path(
            "phat-thanh/truc-tiep/bat-dau/",
            live_views.live_start_view,
            name="broadcast_live_start",
        ),
        path(
            "phat-thanh/truc-tiep/<int:pk>/am-thanh/",
            live_views.live_chunk_view,
            name="broadcast_live_chunk",
        ),
        path(
            "phat-thanh/truc-tiep/<int:pk>/dung/",
            live_views.live_stop_view,
            name="broadcast_live_stop",
        ),
        path(
            "phat-thanh/truc-tiep/<int:pk>/trang-thai/",
            live_views.live_status_view,
            name="broadcast_live_status",
        ),
        path("phat-thanh/giam-sat/", views.monitoring, name="broadcast_monitoring"),
        path("phat-thanh/xac-nhan-phat/", views.proof_of_play_view, name="broadcast_proof"),
        path(
            "phat-thanh/thiet-bi/<int:pk>/token/", views.device_token, name="broadcast_device_token"
        ),
    ]


class _SchedulerMenuItem(MenuItem):
    def __init__(self, *args, perm: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.perm = perm

    def is_shown(self, request):
        user = request.user
        if self.perm and not user.has_perm(self.perm):
            return False
        return user.is_superuser or schedulable_units(user).exists()


class _LiveMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.is_superuser or live_units(request.user).exists()


@hooks.register("register_admin_menu_item")
def register_broadcast_menu():
    items = [
        _SchedulerMenuItem(
            _("Programmes"), reverse("broadcast_programmes"), icon_name="calendar", order=10
        ),
        _SchedulerMenuItem(
            _("Emergency broadcast"), reverse("broadcast_emergency"), icon_name="warning", order=20
        ),
        _LiveMenuItem(
            _("Live broadcast"), reverse("broadcast_live"), icon_name="radio-full", order=25
        ),
        _SchedulerMenuItem(
            _("Monitoring"), reverse("broadcast_monitoring"), icon_name="radio-full", order=30
        ),
        _SchedulerMenuItem(
            _("Proof of play"), reverse("broadcast_proof"), icon_name="list-ul", order=40
        ),
        _SchedulerMenuItem(
            _("Clusters"),
            reverse("broadcast_clusters:index"),
            icon_name="radio-full",
            order=50,
            perm="broadcast.view_cluster",
        ),
        _SchedulerMenuItem(
            _("Zones"),
            reverse("broadcast_zones:index"),
            icon_name="group",
            order=60,
            perm="broadcast.view_zone",
        ),
        _SchedulerMenuItem(
            _("Relayed stations"),
            reverse("broadcast_relays:index"),
            icon_name="radio-full",
            order=80,
            perm="broadcast.view_relay",
        ),
        _SchedulerMenuItem(
            _("Devices"),
            reverse("broadcast_devices:index"),
            icon_name="mobile-alt",
            order=70,
            perm="broadcast.view_device",
        ),
    ]
    return SubmenuMenuItem(_("Loudspeakers"), Menu(items=items), icon_name="radio-full", order=300)


@hooks.register("register_log_actions")
def register_broadcast_log_actions(actions):
    actions.register_action("broadcast.schedule", _("Schedule broadcast"), _("Broadcast scheduled"))
    actions.register_action("broadcast.stop", _("Stop broadcast"), _("Broadcast stopped"))
    actions.register_action(
        "broadcast.revise", _("Edit broadcast programme"), _("Broadcast programme revised")
    )
    actions.register_action(
        "broadcast.emergency_start",
        _("Start emergency broadcast"),
        _("Emergency broadcast started"),
    )
    actions.register_action(
        "broadcast.emergency_stop", _("Stop emergency broadcast"), _("Emergency broadcast stopped")
    )
    actions.register_action("broadcast.command", _("Send device command"), _("Device command sent"))
    actions.register_action(
        "broadcast.live_start", _("Start live broadcast"), _("Live broadcast started")
    )
    actions.register_action(
        "broadcast.live_stop", _("End live broadcast"), _("Live broadcast ended")
    )
    actions.register_action(
        "broadcast.token_issue", _("Issue device token"), _("Device token issued")
    )
    actions.register_action(
        "broadcast.token_revoke", _("Revoke device token"), _("Device token revoked")
    )
