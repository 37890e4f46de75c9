"""Admin forms: a programme (with conflict preview), an emergency, a device command."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from newsroom.models import AdministrativeUnit, NewsItem

from .models import BulletinClass, Cluster, Command, Device, Slot, Zone
from .programmes.selectors import items_offered
from .targets import Target
from .timeline import LOCAL_TZ

DATETIME_FORMATS = ["%d/%m/%Y %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]


def _recent_items(units):
    """Published items approved for the loudspeakers of the user's units or of units inside
    them (recent first); the service checks them against the chosen targets."""
    return items_offered(units).select_related("unit").order_by("-first_published_at")[:300]


class TargetsMixin(forms.Form):
    target_units = forms.ModelMultipleChoiceField(
        label=_("Units (whole subtree)"), queryset=AdministrativeUnit.objects.none(), required=False
    )
    target_zones = forms.ModelMultipleChoiceField(
        label=_("Zones"), queryset=Zone.objects.none(), required=False
    )
    target_clusters = forms.ModelMultipleChoiceField(
        label=_("Clusters"), queryset=Cluster.objects.none(), required=False
    )

    def setup_targets(self, units):
        paths = list(units.values_list("path", flat=True)[:500])
        from django.db.models import Q

        q_zone, q_cluster = Q(pk__in=[]), Q(pk__in=[])
        for path in paths:
            q_zone |= Q(commune__path__startswith=path)
            q_cluster |= Q(commune__path__startswith=path)
        self.fields["target_units"].queryset = units.order_by("path")
        self.fields["target_zones"].queryset = Zone.objects.filter(q_zone).select_related("commune")
        self.fields["target_clusters"].queryset = Cluster.objects.filter(q_cluster).order_by("name")

    def targets(self) -> list[Target]:
        data = self.cleaned_data
        return (
            [Target.of("unit", u) for u in data.get("target_units") or []]
            + [Target.of("zone", z) for z in data.get("target_zones") or []]
            + [Target.of("cluster", c) for c in data.get("target_clusters") or []]
        )

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not self.targets():
            raise forms.ValidationError(_("Choose at least one cluster, zone or unit."))
        return cleaned


class ProgrammeForm(TargetsMixin):
    name = forms.CharField(label=_("Name"), max_length=255)
    bulletin_class = forms.ChoiceField(
        label=_("Class (TT39)"),
        choices=[(BulletinClass.NORMAL, _("Normal")), (BulletinClass.PRIORITY, _("Priority"))],
    )
    starts_at = forms.DateTimeField(
        label=_("Starts at"), input_formats=DATETIME_FORMATS, help_text=_("dd/mm/yyyy hh:mm")
    )
    rrule = forms.CharField(
        label=_("Recurrence (RRULE)"),
        required=False,
        help_text=_("Empty for once. E.g. FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=6,17;BYMINUTE=0"),
    )
    valid_until = forms.DateTimeField(
        label=_("Valid until"), required=False, input_formats=DATETIME_FORMATS
    )
    content = forms.ChoiceField(label=_("Content"), choices=Slot.Content.choices)
    items = forms.ModelMultipleChoiceField(
        label=_("Approved items (in order)"), queryset=NewsItem.objects.none(), required=False
    )
    tts_text = forms.CharField(label=_("Bulletin text"), widget=forms.Textarea, required=False)
    tts_voice = forms.CharField(label=_("Voice"), required=False)
    tts_speed = forms.FloatField(label=_("Speed"), initial=1.0, min_value=0.5, max_value=2.0)
    relay_url = forms.URLField(label=_("Stream URL"), required=False, assume_scheme="https")
    duration_seconds = forms.IntegerField(
        label=_("Duration (seconds)"), required=False, min_value=1, max_value=86400
    )
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_targets(units)
        self.fields["items"].queryset = NewsItem.objects.filter(
            pk__in=[i.pk for i in _recent_items(units)]
        )
        if not self.is_bound:
            self.initial.setdefault(
                "starts_at",
                timezone.localtime(timezone.now(), LOCAL_TZ).replace(second=0, microsecond=0)
                + timezone.timedelta(hours=1),
            )

    def slot(self) -> dict:
        d = self.cleaned_data
        order = (
            [int(v) for v in self.data.getlist("items")] if hasattr(self.data, "getlist") else []
        )
        items = sorted(
            d.get("items") or [], key=lambda i: order.index(i.pk) if i.pk in order else 0
        )
        return {
            "starts_at": d["starts_at"],
            "rrule": d.get("rrule") or "",
            "valid_until": d.get("valid_until"),
            "content": d["content"],
            "items": [i.pk for i in items],
            "tts_text": d.get("tts_text") or "",
            "tts_voice": d.get("tts_voice") or "",
            "tts_speed": d.get("tts_speed") or 1.0,
            "relay_url": d.get("relay_url") or "",
            "duration_seconds": d.get("duration_seconds"),
        }


class EmergencyForm(TargetsMixin):
    name = forms.CharField(label=_("Name"), max_length=255)
    tts_text = forms.CharField(label=_("Announcement text"), widget=forms.Textarea, required=False)
    items = forms.ModelMultipleChoiceField(
        label=_("Or approved audio"), queryset=NewsItem.objects.none(), required=False
    )
    relay_url = forms.URLField(
        label=_("Or a live stream URL"), required=False, assume_scheme="https"
    )
    duration_seconds = forms.IntegerField(
        label=_("Duration (seconds)"), required=False, min_value=1, max_value=86400
    )

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_targets(units)
        self.fields["items"].queryset = NewsItem.objects.filter(
            pk__in=[i.pk for i in _recent_items(units)], kind=NewsItem.Kind.AUDIO
        )

    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("tts_text") or cleaned.get("items") or cleaned.get("relay_url")):
            raise forms.ValidationError(_("Enter the text, choose audio or give a stream URL."))
        return cleaned


class CommandForm(forms.Form):
    device = forms.ModelChoiceField(queryset=Device.objects.none(), widget=forms.HiddenInput)
    kind = forms.ChoiceField(
        label=_("Command"),
        choices=[
            (Command.Kind.SET_VOLUME, _("Set volume")),
            (Command.Kind.POWER_ON, _("Power on")),
            (Command.Kind.POWER_OFF, _("Power off")),
            (Command.Kind.STOP, _("Stop playback")),
        ],
    )
    volume = forms.IntegerField(label=_("Volume"), required=False, min_value=0, max_value=100)

    def __init__(self, *args, devices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["device"].queryset = devices
