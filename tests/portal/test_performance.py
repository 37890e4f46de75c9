"""Constant query counts on listings and item pages, and HTTP cache headers."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal.models import HomePage, HomePageFeaturedItem

from .helpers import make_image, publish, rendition_rows

pytestmark = pytest.mark.django_db


def add_items(tree, categories, count, *, start=0, gallery_size=1):
    """A mix of articles (with and without pictures: a lead picture with caption and credit,
    a gallery of ``gallery_size`` and as many pictures in the body), audio and video
    items."""
    image = make_image()
    formats = ("fullwidth", "left", "right")
    body = "".join(
        f"<p>Đoạn {n}.</p>"
        f'<embed alt="Ảnh trong bài {n}" embedtype="image" format="{formats[n % 3]}" '
        f'id="{make_image(description=f"Ảnh bài {n}", title=f"b{n}.jpg").pk}"/>'
        for n in range(gallery_size)
    )
    gallery = json.dumps(
        [
            {
                "type": "picture",
                "value": {
                    "image": make_image(description=f"Ảnh thứ {n}", title=f"g{n}.jpg").pk,
                    "caption": f"Chú thích {n}",
                    "credit": "Ảnh: Phóng viên",
                },
            }
            for n in range(gallery_size)
        ]
    )
    audio = rendition_rows(
        "audio",
        {"loudspeaker": "audio/mpeg", "web_audio": "audio/mp4", "waveform": "image/png"},
    )
    video = rendition_rows(
        "video",
        {"web_video_720": "video/mp4", "web_video_480": "video/mp4", "poster": "image/jpeg"},
    )
    units = [tree["A"], tree["B"], tree["C"]]
    items = []
    for n in range(start, start + count):
        fields = {"category": categories[n % len(categories)]}
        kind = n % 4
        if kind == 0:
            fields.update(
                image=image,
                image_caption="Chú thích",
                image_credit="Ảnh: A",
                gallery=gallery,
                body=body,
            )
        elif kind == 1:
            fields["audio"] = audio
        elif kind == 2:
            fields["video"] = video
        items.append(publish(units[n % 3], f"Tin số {n}", minutes_ago=n, **fields))
    return items


def count_queries(client, url) -> int:
    client.get(url)  # warm: image renditions are generated on the first view
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


def test_listings_and_item_pages_issue_constant_queries(client, tree, categories):
    # 12 items: every unit and every category gets each kind (article with and without
    # pictures, audio, video), so both sizes exercise the same prefetches; the larger set's
    # articles carry galleries of 4 instead of 1, and 4 pictures in the body instead of 1.
    items = add_items(tree, categories, 12)
    home = HomePage.objects.get()
    for n, item in enumerate(items[:3]):
        HomePageFeaturedItem.objects.create(page=home, item=item, sort_order=n)
    urls = lambda its: [  # noqa: E731
        "/",
        f"/don-vi/{tree['P'].code}/",
        f"/don-vi/{tree['X'].code}/",
        f"/don-vi/{tree['A'].code}/",
        f"/chuyen-muc/{categories[0].slug}/",
        "/don-vi/",
        its[0].public_path,  # article with image
        its[1].public_path,  # audio
        its[2].public_path,  # video
        "/sitemap-items.xml",
        "/sitemap-news.xml",
    ]
    names = [*(u for u in urls(items)[:6]), "article", "audio", "video", "sitemap", "news"]
    small = {name: count_queries(client, url) for name, url in zip(names, urls(items), strict=True)}
    more = add_items(tree, categories, 60, start=12, gallery_size=4)
    for n, item in enumerate(more[:3]):
        HomePageFeaturedItem.objects.create(page=home, item=item, sort_order=10 + n)
    large = {name: count_queries(client, url) for name, url in zip(names, urls(more), strict=True)}
    assert small == large, (small, large)
    # And the numbers are small: Wagtail's 4 (site, page, alias, restrictions), the
    # savepoint pair of ATOMIC_REQUESTS, then a few per list shown (rows + 3 prefetches).
    # An article's gallery adds two (its images, their renditions) whatever its size, and
    # so do the pictures in its body.
    assert large["/"] <= 22 and large["article"] <= 14, large
    assert large["article"] == large["audio"] + 4, large


def test_pages_send_cache_headers_and_answer_304(client, tree, settings):
    settings.NGUON_PORTAL_MAX_AGE = 120
    item = publish(tree["A"], "Tin có bộ nhớ đệm")
    for url in ("/", f"/don-vi/{tree['A'].code}/", item.public_path, "/don-vi/"):
        response = client.get(url)
        assert "public" in response["Cache-Control"]
        assert "max-age=120" in response["Cache-Control"]
        etag = response["ETag"]
        again = client.get(url, HTTP_IF_NONE_MATCH=etag)
        assert again.status_code == 304 and again.content == b""
        assert again["ETag"] == etag
    page = client.get(item.public_path)
    assert page["Last-Modified"]
    since = client.get(item.public_path, HTTP_IF_MODIFIED_SINCE=page["Last-Modified"])
    assert since.status_code == 304
    # A change of what the page shows changes the validator.
    before = client.get("/")["ETag"]
    publish(tree["B"], "Tin mới đến")
    assert client.get("/")["ETag"] != before
    type(item).objects.filter(pk=item.pk).update(withdrawn_at=timezone.now(), live=False)
    gone = client.get(item.public_path, HTTP_IF_NONE_MATCH=page["ETag"])
    assert gone.status_code == 410 and "max-age=120" in gone["Cache-Control"]
    missing = client.get("/don-vi/khong-co/")
    assert missing.status_code == 404 and "max-age=120" in missing["Cache-Control"]
