"""Elasticsearch 8 backend through elasticsearch-dsl.

The text fields are analysed by ``vi_text``: the standard tokenizer, ``lowercase``, then
``asciifolding`` with ``preserve_original`` (``tiêm`` is indexed as ``tiêm`` and ``tiem``
at one position), so a query with or without diacritics finds the item. Each text field
also has an ``.exact`` sub-field (lower case, diacritics kept) that the query uses to rank
exact-diacritic matches above folded-only ones.

``build_search`` and ``index_body`` are pure, so the contract tests pin the JSON this module
sends (search/contracts/*.json). The index is versioned behind an alias: ``<alias>-v1`` when
created on first write, ``<alias>-v1-<UTC timestamp>`` when built by ``search_rebuild``
(bulk helper into a new index, then one atomic ``update_aliases``).

``headline.suggest`` is analysed with edge n-grams of the folded words (``vi_suggest``) for
suggestions as the user types; the query side folds without n-grams.
"""

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from django.conf import settings
from elasticsearch import (
    ApiError,
    BadRequestError,
    Elasticsearch,
    NotFoundError,
    SerializationError,
    TransportError,
    helpers,
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

from ..text import MARK_END, MARK_START, fold, has_diacritics, marked_html, nfc, words
from .base import (
    FACET_SIZE,
    FACETS,
    MAX_PREFIX_CHARS,
    MAX_QUERY_WORDS,
    MIN_PREFIX_CHARS,
    SORT_DATE,
    SPELLCHECK_BELOW,
    FacetValue,
    ItemDocument,
    SearchBackend,
    SearchHit,
    SearchQuery,
    SearchResults,
    SearchUnavailable,
    Suggestion,
    TemporarySearchError,
    last_word_prefix,
    local_bound,
)

# 2: index_prefixes on the text fields and ``headline.spell`` (issue 16).
INDEX_VERSION = 2
DEFAULT_INDEX = "nguon-items"
# Statuses that mean "not now" rather than "wrong request": retried by the indexing task.
TRANSIENT_STATUSES = {408, 429, 502, 503, 504}

vi_folding = token_filter("vi_folding", "asciifolding", preserve_original=True)
vi_text = analyzer("vi_text", tokenizer="standard", filter=["lowercase", vi_folding])
vi_exact = analyzer("vi_exact", tokenizer="standard", filter=["lowercase"])
vi_edge = token_filter("vi_edge", "edge_ngram", min_gram=1, max_gram=MAX_PREFIX_CHARS)
vi_suggest = analyzer(
    "vi_suggest", tokenizer="standard", filter=["lowercase", "asciifolding", vi_edge]
)
vi_suggest_search = analyzer(
    "vi_suggest_search", tokenizer="standard", filter=["lowercase", "asciifolding"]
)
# Folded words only (no original alongside): the vocabulary "did you mean" corrects from.
vi_folded = analyzer("vi_folded", tokenizer="standard", filter=["lowercase", "asciifolding"])
SNIPPET_CHARS = 200
# Prefixes of 2 to 5 characters are indexed (``._index_prefix``), so the last word's prefix
# query is one term lookup; longer prefixes expand over few terms anyway.
INDEX_PREFIXES = {"min_chars": MIN_PREFIX_CHARS, "max_chars": 5}
# A prefix-only match of the last word, per field: constant scores below a whole word.
PREFIX_BOOSTS = {"headline": 0.9, "summary": 0.6, "body": 0.3}


def _text_field(**extra_fields) -> Text:
    return Text(
        analyzer=vi_text,
        index_prefixes=INDEX_PREFIXES,
        fields={"exact": Text(analyzer=vi_exact), **extra_fields},
    )


class ItemIndexDocument(Document):
    item_id = Long()
    uuid = Keyword()
    public = Boolean()
    unit_path = Keyword()
    unit_code = Keyword()
    unit_province = Keyword()
    unit_district = Keyword()
    unit_commune = Keyword()
    kind = Keyword()
    status = Keyword()
    category_id = Long()
    category = Keyword()
    published_at = Date(default_timezone="Asia/Ho_Chi_Minh")
    date = Date(default_timezone="Asia/Ho_Chi_Minh")
    month = Keyword()
    headline = _text_field(
        suggest=Text(analyzer=vi_suggest, search_analyzer=vi_suggest_search),
        spell=Text(analyzer=vi_folded),
    )
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
        "unit_province": doc.unit_province,
        "unit_district": doc.unit_district,
        "unit_commune": doc.unit_commune,
        "kind": doc.kind,
        "status": doc.status,
        "category_id": doc.category_id,
        "category": doc.category,
        "published_at": doc.published_at.isoformat() if doc.published_at else None,
        "date": doc.date.isoformat() if doc.date else None,
        "month": doc.month,
        "headline": doc.headline,
        "summary": doc.summary,
        "body": doc.body,
    }


