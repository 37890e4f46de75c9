"""Newsroom models: the unit tree, memberships, categories, news items and approval tasks."""

import re
import uuid

from django.conf import settings
from django.contrib.admin import display as admin_display
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node
from wagtail.admin.panels import FieldPanel, MultiFieldPanel, PublishingPanel
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
    EDITORIAL_BOARD = "editorial_board", _("Provincial editorial board")


class StepLevel(models.TextChoices):
    """Levels of the approval chain: the three unit levels, then the provincial board."""

    COMMUNE = "commune", _("Commune")
    DISTRICT = "district", _("District")
    PROVINCE = "province", _("Province")
    BOARD = "board", _("Provincial editorial board")


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

    def clean(self):
        super().clean()
        unit = getattr(self, "unit", None) if self.unit_id else None
        if (
            self.role == Role.EDITORIAL_BOARD
            and unit is not None
            and unit.unit_type != AdministrativeUnit.Type.PROVINCE
        ):
            raise ValidationError({"role": _("The editorial board role is held at a province.")})

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

    class Distribution(models.TextChoices):
        """How far an item should travel; the approval chain runs up to the matching level."""

        COMMUNE = "commune", _("Commune loudspeakers only")
        DISTRICT = "district", _("District loudspeakers or page")
        PROVINCE = "province", _("Provincial portal and loudspeakers")
        NATIONAL = "national", _("National feeds")

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
    distribution = models.CharField(
        _("distribution"),
        max_length=16,
        choices=Distribution.choices,
        default=Distribution.PROVINCE,
    )
    # Channel-facing version: 0 until first published, +1 on every publish (corrections).
    version = models.PositiveIntegerField(_("version"), default=0, editable=False)
    version_created_at = models.DateTimeField(
        _("version created at"), null=True, blank=True, editable=False
    )
    # Set when the item is withdrawn after publication (ninjs pubstatus "canceled").
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    panels = [
        MultiFieldPanel(
            [
                FieldPanel("unit"),
                FieldPanel("kind"),
                FieldPanel("category"),
                FieldPanel("distribution"),
            ],
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
        PublishingPanel(),
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
    def pubstatus(self) -> str:
        """IPTC pubstatus: ``usable`` while live, ``canceled`` once withdrawn."""
        if self.withdrawn_at:
            return "canceled"
        return "usable" if self.live else "withheld"

    @admin_display(description=_("status"))
    def review_status(self) -> str:
        """Status for admin listings, from annotations the listing prepared (no query per
        row); see ``newsroom.selectors.item_list_for_user``."""
        if self.withdrawn_at:
            return _("withdrawn")
        in_review = getattr(self, "_in_review", None)
        if in_review is None:
            in_review = self.workflow_in_progress
        if in_review:
            return _("in review")
        scheduled = getattr(self, "_scheduled", None)
        if scheduled:
            return _("scheduled")
        if self.live:
            return _("live + draft") if self.has_unpublished_changes else _("live")
        return _("draft")

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

    def with_content_json(self, content):
        """Restore a revision, keeping the channel bookkeeping of the current row."""
        obj = super().with_content_json(content)
        obj.version = self.version
        obj.version_created_at = self.version_created_at
        obj.withdrawn_at = self.withdrawn_at
        return obj

    def get_preview_template(self, request, mode_name):
        return "newsroom/news_item_preview.html"

    class Meta:
        verbose_name = _("news item")
        verbose_name_plural = _("news items")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["live", "-first_published_at"]),
            # Admin listings: the items of a subtree's units, newest first, ties by key
            # (see ``selectors.item_list_for_user`` and ``views.NarrowPagePaginator``);
            # the key in the index lets PostgreSQL read a page's keys from it alone.
            models.Index(
                fields=["unit", "-created_at", "-id"], name="newsitem_unit_created_id_idx"
            ),
        ]


# Fields whose change makes earlier approvals stale (editing after an approval needs
# re-approval of the changed version); bookkeeping fields are left out on purpose.
CONTENT_FIELDS = (
    "unit",
    "kind",
    "headline",
    "summary",
    "body",
    "byline",
    "category",
    "image",
    "audio",
    "transcript",
    "video",
)
_BLOCK_KEY = re.compile(r'\s+data-block-key="[^"]*"')


