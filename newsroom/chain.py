"""The shape of an item's approval chain: which levels approve, derived from the owning
unit's ancestry and the distribution scope the reporter (or a later approver) asked for;
and who may not approve a version (its authors).

- commune loudspeakers only → the commune approves;
- district → up to the district, where that level exists;
- province → up to the province;
- national → up to the province, then the provincial editorial board as the last step.

A scope narrower than the owner's own level counts as the owner's level (a district item
always needs its district), so a chain is never empty. Reads only: no writes here.
"""

from __future__ import annotations

from django.conf import settings
from wagtail.models import Revision

from .models import AdministrativeUnit, NewsItem, Role, StepLevel, content_differs

SCOPE_RANK: dict[str, int] = {
    NewsItem.Distribution.COMMUNE: 1,
    NewsItem.Distribution.DISTRICT: 2,
    NewsItem.Distribution.PROVINCE: 3,
    NewsItem.Distribution.NATIONAL: 4,
}
UNIT_RANK: dict[str, int] = {
    AdministrativeUnit.Type.COMMUNE: 1,
    AdministrativeUnit.Type.DISTRICT: 2,
    AdministrativeUnit.Type.PROVINCE: 3,
}
STEP_RANK: dict[str, int] = {
    StepLevel.COMMUNE: 1,
    StepLevel.DISTRICT: 2,
    StepLevel.PROVINCE: 3,
    StepLevel.BOARD: 4,
}
# The unit type whose members approve a step, and the role they need there.
STEP_UNIT_TYPE: dict[str, str] = {
    StepLevel.COMMUNE: AdministrativeUnit.Type.COMMUNE,
    StepLevel.DISTRICT: AdministrativeUnit.Type.DISTRICT,
    StepLevel.PROVINCE: AdministrativeUnit.Type.PROVINCE,
    StepLevel.BOARD: AdministrativeUnit.Type.PROVINCE,
}
STEP_ROLE: dict[str, str] = {
    StepLevel.COMMUNE: Role.APPROVER,
    StepLevel.DISTRICT: Role.APPROVER,
    StepLevel.PROVINCE: Role.APPROVER,
    StepLevel.BOARD: Role.EDITORIAL_BOARD,
}
STEP_ORDER: list[str] = [StepLevel.COMMUNE, StepLevel.DISTRICT, StepLevel.PROVINCE, StepLevel.BOARD]


def effective_rank(unit: AdministrativeUnit, distribution: str) -> int:
    return max(SCOPE_RANK.get(distribution, 3), UNIT_RANK.get(unit.unit_type, 1))


def step_unit(
    level: str, unit: AdministrativeUnit, distribution: str, ancestors=None
) -> AdministrativeUnit | None:
    """The unit whose members approve step ``level`` for an item, or None (step skipped)."""
    if STEP_RANK[level] > effective_rank(unit, distribution):
        return None
    wanted = STEP_UNIT_TYPE[level]
    for ancestor in ancestors if ancestors is not None else unit.ancestors_and_self():
        if ancestor.unit_type == wanted:
            return ancestor
    return None


def chain_plan(unit: AdministrativeUnit, distribution: str) -> list[tuple[str, AdministrativeUnit]]:
    """The steps that will run, in order: ``[(level, approving unit), …]``."""
    ancestors = list(unit.ancestors_and_self())
    plan: list[tuple[str, AdministrativeUnit]] = []
    for level in STEP_ORDER:
        approving = step_unit(level, unit, distribution, ancestors)
        if approving is not None:
            plan.append((level, approving))
    return plan


def chain_top(unit: AdministrativeUnit, distribution: str) -> tuple[str, AdministrativeUnit]:
    """The last step: whoever approves it publishes the item (and may withdraw it)."""
    plan = chain_plan(unit, distribution)
    return plan[-1] if plan else (StepLevel.COMMUNE, unit)


def version_authors(item, revision=None) -> set[int]:
    """Ids of the people who may not approve ``revision`` (the item's latest by default):
    whoever submitted the item for approval, and whoever last changed its content (saving
    unchanged content, as the editor does when an approver acts in it, does not count)."""
    authors: set[int] = set()
    state = item.current_workflow_state
    if state is not None and state.requested_by_id:
        authors.add(state.requested_by_id)
    revision = revision or item.get_latest_revision()
    if revision is None:
        return authors
    newer = revision
    for older in Revision.objects.filter(
        base_content_type_id=revision.base_content_type_id,
        object_id=revision.object_id,
        pk__lt=revision.pk,
    ).order_by("-pk")[:50]:
        if content_differs(older.content, newer.content):
            break
        newer = older
    if newer.user_id:
        authors.add(newer.user_id)
    return authors


def self_approval_blocked(item, user) -> bool:
    """True when ``user`` wrote or submitted the version awaiting approval and the
    province has not allowed one official to do both (``NGUON_ALLOW_SELF_APPROVAL``)."""
    if settings.NGUON_ALLOW_SELF_APPROVAL:
        return False
    return user.pk in version_authors(item)
