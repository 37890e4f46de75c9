"""What the Elasticsearch backend sends, pinned as reviewed JSON (no cluster needed).

``search/contracts/mapping.json`` is the index's settings and mappings;
``search/contracts/query_*.json`` are request bodies for representative searches. A change
to the analyzer, the mapping or the query shows as a diff of those files in review. After
a deliberate change, rewrite them with::

    NGUON_UPDATE_CONTRACTS=1 .venv/bin/python -m pytest tests/search/test_elasticsearch_contract.py

The second half drives ``ElasticsearchBackend`` through the real elasticsearch-py client
over a fake HTTP node, so the calls it makes (and how it treats 404s, a refused connection
or a 503) are checked without a server.
"""

import json
import os
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from elastic_transport import ApiResponseMeta, BaseNode, HttpHeaders
from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport._node import NodeApiResponse
from elasticsearch import Elasticsearch

from search.backends import SearchQuery, SearchUnavailable, TemporarySearchError
from search.backends.base import ItemDocument
from search.backends.elasticsearch import (
    ElasticsearchBackend,
    build_search,
    build_suggest,
    document_body,
    index_body,
)

CONTRACTS = Path(__file__).resolve().parents[2] / "search" / "contracts"
UPDATE = os.environ.get("NGUON_UPDATE_CONTRACTS") == "1"

PROVINCE, DISTRICT_X, DISTRICT_Y = "0001", "00010001", "00010002"

QUERIES = {
    "query_public": SearchQuery(text="Tiêm chủng Đồng Xoài"),
    "query_public_single_word": SearchQuery(text="bão"),
    "query_public_unaccented": SearchQuery(text="tiem chung"),
    "query_units": SearchQuery(
        text="tiêm chủng", public_only=False, unit_paths=[DISTRICT_X, DISTRICT_Y]
    ),
    "query_units_none": SearchQuery(text="tiêm chủng", unit_paths=[]),
    "query_paging": SearchQuery(text="thông báo cắt điện", limit=10, offset=30),
    "query_portal_page": SearchQuery(text="tiêm chủng", facets=True, highlight=True),
    "query_filters": SearchQuery(
        text="dong xoai",
        within_path=DISTRICT_X,
        category="y-te",
        kind="audio",
        date_from=date(2026, 11, 1),
        date_to=date(2026, 11, 30),
        sort="date",
    ),
    # The last word as a prefix (issue 16); typed with a space after it, a whole word.
    "query_public_prefix": SearchQuery(text="Bình Dươ"),
    "query_public_prefix_single_word": SearchQuery(text="viett"),
    "query_public_last_word_complete": SearchQuery(text="tiem chung", last_word_complete=True),
    # "Có phải bạn muốn tìm …": the phrase suggester in the same request, with the filters.
    "query_portal_spellcheck": SearchQuery(
        text="thoii tiett", facets=True, highlight=True, spellcheck=True, kind="article"
    ),
    "query_editor_browse": SearchQuery(
        text="",
        public_only=False,
        unit_paths=[DISTRICT_X],
        status="in_review",
        facets=True,
        match_all_if_empty=True,
    ),
}
SUGGESTIONS = {
    "suggest_public": {"prefix": "Tiêm ch"},
    "suggest_editor": {"prefix": "dong x", "public_only": False, "unit_paths": [DISTRICT_Y]},
}


def as_contract(data: dict) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def check_contract(name: str, generated: dict) -> None:
    path = CONTRACTS / f"{name}.json"
    text = as_contract(generated)
    if UPDATE:
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"{path} is missing: run with NGUON_UPDATE_CONTRACTS=1 and review it"
    assert text == path.read_text(encoding="utf-8"), (
        f"{path.name} differs from what the backend now sends; if the change is meant, "
        "rewrite it with NGUON_UPDATE_CONTRACTS=1 and review the diff"
    )


# --- the pinned JSON ------------------------------------------------------------------


def test_mapping_matches_contract():
    check_contract("mapping", index_body())


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_query_body_matches_contract(name):
    check_contract(name, build_search(QUERIES[name]).to_dict())


@pytest.mark.parametrize("name", sorted(SUGGESTIONS))
def test_suggest_body_matches_contract(name):
    args = dict(SUGGESTIONS[name])
    check_contract(name, build_suggest(args.pop("prefix"), **args).to_dict())


