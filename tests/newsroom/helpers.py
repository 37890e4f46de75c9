"""Helpers shared by the newsroom tests."""

from newsroom.models import NewsItem


def current_step(item):
    """``(level, unit code)`` of the step the item waits at, or None."""
    item = NewsItem.objects.get(pk=item.pk)
    state = item.current_workflow_state
    if state is None or state.status != "in_progress":
        return None
    task_state = state.current_task_state.specific
    return (task_state.task.specific.level, task_state.unit.code)
