"""What every search backend offers, and the documents it indexes."""

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

# Words of a query beyond this many are ignored (a pasted paragraph is not a search).
MAX_QUERY_WORDS = 32


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


@dataclass
class SearchQuery:
    text: str
    public_only: bool = True
    unit_paths: list[str] | None = None  # restrict to these subtrees (None: everywhere)
    limit: int = 20
    offset: int = 0


@dataclass
class SearchHit:
    item_id: int
    score: float


@dataclass
class SearchResults:
    hits: list[SearchHit] = field(default_factory=list)
    total: int = 0


class SearchBackend:
    """Index and search news items.

    Every backend ranks by the same rules (docs/search.md): all query words must occur
    (diacritics and case optional); a word in the headline weighs more than in the summary,
    more than in the body; the words adjacent and in order (a phrase) rank above the same
    words scattered; diacritics typed exactly as written rank above a folded-only match;
    equal scores list the newest first. Only items with ``public`` set are public.
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

    def ping(self) -> dict:
        raise NotImplementedError
