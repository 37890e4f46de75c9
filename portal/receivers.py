"""Retire cached portal pages when what they show changes (see ``portal.cache``), and make
a published item's picture renditions before readers ask for them (``portal.pictures``)."""

import logging

from django.db.models.signals import post_delete, post_save
from kombu.exceptions import OperationalError
from wagtail.images import get_image_model
from wagtail.models import PageViewRestriction

from core.identity import SiteIdentity
from media.models import Rendition
from newsroom.events import item_published, item_withdrawn, units_reformed
from newsroom.models import AdministrativeUnit, Category, NewsItem

from .cache import portal_cache_invalidate
from .models import HomePage, HomePageFeaturedItem
from .tasks import render_item_pictures

logger = logging.getLogger(__name__)


def on_item_published(sender, item_id, **kwargs) -> None:
    """Queue the renditions of the item's pictures. The publication is done and committed:
    a broker that cannot take the task is logged, not raised (the page then makes the
    missing renditions on its first view)."""
    try:
        render_item_pictures.delay(item_id)
    except OperationalError:
        logger.exception("portal: could not queue the picture renditions of item %s", item_id)


def connect() -> None:
    item_published.connect(on_item_published, dispatch_uid="portal-item-pictures")
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
