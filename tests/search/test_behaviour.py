"""One behaviour suite, run on every available backend (see conftest.py), over the
Vietnamese articles of corpus.py: top results, facets, filters, permissions, suggestions,
highlighting and bad input, as the portal page, the admin search and the API show them."""

import html
import re
from urllib.parse import parse_qsl, urlsplit

from django.test import Client
from django.urls import reverse

from newsroom.models import Role
from search.backends import SearchQuery
from search.selectors import item_search_page, item_suggest
from search.text import fold
from tests.factories import make_user

TAG = re.compile(r"<[^>]+>")
CARD = re.compile(r'<article class="card search-result">\s*<h2><a href="([^"]*)">(.*?)</a>', re.S)


def page(corpus, text="", user=None, **filters):
    """(keys in order, total, facets as {name: {key: count}}) of one search."""
    result = item_search_page(text=text, filters=filters, user=user, limit=50)
    facets = {f.name: {v["key"]: v["count"] for v in f.values} for f in result.facets}
    return [corpus.key(r.item.pk) for r in result.results], result.total, facets


def keys(corpus, text="", **kw):
    return page(corpus, text, **kw)[0]


def portal(params):
    return Client().get(reverse("search"), params)


def portal_headlines(response) -> list[str]:
    return [html.unescape(TAG.sub("", h)) for _u, h in CARD.findall(response.content.decode())]


# --- top results ----------------------------------------------------------------------------


def test_unaccented_query_finds_accented_and_unaccented_articles(corpus):
    found = keys(corpus, "tiem chung")
    assert set(found) == {
        "tiem_dx", "tiem_tb_plain", "lich_tiem_caps", "sot_xuat_huyet", "cum_mua", "lo_mom"
    }  # fmt: skip
    # the phrase in the headline first, then the phrase in the body, then a word in the
    # headline, then both words far apart in the body ("tiêm phòng … chủng lúa")
    assert set(found[:3]) == {"tiem_dx", "tiem_tb_plain", "lich_tiem_caps"}
    assert found[3:] == ["sot_xuat_huyet", "cum_mua", "lo_mom"]


def test_exact_diacritics_rank_above_text_typed_without_them(corpus):
    found = keys(corpus, "tiêm chủng")
    assert set(found[:2]) == {"tiem_dx", "lich_tiem_caps"}
    assert found[2] == "tiem_tb_plain"


def test_every_spelling_of_dong_xoai(corpus):
    for q in ["dong xoai", "DONG XOAI", "Đồng Xoài", "đồng xoài"]:
        found = keys(corpus, q)
        assert set(found) == {"tiem_dx", "hoc_bong", "cau_dx", "den_plain", "bong_da"}, q
        if q in ("Đồng Xoài", "đồng xoài"):
            assert found[-1] == "den_plain"  # written without diacritics: folded-only match


TOP_RESULTS = [
    ("sạt lở", "sat_lo"),
    ("sat lo", "sat_lo"),
    ("học bổng", "hoc_bong"),
    ("lở mồm long móng", "lo_mom"),
    ("cao su", "cao_su"),
    ("ĐT 741", "dt741"),
    ("bão", "bao_so_3"),
    ("họp báo", "hop_bao"),
    ("ông", "ong_sau"),
    ("S'tiêng", "le_hoi"),
]


def test_top_result(corpus):
    for q, top in TOP_RESULTS:
        assert keys(corpus, q)[0] == top, q


def test_phrase_beats_scattered_syllables(corpus):
    found = keys(corpus, "tiêm phòng")
    assert found[0] == "lo_mom"


# --- facets --------------------------------------------------------------------------------


def test_facet_counts_for_units_at_each_level_category_type_and_month(corpus):
    _found, total, facets = page(corpus, "tiem chung")
    assert total == 6
    assert facets["province"] == {"90": 6}
    assert facets["district"] == {"901": 4, "902": 1}
    assert facets["commune"] == {"90001": 3, "90002": 1, "90003": 1}
    assert facets["category"] == {"y-te": 4, "thong-bao": 1, "nong-nghiep": 1}
    assert facets["kind"] == {"article": 3, "audio": 3}
    assert facets["month"] == {"2026-11": 3, "2026-10": 3}
    assert "status" not in facets  # the public has one status only


