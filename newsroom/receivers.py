"""Signal wiring: Wagtail's publish signals become newsroom events; a published item's
pictures get their channel renditions ahead of the first reader; memberships grant the
role's admin group; groups and the approval workflow are kept in place after migrate."""

import logging

from django.db.models import F
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver
from django.utils import timezone
from wagtail.log_actions import log
from wagtail.models import ModelLogEntry
from wagtail.signals import published, task_submitted, unpublished

from media.tasks import image_renditions_make

from .audit import enrich_log_entry
from .events import announce_item_published, announce_item_withdrawn, item_published
from .models import Membership, NewsItem, UnitApprovalTaskState
from .pictures import item_pictures
from .roles import role_group, roles_sync_groups

logger = logging.getLogger(__name__)


@receiver(published, sender=NewsItem)
def on_item_published(sender, instance, revision=None, **kwargs):
    if not instance.live:
        # Wagtail sends ``published`` for a revision scheduled for later (an embargo) too;
        # the item goes live, and is announced, when the beat task publishes it.
        return
    now = timezone.now()
    NewsItem.objects.filter(pk=instance.pk).update(
        version=F("version") + 1, version_created_at=now, withdrawn_at=None
    )
    instance.refresh_from_db(fields=["version", "version_created_at", "withdrawn_at"])
    if instance.version > 1:
        log(
            instance=instance,
            action="nguon.correct",
            user=kwargs.get("user"),
            revision=revision,
            data={"version": instance.version},
        )
    announce_item_published(instance, first=instance.version == 1)


@receiver(unpublished, sender=NewsItem)
def on_item_unpublished(sender, instance, **kwargs):
    if instance.version:
        NewsItem.objects.filter(pk=instance.pk).update(withdrawn_at=timezone.now())
        instance.refresh_from_db(fields=["withdrawn_at"])
    announce_item_withdrawn(instance)


@receiver(item_published, dispatch_uid="newsroom_item_pictures_render")
def on_item_published_pictures(sender, item_id, **kwargs):
    """Queue the renditions the feeds, ninjs and bulletin boards offer of the item's
    pictures (``media.image_renditions``). Readers make a missing one themselves, so a
    broker that is down only makes the first reader slower."""
    item = NewsItem.objects.filter(pk=item_id).select_related("image").first()
    image_ids = [p.image.pk for p in item_pictures(item)] if item is not None else []
    if not image_ids:
        return
    try:
        image_renditions_make.delay(image_ids)
    except Exception:
        logger.exception("could not queue the picture renditions of item %s", item_id)


receiver(pre_save, sender=ModelLogEntry)(enrich_log_entry)


@receiver(task_submitted, sender=UnitApprovalTaskState)
def on_step_reached(sender, instance, user=None, **kwargs):
    from .notifications import step_notify

    step_notify(task_state=instance)


@receiver(post_save, sender=Membership)
def on_membership_saved(sender, instance, **kwargs):
    instance.user.groups.add(role_group(instance.role))


@receiver(post_delete, sender=Membership)
def on_membership_deleted(sender, instance, **kwargs):
    if not Membership.objects.filter(user_id=instance.user_id, role=instance.role).exists():
        instance.user.groups.remove(role_group(instance.role))


def on_post_migrate(sender, **kwargs):
    from .workflow import workflow_ensure

    roles_sync_groups()
    workflow_ensure()
