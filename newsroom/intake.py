"""Intake from mobile apps and other systems: tokens, validation, idempotent item creation.

``check_intake`` validates a ninjs-shaped payload and names the wrong field
(``IntakeError.field``); ``do_intake`` creates the draft item (and its media) once per
``Idempotency-Key``: the same key with the same body returns the same item, the same key
with another body is a conflict. HTML is cleaned with nh3, so scripts never reach the
portal or the admin; control characters are dropped by ``NewsItem.save``.
"""

from __future__ import annotations

import hashlib
import html
import re
import secrets
from dataclasses import dataclass
from typing import Literal

import nh3
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import ValidationError as SchemaError
from wagtail.log_actions import log

from . import policy
from .models import AdministrativeUnit, Category, IntakeRecord, IntakeToken, NewsItem, Role

BODY_TAGS = {"p", "br", "h2", "h3", "b", "strong", "i", "em", "ol", "ul", "li", "a"}
LANGUAGES = {"vi", "en"}
TEXT_LIMITS = {"headline": 255, "byline": 255, "summary": 5000}
# Bidirectional embeddings, overrides and isolates (NewsItem.save drops them too; here
# first, so that the text is stripped of the spaces they leave at either end).
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


class IntakeError(Exception):
    """A refused request: HTTP ``status``, the offending ``field`` and a message."""

    def __init__(self, status: int, message: str, field: str | None = None):
        super().__init__(message)
        self.status, self.message, self.field = status, message, field

    def as_dict(self) -> dict:
        return {"error": self.message, "field": self.field}


def intake_token_users(*, by):
    """The accounts ``by`` may issue intake tokens for: reporters of a unit inside a
    subtree where ``by`` manages members (every active account for a superuser)."""
    users = get_user_model().objects.filter(is_active=True)
    if getattr(by, "is_superuser", False):
        return users.order_by("username")
    units = policy.units_for(by, "manage_members")
    return (
        users.filter(memberships__role=Role.REPORTER, memberships__unit__in=units)
        .distinct()
        .order_by("username")
    )


def intake_token_list(*, by):
    """Tokens of the accounts ``by`` may manage, newest first (never the secret)."""
    return (
        IntakeToken.objects.filter(user__in=intake_token_users(by=by))
        .select_related("user")
        .order_by("-created_at", "-pk")
    )


def _check_may_manage(by, user) -> None:
    if by is not None and not intake_token_users(by=by).filter(pk=user.pk).exists():
        raise PermissionDenied(_("You cannot manage intake tokens for this account."))