def test_facets_are_listed_most_first_and_months_newest_first(corpus):
    result = item_search_page(text="", filters={"kind": "article"}, limit=5)
    by_name = {f.name: f for f in result.facets}
    counts = [v["count"] for v in by_name["category"].values]
    assert counts == sorted(counts, reverse=True)
    months = [v["key"] for v in by_name["month"].values]
    assert months == ["2026-11", "2026-10", "2026-09"]
    assert by_name["month"].values[0]["label"] == "11/2026"
    assert by_name["district"].values[0]["label"].startswith("Huyện ")


# --- filters and sorting ---------------------------------------------------------------------


def test_filter_by_unit_subtree_official_code(corpus):
    assert set(keys(corpus, "tiem chung", within_path=corpus.units["X"].path)) == {
        "tiem_dx",
        "tiem_tb_plain",
        "lich_tiem_caps",
        "lo_mom",
    }
    response = portal({"q": "tiem chung", "unit": "90003"})
    assert portal_headlines(response) == ["Bản tin sức khỏe: phòng chống sốt xuất huyết"]


def test_filter_by_category_type_and_dates(corpus):
    assert set(keys(corpus, "", category="giao-duc")) == {
        "khai_giang", "hoc_bong", "hsg", "phong_hoc", "doc_sach_plain"
    }  # fmt: skip
    assert set(keys(corpus, "tiem chung", kind="audio")) == {
        "sot_xuat_huyet", "lich_tiem_caps", "lo_mom"
    }  # fmt: skip
    response = portal({"q": "tiem chung", "tu": "2026-11-01", "den": "03/11/2026"})
    assert portal_headlines(response) == [
        "Đồng Xoài triển khai tiêm chủng mở rộng cho trẻ em dưới 5 tuổi"
    ]


def test_sort_by_date(corpus):
    assert keys(corpus, "tiem chung", sort="date") == [
        "lich_tiem_caps", "tiem_tb_plain", "tiem_dx", "lo_mom", "sot_xuat_huyet", "cum_mua"
    ]  # fmt: skip


def test_portal_facet_links_filter_the_results(corpus):
    response = portal({"q": "tiem chung"})
    content = response.content.decode()
    assert 'href="?q=tiem+chung&amp;kind=audio"' in content
    assert 'Thông báo</a> <span class="count">(1)</span>' in content
    filtered = portal({"q": "tiem chung", "kind": "audio"})
    assert len(portal_headlines(filtered)) == 3


def test_pagination(corpus):
    first = portal({"q": "", "category": "thong-bao"})
    assert first.status_code == 200
    assert len(portal_headlines(first)) == 8
    backend_page = item_search_page(text="", filters={"category": "thong-bao"}, limit=3, offset=6)
    assert [r.item.pk for r in backend_page.results] and backend_page.total == 8


# --- who sees what ---------------------------------------------------------------------------


def test_public_sees_only_published_not_withdrawn(corpus):
    found = set(keys(corpus, "tiem chung"))
    assert not found & {"draft_tiem", "withdrawn_tiem", "review_tiem"}
    # a status filter is not the public's to use
    response = portal({"q": "tiem chung", "status": "draft"})
    assert "Dự thảo" not in response.content.decode()


def test_editor_sees_every_status_of_their_subtree_only(corpus):
    district_x = make_user("duyet_x", unit=corpus.units["X"], role=Role.APPROVER)
    found, _total, facets = page(corpus, "tiem chung", user=district_x)
    assert set(found) == {
        "tiem_dx", "tiem_tb_plain", "lich_tiem_caps", "lo_mom", "draft_tiem", "withdrawn_tiem"
    }  # fmt: skip
    assert facets["status"] == {"published": 4, "draft": 1, "withdrawn": 1}
    commune_c = make_user("pv_c2", unit=corpus.units["C"], role=Role.REPORTER)
    assert set(keys(corpus, "tiem chung", user=commune_c)) == {"sot_xuat_huyet", "review_tiem"}
    assert keys(corpus, "tiem chung", user=commune_c, status="in_review") == ["review_tiem"]
    nobody = make_user("khach")
    assert keys(corpus, "tiem chung", user=nobody) == []


