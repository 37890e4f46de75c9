"""Writes to the search index."""

from newsroom.models import NewsItem

from .backends import get_backend
from .documents import item_document


def item_index(*, item_id: int) -> bool:
    """(Re)index one item from its current row; removes it if gone. Idempotent."""
    item = NewsItem.objects.select_related("unit").filter(pk=item_id).first()
    backend = get_backend()
    if item is None:
        backend.delete(item_id)
        return False
    backend.index(item_document(item))
    return True
