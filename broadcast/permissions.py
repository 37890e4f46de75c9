"""Who may schedule where, and who may start an emergency broadcast.

The newsroom's policy module (``newsroom.policy``: ``units_for(user, action)`` and
``user_can(user, action, unit)``) decides when it exists; until then the scheduler role
memberships do (a role applies to the unit's subtree), and an emergency additionally needs
the ``broadcast.emergency_broadcast`` permission (superusers have everything).
"""

from __future__ import annotations

from django.db.models import QuerySet

from newsroom.models import AdministrativeUnit


def _policy():
    try:
        from newsroom import policy
    except ImportError:
        return None
    if hasattr(policy, "units_for") and hasattr(policy, "user_can"):
        return policy
    return None


def schedulable_units(user) -> QuerySet[AdministrativeUnit]:
    """Units (whole subtrees, already expanded) where ``user`` may schedule broadcasts."""
    if not getattr(user, "is_authenticated", False):
        return AdministrativeUnit.objects.none()
    policy = _policy()
    if policy is not None:
        units = policy.units_for(user, "schedule")
        if isinstance(units, QuerySet):
            return units
        ids = [u.pk if hasattr(u, "pk") else u for u in units]
        return AdministrativeUnit.objects.filter(pk__in=ids)
    from newsroom.selectors import unit_list_for_user

    return unit_list_for_user(user=user, roles=["scheduler"])


def user_can_schedule(user, unit: AdministrativeUnit) -> bool:
    if getattr(user, "is_superuser", False):
        return True
    return schedulable_units(user).filter(pk=unit.pk).exists()


def user_can_emergency(user, unit: AdministrativeUnit) -> bool:
    if getattr(user, "is_superuser", False):
        return True
    policy = _policy()
    if policy is not None:
        return bool(policy.user_can(user, "emergency", unit))
    return user.has_perm("broadcast.emergency_broadcast") and user_can_schedule(user, unit)
