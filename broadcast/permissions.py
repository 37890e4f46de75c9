"""Who may schedule where, and who may start an emergency broadcast: the newsroom's policy
module decides (``newsroom.policy.units_for(user, "schedule")`` and
``user_can(user, "emergency", unit)``; a role applies to the unit's subtree); superusers
have everything.
"""

from __future__ import annotations

from django.db.models import QuerySet

from newsroom import policy
from newsroom.models import AdministrativeUnit


def schedulable_units(user) -> QuerySet[AdministrativeUnit]:
    """Units (whole subtrees, already expanded) where ``user`` may schedule broadcasts."""
    if not getattr(user, "is_authenticated", False):
        return AdministrativeUnit.objects.none()
    return policy.units_for(user, "schedule")


def user_can_schedule(user, unit: AdministrativeUnit) -> bool:
    if getattr(user, "is_superuser", False):
        return True
    return schedulable_units(user).filter(pk=unit.pk).exists()


def user_can_emergency(user, unit: AdministrativeUnit) -> bool:
    if getattr(user, "is_superuser", False):
        return True
    return bool(policy.user_can(user, "emergency", unit))


def user_can_live(user, unit: AdministrativeUnit) -> bool:
    """Whether ``user`` may speak live to the loudspeakers of ``unit`` (policy ``live``)."""
    if getattr(user, "is_superuser", False):
        return True
    return bool(policy.user_can(user, "live", unit))


def live_units(user) -> QuerySet[AdministrativeUnit]:
    if not getattr(user, "is_authenticated", False):
        return AdministrativeUnit.objects.none()
    return policy.units_for(user, "live")
