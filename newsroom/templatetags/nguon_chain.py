"""Template tags for the chain as the admin draws it."""

from django import template

register = template.Library()


@register.simple_tag
def needed_tasks(workflow_state, obj):
    """The workflow's steps with their states (Wagtail's ``all_tasks_with_state``), only
    those the item needs: a province item's timeline shows no editorial board."""
    from newsroom.review import needed_tasks as needed

    return needed(obj, workflow_state.all_tasks_with_state())
