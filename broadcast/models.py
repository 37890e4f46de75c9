"""Loudspeaker clusters (cụm loa) of a commune and the devices that play them."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel


class Cluster(models.Model):
    name = models.CharField(_("name"), max_length=255)
    commune = models.ForeignKey(
        "newsroom.AdministrativeUnit",
        verbose_name=_("commune"),
        on_delete=models.PROTECT,
        related_name="clusters",
    )
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    panels = [FieldPanel("name"), FieldPanel("commune"), FieldPanel("enabled")]

    class Meta:
        verbose_name = _("loudspeaker cluster")
        verbose_name_plural = _("loudspeaker clusters")

    def __str__(self) -> str:
        return self.name


class Device(models.Model):
    """A receiver in a cluster. Its API token is stored only as a SHA-256 digest."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="devices")
    serial = models.CharField(_("serial number"), max_length=64, unique=True)
    vendor = models.CharField(_("vendor"), max_length=64, blank=True)
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    token_prefix = models.CharField(max_length=8, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)

    panels = [
        FieldPanel("cluster"),
        FieldPanel("serial"),
        FieldPanel("vendor"),
        FieldPanel("enabled"),
    ]

    class Meta:
        verbose_name = _("loudspeaker device")
        verbose_name_plural = _("loudspeaker devices")

    def __str__(self) -> str:
        return f"{self.cluster} / {self.serial}"
