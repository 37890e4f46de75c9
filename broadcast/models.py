"""Loudspeaker registry, schedules (TT39 classes), device commands, play logs and monitoring.

A cluster (cụm loa) sits in a commune and may belong to zones of that commune; its devices
(loudspeakers or electronic bulletin boards) share the cluster's timeline. Programmes carry
the TT39 class and target clusters, zones or administrative units (a unit target covers its
whole subtree); their slots say when (one-off or RRULE) and what (a playlist of approved
items, a text-to-speech bulletin, a live relay).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel


class Zone(models.Model):
    """A named group of clusters inside one commune (a hamlet, a market area)."""

    commune = models.ForeignKey(
        "newsroom.AdministrativeUnit",
        verbose_name=_("commune"),
        on_delete=models.PROTECT,
        related_name="loudspeaker_zones",
    )
    name = models.CharField(_("name"), max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    panels = [FieldPanel("commune"), FieldPanel("name")]

    def __str__(self) -> str:
        return self.name

    class Meta:
        verbose_name = _("loudspeaker zone")
        verbose_name_plural = _("loudspeaker zones")
        constraints = [
            models.UniqueConstraint(fields=["commune", "name"], name="unique_zone_per_commune")
        ]


class Cluster(models.Model):
    name = models.CharField(_("name"), max_length=255)
    commune = models.ForeignKey(
        "newsroom.AdministrativeUnit",
        verbose_name=_("commune"),
        on_delete=models.PROTECT,
        related_name="clusters",
    )
    zones = models.ManyToManyField(
        Zone, verbose_name=_("zones"), blank=True, related_name="clusters"
    )
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    panels = [
        FieldPanel("name"),
        FieldPanel("commune"),
        FieldPanel("zones"),
        FieldPanel("latitude"),
        FieldPanel("longitude"),
        FieldPanel("enabled"),
    ]

    class Meta:
        verbose_name = _("loudspeaker cluster")
        verbose_name_plural = _("loudspeaker clusters")

    def __str__(self) -> str:
        return self.name


class Device(models.Model):
    """A receiver in a cluster. Its API token is stored only as a SHA-256 digest."""

    class Kind(models.TextChoices):
        LOUDSPEAKER = "loudspeaker", _("Loudspeaker")
        BOARD = "board", _("Electronic bulletin board")

    class State(models.TextChoices):
        UNKNOWN = "unknown", _("Unknown")
        IDLE = "idle", _("Idle")
        PLAYING = "playing", _("Playing")
        OFF = "off", _("Powered off")
        ERROR = "error", _("Error")

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="devices")
    kind = models.CharField(
        _("kind"), max_length=16, choices=Kind.choices, default=Kind.LOUDSPEAKER
    )
    serial = models.CharField(_("serial number"), max_length=64, unique=True)
    vendor = models.CharField(_("vendor"), max_length=64, blank=True)
    model = models.CharField(_("model"), max_length=64, blank=True)
    firmware = models.CharField(_("firmware"), max_length=64, blank=True)
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    token_prefix = models.CharField(max_length=8, blank=True)
    token_issued_at = models.DateTimeField(_("token issued at"), null=True, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    # Latest heartbeat, kept on the row so monitoring is one query per page.
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.UNKNOWN
    )
    volume = models.PositiveSmallIntegerField(_("volume"), null=True, blank=True)
    signal = models.SmallIntegerField(_("signal (dBm)"), null=True, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    now_playing = models.CharField(_("now playing"), max_length=255, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    offline_alerted_at = models.DateTimeField(null=True, blank=True, editable=False)

    panels = [
        FieldPanel("cluster"),
        FieldPanel("kind"),
        FieldPanel("serial"),
        FieldPanel("vendor"),
        FieldPanel("model"),
        FieldPanel("firmware"),
        FieldPanel("enabled"),
    ]

    class Meta:
        verbose_name = _("loudspeaker device")
        verbose_name_plural = _("loudspeaker devices")

    def __str__(self) -> str:
        return f"{self.cluster} / {self.serial}"


class BulletinClass(models.TextChoices):
    """Thông tư 39/2020/TT-BTTTT classes; the order is the precedence."""

    NORMAL = "normal", _("Normal")
    PRIORITY = "priority", _("Priority")
    EMERGENCY = "emergency", _("Emergency")


class Programme(models.Model):
    """A broadcast programme of one TT39 class, owned by the unit that scheduled it."""

    name = models.CharField(_("name"), max_length=255)
    unit = models.ForeignKey(
        "newsroom.AdministrativeUnit",
        verbose_name=_("owning unit"),
        on_delete=models.PROTECT,
        related_name="loudspeaker_programmes",
    )
    bulletin_class = models.CharField(
        _("class"), max_length=16, choices=BulletinClass.choices, default=BulletinClass.NORMAL
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    stopped_at = models.DateTimeField(_("stopped at"), null=True, blank=True)
    stopped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Editing a programme stops this version and schedules a new one that ``replaces`` it,
    # so the proof of play of what already ran keeps the schedule it ran under.
    replaces = models.ForeignKey(
        "self",
        verbose_name=_("revision of"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="revisions",
    )

    def __str__(self) -> str:
        return self.name

    class Meta:
        verbose_name = _("broadcast programme")
        verbose_name_plural = _("broadcast programmes")


class ProgrammeTarget(models.Model):
    """Exactly one of cluster, zone or unit; a unit covers every cluster in its subtree."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="targets")
    cluster = models.ForeignKey(
        Cluster, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    zone = models.ForeignKey(
        Zone, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    unit = models.ForeignKey(
        "newsroom.AdministrativeUnit",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="loudspeaker_targets",
    )

    class Meta:
        verbose_name = _("programme target")
        verbose_name_plural = _("programme targets")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(cluster__isnull=False, zone__isnull=True, unit__isnull=True)
                    | models.Q(cluster__isnull=True, zone__isnull=False, unit__isnull=True)
                    | models.Q(cluster__isnull=True, zone__isnull=True, unit__isnull=False)
                ),
                name="programme_target_exactly_one",
            )
        ]

    def __str__(self) -> str:
        return str(self.cluster or self.zone or self.unit)


