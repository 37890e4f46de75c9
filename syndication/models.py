"""Syndication rows: the feed state, subscribers and their durable outbox, alerts, and the
upstream sources polled for ingest.

The outbox (``Delivery``) is the only place a push lives: a row is written when an item is
published, corrected or withdrawn, and a Celery task drains each subscriber's rows in order.
Nothing about a push is kept in the broker, so a lost message or a killed worker loses
nothing; the beat sweeper re-dispatches whatever is due.
"""

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, URLValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel

from newsroom.models import AdministrativeUnit, Category, NewsItem

http_url_validator = URLValidator(schemes=["http", "https"])


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


def _default_max_attempts() -> int:
    return settings.SYNDICATION_PUSH_MAX_ATTEMPTS


def _default_timeout() -> float:
    return settings.SYNDICATION_PUSH_TIMEOUT_SECONDS


def _default_retry_base() -> float:
    return settings.SYNDICATION_PUSH_RETRY_BASE_SECONDS


def _default_retry_max() -> float:
    return settings.SYNDICATION_PUSH_RETRY_MAX_SECONDS


class FeedChange(models.Model):
    """An append-only mark "something a feed reader sees changed", written inside the
    changing transaction (so it becomes visible with the change, and inserts never contend).

    The feed validators are the newest mark, the number of marks and the newest time; the
    sweeper prunes old marks.
    """

    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"feed change {self.pk}"

    class Meta:
        verbose_name = _("feed change")
        verbose_name_plural = _("feed changes")


class SyndicatedItem(models.Model):
    """The API's index of items published at least once: one row per item with its version
    time (the withdrawal time once withdrawn) and what the list filters on, so a cursor page
    is an index range scan whatever the number of items. Kept by the newsroom events
    (``services.syndicated_item_refresh``) and reconciled by the sweeper."""

    item = models.OneToOneField(NewsItem, on_delete=models.CASCADE, related_name="+")
    synced_at = models.DateTimeField()
    unit_path = models.CharField(max_length=255, db_index=True)
    category_id = models.BigIntegerField(null=True, blank=True)
    kind = models.CharField(max_length=16)
    version = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.item_id} v{self.version}"

    class Meta:
        verbose_name = _("syndicated item")
        verbose_name_plural = _("syndicated items")
        indexes = [models.Index(fields=["synced_at", "item"])]