def content_differs(old: dict, new: dict) -> bool:
    """Whether two revisions' contents differ in what approvers approve. Rich text is
    compared without the editor's random ``data-block-key`` attributes (saving unchanged
    text in the editor must not count as a change)."""
    for name in CONTENT_FIELDS:
        a, b = old.get(name), new.get(name)
        if isinstance(a, str) and isinstance(b, str):
            a, b = _BLOCK_KEY.sub("", a), _BLOCK_KEY.sub("", b)
        if a != b:
            return True
    return False


def version_authors(item, revision=None) -> set[int]:
    """Ids of the people who may not approve ``revision`` (the item's latest by default):
    whoever submitted the item for approval, and whoever last changed its content (saving
    unchanged content, as the editor does when an approver acts in it, does not count)."""
    from wagtail.models import Revision

    authors: set[int] = set()
    state = item.current_workflow_state
    if state is not None and state.requested_by_id:
        authors.add(state.requested_by_id)
    revision = revision or item.get_latest_revision()
    if revision is None:
        return authors
    newer = revision
    for older in Revision.objects.filter(
        base_content_type_id=revision.base_content_type_id,
        object_id=revision.object_id,
        pk__lt=revision.pk,
    ).order_by("-pk")[:50]:
        if content_differs(older.content, newer.content):
            break
        newer = older
    if newer.user_id:
        authors.add(newer.user_id)
    return authors


def self_approval_blocked(item, user) -> bool:
    """True when ``user`` wrote or submitted the version awaiting approval and the
    province has not allowed one official to do both (``NGUON_ALLOW_SELF_APPROVAL``)."""
    if settings.NGUON_ALLOW_SELF_APPROVAL:
        return False
    return user.pk in version_authors(item)


class StepAlreadyDecided(ValidationError):
    """Two approvers acted on the same step at once; the first one won."""


