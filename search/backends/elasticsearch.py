"""Elasticsearch 8 backend through elasticsearch-dsl.

The text fields are analysed by ``vi_text``: the standard tokenizer, ``lowercase``, then
``asciifolding`` with ``preserve_original`` (``tiêm`` is indexed as ``tiêm`` and ``tiem``
at one position), so a query with or without diacritics finds the item. Each text field
also has an ``.exact`` sub-field (lower case, diacritics kept) that the query uses to rank
exact-diacritic matches above folded-only ones.

``build_search`` and ``index_body`` are pure, so the contract tests pin the JSON this module
sends (search/contracts/*.json). The index is versioned behind an alias: ``<alias>-v1``.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from elasticsearch import (
    ApiError,
    BadRequestError,
    Elasticsearch,
    NotFoundError,
    SerializationError,
    TransportError,
)
from elasticsearch_dsl import (
    Boolean,
    Date,
    Document,
    Keyword,
    Long,
    MetaField,
    Q,
    Search,
    Text,
    analyzer,
    token_filter,
)

from ..text import fold, has_diacritics, nfc, words
from .base import (
    MAX_QUERY_WORDS,
    ItemDocument,
    SearchBackend,
    SearchHit,
    SearchQuery,
    SearchResults,
    SearchUnavailable,
    TemporarySearchError,
)

INDEX_VERSION = 1
DEFAULT_INDEX = "nguon-items"
# Statuses that mean "not now" rather than "wrong request": retried by the indexing task.
TRANSIENT_STATUSES = {408, 429, 502, 503, 504}

vi_folding = token_filter("vi_folding", "asciifolding", preserve_original=True)
vi_text = analyzer("vi_text", tokenizer="standard", filter=["lowercase", vi_folding])
vi_exact = analyzer("vi_exact", tokenizer="standard", filter=["lowercase"])


def _text_field() -> Text:
    return Text(analyzer=vi_text, fields={"exact": Text(analyzer=vi_exact)})


class ItemIndexDocument(Document):
    item_id = Long()
    uuid = Keyword()
    public = Boolean()
    unit_path = Keyword()
    unit_code = Keyword()
    kind = Keyword()
    category_id = Long()
    published_at = Date(default_timezone="Asia/Ho_Chi_Minh")
    headline = _text_field()
    summary = _text_field()
    body = _text_field()

    class Index:
        name = DEFAULT_INDEX
        settings = {"number_of_shards": 1, "number_of_replicas": 0}

    class Meta:
        dynamic = MetaField("strict")


def index_body() -> dict:
    """Settings and mappings of the index (what ``indices.create`` receives)."""
    return ItemIndexDocument._index.to_dict()


def document_body(doc: ItemDocument) -> dict:
    """The ``_source`` of one item."""
    return {
        "item_id": doc.item_id,
        "uuid": str(doc.uuid),
        "public": doc.public,
        "unit_path": doc.unit_path,
        "unit_code": doc.unit_code,
        "kind": doc.kind,
        "category_id": doc.category_id,
        "published_at": doc.published_at.isoformat() if doc.published_at else None,
        "headline": doc.headline,
        "summary": doc.summary,
        "body": doc.body,
    }


def build_search(query: SearchQuery, index: str = DEFAULT_INDEX) -> Search:
    """The request for ``query``, expressing the ranking rules of ``SearchBackend``:

    * every word in some field (``cross_fields``, ``and``), weighted headline^3 >
      summary^2 > body;
    * two or more words as a phrase: headline ×6, else summary or body ×4 (``dis_max``: the
      best one counts, once);
    * each word typed with diacritics and found with exactly those diacritics, in any field
      (``.exact``, ``cross_fields``, ``or``): a folded-only match ranks below;
    * filters: public only, unit subtrees (``unit_path`` prefixes); newest first on ties.
    """
    typed = [w for w in words(nfc(query.text)) if fold(w)][:MAX_QUERY_WORDS]
    text = " ".join(typed)
    s = Search(index=index).extra(track_total_hits=True)
    must = Q(
        "multi_match",
        query=text,
        fields=["headline^3", "summary^2", "body"],
        type="cross_fields",
        operator="and",
    )
    should = []
    if len(typed) > 1:
        should.append(
            Q(
                "dis_max",
                queries=[
                    Q("match_phrase", headline={"query": text, "boost": 6}),
                    Q("match_phrase", summary={"query": text, "boost": 4}),
                    Q("match_phrase", body={"query": text, "boost": 4}),
                ],
            )
        )
    exact = list(dict.fromkeys(w for w in typed if has_diacritics(w)))
    if exact:
        should.append(
            Q(
                "multi_match",
                query=" ".join(exact),
                fields=["headline.exact", "summary.exact", "body.exact"],
                type="cross_fields",
                operator="or",
            )
        )
    filters = []
    if query.public_only:
        filters.append(Q("term", public=True))
    if query.unit_paths is not None:
        if query.unit_paths:
            filters.append(
                Q(
                    "bool",
                    should=[Q("prefix", unit_path=p) for p in query.unit_paths],
                    minimum_should_match=1,
                )
            )
        else:
            filters.append(Q("match_none"))
    s = s.query(Q("bool", must=[must], should=should, filter=filters))
    s = s.sort("_score", {"published_at": {"order": "desc"}}, {"item_id": {"order": "desc"}})
    s = s.source(["item_id"])
    offset = max(query.offset, 0)
    return s[offset : offset + max(query.limit, 0)]


@contextmanager
def _transient(error: type[TemporarySearchError] = TemporarySearchError) -> Iterator[None]:
    """Turn "cluster unreachable / busy / timed out" into ``error``; let bugs through."""
    try:
        yield
    except SerializationError:
        raise
    except TransportError as exc:  # connection refused, TLS, timeout: no HTTP answer
        raise error(f"Elasticsearch unreachable: {exc}") from exc
    except ApiError as exc:
        if exc.meta.status in TRANSIENT_STATUSES:
            raise error(f"Elasticsearch busy ({exc.meta.status}): {exc}") from exc
        raise


class ElasticsearchBackend(SearchBackend):
    name = "elasticsearch"

    def __init__(self, client: Elasticsearch | None = None, alias: str | None = None):
        self.client = client or Elasticsearch(
            settings.ELASTICSEARCH_URL, request_timeout=10, max_retries=2, retry_on_timeout=True
        )
        self.alias = alias or settings.NGUON_SEARCH_INDEX
        self._index_ready = False

    @property
    def concrete_index(self) -> str:
        return f"{self.alias}-v{INDEX_VERSION}"

    def ensure_index(self) -> None:
        """Create ``<alias>-vN`` with the alias in one call, once per process. Two workers
        racing to create it is fine: the loser sees ``resource_already_exists``."""
        if self._index_ready:
            return
        with _transient():
            if not self.client.indices.exists_alias(name=self.alias):
                body = index_body()
                try:
                    self.client.indices.create(
                        index=self.concrete_index,
                        settings=body["settings"],
                        mappings=body["mappings"],
                        aliases={self.alias: {}},
                    )
                except BadRequestError as exc:
                    if exc.error != "resource_already_exists_exception":
                        raise
        self._index_ready = True

    def index(self, doc: ItemDocument) -> None:
        self.ensure_index()
        with _transient():
            self.client.index(
                index=self.alias,
                id=str(doc.item_id),
                document=document_body(doc),
                refresh="wait_for",
            )

    def delete(self, item_id: int) -> None:
        with _transient():
            self.client.options(ignore_status=404).delete(
                index=self.alias, id=str(item_id), refresh="wait_for"
            )

    def ping(self) -> dict:
        info = self.client.cluster.health(timeout="2s")
        return {"cluster": info.get("status")}

    def search(self, query: SearchQuery) -> SearchResults:
        if not any(fold(w) for w in words(nfc(query.text))):
            return SearchResults()
        if query.unit_paths == []:
            return SearchResults()
        request = build_search(query, index=self.alias)
        try:
            with _transient(SearchUnavailable):
                response = self.client.search(index=self.alias, body=request.to_dict())
        except NotFoundError:
            return SearchResults()  # nothing indexed yet: the alias does not exist
        hits = response["hits"]
        return SearchResults(
            hits=[
                SearchHit(item_id=int(h["_source"]["item_id"]), score=float(h.get("_score") or 0))
                for h in hits["hits"]
            ],
            total=hits["total"]["value"],
        )
