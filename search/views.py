from django.shortcuts import render
from django.views.decorators.http import require_GET

from .selectors import item_search_public

MAX_QUERY_LENGTH = 200


@require_GET
def search(request):
    query = (request.GET.get("q") or "").strip()[:MAX_QUERY_LENGTH]
    items, total = item_search_public(text=query) if query else ([], 0)
    return render(
        request, "search/search.html", {"query": query, "items": items, "total": total}
    )