def test_every_contract_file_is_generated():
    expected = {"mapping", *QUERIES, *SUGGESTIONS}
    assert {p.stem for p in CONTRACTS.glob("*.json")} == expected


def test_analyzer_lowercases_then_folds_keeping_the_original():
    analysis = index_body()["settings"]["analysis"]
    assert analysis["analyzer"]["vi_text"] == {
        "type": "custom",
        "tokenizer": "standard",
        "filter": ["lowercase", "vi_folding"],
    }
    assert analysis["filter"]["vi_folding"] == {
        "type": "asciifolding",
        "preserve_original": True,
    }
    properties = index_body()["mappings"]["properties"]
    for field in ("headline", "summary", "body"):
        assert properties[field]["analyzer"] == "vi_text"
        assert properties[field]["fields"]["exact"]["analyzer"] == "vi_exact"
    assert analysis["analyzer"]["vi_exact"]["filter"] == ["lowercase"]


def test_document_fields_are_exactly_the_mapped_fields():
    doc = ItemDocument(
        item_id=7,
        uuid=uuid.uuid4(),
        public=True,
        unit_path="00010001",
        unit_code="901",
        kind="article",
        category_id=None,
        published_at=datetime(2025, 11, 3, 1, 2, tzinfo=UTC),
        headline="Tiêm chủng",
        summary="",
        body="",
    )
    mapping = index_body()["mappings"]
    assert mapping["dynamic"] == "strict"
    assert set(document_body(doc)) == set(mapping["properties"])
    json.dumps(document_body(doc))  # plain JSON: no UUID or datetime objects left


def test_query_is_its_words_capped_at_32():
    body = build_search(SearchQuery(text="tiêm, chủng!! " + "bão " * 100)).to_dict()
    text = body["query"]["bool"]["must"][0]["multi_match"]["query"]
    assert text.split() == ["tiêm", "chủng"] + ["bão"] * 30


def test_public_search_always_filters_on_public():
    body = build_search(SearchQuery(text="x")).to_dict()
    assert {"term": {"public": True}} in body["query"]["bool"]["filter"]


# --- the code path, over a fake HTTP node -----------------------------------------------


class FakeNode(BaseNode):
    """Answers requests with ``FakeNode.handler(method, path, body) -> (status, body)``."""

    _CLIENT_META_HTTP_CLIENT = ("fake", "0")
    handler = None
    requests: list = []

    def perform_request(self, method, target, body=None, headers=None, request_timeout=None):
        payload = json.loads(body) if body else None
        FakeNode.requests.append((method, target, payload))
        status, answer = FakeNode.handler(method, target.split("?")[0], payload)
        data = json.dumps(answer).encode() if answer is not None else b""
        meta = ApiResponseMeta(
            status=status,
            http_version="1.1",
            headers=HttpHeaders(
                {"content-type": "application/json", "x-elastic-product": "Elasticsearch"}
            ),
            duration=0.0,
            node=self.config,
        )
        return NodeApiResponse(meta, data)

    def close(self):
        pass


def error(status, kind):
    return status, {"error": {"type": kind, "reason": kind}, "status": status}


@pytest.fixture
def fake_es():
    FakeNode.requests = []
    client = Elasticsearch("http://es.invalid:9200", node_class=FakeNode, max_retries=0)
    return ElasticsearchBackend(client=client, alias="nguon-items")


def a_document(item_id=7):
    return ItemDocument(
        item_id=item_id,
        uuid=uuid.UUID(int=item_id),
        public=True,
        unit_path="00010001",
        unit_code="901",
        kind="article",
        category_id=3,
        published_at=datetime(2025, 11, 3, 1, 2, tzinfo=UTC),
        headline="Đồng Xoài tiêm chủng",
        summary="Tóm tắt",
        body="Nội dung",
    )


