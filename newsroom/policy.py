"""Who may do what, where: the one place that answers permission questions.

A role is held at a unit and applies to that unit's whole subtree. ``units_for(user,
action)`` returns the units (subtrees already expanded) where ``user`` may perform
``action``; ``user_can(user, action, target)`` answers for one unit or one news item.

For a unit, the answer is "the user holds one of the action's roles at the unit or an
ancestor". For an item, the item's state counts too: an approval step is acted on only by
holders of the step's role at exactly the step's unit; publishing and withdrawal belong to
whoever approves the chain's last step (or holds that role higher up); a withdrawn item is
never submitted again.

Other apps call ``units_for(user, "schedule")`` and ``user_can(user, "emergency", unit)``;
these names are stable.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .chain import self_approval_blocked
from .models import AdministrativeUnit, Membership, NewsItem, Role

R = Role
ALL_ROLES = frozenset(R.values)

ACTIONS: dict[str, frozenset[str]] = {
    "view": ALL_ROLES,
    "edit": frozenset({R.REPORTER, R.UNIT_ADMIN}),
    "submit": frozenset({R.REPORTER, R.UNIT_ADMIN}),
    "approve": frozenset({R.APPROVER, R.EDITORIAL_BOARD}),
    "return": frozenset({R.APPROVER, R.EDITORIAL_BOARD}),
    "publish": frozenset({R.APPROVER, R.EDITORIAL_BOARD}),
    "withdraw": frozenset({R.APPROVER, R.EDITORIAL_BOARD}),
    "schedule": frozenset({R.SCHEDULER}),
    "emergency": frozenset({R.SCHEDULER}),
    # Speak live to the loudspeakers from the browser (broadcast.live).
    "live": frozenset({R.SCHEDULER}),
    "manage_members": frozenset({R.UNIT_ADMIN}),
}


def _check_action(action: str) -> frozenset[str]:
    try:
        return ACTIONS[action]
    except KeyError:
        raise ValueError(f"unknown action {action!r}; one of {sorted(ACTIONS)}") from None


def role_paths(user, roles) -> list[str]:
    """Tree paths of the units where ``user`` holds one of ``roles`` (cached per user)."""
    if not getattr(user, "is_authenticated", False):
        return []
    cache = user.__dict__.setdefault("_nguon_role_paths", {})
    key = tuple(sorted(roles))
    if key not in cache:
        cache[key] = list(
            Membership.objects.filter(user=user, role__in=key)
            .values_list("unit__path", flat=True)
            .distinct()
        )
    return cache[key]


def forget(user) -> None:
    """Drop the per-request caches after memberships changed."""
    for key in ("_nguon_role_paths", "_nguon_unit_paths", "_nguon_step_roles"):
        user.__dict__.pop(key, None)


def _subtree_q(paths: list[str], prefix: str = "") -> Q:
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{prefix}path__startswith": path})
    return q


def units_for(user, action: str) -> QuerySet[AdministrativeUnit]:
    """Units where ``user`` may ``action`` (whole subtrees). Inactive units only for view."""
    roles = _check_action(action)
    qs = AdministrativeUnit.objects.all()
    if action != "view":
        qs = qs.filter(is_active=True)
    if not getattr(user, "is_authenticated", False):
        return qs.none()
    if user.is_superuser:
        return qs
    paths = role_paths(user, roles)
    if not paths:
        return qs.none()
    return qs.filter(_subtree_q(paths))


def _unit_allows(user, action: str, unit: AdministrativeUnit) -> bool:
    roles = _check_action(action)
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    if action != "view" and not unit.is_active:
        return False
    return any(unit.path.startswith(p) for p in role_paths(user, roles))


def _holds_at(user, role: str, unit: AdministrativeUnit) -> bool:
    return any(unit.path == p for p in role_paths(user, [role]))


def _holds_at_or_above(user, roles, unit: AdministrativeUnit) -> bool:
    return any(unit.path.startswith(p) for p in role_paths(user, roles))


def _current_step(item: NewsItem):
    state = item.current_workflow_state
    if state is None or state.status != state.STATUS_IN_PROGRESS:
        return None
    task_state = state.current_task_state
    if task_state is None or task_state.status != task_state.STATUS_IN_PROGRESS:
        return None
    return task_state.specific


def _step_allows(user, task_state) -> bool:
    if task_state is None or task_state.unit_id is None:
        return False
    if user.is_superuser:
        return True
    return _holds_at(user, task_state.task.specific.role, task_state.unit)


def _top_allows(user, item: NewsItem) -> bool:
    """The last step's approvers (or holders of that role above it) publish and withdraw."""
    from .chain import STEP_ROLE, chain_top

    if user.is_superuser:
        return True
    level, unit = chain_top(item.unit, item.distribution)
    role = STEP_ROLE[level]
    return _holds_at_or_above(user, [role], unit) or (
        role == R.APPROVER and _holds_at_or_above(user, [R.EDITORIAL_BOARD], unit)
    )


def _item_allows(user, action: str, item: NewsItem) -> bool:
    _check_action(action)
    if not getattr(user, "is_authenticated", False):
        return False
    unit = item.unit
    if action == "view":
        return _unit_allows(user, "view", unit) or _step_allows(user, _current_step(item))
    if action == "edit":
        step = _current_step(item)
        if step is not None:
            return _step_allows(user, step)
        return _unit_allows(user, "edit", unit)
    if action == "submit":
        if item.withdrawn_at is not None or item.workflow_in_progress:
            return False
        return _unit_allows(user, "submit", unit)
    if action == "return":
        return _step_allows(user, _current_step(item))
    if action == "approve":
        return _step_allows(user, _current_step(item)) and not self_approval_blocked(item, user)
    if action == "publish":
        step = _current_step(item)
        if step is None or not _step_allows(user, step) or self_approval_blocked(item, user):
            return False
        from .chain import chain_top

        _level, top_unit = chain_top(item.unit, item.distribution)
        return step.task.specific.role == _top_role(item) and step.unit_id == top_unit.pk
    if action == "withdraw":
        if not item.live:
            return False
        return _unit_allows(user, "view", unit) and _top_allows(user, item)
    return _unit_allows(user, action, unit)


def _top_role(item: NewsItem) -> str:
    from .chain import STEP_ROLE, chain_top

    return STEP_ROLE[chain_top(item.unit, item.distribution)[0]]


def user_can(user, action: str, target) -> bool:
    """May ``user`` perform ``action`` on ``target`` (an AdministrativeUnit or a NewsItem)?"""
    if isinstance(target, NewsItem):
        return _item_allows(user, action, target)
    if isinstance(target, AdministrativeUnit):
        return _unit_allows(user, action, target)
    raise TypeError(f"user_can() takes a unit or a news item, not {type(target).__name__}")
