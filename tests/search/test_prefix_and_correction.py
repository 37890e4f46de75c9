"""A search that finds little helps the reader (issue 16), through ``/search/``:

* the last word, still being typed, matches as the start of a word ("Bình Dươ", "viett"),
  ranked below whole-word matches;
* "Có phải bạn muốn tìm …": a misspelt query gets a link to a corrected one, built from
  the words of public headlines and summaries, that keeps the reader's filters and finds
  results; a query that finds enough gets none, and a draft's words are never offered.

Embedded backend (the ``embedded`` fixture); run on SQLite and on PostgreSQL (pg_trgm).
"""

import html
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from newsroom.models import NewsItem
from search.backends import get_backend
from search.models import SearchWord
from search.services import item_index
from search.text import fold, words
from search.vocabulary import edit_distance, trigram_available
from tests.factories import make_tree

CARD = re.compile(r'<article class="card search-result">\s*<h2><a href="[^"]*">(.*?)</a>', re.S)
TAG = re.compile(r"<[^>]+>")
DID_YOU_MEAN = re.compile(
    r'<section class="did-you-mean[^"]*" aria-label="([^"]+)">\s*<p>(.*?)</p>', re.S
)
LINK = re.compile(r'<a href="([^"]*)" rel="nofollow">(.*?)</a>', re.S)

HEADLINES = [
    "Bình Dương khởi công đường vành đai 4",
    "Viettel phủ sóng 5G cho các xã vùng sâu",
    "Dự báo thời tiết: mưa lớn ở Chơn Thành",
    "Đồng Xoài khánh thành cầu mới",
    "Lịch họp thôn 3 về làm đường",
]


@pytest.fixture
def embedded(settings):
    settings.NGUON_SEARCH_BACKEND = "search.backends.embedded.EmbeddedBackend"
    return get_backend()


@pytest.fixture
def units(db):
    return make_tree(three_level=True)


def publish(units, headline, *, minutes_ago=0, kind="article", live=True, summary=""):
    item = NewsItem.objects.create(
        unit=units["A"],
        headline=headline,
        summary=summary,
        kind=kind,
        live=live,
        first_published_at=timezone.now() - timedelta(minutes=minutes_ago) if live else None,
    )
    item_index(item_id=item.pk)
    return item


def get(params):
    response = Client().get(reverse("search"), params)
    assert response.status_code == 200
    return response.content.decode()


def headlines(page: str) -> list[str]:
    return [html.unescape(TAG.sub("", h)) for h in CARD.findall(page)]


def correction(page: str) -> tuple[str, str, str] | None:
    """(region label, the sentence as text, the link's href) of "Did you mean", or None."""
    found = DID_YOU_MEAN.search(page)
    if not found:
        return None
    href = html.unescape(LINK.search(found.group(2)).group(1))
    return found.group(1), html.unescape(TAG.sub("", found.group(2))), href


@pytest.fixture
def corpus(embedded, units):
    return {h: publish(units, h, minutes_ago=10 * n) for n, h in enumerate(HEADLINES)}


# --- the last word as a prefix -------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("Bình Dươ", "Bình Dương khởi công đường vành đai 4"),
        ("binh duo", "Bình Dương khởi công đường vành đai 4"),
        ("viett", "Viettel phủ sóng 5G cho các xã vùng sâu"),
        ("VIETT", "Viettel phủ sóng 5G cho các xã vùng sâu"),
        ("thời tiế", "Dự báo thời tiết: mưa lớn ở Chơn Thành"),
    ],
)
def test_the_last_word_typed_finds_the_words_it_starts(corpus, q, expected):
    page = get({"q": q})
    assert headlines(page) == [expected]
    assert correction(page) is None


def test_the_part_typed_is_highlighted_in_the_whole_word(corpus):
    page = get({"q": "Bình Dươ"})
    assert "<mark>Bình</mark> <mark>Dương</mark>" in page


def test_a_whole_word_ranks_above_a_word_it_only_starts(corpus, units):
    # "thon" is a word (thôn, hamlet) and the start of "thông": the newer item only starts
    # with it, the older one has the word itself.
    publish(units, "Thông báo cắt điện", minutes_ago=-5)
    assert headlines(get({"q": "thon"})) == ["Lịch họp thôn 3 về làm đường", "Thông báo cắt điện"]


def test_a_space_after_the_last_word_makes_it_whole_and_one_letter_is_no_prefix(corpus):
    assert headlines(get({"q": "viett "})) == []
    assert headlines(get({"q": "Bình D"})) == []  # "d" alone would match half the words


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def _prefix_property(data, items):
    headline = data.draw(st.sampled_from(HEADLINES))
    typed = words(headline)
    cut = data.draw(st.integers(min_value=0, max_value=len(typed) - 1))
    word = typed[cut]
    if len(fold(word)) < 2:
        return
    length = data.draw(st.integers(min_value=2, max_value=len(word)))
    prefix = data.draw(st.sampled_from([word[:length], fold(word[:length]), word[:length].upper()]))
    q = " ".join([*typed[:cut], prefix])
    assert headline in headlines(get({"q": q})), q


