"""The shape of an item's approval chain: which levels approve, derived from the owning
unit's ancestry and the distribution scope the reporter (or a later approver) asked for.

- commune loudspeakers only → the commune approves;
- district → up to the district, where that level exists;
- province → up to the province;
- national → up to the province, then the provincial editorial board as the last step.

A scope narrower than the owner's own level counts as the owner's level (a district item
always needs its district), so a chain is never empty. Pure functions: no writes here.
"""

from __future__ import annotations

from .models import AdministrativeUnit, NewsItem, Role, StepLevel

SCOPE_RANK = {
    NewsItem.Distribution.COMMUNE: 1,
    NewsItem.Distribution.DISTRICT: 2,
    NewsItem.Distribution.PROVINCE: 3,
    NewsItem.Distribution.NATIONAL: 4,
}
UNIT_RANK = {
    AdministrativeUnit.Type.COMMUNE: 1,
    AdministrativeUnit.Type.DISTRICT: 2,
    AdministrativeUnit.Type.PROVINCE: 3,
}
STEP_RANK = {
    StepLevel.COMMUNE: 1,
    StepLevel.DISTRICT: 2,
    StepLevel.PROVINCE: 3,
    StepLevel.BOARD: 4,
}
# The unit type whose members approve a step, and the role they need there.
STEP_UNIT_TYPE = {
    StepLevel.COMMUNE: AdministrativeUnit.Type.COMMUNE,
    StepLevel.DISTRICT: AdministrativeUnit.Type.DISTRICT,
    StepLevel.PROVINCE: AdministrativeUnit.Type.PROVINCE,
    StepLevel.BOARD: AdministrativeUnit.Type.PROVINCE,
}
STEP_ROLE = {
    StepLevel.COMMUNE: Role.APPROVER,
    StepLevel.DISTRICT: Role.APPROVER,
    StepLevel.PROVINCE: Role.APPROVER,
    StepLevel.BOARD: Role.EDITORIAL_BOARD,
}
STEP_ORDER = [StepLevel.COMMUNE, StepLevel.DISTRICT, StepLevel.PROVINCE, StepLevel.BOARD]


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
    plan = []
    for level in STEP_ORDER:
        approving = step_unit(level, unit, distribution, ancestors)
        if approving is not None:
            plan.append((level, approving))
    return plan


def chain_top(unit: AdministrativeUnit, distribution: str) -> tuple[str, AdministrativeUnit]:
    """The last step: whoever approves it publishes the item (and may withdraw it)."""
    plan = chain_plan(unit, distribution)
    return plan[-1] if plan else (StepLevel.COMMUNE, unit)


def draft_of(item: NewsItem) -> NewsItem:
    """The item as its latest revision has it (the row holds the live version)."""
    revision = item.get_latest_revision() if item.pk else None
    return revision.as_object() if revision is not None else item