@transaction.atomic
def intake_token_issue(*, user, name: str, by=None, via: str = "") -> tuple[IntakeToken, str]:
    """A new token for ``user``; the raw value is returned once and stored only hashed.

    ``by`` (the admin screen) must manage members of a unit where ``user`` reports;
    without ``by`` (the ``intake_token`` command, code) nobody is checked. Logged as
    ``nguon.intake_token_issue`` on the token with who it is for and the prefix."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Enter a name for the token.")})
    _check_may_manage(by, user)
    raw = secrets.token_urlsafe(32)
    token = IntakeToken.objects.create(
        user=user, name=name[:100], key_hash=_sha256(raw.encode()), prefix=raw[:8]
    )
    log(
        instance=token,
        action="nguon.intake_token_issue",
        user=by,
        data={"for": user.get_username(), "prefix": token.prefix, "via": via or "admin"},
    )
    return token, raw


@transaction.atomic
def intake_token_revoke(*, token: IntakeToken, by=None, via: str = "") -> IntakeToken:
    """Revoke ``token`` now (idempotent); the intake API refuses it from the next request.
    Logged as ``nguon.intake_token_revoke``."""
    token = IntakeToken.objects.select_for_update().select_related("user").get(pk=token.pk)
    _check_may_manage(by, token.user)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        log(
            instance=token,
            action="nguon.intake_token_revoke",
            user=by,
            data={"for": token.user.get_username(), "prefix": token.prefix, "via": via or "admin"},
        )
    return token


def intake_token_check(raw: str) -> IntakeToken | None:
    if not raw:
        return None
    token = (
        IntakeToken.objects.select_related("user")
        .filter(key_hash=_sha256(raw.encode()), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is not None:
        IntakeToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def clean_text(value) -> str:
    """Plain text as typed: tags (and script/style contents) removed, every other character
    kept, entities decoded (``Tom & Jerry <3 > 2`` stays exactly that). Nothing is
    HTML-escaped here: templates, feeds and JSON escape on output. Repeated until stable,
    so an escaped tag (``&lt;b&gt;``) does not become a tag either."""
    text = str(value)
    for _pass in range(4):
        cleaned = html.unescape(nh3.clean(text, tags=set()))
        if cleaned == text:
            break
        text = cleaned
    return _BIDI_CONTROLS.sub("", text).strip()


def clean_html(value) -> str:
    return nh3.clean(
        str(value),
        tags=BODY_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"http", "https", "mailto"},
    )


class IntakeIn(Schema):
    """The JSON an intake client sends (the OpenAPI description is this class); the
    values are checked against the database and the caller's roles after it validates.
    Control characters (NUL too) in the text are dropped when the item is saved; a code
    or slug holding a NUL names nothing."""

    headline: str = Field(..., min_length=1, max_length=TEXT_LIMITS["headline"])
    unit: str = Field(..., min_length=1, max_length=64, description="official unit code")
    body: str | None = Field(None, description="HTML; cleaned (p, br, h2, h3, b, i, lists, a)")
    byline: str | None = Field(None, max_length=TEXT_LIMITS["byline"])
    summary: str | None = Field(None, max_length=TEXT_LIMITS["summary"])
    language: Literal["vi", "en"] | None = None
    category: str | None = Field(None, max_length=100, description="category slug")
    distribution: Literal[tuple(NewsItem.Distribution.values)] | None = None  # type: ignore[valid-type]


class IntakeOut(Schema):
    uri: str
    id: int
    guid: str
    headline: str
    unit: str
    pubstatus: str
    audio: int | None
    video: int | None


@dataclass
class IntakeData:
    unit: AdministrativeUnit
    fields: dict


def check_intake(*, user, payload) -> IntakeData:
    """Validate the payload; raise ``IntakeError`` naming the first wrong field."""
    if not isinstance(payload, dict):
        raise IntakeError(422, _("The body must be a JSON object."), None)
    body = payload.get("body")
    if isinstance(body, str) and len(body.encode()) > settings.NGUON_INTAKE_MAX_BODY_BYTES:
        raise IntakeError(413, _("The body is too large."), "body")
    try:
        IntakeIn.model_validate(payload)
    except SchemaError as exc:
        problem = exc.errors()[0]
        field = str(problem["loc"][0]) if problem.get("loc") else None
        if problem["type"] == "missing":
            raise IntakeError(422, _("This field is required."), field) from None
        if problem["type"] == "string_type":
            raise IntakeError(422, _("This field must be a string."), field) from None
        if problem["type"] == "string_too_long":
            limit = problem["ctx"]["max_length"]
            raise IntakeError(422, _("At most %(n)d characters.") % {"n": limit}, field) from None
        if field == "language":
            raise IntakeError(422, _("Unsupported language."), field) from None
        if field == "distribution":
            raise IntakeError(422, _("Choose a valid distribution scope."), field) from None
        if problem["type"] == "string_too_short":
            raise IntakeError(422, _("This field is required."), field) from None
        raise IntakeError(422, _("This field must be a string."), field) from None
    for name in ("headline", "unit"):
        if not str(payload.get(name) or "").strip():
            raise IntakeError(422, _("This field is required."), name)
    for name in ("headline", "byline", "body", "summary", "language", "category", "unit"):
        if name in payload and payload[name] is not None and not isinstance(payload[name], str):
            raise IntakeError(422, _("This field must be a string."), name)
    for name, limit in TEXT_LIMITS.items():
        if len(payload.get(name) or "") > limit:
            raise IntakeError(422, _("At most %(n)d characters.") % {"n": limit}, name)
    language = payload.get("language") or "vi"
    if language not in LANGUAGES:
        raise IntakeError(422, _("Unsupported language."), "language")
    code = payload["unit"].strip()
    unit = None if "\x00" in code else AdministrativeUnit.objects.filter(code=code).first()
    if unit is None:
        raise IntakeError(422, _("Unknown unit code."), "unit")
    if not policy.user_can(user, "submit", unit):
        raise IntakeError(403, _("You have no reporter role in this unit."), "unit")
    category = None
    if payload.get("category"):
        slug = payload["category"]
        category = None if "\x00" in slug else Category.objects.filter(slug=slug).first()
        if category is None:
            raise IntakeError(422, _("Unknown category."), "category")
    distribution = payload.get("distribution") or NewsItem.Distribution.PROVINCE
    if distribution not in NewsItem.Distribution.values:
        raise IntakeError(422, _("Choose a valid distribution scope."), "distribution")
    headline = clean_text(payload["headline"])
    if not headline:
        raise IntakeError(422, _("This field is required."), "headline")
    return IntakeData(
        unit=unit,
        fields={
            "headline": headline,
            "body": clean_html(payload.get("body") or ""),
            "byline": clean_text(payload.get("byline") or ""),
            "summary": clean_text(payload.get("summary") or ""),
            "category": category,
            "distribution": distribution,
        },
    )


def do_intake(
    *, token: IntakeToken, payload, files: dict, idempotency_key: str, body_hash: str
) -> tuple[NewsItem, bool]:
    """Create the draft item once per key. Returns (item, created)."""
    from media.services import asset_create, asset_files_kept_on_success, asset_validate_upload

    user = token.user
    key = (idempotency_key or "").strip()
    if len(key) > 255:  # the API refuses it first (400); never cut: prefixes would collide
        raise IntakeError(
            400,
            _("The Idempotency-Key is longer than %(n)d characters.") % {"n": 255},
            "Idempotency-Key",
        )
    if key:
        record = IntakeRecord.objects.filter(token=token, key=key).select_related("item").first()
        if record is not None:
            if record.body_hash != body_hash:
                raise IntakeError(
                    409, _("This Idempotency-Key was used with a different body."), None
                )
            return record.item, False
    data = check_intake(user=user, payload=payload)
    media = {}
    for field, kind in (("audio", "audio"), ("video", "video")):
        upload = files.get(field)
        if upload is not None:
            try:
                media[field] = (upload, kind, asset_validate_upload(upload=upload, kind=kind))
            except ValidationError as exc:
                raise IntakeError(422, " ".join(exc.messages), field) from exc
    from .services import item_create

    try:
        # A refusal after the media was stored (the item does not validate) rolls the rows
        # back and deletes the files: no byte of a refused intake stays under MEDIA_ROOT.
        with asset_files_kept_on_success(), transaction.atomic():
            fields = dict(data.fields)
            for field, (upload, kind, probe) in media.items():
                fields[field] = asset_create(upload=upload, kind=kind, user=user, probe=probe)
            if "audio" in fields:
                fields["kind"] = NewsItem.Kind.AUDIO
            elif "video" in fields:
                fields["kind"] = NewsItem.Kind.VIDEO
            headline = fields.pop("headline")
            item = item_create(user=user, unit=data.unit, headline=headline, **fields)
            if key:
                IntakeRecord.objects.create(token=token, key=key, body_hash=body_hash, item=item)
    except PermissionDenied as exc:
        raise IntakeError(403, str(exc), "unit") from exc
    except ValidationError as exc:
        field = next(iter(getattr(exc, "message_dict", {}) or {}), None)
        raise IntakeError(422, " ".join(exc.messages), field) from exc
    except IntegrityError:  # the same key raced in: answer with the winner's item
        record = IntakeRecord.objects.filter(token=token, key=key).select_related("item").first()
        if record is None:
            raise
        if record.body_hash != body_hash:
            raise IntakeError(
                409, _("This Idempotency-Key was used with a different body."), None
            ) from None
        return record.item, False
    return item, True