def test_any_start_of_a_headline_cut_inside_a_word_finds_the_item(corpus):
    """Property: the headline's first words and at least 2 letters of the next one (with or
    without diacritics, any case) find the item."""
    _prefix_property(items=corpus)


# --- "Có phải bạn muốn tìm …" --------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "corrected"),
    [
        ("thoii tiett", "thời tiết"),  # a letter too many in each word
        ("thoi tiet mua lonn", "thoi tiet mua lớn"),  # the known words stay as typed
        ("Đồng Xai", "Đồng Xoài"),  # a letter missing in a unit's name
        ("Chn Thành", "Chơn Thành"),
        ("Vietel", "Viettel"),
        ("thoiii tiet", "thời tiet"),  # two edits (SQLite: the Python scan after GLOB)
    ],
)
def test_a_misspelt_query_offers_a_corrected_one_that_finds_results(corpus, q, corrected):
    page = get({"q": q})
    assert headlines(page) == []
    label, sentence, href = correction(page)
    assert label == "Gợi ý từ khóa"
    assert sentence == f"Có phải bạn muốn tìm {corrected}?"
    assert headlines(get(_query(href)))  # the link finds something
    assert _query(href)["q"] == corrected


def test_a_first_letter_is_kept_before_a_commoner_word(corpus, units):
    # "tại" (3 items, with "đồng") is commoner than "xoài" (1), both one edit from "xai".
    for n in range(3):
        publish(units, f"Họp đồng hương tại phường {n}", minutes_ago=100 + n)
    assert correction(get({"q": "Đồng Xai"}))[1] == "Có phải bạn muốn tìm Đồng Xoài?"


def _query(href: str) -> dict:
    from urllib.parse import parse_qsl, urlsplit

    return dict(parse_qsl(urlsplit(href).query))


def test_the_corrected_link_keeps_the_filters_and_starts_at_page_one(corpus):
    page = get({"q": "thoii tiett", "kind": "article", "sort": "date", "trang": "2"})
    params = _query(correction(page)[2])
    assert params == {"q": "thời tiết", "kind": "article", "sort": "date"}


def test_no_correction_is_offered_when_it_would_find_nothing_within_the_filters(corpus):
    assert correction(get({"q": "thoii tiett", "kind": "audio"})) is None


def test_a_query_that_finds_results_offers_no_correction(corpus):
    page = get({"q": "thời tiết"})
    assert headlines(page) == ["Dự báo thời tiết: mưa lớn ở Chơn Thành"]
    assert correction(page) is None
    assert "Có phải bạn muốn tìm" not in page


def test_words_of_unpublished_items_are_never_offered(corpus, units):
    draft = publish(units, "Kế hoạch tuyệt mật về nhân sự", live=False)
    assert correction(get({"q": "tuyett matt"})) is None
    assert not SearchWord.objects.filter(word="tuyệt").exists()  # not even in the vocabulary
    # published, its words are offered; withdrawn, they are not any more
    NewsItem.objects.filter(pk=draft.pk).update(live=True, first_published_at=timezone.now())
    item_index(item_id=draft.pk)
    assert correction(get({"q": "tuyett matt"}))[1] == "Có phải bạn muốn tìm tuyệt mật?"
    NewsItem.objects.filter(pk=draft.pk).update(withdrawn_at=timezone.now())
    item_index(item_id=draft.pk)
    assert correction(get({"q": "tuyett matt"})) is None


def test_the_vocabulary_survives_a_rebuild(corpus):
    from search.services import index_rebuild

    index_rebuild()
    assert correction(get({"q": "thoii tiett"}))[1] == "Có phải bạn muốn tìm thời tiết?"


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [("thoii", "thoi", 1), ("thio", "thoi", 1), ("xai", "xoai", 1), ("abc", "xyz", 3)],
)
def test_edit_distance(a, b, distance):
    assert edit_distance(a, b, 2) == min(distance, 3)


def test_postgresql_looks_words_up_by_trigram(embedded, db):
    """CI runs on PostgreSQL, where migration 0008 installs pg_trgm: the trigram path is the
    one tested there (SQLite compares words in Python)."""
    from django.db import connection

    assert trigram_available() == (connection.vendor == "postgresql")


def test_the_admin_search_offers_the_correction_too(corpus, units):
    from newsroom.models import Role
    from tests.factories import make_user

    client = Client()
    client.force_login(make_user("bien_tap", unit=units["A"], role=Role.APPROVER))
    response = client.get(reverse("search_admin"), {"q": "thoii tiett"})
    assert response.status_code == 200, response
    page = response.content.decode()
    label, sentence, href = correction(page)
    assert sentence == "Có phải bạn muốn tìm thời tiết?" and _query(href) == {"q": "thời tiết"}
