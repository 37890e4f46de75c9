"""The admin item listing (the NewsItem snippet listing, ``newsroom.wagtail_hooks``) searches
through the search app: the same folding, ranking and editor scope as "Tìm kiếm tin"."""

import logging

from django.db.models import Case, IntegerField, When

from .backends import SearchUnavailable
from .forms import MAX_PAGE
from .selectors import item_ids_for_editor
from .views import PAGE_SIZE

logger = logging.getLogger(__name__)

# The listing shows at most as many matches as the admin search page can page through.
MAX_LISTING_MATCHES = MAX_PAGE * PAGE_SIZE


class SearchAppListingMixin:
    """For a Wagtail listing view of news items: the search box (``?q=``, also in the
    results-only view the listing fetches as the editor types) asks the search backend for
    the matching items of the editor's subtrees, best first unless the editor picked a
    column to order by. The listing's own filters and scope still apply. If the search
    service is down, the listing falls back to headlines containing the query as typed."""

    def search_queryset(self, queryset):
        if not self.is_searching:
            return queryset
        try:
            ids = item_ids_for_editor(
                text=self.search_query, user=self.request.user, limit=MAX_LISTING_MATCHES
            )
        except SearchUnavailable:
            logger.warning("search unavailable: the item listing searches headlines only")
            return queryset.filter(headline__icontains=self.search_query)
        queryset = queryset.filter(pk__in=ids)
        if self.is_explicitly_ordered or not ids:
            return queryset
        rank = Case(
            *[When(pk=pk, then=position) for position, pk in enumerate(ids)],
            output_field=IntegerField(),
        )
        return queryset.order_by(rank)
