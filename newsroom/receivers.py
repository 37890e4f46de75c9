"""Signal wiring: Wagtail's publish signals become newsroom events; memberships grant the
role's admin group; groups and the approval workflow are kept in place after migrate."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from wagtail.signals import published, unpublished

from .events import announce_item_published, announce_item_unpublished
from .models import Membership, NewsItem
from .roles import role_group, roles_sync_groups


@receiver(published, sender=NewsItem)
def on_item_published(sender, instance, revision=None, **kwargs):
    first = instance.first_published_at == instance.last_published_at
    announce_item_published(instance, first=first)


@receiver(unpublished, sender=NewsItem)
def on_item_unpublished(sender, instance, **kwargs):
    announce_item_unpublished(instance)


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
