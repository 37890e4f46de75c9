"""Writes to the search index."""

from collections.abc import Callable

from django.utils import timezone

from newsroom.audience import item_list_public
from newsroom.models import NewsItem

from .backends import get_backend
from .documents import item_document, item_documents, item_queryset_for_index


def item_index(*, item_id: int) -> bool:
    """(Re)index one item from its current row; removes it if gone. Idempotent."""
    item = NewsItem.objects.select_related("unit", "category").filter(pk=item_id).first()
    backend = get_backend()
    if item is None:
        backend.delete(item_id)
        return False
    backend.index(item_document(item))
    return True


def index_rebuild(*, progress: Callable[[int], None] | None = None) -> dict:
    """Rebuild the whole index from the database (new index, then an atomic swap), then
    re-index items changed while it ran, so that nothing published meanwhile is lost."""
    started = timezone.now()
    backend = get_backend()
    report = backend.rebuild(
        item_documents(item_queryset_for_index().iterator(chunk_size=1000)), progress=progress
    )
    changed = list(NewsItem.objects.filter(updated_at__gte=started).values_list("pk", flat=True))
    for item_id in changed:
        item_index(item_id=item_id)
    report["reindexed_after_swap"] = len(changed)
    return report


def index_status() -> dict:
    """The backend's indexes with their document counts, and what the database holds."""
    backend = get_backend()
    database = {
        "items": NewsItem.objects.count(),
        "public": item_list_public().count(),
    }
    return {"backend": backend.name, **backend.status(), "database": database}
