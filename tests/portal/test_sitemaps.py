"""/sitemap.xml (index → home, items, units, categories) and the Google News sitemap."""

from datetime import timedelta
from xml.etree import ElementTree

import pytest
from django.utils import timezone

from newsroom.models import NewsItem

from .helpers import publish

pytestmark = pytest.mark.django_db

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"


def xml(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    assert "max-age=" in response["Cache-Control"]
    return ElementTree.fromstring(response.content)  # noqa: S314 - our own output


def locs(root) -> list[str]:
    return [el.text for el in root.iter(f"{SM}loc")]


def test_sitemap_index_covers_items_units_and_categories(client, tree, categories):
    live = publish(tree["A"], "Tin trong sơ đồ trang")
    gone = publish(tree["B"], "Tin đã gỡ")
    NewsItem.objects.filter(pk=gone.pk).update(live=False, withdrawn_at=timezone.now())
    loudspeakers_only = publish(tree["A"], "Chỉ phát loa", distribution="commune")

    sections = locs(xml(client, "/sitemap.xml"))
    assert {s.rsplit("/", 1)[1] for s in sections} == {
        "sitemap-home.xml",
        "sitemap-items.xml",
        "sitemap-units.xml",
        "sitemap-categories.xml",
    }
    items = locs(xml(client, "/sitemap-items.xml"))
    assert f"http://testserver{live.public_path}" in items
    assert f"http://testserver{gone.public_path}" not in items
    assert f"http://testserver{loudspeakers_only.public_path}" not in items
    units = locs(xml(client, "/sitemap-units.xml"))
    assert f"http://testserver/don-vi/{tree['X'].code}/" in units
    cats = locs(xml(client, "/sitemap-categories.xml"))
    assert f"http://testserver/chuyen-muc/{categories[0].slug}/" in cats
    assert locs(xml(client, "/sitemap-home.xml")) == ["http://testserver/"]
    # Every listed unit and category page answers 200.
    for url in units[:3] + cats[:3]:
        assert client.get(url.removeprefix("http://testserver")).status_code == 200
    assert client.get("/sitemap-khac.xml").status_code == 404


def test_news_sitemap_lists_the_last_two_days(client, tree):
    fresh = publish(tree["A"], "Tin nóng <b>&</b> mới", minutes_ago=30)
    yesterday = publish(tree["C"], "Tin hôm qua", minutes_ago=60 * 30)
    old = publish(tree["A"], "Tin ba ngày trước", minutes_ago=60 * 24 * 3)
    gone = publish(tree["A"], "Tin bị gỡ hôm nay", minutes_ago=10)
    NewsItem.objects.filter(pk=gone.pk).update(live=False, withdrawn_at=timezone.now())

    response = client.get("/sitemap-news.xml")
    assert response["Content-Type"].startswith("application/xml")
    root = ElementTree.fromstring(response.content)  # noqa: S314 - our own output
    urls = root.findall(f"{SM}url")
    assert [u.find(f"{SM}loc").text for u in urls] == [
        f"http://testserver{fresh.public_path}",
        f"http://testserver{yesterday.public_path}",
    ]
    news = urls[0].find(f"{NEWS}news")
    assert news.find(f"{NEWS}title").text == "Tin nóng <b>&</b> mới"
    assert news.find(f"{NEWS}publication/{NEWS}language").text == "vi"
    assert news.find(f"{NEWS}publication/{NEWS}name").text
    published = news.find(f"{NEWS}publication_date").text
    assert published.endswith("+07:00")
    assert abs(timezone.datetime.fromisoformat(published) - fresh.first_published_at) < timedelta(
        seconds=1
    )
    assert old.public_path not in response.content.decode()
