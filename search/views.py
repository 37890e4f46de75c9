import logging

from django.shortcuts import render
from django.views.decorators.http import require_GET

from .backends import SearchUnavailable
from .selectors import item_search_public

logger = logging.getLogger(__name__)

MAX_QUERY_LENGTH = 200
PAGE_SIZE = 20
MAX_PAGE = 50


@require_GET
def search(request):
    """The portal's search page. Any ``q`` answers 200 — except when the search service
    is down, which answers 503 with the page (``search_unavailable`` set) instead of 500."""
    query = (request.GET.get("q") or "").replace("\x00", " ").strip()[:MAX_QUERY_LENGTH].strip()
    try:
        page = min(max(int(request.GET.get("trang", "1")), 1), MAX_PAGE)
    except ValueError:
        page = 1
    items, total, unavailable = [], 0, False
    if query:
        try:
            items, total = item_search_public(
                text=query, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
            )
        except SearchUnavailable:
            logger.warning("search unavailable for a portal query", exc_info=True)
            unavailable = True
    return render(
        request,
        "search/search.html",
        {
            "query": query,
            "items": items,
            "total": total,
            "search_unavailable": unavailable,
            "page": page,
            "previous_page": page - 1 if page > 1 else None,
            "next_page": page + 1 if page * PAGE_SIZE < total and page < MAX_PAGE else None,
        },
        status=503 if unavailable else 200,
    )
