"""Elasticsearch 8 backend through elasticsearch-dsl.

The mapping folds diacritics with ``asciifolding`` (``preserve_original`` keeps the
accented token too, so exact-diacritic matches score higher). The index is versioned behind
an alias. ``build_search`` is pure so the contract tests can pin the bodies it sends.
"""

from django.conf import settings
from elasticsearch import Elasticsearch
from elasticsearch_dsl import Boolean, Date, Document, Keyword, Long, Q, Search, Text, analyzer, token_filter

from .base import ItemDocument, SearchBackend, SearchHit, SearchQuery, SearchResults

vi_folding = token_filter("vi_folding", "asciifolding", preserve_original=True)
vi_text = analyzer(
    "vi_text", tokenizer="standard", filter=["lowercase", vi_folding]
)


class ItemIndexDocument(Document):
    item_id = Long()
    uuid = Keyword()
    public = Boolean()
    unit_path = Keyword()
    unit_code = Keyword()
    kind = Keyword()
    category_id = Long()
    published_at = Date(default_timezone="Asia/Ho_Chi_Minh")
    headline = Text(analyzer=vi_text)
    summary = Text(analyzer=vi_text)
    body = Text(analyzer=vi_text)

    class Index:
        name = "nguon-items"
        settings = {"number_of_shards": 1, "number_of_replicas": 0}


def build_search(query: SearchQuery, index: str = "nguon-items") -> Search:
    """The request for ``query``: fields weighted headline > summary > body, a phrase
    boost so multi-syllable words rank above scattered syllables."""
    text = query.text.strip()
    s = Search(index=index)
    must = Q(
        "multi_match",
        query=text,
        fields=["headline^3", "summary^2", "body"],
        type="best_fields",
        operator="and",
    )
    should = [
        Q("match_phrase", headline={"query": text, "boost": 6}),
        Q("match_phrase", body={"query": text, "boost": 2}),
    ]
    filters = []
    if query.public_only:
        filters.append(Q("term", public=True))
    if query.unit_paths is not None:
        filters.append(
            Q("bool", should=[Q("prefix", unit_path=p) for p in query.unit_paths],
              minimum_should_match=1)
        )
    s = s.query(Q("bool", must=[must], should=should, filter=filters))
    s = s.sort("_score", {"published_at": {"order": "desc"}})
    s = s.source(["item_id"])
    return s[query.offset : query.offset + query.limit]


class ElasticsearchBackend(SearchBackend):
    name = "elasticsearch"

    def __init__(self):
        self.client = Elasticsearch(settings.ELASTICSEARCH_URL, request_timeout=10)
        self.alias = settings.NGUON_SEARCH_INDEX

    def ensure_index(self) -> None:
        if not self.client.indices.exists_alias(name=self.alias):
            concrete = f"{self.alias}-v1"
            ItemIndexDocument.init(index=concrete, using=self.client)
            self.client.indices.put_alias(index=concrete, name=self.alias)

    def index(self, doc: ItemDocument) -> None:
        self.ensure_index()
        ItemIndexDocument(
            meta={"id": doc.item_id},
            item_id=doc.item_id,
            uuid=str(doc.uuid),
            public=doc.public,
            unit_path=doc.unit_path,
            unit_code=doc.unit_code,
            kind=doc.kind,
            category_id=doc.category_id,
            published_at=doc.published_at,
            headline=doc.headline,
            summary=doc.summary,
            body=doc.body,
        ).save(using=self.client, index=self.alias, refresh="wait_for")

    def delete(self, item_id: int) -> None:
        self.client.delete(index=self.alias, id=str(item_id), ignore=[404])

    def ping(self) -> dict:
        info = self.client.cluster.health(timeout="2s")
        return {"cluster": info.get("status")}

    def search(self, query: SearchQuery) -> SearchResults:
        if not query.text.strip():
            return SearchResults()
        response = build_search(query, index=self.alias).using(self.client).execute()
        return SearchResults(
            hits=[SearchHit(item_id=int(h.item_id), score=h.meta.score or 0.0) for h in response],
            total=response.hits.total.value,
        )
