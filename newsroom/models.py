"""Newsroom models: the unit tree, memberships, categories, news items and approval tasks."""

import re
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.fields import RichTextField
from wagtail.models import (
    DraftStateMixin,
    LockableMixin,
    RevisionMixin,
    Task,
    TaskState,
    WorkflowMixin,
)
from wagtail.search import index

_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class AdministrativeUnit(MP_Node):
    """A node of the administrative tree: province, (district,) commune — any depth.

    ``path`` (from treebeard) makes "this unit and everything under it" one indexed
    ``startswith`` filter, which is what every permission and listing asks.
    """

    class Type(models.TextChoices):
        PROVINCE = "province", _("Province")
        DISTRICT = "district", _("District")
        COMMUNE = "commune", _("Commune")

    code = models.CharField(_("official code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=255)
    division_type = models.CharField(
        _("division type"), max_length=64, blank=True, help_text=_("e.g. phường, xã, đặc khu")
    )
    unit_type = models.CharField(_("level"), max_length=16, choices=Type.choices)
    is_active = models.BooleanField(_("active"), default=True)

    node_order_by = ["code"]

    def __str__(self) -> str:
        return self.name

    def ancestors_and_self(self):
        """This unit and its ancestors, from the province down (one query)."""
        paths = [self.path[: i * self.steplen] for i in range(1, self.depth + 1)]
        return AdministrativeUnit.objects.filter(path__in=paths).order_by("depth")

    def subtree_q(self, prefix: str = "") -> models.Q:
        """A Q object selecting rows whose unit is in this unit's subtree."""
        return models.Q(**{f"{prefix}path__startswith": self.path})

    class Meta:
        verbose_name = _("administrative unit")
        verbose_name_plural = _("administrative units")


class Role(models.TextChoices):
    REPORTER = "reporter", _("Reporter")
    APPROVER = "approver", _("Approver")
    SCHEDULER = "scheduler", _("Broadcast scheduler")
    UNIT_ADMIN = "unit_admin", _("Unit administrator")


class Membership(models.Model):
    """A user holds a role at a unit; the role applies to the unit's whole subtree."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    unit = models.ForeignKey(
        AdministrativeUnit, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    panels = [FieldPanel("user"), FieldPanel("unit"), FieldPanel("role")]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} — {self.unit}"

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "unit", "role"], name="unique_membership")
        ]


class Category(models.Model):
    name = models.CharField(_("name"), max_length=255, unique=True)
    slug = models.SlugField(_("slug"), max_length=255, unique=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    panels = [FieldPanel("name"), FieldPanel("slug"), FieldPanel("sort_order")]

    def __str__(self) -> str:
        return self.name

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["sort_order", "name"]


class NewsItem(
    WorkflowMixin, DraftStateMixin, LockableMixin, RevisionMixin, index.Indexed, models.Model
):
    """An article, audio bulletin or video owned by a unit.

    Drafts and edits live in revisions; the row itself holds the published version once the
    item is live (Wagtail's DraftStateMixin), so portal, feeds and devices read rows only.
    """

    class Kind(models.TextChoices):
        ARTICLE = "article", _("Article")
        AUDIO = "audio", _("Audio bulletin")
        VIDEO = "video", _("Video")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    unit = models.ForeignKey(
        AdministrativeUnit,
        verbose_name=_("unit"),
        on_delete=models.PROTECT,
        related_name="items",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.ARTICLE)
    headline = models.CharField(_("headline"), max_length=255)
    slug = models.SlugField(_("slug"), max_length=255, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    body = RichTextField(
        _("body"), blank=True, features=["h2", "h3", "bold", "italic", "ol", "ul", "link", "image"]
    )
    byline = models.CharField(_("byline"), max_length=255, blank=True)
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="items",
    )
    image = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("image"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    audio = models.ForeignKey(
        "media.MediaAsset",
        verbose_name=_("audio"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    transcript = models.TextField(_("transcript"), blank=True)
    video = models.ForeignKey(
        "media.MediaAsset",
        verbose_name=_("video"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    panels = [
        MultiFieldPanel(
            [FieldPanel("unit"), FieldPanel("kind"), FieldPanel("category")],
            heading=_("Ownership"),
        ),
        FieldPanel("headline"),
        FieldPanel("summary"),
        FieldPanel("body"),
        FieldPanel("byline"),
        FieldPanel("image"),
        MultiFieldPanel(
            [FieldPanel("audio_file"), FieldPanel("transcript")], heading=_("Audio bulletin")
        ),
        MultiFieldPanel([FieldPanel("video_file")], heading=_("Video")),
    ]

    search_fields = [
        index.SearchField("headline"),
        index.AutocompleteField("headline"),
        index.FilterField("unit"),
    ]

    def __str__(self) -> str:
        return self.headline

    @property
    def public_path(self) -> str:
        """The item's portal path (the portal's route is named in settings)."""
        return settings.NGUON_ITEM_PATH.format(uuid=self.uuid)

    @property
    def audio_rendition(self):
        """The ready loudspeaker MP3 of the audio bulletin, or None while it is prepared."""
        return self.audio.rendition("loudspeaker") if self.audio_id else None

    def save(self, *args, **kwargs):
        # Text pasted from office documents can carry C0 control characters; PostgreSQL
        # refuses NUL and XML feeds refuse the rest, so they never reach the database.
        for field in ("headline", "summary", "body", "byline", "transcript"):
            value = getattr(self, field)
            if value:
                setattr(self, field, _CONTROL_CHARS.sub("", value))
        if not self.slug:
            self.slug = slugify(self.headline, allow_unicode=False)[:200] or "tin"
        super().save(*args, **kwargs)

    def get_preview_template(self, request, mode_name):
        return "newsroom/news_item_preview.html"

    class Meta:
        verbose_name = _("news item")
        verbose_name_plural = _("news items")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["live", "-first_published_at"])]


class UnitApprovalTask(Task):
    """One step of the chain: approval at the owner's ancestor of a given level.

    The workflow lists one task per level (commune, district, province). When the owning
    unit has no ancestor of a task's level (a two-level province has no district) the step
    is skipped at start, so one workflow serves both the old and the new administrative map.
    Only users holding the approver role *at that ancestor unit* see and act on the step.
    """

    level = models.CharField(_("level"), max_length=16, choices=AdministrativeUnit.Type.choices)

    admin_form_fields = Task.admin_form_fields + ["level"]

    task_state_class = None  # set below, after UnitApprovalTaskState is defined

    def step_unit_for(self, obj) -> "AdministrativeUnit | None":
        unit = getattr(obj, "unit", None)
        if unit is None:
            return None
        for ancestor in unit.ancestors_and_self():
            if ancestor.unit_type == self.level:
                return ancestor
        return None

    def start(self, workflow_state, user=None):
        obj = workflow_state.content_object
        step_unit = self.step_unit_for(obj)
        state = UnitApprovalTaskState(
            workflow_state=workflow_state,
            task=self,
            revision=obj.get_latest_revision(),
            unit=step_unit,
        )
        if step_unit is None:
            state.status = TaskState.STATUS_SKIPPED
            state.finished_at = timezone.now()
            state.save()
            return state
        state.status = TaskState.STATUS_IN_PROGRESS
        state.save()
        from wagtail.signals import task_submitted

        task_submitted.send(sender=UnitApprovalTaskState, instance=state, user=user)
        return state

    def _is_step_approver(self, obj, user) -> bool:
        if not user.is_authenticated:
            return False
        if user.is_superuser:
            return True
        state = self._current_state(obj)
        if state is None or state.unit_id is None:
            return False
        cache = user.__dict__.setdefault("_nguon_approver_units", {})
        if state.unit_id not in cache:
            cache[state.unit_id] = Membership.objects.filter(
                user=user, unit_id=state.unit_id, role=Role.APPROVER
            ).exists()
        return cache[state.unit_id]

    def _current_state(self, obj):
        workflow_state = getattr(obj, "current_workflow_state", None)
        if workflow_state is None:
            return None
        state = workflow_state.current_task_state
        if state is None or state.task_id != self.pk:
            return None
        return state.specific

    def user_can_access_editor(self, obj, user):
        return self._is_step_approver(obj, user)

    def locked_for_user(self, obj, user):
        return not self._is_step_approver(obj, user)

    def user_can_lock(self, obj, user):
        return self._is_step_approver(obj, user)

    def get_actions(self, obj, user):
        if self._is_step_approver(obj, user):
            return [
                ("reject", _("Return with comment"), True),
                ("approve", _("Approve"), False),
                ("approve", _("Approve with comment"), True),
            ]
        return []

    def get_task_states_user_can_moderate(self, user, **kwargs):
        # Base TaskState rows: Wagtail ORs these with other task types' querysets.
        states = TaskState.objects.filter(task=self, status=TaskState.STATUS_IN_PROGRESS)
        if user.is_superuser:
            return states
        return states.filter(
            unitapprovaltaskstate__unit__memberships__user=user,
            unitapprovaltaskstate__unit__memberships__role=Role.APPROVER,
        )

    @classmethod
    def get_description(cls):
        return _("Approvers of the item's unit at this level approve or return it")

    class Meta:
        verbose_name = _("unit approval step")
        verbose_name_plural = _("unit approval steps")


class UnitApprovalTaskState(TaskState):
    """A step's state, remembering which unit approved (history survives unit reforms)."""

    unit = models.ForeignKey(
        AdministrativeUnit,
        verbose_name=_("unit"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("unit approval step state")
        verbose_name_plural = _("unit approval step states")


UnitApprovalTask.task_state_class = UnitApprovalTaskState
