"""Admin notices: "an item reached your step"."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .items import NewsItem
from .steps import UnitApprovalTaskState


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