def test_first_index_creates_the_versioned_index_with_its_alias_once(fake_es):
    def handler(method, path, body):
        if method == "HEAD" and path == "/_alias/nguon-items":
            return 404, None
        if method == "PUT" and path == "/nguon-items-v2":
            return 200, {"acknowledged": True}
        if method == "PUT" and path.startswith("/nguon-items/_doc/"):
            return 201, {"result": "created"}
        raise AssertionError((method, path))

    FakeNode.handler = handler
    fake_es.index(a_document(7))
    fake_es.index(a_document(8))
    calls = [(m, t) for m, t, _ in FakeNode.requests]
    assert calls == [
        ("HEAD", "/_alias/nguon-items"),
        ("PUT", "/nguon-items-v2"),
        ("PUT", "/nguon-items/_doc/7?refresh=wait_for"),
        ("PUT", "/nguon-items/_doc/8?refresh=wait_for"),
    ]
    created = FakeNode.requests[1][2]
    assert created["aliases"] == {"nguon-items": {}}
    assert created["mappings"] == index_body()["mappings"]
    assert FakeNode.requests[2][2] == document_body(a_document(7))


def test_losing_the_race_to_create_the_index_is_fine(fake_es):
    def handler(method, path, body):
        if method == "HEAD":
            return 404, None
        if method == "PUT" and path == "/nguon-items-v2":
            return error(400, "resource_already_exists_exception")
        return 200, {"result": "updated"}

    FakeNode.handler = handler
    fake_es.index(a_document(7))  # no exception: the other process made the index
    calls = [(m, t) for m, t, _ in FakeNode.requests]
    assert calls == [
        ("HEAD", "/_alias/nguon-items"),
        ("PUT", "/nguon-items-v2"),  # refused: it exists now
        ("PUT", "/nguon-items/_doc/7?refresh=wait_for"),  # and the document still goes in
    ]
    assert FakeNode.requests[2][2] == document_body(a_document(7))


def test_delete_of_a_missing_document_or_index_is_not_an_error(fake_es):
    FakeNode.handler = lambda method, path, body: error(404, "index_not_found_exception")
    fake_es.delete(7)
    assert FakeNode.requests[0][:2] == ("DELETE", "/nguon-items/_doc/7?refresh=wait_for")


def test_search_parses_hits_and_total(fake_es):
    def handler(method, path, body):
        assert (method, path) == ("POST", "/nguon-items/_search")
        assert body == build_search(SearchQuery(text="tiem chung"), index="nguon-items").to_dict()
        return 200, {
            "hits": {
                "total": {"value": 12, "relation": "eq"},
                "hits": [
                    {"_id": "8", "_score": 7.5, "_source": {"item_id": 8}},
                    {"_id": "7", "_score": None, "_source": {"item_id": 7}},
                ],
            }
        }

    FakeNode.handler = handler
    result = fake_es.search(SearchQuery(text="tiem chung"))
    assert [(h.item_id, h.score) for h in result.hits] == [(8, 7.5), (7, 0.0)]
    assert result.total == 12


def test_search_reads_the_correction_only_when_few_items_match(fake_es):
    query = SearchQuery(text="thoii tiett", spellcheck=True)

    def answer(total):
        def handler(method, path, body):
            assert body == build_search(query, index="nguon-items").to_dict()
            return 200, {
                "hits": {"total": {"value": total, "relation": "eq"}, "hits": []},
                "suggest": {
                    "did_you_mean": [
                        {
                            "text": "thoii tiett",
                            "offset": 0,
                            "length": 11,
                            "options": [{"text": "thoi tiet", "score": 0.2}],
                        }
                    ]
                },
            }

        return handler

    FakeNode.handler = answer(0)
    assert fake_es.search(query).corrected == "thoi tiet"
    FakeNode.handler = answer(3)  # enough found: no correction offered
    assert fake_es.search(query).corrected is None


def test_the_correction_is_checked_against_the_public_scope_and_filters():
    """``collate`` keeps a correction only if the search itself would find it: the same
    filters (public, the reader's kind) so that a draft's word is never offered."""
    body = build_search(SearchQuery(text="thoii tiett", spellcheck=True, kind="audio")).to_dict()
    phrase = body["suggest"]["did_you_mean"]["phrase"]
    assert body["suggest"]["did_you_mean"]["text"] == "thoii tiett"
    collate = phrase["collate"]["query"]["source"]["bool"]
    assert collate["filter"] == body["query"]["bool"]["filter"]
    assert {"term": {"public": True}} in collate["filter"]
    assert {"term": {"kind": "audio"}} in collate["filter"]
    assert phrase["collate"]["prune"] is False
    # only when asked: the plain search sends no suggester
    assert "suggest" not in build_search(SearchQuery(text="thoii tiett")).to_dict()