def test_superuser_sees_everything(corpus, django_user_model):
    admin = django_user_model.objects.create_superuser("quantri", password="x")
    assert len(keys(corpus, "tiem chung", user=admin)) == 9


def test_admin_search_page_lists_the_subtree_with_facets(corpus):
    editor = make_user("bientap_y", unit=corpus.units["Y"], role=Role.APPROVER)
    client = Client()
    client.force_login(editor)
    response = client.get(reverse("search_admin"), {"q": "bu dang"})
    assert response.status_code == 200
    content = response.content.decode()
    assert "Bản nháp về lễ hội Bù Đăng" not in content  # highlighted: words are marked
    rows = [TAG.sub("", r) for r in re.findall(r'<tr class="search-row">(.*?)</tr>', content, re.S)]
    assert len(rows) == 5 and any("Bản nháp" in r for r in rows)
    assert "facet-status" in content and "facet-district" in content
    empty = client.get(reverse("search_admin"))
    assert empty.status_code == 200 and empty.context["total"] == 12  # all of district Y
    assert client.get(reverse("search_admin"), {"status": "bogus"}).status_code == 400


def test_admin_search_needs_the_newsroom_permission(corpus):
    client = Client()
    client.force_login(make_user("nguoi_ngoai"))
    assert client.get(reverse("search_admin")).status_code in (302, 403)


# --- suggestions ---------------------------------------------------------------------------


def test_suggestions_as_the_user_types(corpus):
    def headlines(prefix, **kw):
        return [corpus.key(s["id"]) for s in item_suggest(prefix=prefix, **kw)]

    assert headlines("tiem ch") == ["lich_tiem_caps", "tiem_tb_plain", "tiem_dx", "cum_mua"]
    assert headlines("Đồng Xo") == ["cau_dx", "tiem_dx", "den_plain", "hoc_bong", "bong_da"]
    assert headlines("sạt") == ["sat_lo"]
    assert headlines("") == [] and headlines("!!!") == []
    editor = make_user("pv_c3", unit=corpus.units["C"], role=Role.REPORTER)
    assert headlines("bao cao tiem", user=editor) == ["review_tiem"]
    assert headlines("bao cao tiem") == []


def test_suggestion_endpoint(corpus):
    response = Client().get("/api/v1/search/suggest", {"q": "khanh tha"})
    assert response.status_code == 200
    body = response.json()
    assert body["query"] == "khanh tha"
    assert [s["headline"] for s in body["suggestions"]] == [
        "Khánh thành cầu Đồng Xoài nối hai xã Tân Đồng và Tân Bình"
    ]
    assert body["suggestions"][0]["url"] == corpus.items["cau_dx"].public_path
    assert Client().get("/api/v1/search/suggest", {"q": "x" * 10_000}).status_code == 200


# --- a search that finds little (issue 16) ------------------------------------------------


def test_the_last_word_typed_matches_the_words_it_starts(corpus):
    assert portal_headlines(portal({"q": "lở mồm long mó"}))[0] == (
        "Hướng dẫn phòng bệnh lở mồm long móng cho đàn bò"
    )
    assert portal_headlines(portal({"q": "minh hu"})) == portal_headlines(
        portal({"q": "minh hung"})
    )
    assert "Xã Minh Hưng di dời dân khỏi vùng sạt lở" in portal_headlines(portal({"q": "minh hu"}))
    assert portal_headlines(portal({"q": "minh hu "})) == []  # a space after it: whole words


