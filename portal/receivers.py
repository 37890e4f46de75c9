"""Retire cached portal pages when what they show changes (see ``portal.cache``)."""

from django.db.models.signals import post_delete, post_save
from wagtail.images import get_image_model
from wagtail.models import PageViewRestriction

from core.identity import SiteIdentity
from media.models import Rendition
from newsroom.events import item_published, item_withdrawn, units_reformed
from newsroom.models import AdministrativeUnit, Category, NewsItem

from .cache import portal_cache_invalidate
from .models import HomePage, HomePageFeaturedItem


def connect() -> None:
    for signal in (item_published, item_withdrawn, units_reformed):
        signal.connect(portal_cache_invalidate, dispatch_uid=f"portal-cache-{id(signal)}")
    for model in (
        NewsItem,
        HomePage,
        HomePageFeaturedItem,
        Category,
        AdministrativeUnit,
        Rendition,
        SiteIdentity,
        PageViewRestriction,
        get_image_model(),
    ):
        for signal in (post_save, post_delete):
            signal.connect(
                portal_cache_invalidate,
                sender=model,
                dispatch_uid=f"portal-cache-{model._meta.label}-{id(signal)}",
            )
