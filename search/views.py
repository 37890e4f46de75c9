"""The portal's search page; ``search.wagtail_hooks`` adds the admin's item search."""

import calendar
import logging
from datetime import date

from django.shortcuts import render
from django.views.decorators.http import require_GET

from .backends import SearchUnavailable
from .forms import DATE_DISPLAY, DATE_PATTERN, MAX_PAGE, SearchForm, clean_query
from .selectors import item_search_page

logger = logging.getLogger(__name__)

PAGE_SIZE = 20
FILTER_PARAMS = ("unit", "category", "kind", "status", "tu", "den", "sort")


def _url(params) -> str:
    return "?" + params.urlencode() if params else "?"


def _with(request, **changes) -> str:
    """The current query string with ``changes`` (None removes a key), back to page 1."""
    params = request.GET.copy()
    params.pop("trang", None)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return _url(params)


def _month_bounds(key: str) -> tuple[str, str]:
    year, month = (int(part) for part in key.split("-"))
    last = calendar.monthrange(year, month)[1]
    return date(year, month, 1).isoformat(), date(year, month, last).isoformat()


def _facet_links(request, facets, dates: tuple) -> None:
    """Give every facet value the link that filters on it and whether it is chosen
    (a month is chosen whatever way its dates were written: ISO or dd/mm/yyyy)."""
    for facet in facets:
        for value in facet.values:
            if facet.param == "month":
                start, end = _month_bounds(value["key"])
                value["url"] = _with(request, tu=start, den=end)
                value["selected"] = dates == (date.fromisoformat(start), date.fromisoformat(end))
            else:
                value["url"] = _with(request, **{facet.param: value["key"]})
                value["selected"] = request.GET.get(facet.param) == value["key"]


def search_context(request, *, editor: bool) -> tuple[dict, int]:
    """Everything both search pages show, and the HTTP status: 400 for a filter that names
    nothing (the page says which), 503 when the search service is down, else 200."""
    params = request.GET.copy()
    if "q" in params:  # a NUL in the query is dropped, not refused
        params["q"] = clean_query(params["q"])
    form = SearchForm(params or None, editor=editor)
    context = {
        "form": form,
        "query": clean_query(request.GET.get("q", "")),
        "results": [],
        "facets": [],
        "total": 0,
        "searched": False,
        "search_unavailable": False,
        "page": 1,
        "previous_url": None,
        "next_url": None,
        "active_filters": [],
        # The filters' panel: how many are in use (sort is an order, not a filter), and
        # open when one of them is refused so that the reader sees the field to correct.
        "filter_count": sum(
            1
            for name in FILTER_PARAMS
            if name != "sort" and name in form.fields and params.get(name)
        ),
        "filters_open": False,
        "date_pattern": DATE_PATTERN,
    }
    valid = form.is_valid() if request.GET else True
    context["date_from"] = form.date_value("tu")
    context["date_to"] = form.date_value("den")
    if not valid:
        context["errors"] = [e for errors in form.errors.values() for e in errors]
        context["filters_open"] = True
        return context, 400
    data = form.cleaned_data if request.GET else {"q": "", "trang": 1}
    # "viett" matches "Viettel"; "viett " (a space typed after it) only the word "viett".
    raw_query = request.GET.get("q", "").replace("\x00", " ")
    last_word_complete = raw_query[-1:].isspace()
    query, page = data.get("q", ""), data.get("trang") or 1
    filters = form.filters() if request.GET else {}
    context.update(query=query, page=page)
    has_filter = any(v for k, v in filters.items() if k != "sort")
    if not (query or has_filter or editor):
        return context, 200
    try:
        result = item_search_page(
            text=query,
            filters=filters,
            user=request.user if editor else None,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
            last_word_complete=last_word_complete,
        )
    except SearchUnavailable:
        logger.warning("search unavailable", exc_info=True)
        context["search_unavailable"] = True
        return context, 503
    _facet_links(request, result.facets, (data.get("tu"), data.get("den")))
    context.update(
        searched=True,
        # The same filters, the corrected words, page 1.
        corrected=result.corrected,
        corrected_url=_with(request, q=result.corrected) if result.corrected else None,
        results=result.results,
        facets=result.facets,
        total=result.total,
        previous_url=_with(request, trang=str(page - 1)) if page > 1 else None,
        next_url=_with(request, trang=str(page + 1))
        if page * PAGE_SIZE < result.total and page < MAX_PAGE
        else None,
    )
    context["active_filters"] = [
        {
            "label": form.fields[name].label,
            "value": data[name].strftime(DATE_DISPLAY)
            if name in ("tu", "den")
            else request.GET[name],
            "remove_url": _with(request, **{name: None}),
        }
        for name in FILTER_PARAMS
        if name in form.fields and name != "sort" and request.GET.get(name)
    ]
    return context, 200


@require_GET
def search(request):
    """The portal's search page: published items only. Never a 500 for odd input."""
    context, status = search_context(request, editor=False)
    return render(request, "search/search.html", context, status=status)