def test_the_last_word_is_a_prefix_only_from_two_letters_and_without_a_space_after_it():
    def prefixes(query):
        found = []

        def walk(node):
            if isinstance(node, dict):
                if "prefix" in node:
                    found.append(node["prefix"])
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(build_search(query).to_dict()["query"])
        return found

    assert prefixes(SearchQuery(text="Bình Dươ")) == [
        {"headline": {"value": "duo", "boost": 0.9}},
        {"summary": {"value": "duo", "boost": 0.6}},
        {"body": {"value": "duo", "boost": 0.3}},
    ]
    assert prefixes(SearchQuery(text="Bình D")) == []
    assert prefixes(SearchQuery(text="Bình Dương ")) == []
    assert prefixes(SearchQuery(text="Bình Dương", last_word_complete=True)) == []


def test_search_before_anything_is_indexed_finds_nothing(fake_es):
    FakeNode.handler = lambda method, path, body: error(404, "index_not_found_exception")
    assert fake_es.search(SearchQuery(text="tiem chung")).total == 0


@pytest.mark.parametrize("text", ["", "   ", "!!! ???", "— …"])
def test_search_without_words_asks_nothing(fake_es, text):
    FakeNode.handler = None  # any request would fail
    assert fake_es.search(SearchQuery(text=text)).hits == []
    assert FakeNode.requests == []


def refused(method, path, body):
    raise TransportConnectionError("Connection refused")


def test_unreachable_cluster_is_temporary_for_indexing(fake_es):
    FakeNode.handler = refused
    with pytest.raises(TemporarySearchError):
        fake_es.index(a_document())
    with pytest.raises(TemporarySearchError):
        fake_es.delete(7)


def test_unreachable_or_busy_cluster_makes_search_unavailable(fake_es):
    FakeNode.handler = refused
    with pytest.raises(SearchUnavailable):
        fake_es.search(SearchQuery(text="tiem chung"))
    FakeNode.handler = lambda method, path, body: error(503, "unavailable_shards_exception")
    with pytest.raises(SearchUnavailable):
        fake_es.search(SearchQuery(text="tiem chung"))


def test_a_rejected_request_is_a_bug_not_retried(fake_es):
    FakeNode.handler = lambda method, path, body: error(400, "parsing_exception")
    with pytest.raises(Exception) as caught:
        fake_es.search(SearchQuery(text="tiem chung"))
    assert not isinstance(caught.value, TemporarySearchError)


# --- facets, highlights, suggestions, rebuild and status over the fake node ----------------


def test_facets_and_highlights_are_parsed_and_made_safe(fake_es):
    def handler(method, path, body):
        assert body["highlight"]["pre_tags"] == ["\ue000"]
        return 200, {
            "hits": {
                "total": {"value": 1, "relation": "eq"},
                "hits": [
                    {
                        "_id": "7",
                        "_score": 3.0,
                        "_source": {"item_id": 7, "headline": "x"},
                        "highlight": {
                            "headline": ["<b>Lịch</b> \ue000tiêm\ue001 \ue000chủng\ue001"],
                            "body": ["Trạm y tế &amp; \ue000tiêm\ue001"],
                        },
                    }
                ],
            },
            "aggregations": {
                "district": {"buckets": [{"key": "901", "doc_count": 4}]},
                "month": {"buckets": [{"key": "2026-11", "doc_count": 2}]},
            },
        }

    FakeNode.handler = handler
    result = fake_es.search(SearchQuery(text="tiem chung", facets=True, highlight=True))
    (hit,) = result.hits
    assert hit.highlight["headline"] == (
        "&lt;b&gt;Lịch&lt;/b&gt; <mark>tiêm</mark> <mark>chủng</mark>"
    )
    assert hit.highlight["snippet"] == "Trạm y tế &amp;amp; <mark>tiêm</mark>"
    assert [(v.key, v.count) for v in result.facets["district"]] == [("901", 4)]
    assert result.facets["category"] == []
    assert [(v.key, v.count) for v in result.facets["month"]] == [("2026-11", 2)]


