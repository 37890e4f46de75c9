"""The search behaviour cases of tests/search/test_portal_page.py, on a real Elasticsearch.

Runs when ``ELASTICSEARCH_URL`` names a cluster, skips with the reason otherwise::

    ELASTICSEARCH_URL=http://localhost:9200 make test PYTEST_ARGS='-m elasticsearch'

Each test gets its own index (``nguon-test-<random>-v2`` behind its alias), deleted after.
With ``NGUON_REQUIRE_SERVICES=elasticsearch`` a missing URL fails instead of skipping.
"""

import os
import uuid

import pytest

from search.backends import get_backend
from search.backends.elasticsearch import ElasticsearchBackend, index_body
from tests.search.test_portal_page import SearchBehaviour
from tests.support import require

pytestmark = pytest.mark.elasticsearch

ELASTICSEARCH_URL = os.environ.get("ELASTICSEARCH_URL", "")
SKIP_REASON = (
    "ELASTICSEARCH_URL is not set: these cases need a real Elasticsearch 8 cluster, e.g. "
    "ELASTICSEARCH_URL=http://localhost:9200 make test PYTEST_ARGS='-m elasticsearch'"
)


class TestElasticsearchSearch(SearchBehaviour):
    @pytest.fixture
    def search_backend(self, settings):
        require("elasticsearch", bool(ELASTICSEARCH_URL), SKIP_REASON)
        settings.ELASTICSEARCH_URL = ELASTICSEARCH_URL
        settings.NGUON_SEARCH_BACKEND = "search.backends.elasticsearch.ElasticsearchBackend"
        settings.NGUON_SEARCH_INDEX = f"nguon-test-{uuid.uuid4().hex[:12]}"
        backend = get_backend()
        assert isinstance(backend, ElasticsearchBackend)
        try:
            backend.client.info()
        except Exception as exc:  # a URL was given: an unreachable cluster is a failure
            pytest.fail(f"ELASTICSEARCH_URL={ELASTICSEARCH_URL} cannot be reached: {exc}")
        backend.ensure_index()
        yield backend
        backend.client.options(ignore_status=404).indices.delete(index=backend.concrete_index)

    def test_analyzer_folds_vietnamese_and_keeps_the_original(self, search_backend):
        result = search_backend.client.indices.analyze(
            index=search_backend.alias, analyzer="vi_text", text="Đồng Xoài TIÊM chủng"
        )
        tokens = {(t["token"], t["position"]) for t in result["tokens"]}
        assert tokens == {
            ("đồng", 0),
            ("dong", 0),
            ("xoài", 1),
            ("xoai", 1),
            ("tiêm", 2),
            ("tiem", 2),
            ("chủng", 3),
            ("chung", 3),
        }

    def test_cluster_holds_the_reviewed_mapping(self, search_backend):
        mapping = search_backend.client.indices.get_mapping(index=search_backend.alias)
        (only,) = mapping.body.values()
        assert only["mappings"] == index_body()["mappings"]
