"""Reads from the search index, returning items ready to list, facets ready to show."""

from dataclasses import dataclass, field

from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from newsroom.audience import item_list_public
from newsroom.models import AdministrativeUnit, Category, NewsItem
from newsroom.selectors import item_list_for_user, unit_paths_for_user

from .backends import SearchQuery, get_backend
from .backends.base import FacetValue, SearchResults
from .forms import STATUS_CHOICES

FACET_TITLES = {
    "province": lambda: _("Province"),
    "district": lambda: _("District"),
    "commune": lambda: _("Commune"),
    "category": lambda: _("Category"),
    "kind": lambda: _("Type"),
    "status": lambda: _("Status"),
    "month": lambda: _("Month"),
}
# Facet -> the filter parameter a click on one of its values sets.
FACET_PARAMS = {
    "province": "unit",
    "district": "unit",
    "commune": "unit",
    "category": "category",
    "kind": "kind",
    "status": "status",
    "month": "month",
}


@dataclass
class Result:
    item: NewsItem
    headline_html: str
    snippet_html: str


@dataclass
class Facet:
    name: str
    title: str
    param: str
    values: list[dict] = field(default_factory=list)  # {"key", "label", "count"}


@dataclass
class SearchPage:
    results: list[Result]
    total: int
    facets: list[Facet]
    # "Có phải bạn muốn tìm …": a query that finds more in the same scope and filters.
    corrected: str | None = None


def _scope(user) -> list[str] | None:
    """Subtrees an editor may search (None: all, for superusers)."""
    if user.is_superuser:
        return None
    return unit_paths_for_user(user=user)


def _facets(raw: dict[str, list[FacetValue]], *, editor: bool) -> list[Facet]:
    codes = {v.key for name in ("province", "district", "commune") for v in raw.get(name, [])}
    unit_names = dict(AdministrativeUnit.objects.filter(code__in=codes).values_list("code", "name"))
    slugs = {v.key for v in raw.get("category", [])}
    category_names = dict(Category.objects.filter(slug__in=slugs).values_list("slug", "name"))
    kinds = dict(NewsItem.Kind.choices)
    statuses = dict(STATUS_CHOICES)

    def label(name: str, key: str) -> str:
        if name in ("province", "district", "commune"):
            return unit_names.get(key, key)
        if name == "category":
            return category_names.get(key, key)
        if name == "kind":
            return str(kinds.get(key, key))
        if name == "status":
            return str(statuses.get(key, key))
        if name == "month":
            year, _sep, month = key.partition("-")
            return f"{month}/{year}"
        return key

    facets = []
    for name, values in raw.items():
        if name == "status" and not editor:
            continue
        if not values:
            continue
        facets.append(
            Facet(
                name=name,
                title=FACET_TITLES[name](),
                param=FACET_PARAMS[name],
                values=[
                    {"key": v.key, "label": label(name, v.key), "count": v.count} for v in values
                ],
            )
        )
    return facets


def _page(results: SearchResults, items_qs, *, editor: bool) -> SearchPage:
    ids = [hit.item_id for hit in results.hits]
    by_id = {item.pk: item for item in items_qs.filter(pk__in=ids)}
    rows = []
    for hit in results.hits:
        item = by_id.get(hit.item_id)
        if item is None:  # index ahead of or behind the database: skip, never show
            continue
        rows.append(
            Result(
                item=item,
                # Built by search.text.marked_html: escaped text, only <mark> tags added.
                headline_html=mark_safe(hit.highlight.get("headline", "")),  # noqa: S308
                snippet_html=mark_safe(hit.highlight.get("snippet", "")),  # noqa: S308
            )
        )
    facets = _facets(results.facets, editor=editor)
    return SearchPage(results=rows, total=results.total, facets=facets, corrected=results.corrected)


def item_search_page(
    *,
    text: str,
    filters: dict,
    user=None,
    limit: int = 20,
    offset: int = 0,
    last_word_complete: bool = False,
) -> SearchPage:
    """One page of results with highlights and facets. ``user`` given: an editor's search
    over every status in their subtrees; otherwise the public's (published, not withdrawn).
    The last word matches as a prefix unless ``last_word_complete`` (the reader typed a
    space after it); with few results, ``corrected`` may offer a query that finds more.
    Raises ``SearchUnavailable`` when the backend cannot answer now."""
    editor = user is not None
    query = SearchQuery(
        text=text,
        public_only=not editor,
        unit_paths=_scope(user) if editor else None,
        limit=limit,
        offset=offset,
        facets=True,
        highlight=True,
        # No words: editors browse their subtree, the public a filter; else nothing.
        match_all_if_empty=editor or any(v for k, v in filters.items() if k != "sort"),
        last_word_complete=last_word_complete,
        spellcheck=True,
        **filters,
    )
    if not editor:
        query.status = None
    results = get_backend().search(query)
    items = item_list_for_user(user=user) if editor else item_list_public()
    return _page(results, items, editor=editor)


def item_ids_for_editor(*, text: str, user, limit: int) -> list[int]:
    """Ids of the items ``user`` may see (every status, their subtrees) that match ``text``,
    best first, at most ``limit``: what the admin item listing shows for its search box.
    Raises ``SearchUnavailable`` when the backend cannot answer now."""
    results = get_backend().search(
        SearchQuery(text=text, public_only=False, unit_paths=_scope(user), limit=limit)
    )
    return [hit.item_id for hit in results.hits]


def item_suggest(*, prefix: str, user=None, limit: int = 8) -> list[dict]:
    """Headlines for what is being typed: ``[{"id", "headline", "url"}]``; public unless
    ``user`` (an editor: their subtrees, every status)."""
    editor = user is not None
    suggestions = get_backend().suggest(
        prefix,
        public_only=not editor,
        unit_paths=_scope(user) if editor else None,
        limit=limit,
    )
    ids = [s.item_id for s in suggestions]
    items = item_list_for_user(user=user) if editor else item_list_public()
    uuids = dict(items.filter(pk__in=ids).values_list("pk", "uuid"))
    return [
        {
            "id": s.item_id,
            "headline": s.headline,
            "url": NewsItem(uuid=uuids[s.item_id]).public_path,
        }
        for s in suggestions
        if s.item_id in uuids
    ]
