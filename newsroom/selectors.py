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


def unit_list_for_user(*, user, roles: list[str] | None = None) -> QuerySet[AdministrativeUnit]:
    """Units inside the subtrees where the user holds one of ``roles``."""
    if user.is_superuser:
        return AdministrativeUnit.objects.filter(is_active=True)
    paths = unit_paths_for_user(user=user, roles=roles)
    return AdministrativeUnit.objects.filter(_subtree_q(paths, ""), is_active=True)


def item_list_for_user(*, user) -> QuerySet[NewsItem]:
    """Items whose owning unit lies in a subtree where the user holds any role."""
    qs = NewsItem.objects.select_related("unit", "category")
    if user.is_superuser:
        return qs
    return qs.filter(_subtree_q(unit_paths_for_user(user=user), "unit__"))


def item_user_can_view(*, user, item: NewsItem) -> bool:
    if user.is_superuser:
        return True
    return any(item.unit.path.startswith(p) for p in unit_paths_for_user(user=user))


def item_user_can_edit(*, user, item: NewsItem) -> bool:
    """Reporters (and unit admins) edit items of their subtree; approvers on their step."""
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


def item_get_published(*, uuid) -> NewsItem | None:
    return item_list_published().filter(uuid=uuid).first()


def item_public_path(item: NewsItem) -> str:
    return item.public_path
