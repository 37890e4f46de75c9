"""The admin item listing (NewsItem snippets) searches through the search app: accents
optional, best match first, the editor's subtree only, the listing's filters still apply;
the results-only view the listing fetches while the editor types answers the same."""

import pytest
from django.test import Client

from newsroom.models import NewsItem, Role
from search.backends import SearchUnavailable, get_backend
from search.services import index_rebuild
from tests.factories import make_tree, make_user

LISTING = "/admin/snippets/newsroom/newsitem/"
RESULTS = "/admin/snippets/newsroom/newsitem/results/"


@pytest.fixture
def listing(settings, db):
    settings.NGUON_SEARCH_BACKEND = "search.backends.embedded.EmbeddedBackend"
    units = make_tree(three_level=True)
    rows = {
        "headline": ("Tiêm chủng mở rộng tại Đồng Xoài", units["A"], "article"),
        "body_only": ("Lịch khám bệnh tháng 11", units["B"], "audio"),
        "other_district": ("Tiêm chủng ở Bù Đăng", units["C"], "article"),
        "unrelated": ("Khánh thành cầu Tân Đồng", units["A"], "article"),
    }
    items = {}
    for key, (headline, unit, kind) in rows.items():
        body = "<p>Trạm y tế nhắc lịch tiêm chủng cho trẻ.</p>" if key == "body_only" else ""
        items[key] = NewsItem.objects.create(unit=unit, headline=headline, body=body, kind=kind)
    index_rebuild()
    client = Client()
    client.force_login(make_user("duyet_x", unit=units["X"], role=Role.APPROVER, is_staff=True))
    return client, items


def listed(client, url, params):
    response = client.get(url, params)
    assert response.status_code == 200
    return [obj.pk for obj in response.context["page_obj"].object_list]


def test_listing_search_comes_from_the_search_app(listing):
    client, items = listing
    # unaccented words find accented text (the listing's own search could not), headline
    # matches first, the other district's item is out of the editor's scope
    expected = [items["headline"].pk, items["body_only"].pk]
    assert listed(client, LISTING, {"q": "tiem chung"}) == expected
    assert listed(client, RESULTS, {"q": "tiem chung"}) == expected
    # the listing's filters still apply to the search app's matches
    assert listed(client, LISTING, {"q": "tiem chung", "kind": "audio"}) == [items["body_only"].pk]
    # without a query the listing is the usual one: the whole subtree
    assert set(listed(client, LISTING, {})) == {
        items[k].pk for k in ("headline", "body_only", "unrelated")
    }


def test_listing_search_falls_back_to_headlines_when_search_is_down(listing, monkeypatch):
    client, items = listing

    def down(query):
        raise SearchUnavailable("down")

    monkeypatch.setattr(type(get_backend()), "search", lambda self, query: down(query))
    assert listed(client, LISTING, {"q": "Tiêm chủng"}) == [items["headline"].pk]
