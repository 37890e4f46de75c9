"""The admin form for news items: unit choices limited to the user's units, media uploads."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm

from core.names import full_name
from media.models import MediaAsset
from media.services import asset_create, asset_files_kept_on_success, asset_validate_upload

from .models import NewsItem, Role
from .selectors import unit_list_for_user


class NewsItemForm(WagtailAdminModelForm):
    audio_file = forms.FileField(
        label=_("Audio file"),
        required=False,
        help_text=_("MP3, WAV, M4A, OGG, AMR or FLAC. It is converted for loudspeakers."),
    )
    video_file = forms.FileField(
        label=_("Video file"), required=False, help_text=_("MP4, MOV, MKV, 3GP or WebM.")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.for_user
        if user is not None and "unit" in self.fields:
            units = unit_list_for_user(user=user, roles=[Role.REPORTER, Role.UNIT_ADMIN])
            if self.instance.pk and self.instance.unit_id:
                # An approver editing on their step keeps the item's unit.
                units = units | units.model.objects.filter(pk=self.instance.unit_id)
            self.fields["unit"].queryset = units.order_by("path")
            if units.count() == 1 and not self.instance.unit_id:
                self.fields["unit"].initial = units.first()
        if not self.instance.pk and user is not None and "byline" in self.fields:
            # A new item is signed by its reporter, family name first (core.names).
            self.fields["byline"].initial = full_name(user)
        if "distribution" in self.fields:
            # Older clients and the intake of drafts post no scope: keep the item's own.
            self.fields["distribution"].required = False
        self._probes = {}

    def clean_distribution(self):
        return (
            self.cleaned_data.get("distribution")
            or self.instance.distribution
            or NewsItem.Distribution.PROVINCE
        )

    def clean_headline(self):
        headline = (self.cleaned_data.get("headline") or "").strip()
        if not headline:
            raise ValidationError(_("Enter a headline."))
        return headline

    def _clean_media(self, field: str, kind: str):
        upload = self.cleaned_data.get(field)
        if upload:
            self._probes[field] = asset_validate_upload(upload=upload, kind=kind)
        return upload

    def clean_audio_file(self):
        return self._clean_media("audio_file", MediaAsset.Kind.AUDIO)

    def clean_video_file(self):
        return self._clean_media("video_file", MediaAsset.Kind.VIDEO)

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind == NewsItem.Kind.AUDIO and not (data.get("audio_file") or self.instance.audio_id):
            self.add_error("audio_file", _("An audio bulletin needs an audio file."))
        if kind == NewsItem.Kind.VIDEO and not (data.get("video_file") or self.instance.video_id):
            self.add_error("video_file", _("A video item needs a video file."))
        return data

    def save(self, commit=True):
        # The stored files go again if the save fails (and, should the request's
        # transaction roll back later, when the request ends: media.services).
        with asset_files_kept_on_success():
            user = self.for_user
            for field, kind, attr in (
                ("audio_file", MediaAsset.Kind.AUDIO, "audio"),
                ("video_file", MediaAsset.Kind.VIDEO, "video"),
            ):
                upload = self.cleaned_data.get(field)
                if upload:
                    asset = asset_create(
                        upload=upload, kind=kind, user=user, probe=self._probes.get(field)
                    )
                    setattr(self.instance, attr, asset)
            if not self.instance.pk and user is not None and user.is_authenticated:
                self.instance.created_by = user
            return super().save(commit=commit)


class ScopeChangeForm(forms.Form):
    """The approver's "change distribution scope" modal: widening extends the chain."""

    distribution = forms.ChoiceField(label=_("Distribution"), choices=NewsItem.Distribution.choices)
    comment = forms.CharField(label=_("Comment"), widget=forms.Textarea, required=False)