class Subscriber(models.Model):
    """A system that receives pushes: the national system, another province, a partner."""

    class Format(models.TextChoices):
        NINJS = "ninjs", _("IPTC ninjs 2.2 (JSON)")
        RSS = "rss", _("RSS 2.0 item")

    class Scope(models.TextChoices):
        """The narrowest distribution scope pushed ("commune loudspeakers only" never is)."""

        DISTRICT = "district", _("District scope and wider")
        PROVINCE = "province", _("Province scope and wider")
        NATIONAL = "national", _("National scope only")

    name = models.CharField(_("name"), max_length=255)
    endpoint_url = models.URLField(
        _("endpoint URL"),
        max_length=500,
        validators=[http_url_validator],
        help_text=_("Only http:// and https:// addresses are accepted."),
    )
    format = models.CharField(_("format"), max_length=16, choices=Format.choices)
    units = models.ManyToManyField(
        AdministrativeUnit,
        verbose_name=_("units"),
        blank=True,
        related_name="+",
        help_text=_("Items of these units and every unit below them; empty: all units."),
    )
    categories = models.ManyToManyField(
        Category,
        verbose_name=_("categories"),
        blank=True,
        related_name="+",
        help_text=_("Empty: all categories."),
    )
    min_distribution = models.CharField(
        _("distribution scope"),
        max_length=16,
        choices=Scope.choices,
        default=Scope.PROVINCE,
        help_text=_("Items approved for a narrower scope are not pushed to this subscriber."),
    )
    kinds = models.JSONField(
        _("types"),
        default=list,
        blank=True,
        help_text=_("Empty: articles, audio and video."),
    )
    secret = models.CharField(
        _("signing secret"),
        max_length=128,
        default=_new_secret,
        help_text=_("Requests carry X-Signature: HMAC-SHA256 of the timestamp and the body."),
    )
    active = models.BooleanField(_("active"), default=True)
    max_attempts = models.PositiveSmallIntegerField(
        _("maximum attempts"),
        default=_default_max_attempts,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )
    timeout_seconds = models.FloatField(
        _("timeout (seconds)"),
        default=_default_timeout,
        validators=[MinValueValidator(0.1), MaxValueValidator(300)],
        help_text=_("The whole request, from connecting to the end of the answer."),
    )
    retry_base_seconds = models.FloatField(
        _("first retry after (seconds)"),
        default=_default_retry_base,
        validators=[MinValueValidator(0.0)],
    )
    retry_max_seconds = models.FloatField(
        _("longest wait between tries (seconds)"),
        default=_default_retry_max,
        validators=[MinValueValidator(0.0)],
    )
    # The drain lease: one worker at a time sends a subscriber's deliveries, in order.
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    lease_token = models.CharField(max_length=32, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    panels = [
        FieldPanel("name"),
        FieldPanel("endpoint_url"),
        FieldPanel("format"),
        FieldPanel("active"),
        MultiFieldPanel(
            [
                FieldPanel("min_distribution"),
                FieldPanel("units"),
                FieldPanel("categories"),
                FieldPanel("kinds"),
            ],
            heading=_("Filters"),
        ),
        MultiFieldPanel(
            [
                FieldPanel("secret"),
                FieldPanel("max_attempts"),
                FieldPanel("timeout_seconds"),
                FieldPanel("retry_base_seconds"),
                FieldPanel("retry_max_seconds"),
            ],
            heading=_("Delivery"),
        ),
    ]

    def __str__(self) -> str:
        return self.name

    class Meta:
        verbose_name = _("subscriber")
        verbose_name_plural = _("subscribers")
        ordering = ["name"]


class Delivery(models.Model):
    """One push of one version of one item to one subscriber: the outbox row and its log."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        IN_PROGRESS = "in_progress", _("In progress")
        SUCCESS = "success", _("Delivered")
        RETRYING = "retrying", _("Retrying")
        FAILED = "failed", _("Failed")

    class Action(models.TextChoices):
        PUBLISH = "publish", _("Publish or correction")
        CANCEL = "cancel", _("Withdrawal")

    OPEN_STATES = (State.PENDING, State.IN_PROGRESS, State.RETRYING)

    subscriber = models.ForeignKey(
        Subscriber,
        verbose_name=_("subscriber"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    item = models.ForeignKey(
        NewsItem,
        verbose_name=_("news item"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    item_uri = models.CharField(_("item URI"), max_length=255, db_index=True)
    version = models.PositiveIntegerField(_("version"))
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    headline = models.CharField(_("headline"), max_length=255, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=300)
    content_type = models.CharField(max_length=100)
    body = models.TextField()
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    last_status = models.PositiveSmallIntegerField(_("last HTTP status"), null=True, blank=True)
    # Deliveries of a subscriber go out in (queued_at, id) order; a resend goes to the back.
    queued_at = models.DateTimeField(_("queued at"), default=timezone.now)
    next_try_at = models.DateTimeField(_("next try"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.subscriber} ← {self.item_uri} v{self.version} ({self.action})"

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscriber", "idempotency_key"], name="unique_delivery_per_subscriber"
            )
        ]
        indexes = [
            models.Index(fields=["subscriber", "state", "queued_at", "id"]),
            models.Index(fields=["state", "next_try_at"]),
        ]


class FanoutRecord(models.Model):
    """“This version of this item has been turned into deliveries” (the sweeper reconciles
    published items that have none, e.g. when the process died right after the commit)."""

    item = models.ForeignKey(NewsItem, on_delete=models.CASCADE, related_name="+")
    version = models.PositiveIntegerField()
    action = models.CharField(max_length=16, choices=Delivery.Action.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.item_id} v{self.version} {self.action}"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "version", "action"], name="unique_fanout")
        ]


class Source(models.Model):
    """An upstream system polled for items (the central source-information system, another
    province). New items land in ``unit`` as drafts for its editors."""

    class Format(models.TextChoices):
        RSS = "rss", _("RSS 2.0")
        ATOM = "atom", _("Atom 1.0")
        NINJS = "ninjs", _("ninjs (JSON list or single document)")

    name = models.CharField(_("name"), max_length=255)
    url = models.URLField(_("URL"), max_length=500, validators=[http_url_validator])
    format = models.CharField(_("format"), max_length=16, choices=Format.choices)
    unit = models.ForeignKey(
        AdministrativeUnit,
        verbose_name=_("receiving unit"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Received items are drafts of this unit (usually the province)."),
    )
    poll_interval_minutes = models.PositiveIntegerField(
        _("poll every (minutes)"), default=5, validators=[MinValueValidator(1)]
    )
    expected_interval_minutes = models.PositiveIntegerField(
        _("expected new item at least every (minutes)"),
        default=24 * 60,
        validators=[MinValueValidator(1)],
        help_text=_("An alert is raised when the source stays quiet longer than this."),
    )
    active = models.BooleanField(_("active"), default=True)
    last_polled_at = models.DateTimeField(_("last polled"), null=True, blank=True, editable=False)
    last_success_at = models.DateTimeField(
        _("last successful poll"), null=True, blank=True, editable=False
    )
    last_new_item_at = models.DateTimeField(
        _("last new item"), null=True, blank=True, editable=False
    )
    last_error = models.TextField(_("last error"), blank=True, editable=False)
    etag = models.CharField(max_length=255, blank=True, editable=False)
    last_modified = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    panels = [
        FieldPanel("name"),
        FieldPanel("url"),
        FieldPanel("format"),
        FieldPanel("unit"),
        FieldPanel("poll_interval_minutes"),
        FieldPanel("expected_interval_minutes"),
        FieldPanel("active"),
    ]

    def __str__(self) -> str:
        return self.name

    class Meta:
        verbose_name = _("source")
        verbose_name_plural = _("sources")
        ordering = ["name"]


class IngestedItem(models.Model):
    """One version of one upstream item, and the newsroom draft it became (dedupe key:
    source + guid + version)."""

    source = models.ForeignKey(
        Source, verbose_name=_("source"), on_delete=models.CASCADE, related_name="ingested"
    )
    guid = models.CharField(_("guid"), max_length=500)
    version = models.CharField(_("version"), max_length=100)
    headline = models.CharField(_("headline"), max_length=255, blank=True)
    item = models.ForeignKey(
        NewsItem,
        verbose_name=_("news item"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    def __str__(self) -> str:
        return self.headline or self.guid

    class Meta:
        verbose_name = _("received item")
        verbose_name_plural = _("received items")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "guid", "version"], name="unique_ingested_version"
            )
        ]


class Alert(models.Model):
    """An operator alert shown in the admin: a delivery that failed for good, a source that
    went quiet or keeps failing. Closed by hand or when the cause goes away."""

    class Kind(models.TextChoices):
        DELIVERY_FAILED = "delivery_failed", _("Delivery failed")
        SOURCE_QUIET = "source_quiet", _("Source quiet")
        SOURCE_ERROR = "source_error", _("Source error")

    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    message = models.TextField(_("message"))
    subscriber = models.ForeignKey(
        Subscriber, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    delivery = models.ForeignKey(
        Delivery, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    source = models.ForeignKey(
        Source, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    created_at = models.DateTimeField(_("raised at"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    def __str__(self) -> str:
        return self.message

    class Meta:
        verbose_name = _("syndication alert")
        verbose_name_plural = _("syndication alerts")
        ordering = ["-created_at", "-id"]
