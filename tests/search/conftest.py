"""The search behaviour suite runs once per available backend: ``backend`` is parametrised
over the embedded backend (always) and Elasticsearch (when ``ELASTICSEARCH_URL`` is set;
skipped with the reason otherwise, failed with ``NGUON_REQUIRE_SERVICES=elasticsearch``).
Each Elasticsearch test gets its own alias and deletes its indexes afterwards."""

import os
import uuid
from dataclasses import dataclass

import pytest
from django.utils import timezone

from newsroom.models import Category, NewsItem, Role
from newsroom.services import item_create, item_submit
from search.backends import get_backend
from search.services import index_rebuild
from tests.factories import make_tree, make_user
from tests.support import require

from .corpus import ARTICLES, CATEGORIES, at

ELASTICSEARCH_URL = os.environ.get("ELASTICSEARCH_URL", "")
SKIP_REASON = (
    "ELASTICSEARCH_URL is not set: the Elasticsearch half of the suite needs a real cluster, "
    "e.g. ELASTICSEARCH_URL=http://localhost:9200 .venv/bin/python -m pytest tests/search"
)


@pytest.fixture(params=["embedded", pytest.param("elasticsearch", marks=pytest.mark.elasticsearch)])
def backend(request, settings, db):
    if request.param == "embedded":
        settings.NGUON_SEARCH_BACKEND = "search.backends.embedded.EmbeddedBackend"
        yield get_backend()
        return
    require("elasticsearch", bool(ELASTICSEARCH_URL), SKIP_REASON)
    settings.ELASTICSEARCH_URL = ELASTICSEARCH_URL
    settings.NGUON_SEARCH_BACKEND = "search.backends.elasticsearch.ElasticsearchBackend"
    settings.NGUON_SEARCH_INDEX = f"nguon-test-{uuid.uuid4().hex[:12]}"
    es = get_backend()
    try:
        es.client.info()
    except Exception as exc:  # a URL was given: an unreachable cluster is a failure
        pytest.fail(f"ELASTICSEARCH_URL={ELASTICSEARCH_URL} cannot be reached: {exc}")
    yield es
    es.client.options(ignore_status=404).indices.delete(
        index=f"{es.alias}-v*", allow_no_indices=True
    )


@dataclass
class Corpus:
    units: dict
    items: dict[str, NewsItem]
    categories: dict[str, Category]

    def key(self, item_id: int) -> str:
        return next(k for k, item in self.items.items() if item.pk == item_id)

    def keys(self, item_ids) -> list[str]:
        return [self.key(i) for i in item_ids]


@pytest.fixture
def corpus(backend) -> Corpus:
    """Every article of ``corpus.ARTICLES`` in the database, then one index rebuild."""
    units = make_tree(three_level=True)
    categories = {
        slug: Category.objects.create(slug=slug, name=name, sort_order=n)
        for n, (slug, name) in enumerate(CATEGORIES.items())
    }
    reporter_c = make_user("phongvien_c", unit=units["C"], role=Role.REPORTER)
    items = {}
    for key, (headline, summary, body, unit, cat, kind, day, state) in ARTICLES.items():
        fields = {"summary": summary, "body": body, "kind": kind, "category": categories[cat]}
        if state == "in_review":
            item = item_create(user=reporter_c, unit=units[unit], headline=headline, **fields)
            item_submit(user=reporter_c, item=item)
        else:
            when = at(day) if day else None
            item = NewsItem.objects.create(
                unit=units[unit],
                headline=headline,
                live=state == "published",
                first_published_at=when,
                last_published_at=when,
                version=1 if when else 0,
                withdrawn_at=timezone.now() if state == "withdrawn" else None,
                **fields,
            )
        NewsItem.objects.filter(pk=item.pk).update(created_at=at(day or "2026-11-11"))
        items[key] = item
    index_rebuild()
    return Corpus(units=units, items=items, categories=categories)
