"""Keep the index in step with publication events."""

from django.dispatch import receiver

from newsroom.events import item_published, item_unpublished

from .tasks import index_item


@receiver(item_published)
def on_item_published(sender, item_id, **kwargs):
    index_item.delay(item_id)


@receiver(item_unpublished)
def on_item_unpublished(sender, item_id, **kwargs):
    index_item.delay(item_id)
