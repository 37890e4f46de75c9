"""Uploaded media and the renditions produced from them.

An asset is the original upload, stored under a generated name; its probe result is kept so
nothing has to open the file again to answer "how long, which codec". Renditions are the
outputs of named profiles (``media.profiles``), produced by Celery tasks.
"""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


def asset_upload_to(instance: "MediaAsset", filename: str) -> str:
    # The user's file name is never used on disk: only the generated uuid and a safe suffix.
    suffix = instance.container_suffix or "bin"
    return f"assets/{instance.uuid.hex[:2]}/{instance.uuid.hex}.{suffix}"


def rendition_upload_to(instance: "Rendition", filename: str) -> str:
    return filename


class MediaAsset(models.Model):
    class Kind(models.TextChoices):
        AUDIO = "audio", _("Audio")
        VIDEO = "video", _("Video")
        IMAGE = "image", _("Image")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        PROCESSING = "processing", _("Processing")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    class Stage(models.TextChoices):
        QUEUED = "queued", _("Queued")
        MEASURING = "measuring", _("Measuring loudness")
        TRANSCODING = "transcoding", _("Transcoding")
        CORRECTING = "correcting", _("Correcting loudness")
        VERIFYING = "verifying", _("Checking the outputs")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    file = models.FileField(_("file"), upload_to=asset_upload_to, max_length=255)
    original_name = models.CharField(_("original file name"), max_length=255, blank=True)
    container_suffix = models.CharField(max_length=16, blank=True)
    size = models.BigIntegerField(_("size (bytes)"), default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    probe = models.JSONField(_("probe result"), default=dict, blank=True)
    duration = models.FloatField(_("duration (seconds)"), null=True, blank=True)
    created_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    # Processing state: written by media.services under a row lock (status, attempts) or
    # by plain updates from the running job (stage, progress, heartbeat).
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices, blank=True)
    progress = models.FloatField(_("progress (%)"), default=0.0)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    loudness = models.JSONField(_("source loudness"), default=dict, blank=True)
    worker = models.CharField(max_length=128, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("media asset")
        verbose_name_plural = _("media assets")

    def __str__(self) -> str:
        return self.original_name or self.uuid.hex

    def rendition(self, profile: str) -> "Rendition | None":
        """The ready rendition of ``profile``, or None (uses prefetched renditions if any)."""
        for rendition in self.renditions.all():
            if rendition.profile == profile and rendition.status == Rendition.Status.READY:
                return rendition
        return None

    def renditions_ready(self) -> dict[str, "Rendition"]:
        """Every ready rendition by profile name (``{"web_audio": …, "poster": …}``)."""
        return {r.profile: r for r in self.renditions.all() if r.status == Rendition.Status.READY}

    @property
    def is_silent(self) -> bool:
        return self.loudness.get("integrated") is not None and self.loudness["integrated"] <= -69.5


class Rendition(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PROCESSING = "processing", _("Processing")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    asset = models.ForeignKey(MediaAsset, on_delete=models.CASCADE, related_name="renditions")
    profile = models.CharField(_("profile"), max_length=32)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    file = models.FileField(_("file"), upload_to=rendition_upload_to, max_length=255, blank=True)
    mime_type = models.CharField(max_length=64, blank=True)
    size = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    duration = models.FloatField(null=True, blank=True)
    channels = models.PositiveSmallIntegerField(null=True, blank=True)
    sample_rate = models.PositiveIntegerField(null=True, blank=True)
    bitrate = models.PositiveIntegerField(null=True, blank=True)
    codec = models.CharField(max_length=32, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    # Measured after encoding (I, LRA, TP) and the gain the pipeline applied.
    loudness = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("rendition")
        verbose_name_plural = _("renditions")
        constraints = [
            models.UniqueConstraint(fields=["asset", "profile"], name="unique_rendition_profile")
        ]

    def __str__(self) -> str:
        return f"{self.asset_id}:{self.profile}"

    @property
    def profile_label(self) -> str:
        """The profile as people read it ("for loudspeakers"), see ``PROFILE_LABELS``."""
        from .profiles import PROFILE_LABELS

        return str(PROFILE_LABELS.get(self.profile, self.profile))

    @property
    def url(self) -> str:
        return self.file.url if self.file else ""