class UnitApprovalTask(Task):
    """One step of the chain, approved at the owner's ancestor of the step's level.

    The workflow lists commune, district, province and the provincial editorial board. At
    start a step is skipped when the owning unit has no ancestor of that level (a two-level
    province has no district) or the item's distribution scope does not reach it (see
    ``newsroom.chain``). Only users holding the step's role *at that unit* act on it.

    Approvals are tied to revisions: a step approved for an older revision whose content
    differs counts again (``WAGTAIL_WORKFLOW_REQUIRE_REAPPROVAL_ON_EDIT``); ``start`` sends
    the chain back to the first such step, and carries unchanged approvals forward.
    """

    level = models.CharField(_("level"), max_length=16, choices=StepLevel.choices)

    admin_form_fields = Task.admin_form_fields + ["level"]

    task_state_class = None  # set below, after UnitApprovalTaskState is defined

    def step_unit_for(self, obj) -> "AdministrativeUnit | None":
        from .chain import step_unit

        unit = getattr(obj, "unit", None)
        if unit is None:
            return None
        return step_unit(self.level, unit, obj.distribution)

    @property
    def role(self) -> str:
        return Role.EDITORIAL_BOARD if self.level == StepLevel.BOARD else Role.APPROVER

    def start(self, workflow_state, user=None):
        """Start the chain where the item's latest revision needs it: one path for the
        first submission, a resubmission after a return (the editor's button, the
        ``item_submit`` service, the intake API) and the next step after an approval.

        Steps are walked in chain order for the latest revision, read fresh from the
        database (the editor saved it in this request; a cached object would bind the step
        to an older revision): a step the item does not need is *skipped*; a step whose
        earlier approval in this workflow covered the same content carries it forward;
        the first other step starts. So changed content is approved again from the first
        step whose approved content changed, and no step's approval counts before the
        steps below it approved the same content (an approval given earlier, such as a
        district approving its own edit, is asked again after the commune's). The
        returned state is the one started, or the last one carried or skipped (Wagtail
        then moves on and finishes the chain).
        """
        item = NewsItem.objects.get(pk=workflow_state.object_id)
        workflow_state.content_object = item  # Wagtail's next-step lookup reads it too
        revision = item.get_latest_revision()
        draft = revision.as_object() if revision is not None else item
        last = None
        floor = None  # when the step below approved this content: later steps come after
        for task in self.chain_tasks(workflow_state.workflow):
            done = (
                TaskState.objects.filter(
                    workflow_state=workflow_state,
                    task=task,
                    revision=revision,
                    status__in=[TaskState.STATUS_APPROVED, TaskState.STATUS_SKIPPED],
                )
                .order_by("-id")
                .first()
            )
            if done is not None and (
                done.status == TaskState.STATUS_SKIPPED
                or floor is None
                or (done.finished_at and done.finished_at >= floor)
            ):
                last = done
                if done.status == TaskState.STATUS_APPROVED:
                    floor = done.finished_at
                continue
            step_unit = task.step_unit_for(draft)
            if step_unit is None:
                last = UnitApprovalTaskState.objects.create(
                    workflow_state=workflow_state,
                    task=task,
                    revision=revision,
                    unit=None,
                    status=TaskState.STATUS_SKIPPED,
                    finished_at=timezone.now(),
                )
                continue
            carried = task._unchanged_approval(workflow_state, revision, step_unit, floor)
            if carried is not None:
                last = carried
                floor = carried.finished_at
                continue
            state = UnitApprovalTaskState.objects.create(
                workflow_state=workflow_state,
                task=task,
                revision=revision,
                unit=step_unit,
                status=TaskState.STATUS_IN_PROGRESS,
            )
            from wagtail.signals import task_submitted

            task_submitted.send(sender=UnitApprovalTaskState, instance=state, user=user)
            return state
        return last

    @staticmethod
    def chain_tasks(workflow) -> list["UnitApprovalTask"]:
        return list(
            UnitApprovalTask.objects.filter(
                workflow_tasks__workflow=workflow, active=True
            ).order_by("workflow_tasks__sort_order")
        )

    def _unchanged_approval(self, workflow_state, revision, step_unit, floor=None):
        """Carry this step's latest approval in this workflow forward when it covered the
        same content, at the same approving unit (a reform or a new owner asks again), and
        came after the step below approved that content (``floor``): a step never counts
        as having approved a version before the steps below it did."""
        previous = (
            TaskState.objects.filter(workflow_state=workflow_state, task=self)
            .exclude(status=TaskState.STATUS_SKIPPED)
            .exclude(revision=revision)
            .select_related("revision")
            .order_by("-id")
            .first()
        )
        if previous is None or revision is None or previous.status != TaskState.STATUS_APPROVED:
            return None
        previous = previous.specific
        if previous.unit_id != step_unit.pk:
            return None
        if floor is not None and (previous.finished_at is None or previous.finished_at < floor):
            return None
        if content_differs(previous.revision.content, revision.content):
            return None
        return previous.copy(update_attrs={"revision": revision})

    def _is_step_approver(self, obj, user) -> bool:
        if not user.is_authenticated:
            return False
        if user.is_superuser:
            return True
        state = self._current_state(obj)
        if state is None or state.unit_id is None:
            return False
        cache = user.__dict__.setdefault("_nguon_step_roles", {})
        key = (state.unit_id, self.role)
        if key not in cache:
            cache[key] = Membership.objects.filter(
                user=user, unit_id=state.unit_id, role=self.role
            ).exists()
        return cache[key]

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
        if not self._is_step_approver(obj, user):
            return []
        actions = [("reject", _("Return with comment"), True)]
        if not self_approval_blocked(obj, user):
            actions += [
                ("approve", _("Approve"), False),
                ("approve", _("Approve with comment"), True),
            ]
        return actions + [("scope", _("Change distribution scope"), True)]

    def get_form_for_action(self, action):
        if action == "scope":
            from .forms import ScopeChangeForm

            return ScopeChangeForm
        return super().get_form_for_action(action)

    def on_action(self, task_state, user, action_name, **kwargs):
        """Approve/return/re-scope under a row lock on the step: of two approvers acting at
        once, the second finds the step decided and gets ``StepAlreadyDecided``."""
        from django.db import transaction

        with transaction.atomic():
            locked = TaskState.objects.select_for_update().get(pk=task_state.pk)
            if locked.status != TaskState.STATUS_IN_PROGRESS:
                raise StepAlreadyDecided(
                    _("This step was already decided by %(user)s. Reload the item.")
                    % {"user": locked.finished_by or "?"}
                )
            task_state = task_state.specific
            task_state.refresh_from_db()
            if action_name == "scope":
                from .services import item_scope_change

                item_scope_change(
                    user=user,
                    item=task_state.workflow_state.content_object,
                    distribution=kwargs.get("distribution", ""),
                    comment=kwargs.get("comment", ""),
                )
                return None
            if action_name == "approve":
                # The approver approves what is there now: bind the step to that revision.
                item = NewsItem.objects.get(pk=task_state.workflow_state.object_id)
                latest = item.get_latest_revision()
                if latest is not None and latest.pk != task_state.revision_id:
                    task_state.revision = latest
                # Nobody approves what they wrote or submitted (the editor path and the
                # service both come here); a province may allow it for one-official
                # communes, and every such approval is marked in the audit trail.
                if user.pk in version_authors(item):
                    if not settings.NGUON_ALLOW_SELF_APPROVAL:
                        raise PermissionDenied(
                            _("You wrote or submitted this version: another approver decides.")
                        )
                    from wagtail.log_actions import log

                    log(
                        instance=item,
                        action="nguon.self_approve",
                        user=user,
                        revision=task_state.revision,
                        data={"task_state_id": task_state.pk},
                    )
            result = super().on_action(task_state, user, action_name, **kwargs)
            # The step is decided: its notices are done, for every approver who got one.
            Notice.objects.filter(task_state_id=task_state.pk, read_at__isnull=True).update(
                read_at=timezone.now()
            )
            return result

    def get_task_states_user_can_moderate(self, user, **kwargs):
        # Base TaskState rows: Wagtail ORs these with other task types' querysets.
        states = TaskState.objects.filter(task=self, status=TaskState.STATUS_IN_PROGRESS)
        if user.is_superuser:
            return states
        return states.filter(
            unitapprovaltaskstate__unit__memberships__user=user,
            unitapprovaltaskstate__unit__memberships__role=self.role,
        )

    @classmethod
    def get_description(cls):
        return _("Approvers of the item's unit at this level approve or return it")

    class Meta:
        verbose_name = _("unit approval step")
        verbose_name_plural = _("unit approval steps")


