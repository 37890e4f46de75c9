"""The embedded backend's own parts: folding helpers, the index row, limits, the page when
search is down, the reindex command. Behaviour a reader sees is in test_portal_page."""

import io
import unicodedata
from datetime import timedelta
from importlib import import_module

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db.models.expressions import RawSQL
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from newsroom.models import NewsItem
from search.backends import SearchQuery, SearchUnavailable, get_backend
from search.backends.base import TemporarySearchError, last_word_prefix
from search.backends.embedded import (
    BODY_WORD,
    EXACT_WORD,
    HEADLINE_WORD,
    SUMMARY_WORD,
    TEXT_PHRASE,
    entry_texts,
    query_words,
    score_entry,
    score_sql,
)
from search.models import SearchEntry
from search.services import item_index
from search.tasks import index_item
from search.text import fold, html_to_text, normalise, words
from tests.factories import make_tree


@pytest.fixture
def embedded(settings):
    settings.NGUON_SEARCH_BACKEND = "search.backends.embedded.EmbeddedBackend"
    return get_backend()


@pytest.fixture
def unit(db):
    return make_tree(three_level=True)["A"]


def live_item(unit, headline, *, body="", minutes_ago=0):
    item = NewsItem.objects.create(
        unit=unit,
        headline=headline,
        body=body,
        live=True,
        first_published_at=timezone.now() - timedelta(minutes=minutes_ago),
    )
    item_index(item_id=item.pk)
    return item


# --- text helpers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Đồng Xoài", "dong xoai"),
        ("ĐỒNG XOÀI", "dong xoai"),
        ("tiêm chủng", "tiem chung"),
        (unicodedata.normalize("NFD", "Tiêm chủng"), "tiem chung"),
        ("Quảng Ngãi, Bà Rịa – Vũng Tàu", "quang ngai, ba ria – vung tau"),
        ("ưu đãi", "uu dai"),
        ("", ""),
    ],
)
def test_fold(text, folded):
    assert fold(text) == folded


def test_normalise_keeps_diacritics_and_composes():
    assert normalise(unicodedata.normalize("NFD", "Tiêm CHỦNG")) == "tiêm chủng"


def test_words_keep_a_decomposed_word_whole():
    assert words(unicodedata.normalize("NFD", "tiêm chủng")) == [
        unicodedata.normalize("NFD", "tiêm"),
        unicodedata.normalize("NFD", "chủng"),
    ]


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>Đồng Xoài</p><p>tiêm chủng</p>", "Đồng Xoài tiêm chủng"),
        ("<p>A&nbsp;B &amp; C &quot;D&quot; &#7871;</p>", 'A B & C "D" ế'),
        ('<p><a href="https://example.org/x" class="y">liên kết</a></p>', "liên kết"),
        ("<p>trước</p><script>alert(1)</script><style>p{}</style><p>sau</p>", "trước sau"),
        ('<embed embedtype="image" id="3" alt="ảnh"/><p>chữ</p>', "chữ"),
        ("<h2>Tiêu<br/>đề</h2>", "Tiêu đề"),
        ("", ""),
        ("chữ thường, không thẻ", "chữ thường, không thẻ"),
    ],
)
def test_html_to_text(html, text):
    assert html_to_text(html) == text


# --- the index row and the score ------------------------------------------------------------


def test_entry_keeps_fields_apart():
    texts = entry_texts("Tiêm chủng", "Tóm tắt", "<ignored> Nội dung")
    assert texts["folded_headline"] == " tiem chung "
    assert texts["folded_text"] == " tiem chung | tom tat | ignored noi dung "
    assert texts["exact_text"] == " tiêm chủng | tóm tắt | ignored nội dung "


def test_a_phrase_does_not_run_from_headline_into_summary():
    folded, exact = query_words("tiêm chủng")
    across = entry_texts("Lịch tiêm", "Chủng ngừa cúm", "")
    # "tiêm" in the headline, "chủng" in the summary, both as typed; no phrase bonus
    assert score_entry(folded, exact, across) == HEADLINE_WORD + SUMMARY_WORD + 2 * EXACT_WORD
    inside = entry_texts("Lịch", "", "tiêm chủng cúm")
    assert score_entry(folded, exact, inside) == 2 * BODY_WORD + TEXT_PHRASE + 2 * EXACT_WORD


