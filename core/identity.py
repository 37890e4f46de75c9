"""The publisher's identity: who runs the portal, as Nghị định 42/2022/NĐ-CP asks a state
agency's portal to say (governing agency, person responsible, address, phone, e-mail,
licence), plus the province's name and emblem.

One Wagtail site setting (``SiteIdentity``), edited by the province's administrator under
*Settings*. Every channel reads it through :func:`identity_get`: the portal's header and
footer, favicon, Open Graph and schema.org publisher; the feeds' channel data; ninjs. It
lives in ``core`` because channels on every layer read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import models
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting

CACHE_KEY = "nguon:identity:v1:{site_id}"
CACHE_SECONDS = 3600

# Rendition specs made from the emblem (all PNG: favicons need no WebP).
FAVICON_SPEC = "fill-32x32|format-png"
TOUCH_ICON_SPEC = "fill-180x180|format-png"
HEADER_EMBLEM_SPEC = "height-64|format-png"
OG_EMBLEM_SPEC = "max-630x630|format-png"


@register_setting(icon="site")
class SiteIdentity(BaseSiteSetting):
    province_name = models.CharField(
        _("province name"), max_length=120, blank=True, help_text=_("e.g. Tỉnh Bình Phước")
    )
    portal_name = models.CharField(
        _("portal name"),
        max_length=200,
        blank=True,
        help_text=_("Shown in the header, browser tabs and feeds."),
    )
    emblem = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("emblem"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The province's emblem; also the favicon and the default sharing image."),
    )
    governing_agency = models.CharField(_("governing agency"), max_length=200, blank=True)
    person_responsible = models.CharField(_("person responsible"), max_length=200, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=60, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    licence = models.CharField(
        _("licence"),
        max_length=300,
        blank=True,
        help_text=_("The licence to run the portal: number, issuer and date."),
    )

    panels = [
        MultiFieldPanel(
            [FieldPanel("province_name"), FieldPanel("portal_name"), FieldPanel("emblem")],
            heading=_("Province"),
        ),
        MultiFieldPanel(
            [
                FieldPanel("governing_agency"),
                FieldPanel("person_responsible"),
                FieldPanel("address"),
                FieldPanel("phone"),
                FieldPanel("email"),
                FieldPanel("licence"),
            ],
            heading=_("Publisher (Decree 42/2022/NĐ-CP)"),
        ),
    ]

    class Meta:
        verbose_name = _("portal identity")


@dataclass(frozen=True)
class Identity:
    """What readers and feeds are told about the publisher (plain values, cacheable)."""

    site_name: str
    portal_name: str = ""  # as the administrator set it (empty: not set)
    province_name: str = ""
    governing_agency: str = ""
    person_responsible: str = ""
    address: str = ""
    phone: str = ""
    email: str = ""
    licence: str = ""
    emblem_alt: str = ""
    # Relative URLs of the emblem's renditions by spec (empty without an emblem).
    emblem: dict = field(default_factory=dict)

    @property
    def publisher_name(self) -> str:
        return self.governing_agency or self.site_name


def _emblem_renditions(image) -> dict:
    if image is None:
        return {}
    out = {}
    for name, spec in (
        ("favicon", FAVICON_SPEC),
        ("touch", TOUCH_ICON_SPEC),
        ("header", HEADER_EMBLEM_SPEC),
        ("og", OG_EMBLEM_SPEC),
    ):
        try:
            rendition = image.get_rendition(spec)
        except OSError:  # the file is gone: no emblem rather than a broken page
            return {}
        out[name] = {"url": rendition.url, "width": rendition.width, "height": rendition.height}
    return out


def identity_get(*, site=None, default_name: str = "Nguồn") -> Identity:
    """The identity of ``site`` (the default site when None), from the cache when it can.

    One query and the emblem's renditions on a miss; nothing on a hit. Saving the setting
    or its emblem clears the cached value.
    """
    from wagtail.models import Site

    key = CACHE_KEY.format(site_id=site.pk if site is not None else "default")
    cached = cache.get(key)
    if cached is not None:
        return cached
    if site is None:
        site = Site.objects.filter(is_default_site=True).select_related("root_page").first()
        if site is None:
            return Identity(site_name=default_name)
    setting = SiteIdentity.objects.filter(site=site).select_related("emblem").first()
    fallback = site.root_page.title if site.root_page_id else (site.site_name or default_name)
    if setting is None:
        identity = Identity(site_name=fallback)
    else:
        identity = Identity(
            site_name=setting.portal_name or fallback,
            portal_name=setting.portal_name,
            province_name=setting.province_name,
            governing_agency=setting.governing_agency,
            person_responsible=setting.person_responsible,
            address=setting.address,
            phone=setting.phone,
            email=setting.email,
            licence=setting.licence,
            emblem_alt=(
                (setting.emblem.description or setting.emblem.title) if setting.emblem else ""
            ),
            emblem=_emblem_renditions(setting.emblem),
        )
    cache.set(key, identity, CACHE_SECONDS)
    return identity


def identity_forget(**kwargs) -> None:
    """Drop every cached identity (a setting or an image changed)."""
    from wagtail.models import Site

    keys = [CACHE_KEY.format(site_id=pk) for pk in Site.objects.values_list("pk", flat=True)]
    cache.delete_many([*keys, CACHE_KEY.format(site_id="default")])


def _on_identity_saved(sender, **kwargs):
    identity_forget()


def _on_image_saved(sender, instance, **kwargs):
    if SiteIdentity.objects.filter(emblem_id=instance.pk).exists():
        identity_forget()


post_save.connect(_on_identity_saved, sender=SiteIdentity, dispatch_uid="identity-saved")
post_delete.connect(_on_identity_saved, sender=SiteIdentity, dispatch_uid="identity-deleted")
