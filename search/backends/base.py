"""What every search backend offers, and the documents it indexes."""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from uuid import UUID

from django.utils import timezone

from ..text import MARK_END, MARK_START, fold, nfc, words  # noqa: F401 - re-exported

# Words of a query beyond this many are ignored (a pasted paragraph is not a search).
MAX_QUERY_WORDS = 32
# A suggestion prefix longer than this is cut (the edge-n-gram field stops there).
MAX_PREFIX_CHARS = 20
# The last word of a search, still being typed, matches as a prefix from this many folded
# characters on ("Bình Dươ" finds "Bình Dương"); a shorter one matches as a whole word only,
# so that "b" does not match every word starting with b.
MIN_PREFIX_CHARS = 2
# A search finding fewer items than this gets a corrected query when one finds more.
SPELLCHECK_BELOW = 3

SORT_RELEVANCE, SORT_DATE = "relevance", "date"
SORTS = (SORT_RELEVANCE, SORT_DATE)

# Facet name -> document field. Units are faceted at each level of the tree.
FACETS = {
    "province": "unit_province",
    "district": "unit_district",
    "commune": "unit_commune",
    "category": "category",
    "kind": "kind",
    "status": "status",
    "month": "month",
}
FACET_SIZE = 100


def local_bound(day: date, *, end: bool) -> datetime:
    """The first instant of ``day`` (of the day after, for an inclusive end), local time."""
    if end:
        day = day + timedelta(days=1)
    return timezone.make_aware(datetime.combine(day, dtime.min))


class TemporarySearchError(Exception):
    """The search service is unreachable, overloaded or timed out: try again later.

    The indexing task retries on it with backoff; the portal answers 503 for a search.
    """


class SearchUnavailable(TemporarySearchError):
    """A search could not be answered now."""


@dataclass
class ItemDocument:
    """A news item as the index sees it: plain values, built by ``search.documents``."""

    item_id: int
    uuid: UUID
    public: bool
    unit_path: str
    unit_code: str
    kind: str
    category_id: int | None
    published_at: datetime | None
    headline: str
    summary: str
    body: str
    # Editorial state: draft, in_review, returned, published, withdrawn.
    status: str = "published"
    category: str | None = None  # the category's slug
    # Official codes of the owning unit's ancestors-or-self at each level (None if absent).
    unit_province: str | None = None
    unit_district: str | None = None
    unit_commune: str | None = None
    # The date filters and sorting use: first publication, else creation.
    date: datetime | None = None
    month: str | None = None  # "YYYY-MM" of ``date`` in Asia/Ho_Chi_Minh


@dataclass
class SearchQuery:
    text: str
    public_only: bool = True
    unit_paths: list[str] | None = None  # restrict to these subtrees (None: everywhere)
    limit: int = 20
    offset: int = 0
    # Filters chosen by the user (all AND-ed with the scope above).
    within_path: str | None = None  # one unit subtree
    category: str | None = None
    kind: str | None = None
    status: str | None = None
    date_from: date | None = None  # inclusive, local dates
    date_to: date | None = None  # inclusive
    sort: str = SORT_RELEVANCE
    facets: bool = False
    highlight: bool = False
    # With no words: list everything in scope (admin listing) instead of nothing.
    match_all_if_empty: bool = False
    # The reader ended the query with a space: the last word is complete, not a prefix.
    last_word_complete: bool = False
    # When fewer than SPELLCHECK_BELOW items match, look for a corrected query.
    spellcheck: bool = False


@dataclass
class SearchHit:
    item_id: int
    score: float
    # Safe HTML (escaped text with <mark> around matches): "headline", "snippet".
    highlight: dict[str, str] = field(default_factory=dict)


@dataclass
class FacetValue:
    key: str
    count: int


@dataclass
class SearchResults:
    hits: list[SearchHit] = field(default_factory=list)
    total: int = 0
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    # "Có phải bạn muốn tìm …": a query built from the index's vocabulary that finds more
    # items in the same scope and filters (only with ``SearchQuery.spellcheck``).
    corrected: str | None = None


_ENDS_WITH_WORD = re.compile(r"[\w\u0300-\u036f]$")


def last_word_prefix(query: SearchQuery) -> str | None:
    """The folded last word of ``query`` if it matches as a prefix: the text ends with it
    (no space or punctuation after it, and ``last_word_complete`` unset), it is within the
    first ``MAX_QUERY_WORDS`` words, it has at least ``MIN_PREFIX_CHARS`` folded characters,
    and no earlier word is the same (that one must occur whole anyway)."""
    text = nfc(query.text)
    if query.last_word_complete or not _ENDS_WITH_WORD.search(text):
        return None
    typed = [fold(w) for w in words(text) if fold(w)]
    if not typed or len(typed) > MAX_QUERY_WORDS:
        return None
    last = typed[-1]
    if len(last) < MIN_PREFIX_CHARS or last in typed[:-1]:
        return None
    return last


@dataclass
class Suggestion:
    item_id: int
    headline: str


class SearchBackend:
    """Index and search news items.

    Every backend ranks by the same rules (docs/search.md): all query words must occur
    (diacritics and case optional); a word in the headline weighs more than in the summary,
    more than in the body; the words adjacent and in order (a phrase) rank above the same
    words scattered; diacritics typed exactly as written rank above a folded-only match;
    equal scores list the newest first. Only items with ``public`` set are public.
    Facets count the matching items (after every filter) per value, most first, months
    newest first; suggestions are headlines whose words start with every typed prefix,
    newest first.
    """

    name = "base"

    def index(self, doc: ItemDocument) -> None:
        """Add or replace the item's document; visible to ``search`` on return."""
        raise NotImplementedError

    def delete(self, item_id: int) -> None:
        """Remove the item's document; removing a missing one is not an error."""
        raise NotImplementedError

    def search(self, query: SearchQuery) -> SearchResults:
        """Best first. Raises ``SearchUnavailable`` when the service cannot answer now."""
        raise NotImplementedError

    def suggest(
        self,
        prefix: str,
        *,
        public_only: bool = True,
        unit_paths: list[str] | None = None,
        limit: int = 8,
    ) -> list[Suggestion]:
        """Headlines for what the user is typing (every word a prefix), newest first."""
        raise NotImplementedError

    def rebuild(
        self, docs: Iterable[ItemDocument], *, progress: Callable[[int], None] | None = None
    ) -> dict:
        """Replace the whole index with ``docs`` so that searches see the old index until the
        new one is complete (atomic swap). Returns figures for the command to print."""
        raise NotImplementedError

    def status(self) -> dict:
        """Documents per index (``{"indexes": [{"name", "documents", "public", "live"}]}``)."""
        raise NotImplementedError

    def ping(self) -> dict:
        raise NotImplementedError