def _filters(
    *, public_only: bool, unit_paths: list[str] | None, query: SearchQuery | None = None
) -> list[Q]:
    filters = []
    if public_only:
        filters.append(Q("term", public=True))
    if unit_paths is not None:
        if unit_paths:
            filters.append(
                Q(
                    "bool",
                    should=[Q("prefix", unit_path=p) for p in unit_paths],
                    minimum_should_match=1,
                )
            )
        else:
            filters.append(Q("match_none"))
    if query is None:
        return filters
    if query.within_path:
        filters.append(Q("prefix", unit_path=query.within_path))
    for name in ("category", "kind", "status"):
        value = getattr(query, name)
        if value:
            filters.append(Q("term", **{name: value}))
    bounds = {}
    if query.date_from:
        bounds["gte"] = local_bound(query.date_from, end=False).isoformat()
    if query.date_to:
        bounds["lt"] = local_bound(query.date_to, end=True).isoformat()
    if bounds:
        filters.append(Q("range", date=bounds))
    return filters


def build_search(query: SearchQuery, index: str = DEFAULT_INDEX) -> Search:
    """The request for ``query``, expressing the ranking rules of ``SearchBackend``:

    * every word in some field (``cross_fields``, ``and``), weighted headline^3 >
      summary^2 > body;
    * two or more words as a phrase: headline ×6, else summary or body ×4 (``dis_max``: the
      best one counts, once);
    * each word typed with diacritics and found with exactly those diacritics, in any field
      (``.exact``, ``cross_fields``, ``or``): a folded-only match ranks below;
    * filters: public only, unit subtrees (``unit_path`` prefixes), the user's filters;
      newest first on ties (or only by date with ``sort="date"``);
    * facets as ``terms`` aggregations, highlights between private-use markers that
      ``search`` turns into ``<mark>`` after escaping the text.
    """
    typed = [w for w in words(nfc(query.text)) if fold(w)][:MAX_QUERY_WORDS]
    text = " ".join(typed)
    prefix = last_word_prefix(query)
    s = Search(index=index).extra(track_total_hits=True)
    should = []
    fields = ["headline^3", "summary^2", "body"]
    if typed and prefix:
        # The last word whole (BM25, as the others) or, below it, as the start of a word:
        # a prefix query per field on the folded prefix (the folded tokens are indexed
        # alongside the originals; ``._index_prefix`` answers it), constant scores.
        last = Q(
            "bool",
            should=[
                Q("multi_match", query=typed[-1], fields=fields, type="cross_fields"),
                Q(
                    "dis_max",
                    queries=[
                        Q("prefix", **{name: {"value": prefix, "boost": boost}})
                        for name, boost in PREFIX_BOOSTS.items()
                    ],
                ),
            ],
            minimum_should_match=1,
        )
        whole = " ".join(typed[:-1])
        must = (
            Q(
                "bool",
                must=[
                    Q(
                        "multi_match",
                        query=whole,
                        fields=fields,
                        type="cross_fields",
                        operator="and",
                    ),
                    last,
                ],
            )
            if whole
            else last
        )
    elif typed:
        must = Q("multi_match", query=text, fields=fields, type="cross_fields", operator="and")
    else:
        must = Q("match_all")
    if len(typed) > 1:
        phrase = "match_phrase_prefix" if prefix else "match_phrase"
        should.append(
            Q(
                "dis_max",
                queries=[
                    Q(phrase, headline={"query": text, "boost": 6}),
                    Q(phrase, summary={"query": text, "boost": 4}),
                    Q(phrase, body={"query": text, "boost": 4}),
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
    filters = _filters(public_only=query.public_only, unit_paths=query.unit_paths, query=query)
    s = s.query(Q("bool", must=[must], should=should, filter=filters))
    by_date = [{"date": {"order": "desc"}}, {"item_id": {"order": "desc"}}]
    if query.sort == SORT_DATE or not typed:
        s = s.sort(*by_date)
    else:
        s = s.sort("_score", *by_date)
    if query.facets:
        for name, field in FACETS.items():
            order = {"_key": "desc"} if name == "month" else [{"_count": "desc"}, {"_key": "asc"}]
            s.aggs.bucket(name, "terms", field=field, size=FACET_SIZE, order=order)
    if query.highlight:
        s = s.highlight_options(
            pre_tags=[MARK_START], post_tags=[MARK_END], encoder="default", type="unified"
        )
        # ``._index_prefix``: the last word's prefix matches are marked too.
        s = s.highlight(
            "headline", number_of_fragments=0, matched_fields=["headline", "headline._index_prefix"]
        )
        for field in ("body", "summary"):
            s = s.highlight(
                field,
                fragment_size=SNIPPET_CHARS,
                number_of_fragments=1,
                no_match_size=SNIPPET_CHARS,
                matched_fields=[field, f"{field}._index_prefix"],
            )
    if query.spellcheck and typed:
        s = s.suggest(SPELL_SUGGESTION, fold(text), phrase=_phrase_suggester(filters))
    s = s.source(["item_id", "headline"] if query.highlight else ["item_id"])
    offset = max(query.offset, 0)
    return s[offset : offset + max(query.limit, 0)]


SPELL_SUGGESTION = "did_you_mean"


def _phrase_suggester(filters: list[Q]) -> dict:
    """ "Có phải bạn muốn tìm …": a ``phrase`` suggester over the folded headline words,
    each unknown word (``suggest_mode: missing``) replaced by a word within 2 edits;
    ``collate`` keeps only a correction that the search itself (every word, same scope and
    filters) would find, so that a word only a draft holds is never offered."""
    collate = Q(
        "bool",
        must=[
            Q(
                "multi_match",
                query="{{suggestion}}",
                fields=["headline", "summary", "body"],
                type="cross_fields",
                operator="and",
            )
        ],
        filter=filters,
    )
    return {
        "field": "headline.spell",
        "size": 1,
        "max_errors": 2,
        "gram_size": 1,
        "direct_generator": [
            {
                "field": "headline.spell",
                "suggest_mode": "missing",
                "min_word_length": MIN_PREFIX_CHARS,
                "max_edits": 2,
            }
        ],
        "collate": {"query": {"source": collate.to_dict()}, "prune": False},
    }


def build_suggest(
    prefix: str,
    *,
    public_only: bool = True,
    unit_paths: list[str] | None = None,
    limit: int = 8,
    index: str = DEFAULT_INDEX,
) -> Search:
    """Headlines whose words start with every typed prefix (``headline.suggest``), newest
    first."""
    typed = [w[:MAX_PREFIX_CHARS] for w in words(nfc(prefix)) if fold(w)][:MAX_QUERY_WORDS]
    match = {"headline.suggest": {"query": " ".join(typed), "operator": "and"}}
    s = Search(index=index).query(
        Q(
            "bool",
            must=[Q("match", **match)],
            filter=_filters(public_only=public_only, unit_paths=unit_paths),
        )
    )
    s = s.sort({"date": {"order": "desc"}}, {"item_id": {"order": "desc"}})
    return s.source(["item_id", "headline"])[: max(limit, 0)]


def _highlights(hit: dict) -> dict[str, str]:
    """Safe HTML from a hit's highlight (escape first, then the markers become <mark>)."""
    found = hit.get("highlight") or {}
    headline = (found.get("headline") or [hit.get("_source", {}).get("headline", "")])[0]
    body = (found.get("body") or [""])[0]
    summary = (found.get("summary") or [""])[0]
    for fragment in (body, summary):
        if MARK_START in fragment:
            snippet = fragment
            break
    else:
        snippet = summary or body
    ellipsis = " …" if snippet and len(snippet) >= SNIPPET_CHARS - 20 else ""
    return {"headline": marked_html(headline), "snippet": marked_html(snippet) + ellipsis}


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
        """For /healthz: a short timeout and no retries, so a dead cluster answers fast."""
        client = self.client.options(request_timeout=3, max_retries=0)
        info = client.cluster.health(timeout="2s")
        documents = None
        if client.indices.exists_alias(name=self.alias):
            documents = client.count(index=self.alias)["count"]
        return {"cluster": info.get("status"), "alias": self.alias, "documents": documents}

    def search(self, query: SearchQuery) -> SearchResults:
        has_words = any(fold(w) for w in words(nfc(query.text)))
        if (not has_words and not query.match_all_if_empty) or query.unit_paths == []:
            return SearchResults()
        request = build_search(query, index=self.alias)
        try:
            with _transient(SearchUnavailable):
                response = self.client.search(index=self.alias, body=request.to_dict())
        except NotFoundError:
            return SearchResults()  # nothing indexed yet: the alias does not exist
        hits = response["hits"]
        corrected = None
        if query.spellcheck and hits["total"]["value"] < SPELLCHECK_BELOW:
            for entry in response.get("suggest", {}).get(SPELL_SUGGESTION, []):
                for option in entry.get("options", []):
                    corrected = corrected or option.get("text")
        facets = {
            name: [
                FacetValue(key=str(b["key"]), count=int(b["doc_count"]))
                for b in response.get("aggregations", {}).get(name, {}).get("buckets", [])
            ]
            for name in FACETS
            if query.facets
        }
        return SearchResults(
            hits=[
                SearchHit(
                    item_id=int(h["_source"]["item_id"]),
                    score=float(h.get("_score") or 0),
                    highlight=_highlights(h) if query.highlight else {},
                )
                for h in hits["hits"]
            ],
            total=hits["total"]["value"],
            facets=facets,
            corrected=corrected,
        )

    def suggest(self, prefix, *, public_only=True, unit_paths=None, limit=8):
        if not any(fold(w) for w in words(nfc(prefix))) or unit_paths == []:
            return []
        request = build_suggest(
            prefix, public_only=public_only, unit_paths=unit_paths, limit=limit, index=self.alias
        )
        try:
            with _transient(SearchUnavailable):
                response = self.client.search(index=self.alias, body=request.to_dict())
        except NotFoundError:
            return []
        return [
            Suggestion(item_id=int(h["_source"]["item_id"]), headline=h["_source"]["headline"])
            for h in response["hits"]["hits"]
        ]

    # --- maintenance ------------------------------------------------------------------

    def _indexes(self) -> list[str]:
        """Concrete indexes of this alias's family (``<alias>-v*``)."""
        found = self.client.indices.get(index=f"{self.alias}-v*", allow_no_indices=True)
        return sorted(found.body)

    def _aliased(self) -> list[str]:
        if not self.client.indices.exists_alias(name=self.alias):
            return []
        return sorted(self.client.indices.get_alias(name=self.alias).body)

    def rebuild(
        self,
        docs: Iterable[ItemDocument],
        *,
        progress: Callable[[int], None] | None = None,
        keep_old: bool = False,
    ) -> dict:
        """Bulk-load ``docs`` into a new ``<alias>-vN-<timestamp>`` index, then move the alias
        to it in one ``update_aliases`` call and delete the indexes it left (unless
        ``keep_old``). Searches use the old index until the swap."""
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")
        new = f"{self.concrete_index}-{stamp}"
        body = index_body()
        settings_ = {**body["settings"], "refresh_interval": "-1"}
        with _transient():
            self.client.indices.create(index=new, settings=settings_, mappings=body["mappings"])
            actions = (
                {"_index": new, "_id": str(doc.item_id), "_source": document_body(doc)}
                for doc in docs
            )
            count = 0
            for _ok, _info in helpers.streaming_bulk(
                self.client, actions, chunk_size=500, raise_on_error=True
            ):
                count += 1
                if progress and count % 500 == 0:
                    progress(500)
            if progress and count % 500:
                progress(count % 500)
            self.client.indices.put_settings(index=new, settings={"refresh_interval": "1s"})
            self.client.indices.refresh(index=new)
            old = self._aliased()
            self.client.indices.update_aliases(
                actions=[{"remove": {"index": name, "alias": self.alias}} for name in old]
                + [{"add": {"index": new, "alias": self.alias}}]
            )
            dropped = []
            if not keep_old:
                for name in self._indexes():
                    if name != new:
                        self.client.options(ignore_status=404).indices.delete(index=name)
                        dropped.append(name)
        self._index_ready = True
        return {"index": new, "documents": count, "previous": old, "deleted": dropped}

    def status(self) -> dict:
        with _transient():
            aliased = set(self._aliased())
            indexes = []
            for name in self._indexes():
                indexes.append(
                    {
                        "name": name,
                        "live": name in aliased,
                        "documents": self.client.count(index=name)["count"],
                        "public": self.client.count(index=name, query={"term": {"public": True}})[
                            "count"
                        ],
                    }
                )
        return {"alias": self.alias, "indexes": indexes}
