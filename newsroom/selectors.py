"""Reads: which units a user acts in, which items they may see, what is published."""

from django.db.models import Q, QuerySet

from .models import AdministrativeUnit, Membership, NewsItem, Role


def unit_paths_for_user(*, user, roles: list[str] | None = None) -> list[str]:
    """Tree paths of the units where ``user`` holds one of ``roles`` (any role if None)."""
    if not user.is_authenticated:
        return []
    cache = user.__dict__.setdefault("_nguon_unit_paths", {})
    key = tuple(sorted(roles)) if roles else None
    if key not in cache:
        memberships = Membership.objects.filter(user=user)
        if roles:
            memberships = memberships.filter(role__in=roles)
        cache[key] = list(memberships.values_list("unit__path", flat=True).distinct())
    return cache[key]


def _subtree_q(paths: list[str], prefix: str) -> Q:
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{prefix}path__startswith": path})
    return q


def _subtree_unit_ids(paths: list[str]) -> QuerySet[AdministrativeUnit]:
    """Ids of the units in the subtrees rooted at ``paths``, as a subquery.

    Item filters use ``unit_id IN (this)`` rather than a join on the unit's path: the
    database then reads the items of each unit from the ``(unit, -created_at, -id)`` index
    instead of joining every item of the table to its unit to test the path."""
    q = Q()
    for path in paths:
        q |= Q(path__startswith=path)
    return AdministrativeUnit.objects.filter(q).values("pk")


def unit_list_for_user(*, user, roles: list[str] | None = None) -> QuerySet[AdministrativeUnit]:
    """Units inside the subtrees where the user holds one of ``roles``."""
    if user.is_superuser:
        return AdministrativeUnit.objects.filter(is_active=True)
    paths = unit_paths_for_user(user=user, roles=roles)
    return AdministrativeUnit.objects.filter(_subtree_q(paths, ""), is_active=True)


def item_list_for_user(*, user) -> QuerySet[NewsItem]:
    """Items whose owning unit lies in a subtree where the user holds any role, annotated
    with what listings show (``_in_review``, ``_step_level``: the level of the step it
    waits at, ``_returned``, ``_scheduled``) so rows cost no query."""
    from django.db.models import CharField, Exists, OuterRef, Subquery
    from django.db.models.functions import Cast
    from wagtail.models import Revision, WorkflowState

    pk_text = Cast(OuterRef("pk"), output_field=CharField())
    states = WorkflowState.objects.filter(
        base_content_type__app_label="newsroom",
        base_content_type__model="newsitem",
        object_id=pk_text,
    )
    in_progress = states.filter(status=WorkflowState.STATUS_IN_PROGRESS)
    qs = NewsItem.objects.select_related("unit", "category").annotate(
        _in_review=Exists(in_progress),
        _step_level=Subquery(
            in_progress.values("current_task_state__task__unitapprovaltask__level")[:1]
        ),
        _returned=Exists(states.filter(status=WorkflowState.STATUS_NEEDS_CHANGES)),
        _ever_submitted=Exists(states),
        _scheduled=Exists(
            Revision.objects.filter(
                base_content_type__app_label="newsroom",
                base_content_type__model="newsitem",
                object_id=pk_text,
                approved_go_live_at__isnull=False,
            )
        ),
    )
    if user.is_superuser:
        return qs
    paths = unit_paths_for_user(user=user)
    if not paths:
        return qs.none()
    return qs.filter(unit_id__in=_subtree_unit_ids(paths))


def item_user_can_view(*, user, item: NewsItem) -> bool:
    from .policy import user_can

    return user_can(user, "view", item)


def item_user_can_edit(*, user, item: NewsItem) -> bool:
    """Reporters (and unit admins) edit items of their subtree; approvers on their step.

    Reporters keep the editor while the item is in review; Wagtail's workflow lock then
    makes it read-only for them (``UnitApprovalTask.locked_for_user``)."""
    if user.is_superuser:
        return True
    paths = unit_paths_for_user(user=user, roles=[Role.REPORTER, Role.UNIT_ADMIN])
    if any(item.unit.path.startswith(p) for p in paths):
        return True
    task = item.current_workflow_task
    return bool(task and task.specific.user_can_access_editor(item, user))


def item_list_published(*, unit: AdministrativeUnit | None = None) -> QuerySet[NewsItem]:
    """Live items, newest first, with what listings show prefetched."""
    qs = (
        NewsItem.objects.filter(live=True)
        .select_related("unit", "category", "image", "audio", "video")
        .prefetch_related("audio__renditions")
        .order_by("-first_published_at", "-pk")
    )
    if unit is not None:
        qs = qs.filter(unit__path__startswith=unit.path)
    return qs


def item_public_path(item: NewsItem) -> str:
    return item.public_path


def awaiting_states_for_user(*, user):
    """In-progress steps ``user`` may decide: approver steps at units where they approve,
    board steps at provinces where they sit on the board. One query, however many."""
    from wagtail.models import TaskState

    from .models import StepLevel, UnitApprovalTaskState

    states = UnitApprovalTaskState.objects.filter(status=TaskState.STATUS_IN_PROGRESS)
    if user.is_superuser:
        return states
    mine = Membership.objects.filter(user=user)
    board = Q(task__unitapprovaltask__level=StepLevel.BOARD)
    return states.filter(
        (Q(unit_id__in=mine.filter(role=Role.APPROVER).values("unit_id")) & ~board)
        | (Q(unit_id__in=mine.filter(role=Role.EDITORIAL_BOARD).values("unit_id")) & board)
    )


def awaiting_summary(*, user, limit: int = 20) -> dict:
    """ "Awaiting my approval": counts per level and the oldest ``limit`` steps with their
    items. Three queries whatever the size."""
    from django.db.models import Count

    states = awaiting_states_for_user(user=user)
    counts = dict(
        states.order_by()
        .values_list("task__unitapprovaltask__level")
        .annotate(n=Count("pk"))
        .values_list("task__unitapprovaltask__level", "n")
    )
    rows = list(
        states.select_related("unit", "task", "workflow_state").order_by("started_at", "pk")[:limit]
    )
    ids = [int(s.workflow_state.object_id) for s in rows]
    items = NewsItem.objects.select_related("unit").in_bulk(ids)
    entries = [
        {"state": s, "item": items.get(int(s.workflow_state.object_id))}
        for s in rows
        if int(s.workflow_state.object_id) in items
    ]
    return {"counts": counts, "total": sum(counts.values()), "entries": entries}