class UnitApprovalTaskState(TaskState):
    """A step's state, remembering which unit approves it.

    ``unit`` follows administrative reforms (it is relinked like every unit reference);
    the log entries keep the unit's code and name at the time (see ``newsroom.audit``).
    """

    unit = models.ForeignKey(
        AdministrativeUnit,
        verbose_name=_("unit"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reminded_at = models.DateTimeField(_("reminder sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("unit approval step state")
        verbose_name_plural = _("unit approval step states")


UnitApprovalTask.task_state_class = UnitApprovalTaskState


class IntakeToken(models.Model):
    """A per-account token for the intake API. Only a SHA-256 of the token is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="intake_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=8, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    class Meta:
        verbose_name = _("intake API token")
        verbose_name_plural = _("intake API tokens")


class IntakeRecord(models.Model):
    """An ``Idempotency-Key`` seen by the intake API and the item it created."""

    token = models.ForeignKey(IntakeToken, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    body_hash = models.CharField(max_length=64)
    item = models.ForeignKey(NewsItem, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.key

    class Meta:
        constraints = [models.UniqueConstraint(fields=["token", "key"], name="unique_intake_key")]


class Notice(models.Model):
    """An admin notification for one user ("an item reached your step")."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="nguon_notices"
    )
    item = models.ForeignKey(NewsItem, on_delete=models.CASCADE, related_name="+")
    task_state = models.ForeignKey(
        UnitApprovalTaskState, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.CharField(_("text"), max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    def __str__(self) -> str:
        return self.text

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read_at"])]