def test_a_misspelt_query_offers_a_correction_that_keeps_the_filters(corpus):
    content = portal({"q": "satt lo", "kind": "audio"}).content.decode()
    assert portal_headlines(portal({"q": "satt lo", "kind": "audio"})) == []
    section = re.search(r'<section class="did-you-mean"[^>]*>(.*?)</section>', content, re.S)
    assert section and "Có phải bạn muốn tìm" in section.group(1)
    href = html.unescape(re.search(r'<a href="([^"]*)"', section.group(1)).group(1))
    params = dict(parse_qsl(urlsplit(href).query))
    assert fold(params["q"]) == "sat lo" and params["kind"] == "audio"
    assert portal_headlines(portal(params)) == ["Xã Minh Hưng di dời dân khỏi vùng sạt lở"]
    # a query that finds results is not corrected
    assert "did-you-mean" not in portal({"q": "sạt lở"}).content.decode()


# --- highlighting --------------------------------------------------------------------------


def test_highlighted_headline_and_snippet(corpus):
    result = item_search_page(text="tiem chung", filters={}, limit=20)
    by_key = {corpus.key(r.item.pk): r for r in result.results}
    hit = by_key["tiem_dx"]
    assert "<mark>tiêm</mark> <mark>chủng</mark>" in hit.headline_html
    assert "<mark>" in hit.snippet_html and "Trạm y tế" in hit.snippet_html
    assert "<mark>" in by_key["sot_xuat_huyet"].snippet_html


def test_highlights_escape_the_text_then_mark(corpus):
    result = item_search_page(text="ma doc", filters={}, limit=20)
    (hit,) = result.results
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hit.headline_html
    assert "<mark>mã</mark> <mark>độc</mark>" in hit.headline_html
    assert "&lt;script&gt;" in hit.snippet_html
    content = portal({"q": "ma doc"}).content.decode()
    assert "<script>alert(1)" not in content


# --- bad input ---------------------------------------------------------------------------


ODD_QUERIES = [
    "", "   ", "x" * 10_000, "tiêm " * 2_000, '"tiem chung', "tiem*", "title:tiem", "(tiem",
    "tiem AND chung", "tiem OR", "NOT", '"', "*", ":", "(", ")", "\\", "[", "{", "~", "^",
    "/", "%", "_", "tiêm\x00chủng",
]  # fmt: skip


def test_odd_queries_answer_clearly(corpus):
    for q in ODD_QUERIES:
        for response in (portal({"q": q}), portal({"q": q, "sort": "date", "kind": "audio"})):
            assert response.status_code == 200, q
        assert Client().get("/api/v1/search/suggest", {"q": q}).status_code == 200, q


def test_syntax_characters_are_not_syntax(corpus):
    plain = keys(corpus, "tiêm chủng")
    for q in ['"tiêm chủng"', "(tiêm chủng)", "tiêm: chủng", "tiêm* chủng*", "+tiêm -chủng"]:
        assert keys(corpus, q) == plain, q


def test_empty_query_asks_for_words(corpus):
    response = portal({"q": ""})
    assert response.status_code == 200
    assert portal_headlines(response) == []
    assert 'id="search-hint"' in response.content.decode()
    assert response.context["searched"] is False


UNKNOWN_FILTERS = [
    ({"unit": "99999"}, "99999"),
    ({"category": "khong-co"}, "khong-co"),
    ({"kind": "podcast"}, "podcast"),
    ({"tu": "2026-13-45"}, ""),
    ({"tu": "2026-11-30", "den": "2026-11-01"}, ""),
    ({"sort": "random"}, "random"),
    ({"trang": "abc"}, ""),
]


def test_unknown_filter_values_are_explained(corpus):
    for params, message in UNKNOWN_FILTERS:
        response = portal({"q": "tiem chung", **params})
        assert response.status_code == 400, params
        content = response.content.decode()
        assert 'role="alert"' in content and message in content
        assert portal_headlines(response) == []


def test_backend_query_limits(corpus, backend):
    result = backend.search(SearchQuery(text="tiem " * 500 + "chung", facets=True, highlight=True))
    assert result.total >= 1
    assert backend.search(SearchQuery(text="", facets=True)).total == 0