class Slot(models.Model):
    """When and what: one-off at ``starts_at`` or an RRULE whose DTSTART is ``starts_at``
    (local time, Asia/Ho_Chi_Minh), valid until ``valid_until``."""

    class Content(models.TextChoices):
        PLAYLIST = "playlist", _("Playlist of approved audio")
        TTS = "tts", _("Text-to-speech bulletin")
        RELAY = "relay", _("Live relay")
        LIVE = "live", _("Live from the microphone")
        DISPLAY = "display", _("Items for bulletin boards")

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="slots")
    starts_at = models.DateTimeField(_("starts at"))
    rrule = models.CharField(_("recurrence (RRULE)"), max_length=500, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    content = models.CharField(
        _("content"), max_length=16, choices=Content.choices, default=Content.PLAYLIST
    )
    duration_seconds = models.PositiveIntegerField(
        _("duration (seconds)"),
        null=True,
        blank=True,
        help_text=_("Required for live relays and board displays."),
    )
    tts_text = models.TextField(_("bulletin text"), blank=True)
    tts_voice = models.CharField(_("voice"), max_length=64, blank=True)
    tts_speed = models.FloatField(_("speed"), default=1.0)
    tts_asset = models.ForeignKey(
        "media.MediaAsset", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    relay_url = models.URLField(_("stream URL"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("slot")
        verbose_name_plural = _("slots")
        ordering = ["starts_at", "pk"]

    def __str__(self) -> str:
        return f"{self.programme} @ {self.starts_at:%d/%m/%Y %H:%M}"


class SlotItem(models.Model):
    """One approved item in a slot's ordered playlist."""

    slot = models.ForeignKey(Slot, on_delete=models.CASCADE, related_name="entries")
    item = models.ForeignKey("newsroom.NewsItem", on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.slot_id}#{self.position}: {self.item_id}"

    class Meta:
        ordering = ["position", "pk"]


class Command(models.Model):
    """A remote control order for one device; polled by the device and pushed over MQTT."""

    class Kind(models.TextChoices):
        SET_VOLUME = "set_volume", _("Set volume")
        POWER_ON = "power_on", _("Power on")
        POWER_OFF = "power_off", _("Power off")
        STOP = "stop", _("Stop playback")
        PLAY_NOW = "play_now", _("Play now")
        EMERGENCY_START = "emergency_start", _("Emergency start")
        EMERGENCY_STOP = "emergency_stop", _("Emergency stop")
        LIVE_START = "live_start", _("Live broadcast start")
        LIVE_STOP = "live_stop", _("Live broadcast end")

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="commands")
    kind = models.CharField(_("command"), max_length=32, choices=Kind.choices)
    payload = models.JSONField(default=dict, blank=True)
    programme = models.ForeignKey(
        Programme, null=True, blank=True, on_delete=models.SET_NULL, related_name="commands"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    pushed_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    ack_status = models.CharField(max_length=16, blank=True)
    ack_detail = models.CharField(max_length=500, blank=True)

    def __str__(self) -> str:
        return f"{self.kind} → {self.device_id}"

    class Meta:
        verbose_name = _("device command")
        verbose_name_plural = _("device commands")
        indexes = [
            models.Index(fields=["device", "acknowledged_at"]),
            # The pending ones only: what every heartbeat flush counts (stays small while
            # the table grows with every command ever sent).
            models.Index(
                fields=["device"],
                condition=models.Q(acknowledged_at__isnull=True),
                name="broadcast_command_pending",
            ),
        ]


class PlayLog(models.Model):
    """One played (or failed) piece, as reported by the device; ``event_id`` is the
    device's own id, unique per device, so replayed batches change nothing."""

    class Status(models.TextChoices):
        COMPLETED = "completed", _("Completed")
        INTERRUPTED = "interrupted", _("Interrupted")
        FAILED = "failed", _("Failed")

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="playlogs")
    commune = models.ForeignKey(
        "newsroom.AdministrativeUnit", on_delete=models.PROTECT, related_name="+"
    )
    event_id = models.CharField(max_length=64)
    programme = models.ForeignKey(
        Programme, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    slot = models.ForeignKey(
        Slot, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    entry_id = models.CharField(max_length=64, blank=True)
    item_uuid = models.UUIDField(null=True, blank=True)
    started_at = models.DateTimeField()
    duration_seconds = models.FloatField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.COMPLETED)
    device_started_at = models.DateTimeField()
    clock_skew_seconds = models.FloatField(default=0)
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.device_id}/{self.event_id}"

    class Meta:
        verbose_name = _("play log")
        verbose_name_plural = _("play logs")
        constraints = [
            models.UniqueConstraint(fields=["device", "event_id"], name="unique_playlog_event")
        ]
        indexes = [models.Index(fields=["commune", "started_at"])]


class DeviceDay(models.Model):
    """Heartbeats and failures of one device on one local day (uptime reports)."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="days")
    day = models.DateField()
    heartbeats = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.device_id} {self.day}"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "day"], name="unique_device_day")]


class Alert(models.Model):
    """An operator alert (a device offline longer than allowed); closed by a heartbeat."""

    device = models.ForeignKey(
        Device, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    relay = models.ForeignKey(
        "Relay", null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    kind = models.CharField(max_length=16, default="offline")
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    message = models.CharField(max_length=500, blank=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.device_id or self.relay_id}"

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-opened_at"]


class LiveBroadcast(models.Model):
    """A live broadcast from a browser's microphone: who spoke, when, to which targets
    (its programme's), in which TT39 class, and the recording kept in the newsroom.

    The programme carries one ``live`` slot whose stream is the Icecast mount, so devices
    get it through the one compiler like any entry; stopping the programme ends it."""

    class Status(models.TextChoices):
        ON_AIR = "on_air", _("On air")
        ENDED = "ended", _("Ended")

    class EndReason(models.TextChoices):
        STOPPED = "stopped", _("Stopped by the speaker")
        SOURCE_LOST = "source_lost", _("The browser stopped sending audio")
        SOURCE_INVALID = "source_invalid", _("The browser sent something that is not audio")
        FEEDER_FAILED = "feeder_failed", _("The stream to Icecast failed")

    programme = models.OneToOneField(Programme, on_delete=models.PROTECT, related_name="live")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    bulletin_class = models.CharField(
        _("class"), max_length=16, choices=BulletinClass.choices, default=BulletinClass.NORMAL
    )
    mount = models.CharField(max_length=100, unique=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ON_AIR
    )
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    end_reason = models.CharField(
        _("end reason"), max_length=16, choices=EndReason.choices, blank=True
    )
    source_bytes = models.PositiveBigIntegerField(default=0)
    last_chunk_at = models.DateTimeField(null=True, blank=True)
    recording = models.ForeignKey(
        "media.MediaAsset", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    item = models.ForeignKey(
        "newsroom.NewsItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.programme} ({self.started_at:%d/%m/%Y %H:%M})"

    class Meta:
        verbose_name = _("live broadcast")
        verbose_name_plural = _("live broadcasts")
        ordering = ["-started_at"]


class Relay(models.Model):
    """An outside station (tiếp sóng) that Icecast pulls once and serves on ``mount``;
    relay slots point devices at that mount. Monitoring alerts when its source is missing
    or silent longer than ``BROADCAST_RELAY_ALERT_SECONDS``."""

    name = models.CharField(_("name"), max_length=255)
    upstream_url = models.URLField(_("station stream URL"), max_length=500)
    mount = models.CharField(_("mount"), max_length=100, unique=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Monitoring (broadcast.live.relays.relays_check).
    last_ok_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_problem = models.CharField(max_length=255, blank=True, editable=False)

    panels = [FieldPanel("name"), FieldPanel("upstream_url"), FieldPanel("mount"),
              FieldPanel("enabled")]  # fmt: skip

    def __str__(self) -> str:
        return self.name

    class Meta:
        verbose_name = _("relayed station")
        verbose_name_plural = _("relayed stations")
