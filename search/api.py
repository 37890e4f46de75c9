"""``/api/v1/search/``: suggestions as the user types (public, JSON)."""

from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.errors import HttpError

from core.openapi import operation

from .backends import SearchUnavailable
from .forms import clean_query
from .selectors import item_suggest

router = Router(tags=["search"])


class SuggestionOut(Schema):
    id: int
    headline: str
    url: str


class SuggestOut(Schema):
    query: str
    suggestions: list[SuggestionOut]


@router.get(
    "/suggest",
    response=SuggestOut,
    summary="Suggestions as the user types",
    openapi_extra=operation(errors=(422, 503)),
)
def suggest(request, q: str = "", limit: int = 8):
    """Published headlines whose words start with each typed word (accents optional),
    newest first. An empty ``q`` gives an empty list; ``limit`` is capped at 20."""
    prefix = clean_query(q)
    try:
        suggestions = item_suggest(prefix=prefix, limit=min(max(limit, 1), 20))
    except SearchUnavailable as exc:
        raise HttpError(503, _("Search is temporarily unavailable.")) from exc
    return {"query": prefix, "suggestions": suggestions}