def test_query_words_cap_and_exact_words():
    folded, exact = query_words("Đồng Xoài dong " + "x " * 100)
    assert folded[:3] == ["dong", "xoai", "dong"]
    assert len(folded) == 32
    assert exact == ["đồng", "xoài"]


@pytest.mark.parametrize(
    "q",
    [
        "tiêm chủng",
        "tiem chung",
        "bão",
        "đồng xoài tiêm",
        "chủng",
        "cúm mùa",
        "x",
        # the last word as a prefix: whole here, only a start there, in each field
        "tiêm ch",
        "cúm m",
        "tiem chu",
        "ba",
    ],
)
def test_the_database_scores_like_score_entry(embedded, unit, q):
    """``score_sql`` (what ranks) and ``score_entry`` (the readable rules) agree."""
    live_item(unit, "Tiêm chủng tại Đồng Xoài", body="<p>cúm mùa</p>")
    live_item(unit, "Lịch tiêm", body="<p>Chủng ngừa cúm mùa; tiêm chủng</p>")
    live_item(unit, "Bão số 3", body="<p>họp báo tiêm chủng</p>")
    folded, exact = query_words(q)
    prefix = last_word_prefix(SearchQuery(text=q))
    sql, params = score_sql(folded, exact, prefix)
    rows = SearchEntry.objects.annotate(score=RawSQL(sql, params)).values(  # noqa: S611
        "score", "folded_headline", "folded_summary", "folded_text", "exact_text"
    )
    for row in rows:
        expected = score_entry(folded, exact, row, prefix)
        assert float(row["score"]) == pytest.approx(expected), (q, row)
    # and the backend ranks by it: the page comes back sorted, ties newest first
    hits = embedded.search(SearchQuery(text=q, limit=10)).hits
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_reindexing_is_idempotent(embedded, unit):
    item = live_item(unit, "Tiêm chủng")
    item_index(item_id=item.pk)
    item_index(item_id=item.pk)
    assert SearchEntry.objects.filter(item_id=item.pk).count() == 1


def test_index_of_a_missing_item_removes_its_entry(embedded, unit):
    item = live_item(unit, "Tiêm chủng")
    NewsItem.objects.filter(pk=item.pk).delete()
    assert item_index(item_id=item.pk) is False
    assert not SearchEntry.objects.filter(item_id=item.pk).exists()


def test_migration_fills_the_new_columns_of_old_rows(embedded, unit):
    item = live_item(unit, "Tiêm chủng", body="<p>Đồng Xoài</p>")
    SearchEntry.objects.filter(item_id=item.pk).update(
        folded_text=" tiem chung dong xoai ", exact_text=""
    )
    migration = import_module("search.migrations.0002_searchentry_exact_text")
    migration.derive_texts(apps, None)
    entry = SearchEntry.objects.get(item_id=item.pk)
    assert entry.folded_text == " tiem chung |  | dong xoai "
    assert entry.exact_text == " tiêm chủng |  | đồng xoài "


# --- failure handling -------------------------------------------------------------------------


def test_index_task_retries_temporary_errors():
    assert TemporarySearchError in index_item.autoretry_for
    assert issubclass(SearchUnavailable, TemporarySearchError)


def test_search_page_answers_503_when_search_is_down(embedded, monkeypatch, db):
    def down(query):
        raise SearchUnavailable("cluster unreachable")

    monkeypatch.setattr(embedded, "search", down)
    response = Client().get(reverse("search"), {"q": "tiêm chủng"})
    assert response.status_code == 503
    assert response.context["search_unavailable"] is True


# --- reindex command ------------------------------------------------------------------------


