"""Reads from the search index, returning items ready to list."""

from newsroom.models import NewsItem
from newsroom.selectors import item_list_published

from .backends import SearchQuery, get_backend


def item_search_public(*, text: str, limit: int = 20, offset: int = 0):
    """Published items matching ``text``, best first, and the total count."""
    results = get_backend().search(
        SearchQuery(text=text, public_only=True, limit=limit, offset=offset)
    )
    ids = [hit.item_id for hit in results.hits]
    by_id: dict[int, NewsItem] = {
        item.pk: item for item in item_list_published().filter(pk__in=ids)
    }
    return [by_id[i] for i in ids if i in by_id], results.total
