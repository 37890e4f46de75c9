"""Beat tasks of the newsroom: release embargoed items, remind waiting approvers.

Both are idempotent (row locks and status guards), so overlapping beats do no harm.
"""

from celery import shared_task


@shared_task(name="newsroom.tasks.items_publish_due", time_limit=300)
def items_publish_due() -> int:
    """Publish the approved items whose embargo (go_live_at) has passed."""
    from .services import items_publish_due as publish_due

    return len(publish_due())


@shared_task(name="newsroom.tasks.steps_remind", time_limit=300)
def steps_remind() -> int:
    """Remind approvers of steps waiting longer than NGUON_APPROVAL_REMINDER_HOURS."""
    from .notifications import steps_remind as remind

    return remind()