def test_search_reindex_indexes_every_item_and_drops_stale_entries(embedded, unit):
    live = NewsItem.objects.create(
        unit=unit, headline="Đã đăng", live=True, first_published_at=timezone.now()
    )
    draft = NewsItem.objects.create(unit=unit, headline="Bản nháp", live=False)
    SearchEntry.objects.create(
        item_id=999_999,
        uuid=live.uuid,
        unit_path=unit.path,
        kind="article",
        headline="cũ",
        folded_headline=" cu ",
        folded_text=" cu ",
    )
    out = io.StringIO()
    call_command("search_reindex", stdout=out)
    assert "Rebuilt search_searchentry with 2 documents" in out.getvalue()
    assert set(SearchEntry.objects.values_list("item_id", "public")) == {
        (live.pk, True),
        (draft.pk, False),
    }


def test_a_broker_that_cannot_take_the_task_does_not_fail_the_publication(monkeypatch, caplog):
    from kombu.exceptions import OperationalError

    from search.receivers import on_item_published, on_item_withdrawn

    def refuse(item_id):
        raise OperationalError("broker unreachable")

    monkeypatch.setattr(index_item, "delay", refuse)
    # the receivers themselves: other channels' receivers are not this test's business
    on_item_published(sender=NewsItem, item_id=42, version=2, first=False)
    on_item_withdrawn(sender=NewsItem, item_id=43, version=2)
    assert "could not queue search indexing of item 43" in caplog.text
    assert "could not queue search indexing of item 42" in caplog.text


# --- SQLite: rank window, counts from the index, covering indexes --------------------------


def test_big_result_sets_count_exactly_and_rank_the_newest_window(embedded, unit, monkeypatch):
    """Past the windows the total stays exact (counted in the FTS index for the public, by
    a join with filters), facets count the newest MATCH_WINDOW, ranking the newest
    RANK_WINDOW matches (the entries indexed last)."""
    from django.db import connection

    from search.backends import embedded as module

    if connection.vendor != "sqlite":
        pytest.skip("the SQLite windows (PostgreSQL ranks the newest MATCH_WINDOW by date)")

    monkeypatch.setattr(module, "RANK_WINDOW", 3)
    monkeypatch.setattr(module, "MATCH_WINDOW", 4)
    oldest = live_item(unit, "Tiêm chủng cho trẻ", minutes_ago=60)  # best match, oldest entry
    newer = [live_item(unit, f"Tin {n}", body="<p>tiêm chủng</p>") for n in range(6)]
    hidden = NewsItem.objects.create(unit=unit, headline="Tiêm chủng nháp", live=False)
    item_index(item_id=hidden.pk)

    result = embedded.search(SearchQuery(text="tiem chung", limit=10))
    assert result.total == 7  # exact, the draft left out
    assert {h.item_id for h in result.hits} == {i.pk for i in newer[-3:]}
    faceted = embedded.search(SearchQuery(text="tiem chung", limit=10, facets=True))
    assert faceted.total == 7
    assert sum(v.count for v in faceted.facets["kind"]) == 4
    filtered = embedded.search(SearchQuery(text="tiem chung", kind="article", limit=10))
    assert filtered.total == 7
    editor = embedded.search(SearchQuery(text="tiem chung", public_only=False, limit=10))
    assert editor.total == 8
    # within the window the best match still comes first
    monkeypatch.setattr(module, "RANK_WINDOW", 100)
    assert embedded.search(SearchQuery(text="tiem chung")).hits[0].item_id == oldest.pk


def test_search_answers_without_the_covering_indexes_and_rebuild_restores_them(embedded, unit):
    from django.db import connection

    from search import fts

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's covering indexes")
    item = live_item(unit, "Tiêm chủng tại Đồng Xoài")
    with connection.cursor() as cursor:
        for sql in fts.DROP_INDEXES:
            cursor.execute(sql)
    assert [h.item_id for h in embedded.search(SearchQuery(text="tiem chung")).hits] == [item.pk]
    call_command("search_rebuild", "--no-progress", stdout=io.StringIO())
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        names = {row[0] for row in cursor.fetchall()}
    assert {fts.NARROW_INDEX, fts.RECENT_INDEX} <= names
    assert [h.item_id for h in embedded.search(SearchQuery(text="tiem chung")).hits] == [item.pk]
