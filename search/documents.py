"""Build the index documents of news items from the database."""

from collections.abc import Iterable, Iterator

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from wagtail.models import WorkflowState

from newsroom.audience import item_is_public
from newsroom.models import AdministrativeUnit, NewsItem

from .backends.base import ItemDocument
from .text import clean, html_to_text

STATUSES = ("draft", "in_review", "returned", "published", "withdrawn")
LEVELS = ("province", "district", "commune")


def unit_levels(unit: AdministrativeUnit) -> dict[str, str | None]:
    """``{"unit_province": code, "unit_district": code|None, "unit_commune": code|None}``."""
    levels = {f"unit_{level}": None for level in LEVELS}
    for ancestor in unit.ancestors_and_self():
        if ancestor.unit_type in LEVELS:
            levels[f"unit_{ancestor.unit_type}"] = ancestor.code
    return levels


def workflow_statuses(item_ids: list[int]) -> dict[int, str]:
    """Items among ``item_ids`` awaiting approval (``in_review``) or returned (one query)."""
    if not item_ids:
        return {}
    states = WorkflowState.objects.filter(
        base_content_type=ContentType.objects.get_for_model(NewsItem),
        object_id__in=[str(i) for i in item_ids],
        status__in=[WorkflowState.STATUS_IN_PROGRESS, WorkflowState.STATUS_NEEDS_CHANGES],
    ).values_list("object_id", "status")
    return {
        int(object_id): "in_review" if status == WorkflowState.STATUS_IN_PROGRESS else "returned"
        for object_id, status in states
    }


def item_status(item: NewsItem, workflow_status: str | None) -> str:
    if item.withdrawn_at and not item.live:
        return "withdrawn"
    if item.live:
        return "published"
    return workflow_status or "draft"


def _document(item: NewsItem, levels: dict, workflow_status: str | None) -> ItemDocument:
    status = item_status(item, workflow_status)
    when = item.first_published_at or item.created_at
    return ItemDocument(
        item_id=item.pk,
        uuid=item.uuid,
        # The public sees what the portal may show (newsroom.audience): published, not
        # withdrawn, and approved for a scope that reaches the web.
        public=status == "published" and item_is_public(item),
        status=status,
        unit_path=item.unit.path,
        unit_code=item.unit.code,
        kind=item.kind,
        category_id=item.category_id,
        category=item.category.slug if item.category_id else None,
        published_at=item.first_published_at,
        date=when,
        month=timezone.localtime(when).strftime("%Y-%m") if when else None,
        headline=clean(item.headline).strip(),
        summary=clean(item.summary).strip(),
        body=" ".join(
            part
            for part in (
                html_to_text(clean(item.body)),
                clean(item.transcript).strip(),
                clean(item.byline).strip(),
            )
            if part
        ),
        **levels,
    )


def item_document(item: NewsItem) -> ItemDocument:
    """What the index holds for ``item``: text as a reader sees it (no markup), in NFC."""
    return _document(item, unit_levels(item.unit), workflow_statuses([item.pk]).get(item.pk))


def item_documents(items: Iterable[NewsItem], *, chunk_size: int = 1000) -> Iterator[ItemDocument]:
    """Documents of many items with a constant number of queries per chunk (rebuilds).
    ``items`` should select ``unit`` and ``category``."""
    level_cache: dict[int, dict] = {}
    chunk: list[NewsItem] = []

    def flush():
        statuses = workflow_statuses([i.pk for i in chunk])
        for item in chunk:
            if item.unit_id not in level_cache:
                level_cache[item.unit_id] = unit_levels(item.unit)
            yield _document(item, level_cache[item.unit_id], statuses.get(item.pk))
        chunk.clear()

    for item in items:
        chunk.append(item)
        if len(chunk) >= chunk_size:
            yield from flush()
    yield from flush()


def item_queryset_for_index():
    return NewsItem.objects.select_related("unit", "category").order_by("pk")