def test_suggest_parses_headlines(fake_es):
    def handler(method, path, body):
        assert body == build_suggest("tiem ch", index="nguon-items").to_dict()
        return 200, {
            "hits": {
                "total": {"value": 1, "relation": "eq"},
                "hits": [{"_id": "7", "_source": {"item_id": 7, "headline": "Tiêm chủng"}}],
            }
        }

    FakeNode.handler = handler
    (suggestion,) = fake_es.suggest("tiem ch")
    assert (suggestion.item_id, suggestion.headline) == (7, "Tiêm chủng")
    FakeNode.handler = None
    assert fake_es.suggest("  ") == []


def test_rebuild_bulk_loads_a_new_index_then_swaps_the_alias_atomically(fake_es):
    bulk_lines = []

    def handler(method, path, body):
        if path.endswith("/_settings") or path.endswith("/_refresh"):
            return 200, {"acknowledged": True}
        if method == "PUT" and path.startswith("/nguon-items-v2-"):
            assert body["settings"]["refresh_interval"] == "-1"
            return 200, {"acknowledged": True}
        if method in ("PUT", "POST") and path == "/_bulk":
            return 200, {"errors": False, "items": [{"index": {"status": 201}}] * 2}
        if method == "HEAD" and path == "/_alias/nguon-items":
            return 200, None
        if method == "GET" and path == "/_alias/nguon-items":
            return 200, {"nguon-items-v2": {"aliases": {"nguon-items": {}}}}
        if method == "POST" and path == "/_aliases":
            return 200, {"acknowledged": True}
        if method == "GET" and path == "/nguon-items-v*":
            new = next(p for m, p, _b in FakeNode.requests if p.startswith("/nguon-items-v2-"))
            return 200, {"nguon-items-v2": {}, new.split("?")[0].lstrip("/"): {}}
        if method == "DELETE":
            return 200, {"acknowledged": True}
        raise AssertionError((method, path))

    FakeNode.handler = handler
    original = FakeNode.perform_request

    def capture(self, method, target, body=None, headers=None, request_timeout=None):
        if target.startswith("/_bulk"):
            bulk_lines.extend(line for line in body.decode().splitlines() if line)
            body = None
        return original(self, method, target, body, headers, request_timeout)

    FakeNode.perform_request = capture
    progress = []
    try:
        report = fake_es.rebuild([a_document(7), a_document(8)], progress=progress.append)
    finally:
        FakeNode.perform_request = original
    new = report["index"]
    assert new.startswith("nguon-items-v2-") and report["documents"] == 2
    assert sum(progress) == 2
    assert json.loads(bulk_lines[0]) == {"index": {"_index": new, "_id": "7"}}
    assert json.loads(bulk_lines[1]) == document_body(a_document(7))
    (swap,) = [b for m, p, b in FakeNode.requests if p == "/_aliases"]
    assert swap == {
        "actions": [
            {"remove": {"index": "nguon-items-v2", "alias": "nguon-items"}},
            {"add": {"index": new, "alias": "nguon-items"}},
        ]
    }
    assert report["deleted"] == ["nguon-items-v2"]
    methods = [(m, p.split("?")[0]) for m, p, _b in FakeNode.requests]
    assert methods.index(("POST", "/_aliases")) < methods.index(("DELETE", "/nguon-items-v2"))


def test_status_counts_documents_per_index(fake_es):
    def handler(method, path, body):
        if path == "/nguon-items-v*":
            return 200, {"nguon-items-v2": {}, "nguon-items-v2-2026": {}}
        if method == "HEAD":
            return 200, None
        if path == "/_alias/nguon-items":
            return 200, {"nguon-items-v2-2026": {"aliases": {"nguon-items": {}}}}
        if path.endswith("/_count"):
            public = bool(body and body.get("query"))
            return 200, {"count": 3 if public else 5}
        raise AssertionError((method, path))

    FakeNode.handler = handler
    status = fake_es.status()
    assert status["indexes"] == [
        {"name": "nguon-items-v2", "live": False, "documents": 5, "public": 3},
        {"name": "nguon-items-v2-2026", "live": True, "documents": 5, "public": 3},
    ]


def test_ping_of_a_dead_cluster_raises_quickly(fake_es):
    FakeNode.handler = refused
    with pytest.raises(Exception):  # noqa: B017 - /healthz reports whatever it is
        fake_es.ping()
    assert len(FakeNode.requests) == 1  # no retries
