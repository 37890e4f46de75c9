"""Intake API tokens and the idempotency keys they used."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .items import NewsItem


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
