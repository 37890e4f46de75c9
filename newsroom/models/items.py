"""Categories and news items: what reporters write and approvers approve."""

import re
import uuid
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.admin import display as admin_display
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel, PublishingPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import DraftStateMixin, LockableMixin, RevisionMixin, WorkflowMixin
from wagtail.search import index

from ..pictures import GalleryBlock, alt_text, missing_alt_error, undescribed_body_images
from .units import AdministrativeUnit

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# C0 controls, and the bidirectional embeddings, overrides and isolates (U+202A-202E,
# U+2066-2069) that make a headline read differently from what it says.
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


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


# What a listing says of an item waiting at a step, by the step's level.
AWAITING_LEVEL = {
    "commune": _("awaiting commune approval"),
    "district": _("awaiting district approval"),
    "province": _("awaiting province approval"),
    "board": _("awaiting the editorial board"),
}


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
        help_text=_(
            "The lead picture, shown with the headline. "
            "Its alt text is its description in the image library."
        ),
    )
    image_caption = models.CharField(_("caption"), max_length=500, blank=True)
    image_credit = models.CharField(
        _("credit"),
        max_length=255,
        blank=True,
        help_text=_("Who took the picture, e.g. “Ảnh: Nguyễn Văn A”."),
    )
    gallery = StreamField(GalleryBlock(), verbose_name=_("more pictures"), blank=True)
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
        MultiFieldPanel(
            [
                FieldPanel("image"),
                FieldPanel("image_caption"),
                FieldPanel("image_credit"),
                FieldPanel("gallery"),
            ],
            heading=_("Pictures"),
        ),
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
    def review_status(self) -> "StrOrPromise":
        """Status for admin listings, from annotations the listing prepared (no query per
        row); see ``newsroom.selectors.item_list_for_user``."""
        if self.withdrawn_at:
            return _("withdrawn")
        in_review = getattr(self, "_in_review", None)
        if in_review is None:
            in_review = self.workflow_in_progress
        if in_review:
            level = getattr(self, "_step_level", None)
            if level is None and not hasattr(self, "_step_level"):
                task = self.current_workflow_task
                level = getattr(getattr(task, "specific", None), "level", None)
            return AWAITING_LEVEL.get(str(level)) or _("in review")
        returned = getattr(self, "_returned", None)
        if returned is None:
            state = self.current_workflow_state
            returned = state is not None and state.status == state.STATUS_NEEDS_CHANGES
        if returned:
            return _("returned for changes")
        scheduled = getattr(self, "_scheduled", None)
        if scheduled:
            return _("scheduled")
        if self.live:
            return _("live + draft") if self.has_unpublished_changes else _("live")
        return _("draft")

    @property
    def audio_rendition(self):
        """The ready loudspeaker MP3 of the audio bulletin, or None while it is prepared."""
        return self.audio.rendition("loudspeaker") if self.audio is not None else None

    def clean(self):
        super().clean()
        # save() drops control characters: a headline made only of them would be saved empty.
        if self.headline and not _CONTROL_CHARS.sub("", self.headline).strip():
            raise ValidationError({"headline": _("Enter a headline.")})
        # A picture readers cannot have described is refused (the gallery's block checks
        # its own pictures; see ``newsroom.pictures``).
        if self.image_id and self.image is not None and not alt_text(self.image):
            raise ValidationError({"image": missing_alt_error(self.image)})
        # So is a picture inserted in the body with no alt text in its dialog ("decorative")
        # and none in the library: the portal could not describe it.
        bare = undescribed_body_images(self.body)
        if bare:
            raise ValidationError({"body": missing_alt_error(bare[0])})

    def save(self, *args, **kwargs):
        # Text pasted from office documents can carry C0 control characters; PostgreSQL
        # refuses NUL and XML feeds refuse the rest, so they never reach the database; nor
        # do bidirectional overrides (a headline shown reversed in lists and feeds).
        for field in (
            "headline",
            "summary",
            "body",
            "byline",
            "transcript",
            "image_caption",
            "image_credit",
        ):
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
    "image_caption",
    "image_credit",
    "gallery",
    "audio",
    "transcript",
    "video",
)
_BLOCK_KEY = re.compile(r'\s+data-block-key="[^"]*"')


def _empty(value) -> bool:
    return value in (None, "", "[]", [])


def content_differs(old: dict, new: dict) -> bool:
    """Whether two revisions' contents differ in what approvers approve. Rich text is
    compared without the editor's random ``data-block-key`` attributes (saving unchanged
    text in the editor must not count as a change)."""
    for name in CONTENT_FIELDS:
        a, b = old.get(name), new.get(name)
        # A field added after a revision was saved is absent from it: absent, empty text and
        # an empty gallery ("[]") are the same content.
        if _empty(a) and _empty(b):
            continue
        if isinstance(a, str) and isinstance(b, str):
            a, b = _BLOCK_KEY.sub("", a), _BLOCK_KEY.sub("", b)
        if a != b:
            return True
    return False
