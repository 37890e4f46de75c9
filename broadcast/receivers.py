"""Reactions that keep device timelines and cached identities current.

- ``newsroom.events.item_withdrawn`` / ``item_published``: timelines using the item get a
  new version (a withdrawn item disappears at the next poll; a correction replaces it).
- A loudspeaker rendition becoming ready: the item (or TTS bulletin) can now be played.
- A library image saved or deleted (its alt text corrected, say): the timelines displaying
  an item with that picture get a new version.
- Cluster, zone membership and device edits (also from the admin): cached identities of the
  devices concerned are dropped and their cluster's version bumped.
- ``newsroom.events.units_reformed``: the same for every cluster in the reformed units'
  subtrees (a device's scopes name its commune's ancestors, which a reform changes).
"""

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver
from wagtail.images import get_image_model

from media.models import Rendition
from media.signals import renditions_ready
from newsroom.events import item_published, item_withdrawn, units_reformed
from newsroom.models import NewsItem

from .device_api import cache as bcache
from .models import Cluster, Device, Relay, Slot, SlotItem
from .programmes.services import items_invalidate, programmes_invalidate
from .registry import clusters_invalidate, now_and_on_commit, subtrees_q


@receiver(item_withdrawn)
def on_item_withdrawn(sender, item_id, **kwargs):
    items_invalidate([item_id])


@receiver(item_published)
def on_item_published(sender, item_id, **kwargs):
    items_invalidate([item_id])


@receiver(units_reformed)
def on_units_reformed(sender, unit_ids, **kwargs):
    """Sent after the reform's commit: the clusters' communes now sit under new ancestors."""
    cluster_ids = Cluster.objects.filter(subtrees_q(unit_ids, "commune__")).values_list(
        "pk", flat=True
    )
    clusters_invalidate(cluster_ids)


def _loudspeaker_ready(asset_id: int) -> None:
    item_ids = list(NewsItem.objects.filter(audio_id=asset_id).values_list("pk", flat=True))
    items_invalidate(item_ids)
    programme_ids = Slot.objects.filter(tts_asset_id=asset_id).values_list(
        "programme_id", flat=True
    )
    programmes_invalidate(list(programme_ids))


@receiver(renditions_ready)
def on_renditions_ready(sender, asset_id, profiles, **kwargs):
    """The pipeline made renditions (sent after its commit)."""
    if "loudspeaker" in profiles:
        _loudspeaker_ready(asset_id)


@receiver(post_save, sender=Rendition)
def on_rendition_saved(sender, instance, **kwargs):
    """A rendition saved one by one (the admin, a repair script) as ready."""
    if instance.profile != "loudspeaker" or instance.status != Rendition.Status.READY:
        return
    asset_id = instance.asset_id
    transaction.on_commit(lambda: _loudspeaker_ready(asset_id))


def _picture_changed(image_id: int) -> None:
    displayed = NewsItem.objects.filter(
        pk__in=SlotItem.objects.filter(slot__content=Slot.Content.DISPLAY).values("item_id")
    ).only("pk", "image_id", "gallery")
    items_invalidate(
        [
            item.pk
            for item in displayed
            if item.image_id == image_id
            or any(
                (block.get("value") or {}).get("image") == image_id
                for block in item.gallery.raw_data
            )
        ]
    )


@receiver(post_save, sender=get_image_model(), dispatch_uid="broadcast_image_saved")
@receiver(post_delete, sender=get_image_model(), dispatch_uid="broadcast_image_deleted")
def on_image_changed(sender, instance, **kwargs):
    """Only items some programme displays are read (a board shows their pictures)."""
    image_id = instance.pk
    transaction.on_commit(lambda: _picture_changed(image_id))


@receiver(post_save, sender=Cluster)
@receiver(post_delete, sender=Cluster)
def on_cluster_changed(sender, instance, **kwargs):
    pk = instance.pk
    now_and_on_commit(lambda: clusters_invalidate([pk]))


@receiver(m2m_changed, sender=Cluster.zones.through)
def on_cluster_zones_changed(sender, instance, action, pk_set=None, **kwargs):
    if not action.startswith("post_"):
        return
    if isinstance(instance, Cluster):
        ids = [instance.pk]
    else:  # changed from the zone's side
        ids = list(pk_set or instance.clusters.values_list("pk", flat=True))
    now_and_on_commit(lambda: clusters_invalidate(ids))


@receiver(post_save, sender=Device)
@receiver(post_delete, sender=Device)
def on_device_changed(sender, instance, **kwargs):
    digest = instance.token_hash
    now_and_on_commit(lambda: bcache.identity_forget([digest]))


@receiver(post_save, sender=Relay)
@receiver(post_delete, sender=Relay)
def relays_changed(sender, **kwargs):
    """The managed Icecast relays what the Relay rows say (after the commit)."""
    from .live.relays import relay_sync

    transaction.on_commit(relay_sync)
