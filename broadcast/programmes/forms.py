"""The scheduler's form: where (a tree of units, zones and clusters within the user's
scope), when (repeat controls, never RRULE text) and what (only items that can play).

The form only parses; ``programmes.services`` validates and saves (the same path as the
API), and the view maps the service's ``slots.<n>.<field>`` errors back to these fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from newsroom.models import AdministrativeUnit, NewsItem

from ..models import BulletinClass, Cluster, Slot, Zone
from ..targets import Target, ancestor_paths
from ..timeline import LOCAL_TZ
from .rules import (
    MODE_LABELS,
    MODES,
    WEEKDAY_LABELS,
    WEEKDAYS,
    Repeat,
    RepeatError,
    format_times,
    parse_times,
    repeat_slots,
)
from .selectors import articles_for_tts, items_playable

# A service error on ``slots.<n>.<name>`` is shown beside this form field.
SERVICE_FIELDS = {
    "starts_at": "times",
    "rrule": "times",
    "valid_until": "valid_until",
    "items": "items",
    "tts_text": "tts_text",
    "tts_item": "tts_item",
    "relay_url": "relay_url",
    "duration_seconds": "duration_seconds",
    "content": "content",
    "targets": "target_units",
    "bulletin_class": "bulletin_class",
    "name": "name",
}


def duration_text(seconds) -> str:
    seconds = int(round(seconds or 0))
    return f"{seconds // 60}:{seconds % 60:02d}"


@dataclass
class TreeNode:
    """One unit of the target tree, with the zones and clusters of a commune."""

    unit: AdministrativeUnit
    children: list[TreeNode] = field(default_factory=list)
    zones: list[Zone] = field(default_factory=list)
    clusters: list[Cluster] = field(default_factory=list)
    cluster_count: int = 0
    checked: bool = False
    open: bool = False


class TargetsMixin(forms.Form):
    """Targets as three multiple-choice fields, drawn as one tree (``target_tree``)."""

    target_units = forms.ModelMultipleChoiceField(
        label=_("Units (whole subtree)"), queryset=AdministrativeUnit.objects.none(), required=False
    )
    target_zones = forms.ModelMultipleChoiceField(
        label=_("Zones"), queryset=Zone.objects.none(), required=False
    )
    target_clusters = forms.ModelMultipleChoiceField(
        label=_("Clusters"), queryset=Cluster.objects.none(), required=False
    )
    TARGET_FIELDS = ("target_units", "target_zones", "target_clusters")

    def setup_targets(self, units):
        self._target_units = units
        paths = list(units.values_list("path", flat=True)[:500])
        q = Q(pk__in=[])
        for path in paths:
            q |= Q(commune__path__startswith=path)
        self.fields["target_units"].queryset = units.order_by("path")
        self.fields["target_zones"].queryset = Zone.objects.filter(q).select_related("commune")
        self.fields["target_clusters"].queryset = Cluster.objects.filter(q).order_by("name")

    def targets(self) -> list[Target]:
        data = self.cleaned_data
        return (
            [Target.of("unit", u) for u in data.get("target_units") or []]
            + [Target.of("zone", z) for z in data.get("target_zones") or []]
            + [Target.of("cluster", c) for c in data.get("target_clusters") or []]
        )

    def _chosen(self, name) -> set[int]:
        if self.is_bound:
            values = self.data.getlist(name) if hasattr(self.data, "getlist") else []
        else:
            values = self.initial.get(name) or []
        return {int(getattr(v, "pk", v)) for v in values if str(getattr(v, "pk", v)).isdigit()}

    def target_tree(self) -> list[TreeNode]:
        """The units of the user's scope that hold loudspeaker clusters (and the units
        above them), each commune with its zones and clusters; what is chosen is ticked
        and its branch open. Units without a cluster are left out: nothing plays there."""
        clusters = list(
            self.fields["target_clusters"]
            .queryset.select_related("commune")
            .prefetch_related("zones")[:2000]
        )
        zones = list(self.fields["target_zones"].queryset.order_by("name")[:2000])
        steplen = AdministrativeUnit.steplen
        wanted = set()
        for cluster in clusters:
            wanted.update(ancestor_paths(cluster.commune.path, steplen))
        scope_paths = list(self._target_units.values_list("path", flat=True)[:500])
        units = [
            u
            for u in AdministrativeUnit.objects.filter(path__in=wanted).order_by("path")
            if any(u.path.startswith(p) for p in scope_paths)
        ]
        chosen = {name: self._chosen(name) for name in self.TARGET_FIELDS}
        nodes = {u.path: TreeNode(unit=u, checked=u.pk in chosen["target_units"]) for u in units}
        by_commune: dict[int, TreeNode] = {n.unit.pk: n for n in nodes.values()}
        for cluster in clusters:
            node = by_commune.get(cluster.commune_id)
            if node is not None:
                cluster.checked = cluster.pk in chosen["target_clusters"]
                node.clusters.append(cluster)
        for zone in zones:
            node = by_commune.get(zone.commune_id)
            if node is not None:
                zone.checked = zone.pk in chosen["target_zones"]
                zone.cluster_count = sum(
                    1 for c in node.clusters if zone.pk in {z.pk for z in c.zones.all()}
                )
                node.zones.append(zone)
        roots = []
        for path in sorted(nodes, key=len, reverse=True):  # leaves first
            node = nodes[path]
            node.cluster_count += len(node.clusters)
            node.open = node.open or any(
                getattr(x, "checked", False) for x in node.zones + node.clusters
            )
            parent = nodes.get(path[:-steplen])
            if parent is not None:
                parent.children.insert(0, node)
                parent.cluster_count += node.cluster_count
                parent.open = parent.open or node.open or node.checked
            else:
                roots.append(node)
        roots.sort(key=lambda n: n.unit.path)
        small = sum(1 for _ in nodes) <= 12
        for node in nodes.values():
            node.children.sort(key=lambda n: n.unit.name)
            node.open = node.open or small
        return roots

    def clean(self):
        cleaned = super().clean()
        if not self.targets() and not any(f in self.errors for f in self.TARGET_FIELDS):
            self.add_error("target_units", _("Choose at least one cluster, zone or unit."))
        return cleaned


class ProgrammeForm(TargetsMixin):
    name = forms.CharField(label=_("Name"), max_length=255)
    bulletin_class = forms.ChoiceField(
        label=_("Class (TT39)"),
        choices=[(BulletinClass.NORMAL, _("Normal")), (BulletinClass.PRIORITY, _("Priority"))],
        widget=forms.RadioSelect,
        initial=BulletinClass.NORMAL,
    )
    repeat = forms.ChoiceField(
        label=_("How often"),
        choices=[(m, MODE_LABELS[m]) for m in MODES],
        widget=forms.RadioSelect,
        initial="daily",
    )
    first_day = forms.DateField(
        label=_("First day"),
        input_formats=["%d/%m/%Y", "%Y-%m-%d"],
        help_text=_("dd/mm/yyyy"),
        widget=forms.DateInput(
            attrs={"placeholder": "dd/mm/yyyy", "inputmode": "numeric"}, format="%d/%m/%Y"
        ),
    )
    times = forms.CharField(
        label=_("Times of day"),
        help_text=_("One or more times, e.g. 06:00, 17:00"),
        widget=forms.TextInput(
            attrs={"data-bc-times": "", "inputmode": "numeric", "autocomplete": "off"}
        ),
    )
    weekdays = forms.MultipleChoiceField(
        label=_("Weekdays"),
        choices=[(d, WEEKDAY_LABELS[d]) for d in WEEKDAYS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    valid_until = forms.DateField(
        label=_("Until (inclusive)"),
        required=False,
        help_text=_("dd/mm/yyyy; empty: no end."),
        input_formats=["%d/%m/%Y", "%Y-%m-%d"],
        widget=forms.DateInput(
            attrs={"placeholder": "dd/mm/yyyy", "inputmode": "numeric"}, format="%d/%m/%Y"
        ),
    )
    content = forms.ChoiceField(
        label=_("What plays"),
        choices=[
            (Slot.Content.PLAYLIST, _("Approved audio bulletins")),
            (Slot.Content.TTS, _("Text read aloud (text-to-speech)")),
            (Slot.Content.RELAY, _("Live relay")),
            (Slot.Content.DISPLAY, _("Items shown on electronic boards")),
        ],
        widget=forms.RadioSelect,
        initial=Slot.Content.PLAYLIST,
    )
    items = forms.ModelMultipleChoiceField(
        label=_("Audio bulletins ready for loudspeakers (in order)"),
        queryset=NewsItem.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    tts_item = forms.ModelChoiceField(
        label=_("Read an approved article aloud"),
        queryset=NewsItem.objects.none(),
        required=False,
        help_text=_("Or type the text below."),
    )
    tts_text = forms.CharField(label=_("Bulletin text"), widget=forms.Textarea, required=False)
    tts_voice = forms.CharField(label=_("Voice"), required=False)
    tts_speed = forms.FloatField(label=_("Speed"), initial=1.0, min_value=0.5, max_value=2.0)
    relay_url = forms.URLField(label=_("Stream URL"), required=False, assume_scheme="https")
    duration_seconds = forms.IntegerField(
        label=_("Duration (seconds)"), required=False, min_value=1, max_value=86400
    )
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, units, keep_items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_targets(units)
        playable = list(
            items_playable(units).select_related("unit").order_by("-first_published_at")[:300]
        )
        # Editing keeps the programme's own items even if their MP3 is being remade.
        ids = [i.pk for i in playable] + [int(i) for i in keep_items]
        seconds = {i.pk: i.play_seconds for i in playable}
        self.fields["items"].queryset = NewsItem.objects.filter(pk__in=ids).order_by(
            "-first_published_at"
        )
        self.fields["items"].label_from_instance = lambda item: (
            f"{item.headline} ({duration_text(seconds[item.pk])})"
            if seconds.get(item.pk)
            else item.headline
        )
        articles = list(
            articles_for_tts(units)
            .order_by("-first_published_at")
            .values_list("pk", flat=True)[:300]
        )
        self.fields["tts_item"].queryset = NewsItem.objects.filter(pk__in=articles).order_by(
            "-first_published_at"
        )
        if not self.is_bound:
            now = timezone.localtime(timezone.now(), LOCAL_TZ)
            self.initial.setdefault("first_day", now.date())
            self.initial.setdefault("times", f"{(now + timedelta(hours=1)):%H}:00")

    def clean(self):
        cleaned = super().clean()
        mode = cleaned.get("repeat")
        if mode == "weekdays" and not cleaned.get("weekdays"):
            self.add_error("weekdays", _("Choose at least one weekday."))
        try:
            times = parse_times(cleaned.get("times") or "")
        except RepeatError as exc:
            self.add_error("times", str(exc))
            return cleaned
        if not times and "times" not in self.errors:
            self.add_error("times", _("Add at least one time of day."))
        if self.errors or not cleaned.get("first_day"):
            return cleaned
        try:
            cleaned["slots"] = repeat_slots(
                Repeat(mode, cleaned["first_day"], times, tuple(cleaned.get("weekdays") or ()))
            )
        except RepeatError as exc:
            self.add_error("times", str(exc))
        cleaned["times"] = format_times(times)
        return cleaned

    def slots(self) -> list[dict]:
        """The slot dicts for ``programme_check``/``programme_create``: one per rule the
        repeat controls need, all with the same content."""
        d = self.cleaned_data
        order = (
            [int(v) for v in self.data.getlist("items") if v.isdigit()]
            if hasattr(self.data, "getlist")
            else []
        )
        items = sorted(
            d.get("items") or [], key=lambda i: order.index(i.pk) if i.pk in order else 0
        )
        until = d.get("valid_until")
        content = {
            "valid_until": (datetime.combine(until, time(23, 59, 59), LOCAL_TZ) if until else None),
            "content": d["content"],
            "items": [i.pk for i in items],
            "tts_item": d["tts_item"].pk if d.get("tts_item") else None,
            "tts_text": d.get("tts_text") or "",
            "tts_voice": d.get("tts_voice") or "",
            "tts_speed": d.get("tts_speed") or 1.0,
            "relay_url": d.get("relay_url") or "",
            "duration_seconds": d.get("duration_seconds"),
        }
        return [{**when, **content} for when in d["slots"]]

    def add_service_errors(self, message_dict: dict) -> None:
        """Errors from ``programmes.services`` (``slots.0.items``…) beside their field."""
        for key, errors in message_dict.items():
            name = SERVICE_FIELDS.get(key.split(".")[-1])
            self.add_error(name if name in self.fields else None, errors)
