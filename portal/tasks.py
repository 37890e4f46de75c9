"""Portal background jobs."""

from celery import shared_task

from .pictures import item_pictures_render


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180, ignore_result=True)
def render_item_pictures(item_id: int) -> int:
    """Make the portal's renditions of a published item's pictures (idempotent; an item
    that is gone or withdrawn is skipped)."""
    return item_pictures_render(item_id=item_id)
