"""Admin view mixins that confine every news-item view to the user's units."""

from django.core.exceptions import PermissionDenied

from .selectors import item_list_for_user, item_user_can_edit, item_user_can_view

# Views that change the object; everything else only needs "can view".
_EDITING_VIEWS = {"edit", "delete", "unpublish", "revisions_revert", "revisions_unschedule"}


class UnitScopedObjectMixin:
    """Deny access to an item outside the user's subtrees, whatever the view."""

    def get_object(self, *args, **kwargs):
        obj = super().get_object(*args, **kwargs)
        if obj is None:  # create views have no object yet
            return obj
        user = self.request.user
        if not item_user_can_view(user=user, item=obj):
            # An approver on the item's current step may see it even from elsewhere.
            task = obj.current_workflow_task
            if not (task and task.specific.user_can_access_editor(obj, user)):
                raise PermissionDenied
        if getattr(self, "view_name", "") in _EDITING_VIEWS and not item_user_can_edit(
            user=user, item=obj
        ):
            raise PermissionDenied
        return obj


def scoped_queryset(request):
    return item_list_for_user(user=request.user)
