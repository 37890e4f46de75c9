"""Admin forms: an emergency and a device command (the programme form lives in
``programmes/forms.py``)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from newsroom.models import NewsItem

from .models import BulletinClass, Command, Device
from .programmes.forms import ProgrammeForm, TargetsMixin, duration_text
from .programmes.selectors import items_playable

__all__ = ["CommandForm", "EmergencyForm", "LiveForm", "ProgrammeForm", "TargetsMixin"]


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
        playable = list(items_playable(units).order_by("-first_published_at")[:300])
        seconds = {i.pk: i.play_seconds for i in playable}
        self.fields["items"].queryset = NewsItem.objects.filter(pk__in=list(seconds)).order_by(
            "-first_published_at"
        )
        self.fields["items"].label_from_instance = lambda item: (
            f"{item.headline} ({duration_text(seconds.get(item.pk))})"
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


class LiveForm(TargetsMixin):
    """Who hears a live broadcast, and its TT39 class (the live page)."""

    name = forms.CharField(label=_("Title (optional)"), max_length=255, required=False)
    bulletin_class = forms.ChoiceField(
        label=_("Class (TT39)"),
        choices=BulletinClass.choices,
        initial=BulletinClass.NORMAL,
    )

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_targets(units)
