"""What every search backend offers, and the documents it indexes."""

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID


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
    name = "base"

    def index(self, doc: ItemDocument) -> None:
        raise NotImplementedError

    def delete(self, item_id: int) -> None:
        raise NotImplementedError

    def search(self, query: SearchQuery) -> SearchResults:
        raise NotImplementedError

    def ping(self) -> dict:
        raise NotImplementedError
