"""Atom and podcast feeds, and the unit / category filters every feed accepts."""

from datetime import timedelta

import feedparser
import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from lxml import etree

from newsroom.models import Category
from tests.factories import make_audio_asset, make_published_item

pytestmark = pytest.mark.django_db

NASTY = "Lũ\x00\x01\x0b\x1f về ]]> <script>alert(1)</script> & “ngoặc”"
FEEDS = ["/feeds/rss/", "/feeds/atom/", "/feeds/podcast/"]


def parsed(response, version):
    assert response.status_code == 200
    etree.fromstring(response.content)  # strict XML parser: well-formed or it raises
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == version
    return feed


def test_atom_is_valid_and_escapes_whatever_the_text_holds(units, client: Client):
    item = make_published_item(units["A"], NASTY, summary=NASTY, byline="PV <b>Xã</b>\x08")
    response = client.get("/feeds/atom/")
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = parsed(response, "atom10")
    (entry,) = feed.entries
    assert entry.title == "Lũ về ]]> <script>alert(1)</script> & “ngoặc”"
    assert entry.id == f"urn:uuid:{item.uuid}"
    assert entry.link == f"http://testserver{item.public_path}"
    assert b"<script>" not in response.content
    assert feed.feed.language == "vi" if "language" in feed.feed else True


def test_podcast_lists_audio_with_enclosures_and_itunes_tags(units, client: Client, tmp_path):
    from media.services import rendition_build

    asset = make_audio_asset(tmp_path / "a", seconds=2)
    bulletin = make_published_item(units["A"], "Bản tin sáng", audio=asset, byline="Đài xã")
    make_published_item(units["A"], "Tin chữ")  # not an episode
    loudspeaker = asset.rendition("loudspeaker")

    response = client.get("/feeds/podcast/")
    feed = parsed(response, "rss20")
    (episode,) = feed.entries
    assert episode.title == bulletin.headline
    (enclosure,) = episode.enclosures
    assert enclosure["type"] == "audio/mpeg" and int(enclosure["length"]) == loudspeaker.size
    assert episode.itunes_duration == "2" or episode.itunes_duration.endswith(":02")
    itunes = {"itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd"}
    channel = etree.fromstring(response.content).find("channel")
    assert channel.findtext("itunes:explicit", namespaces=itunes) == "no"
    assert channel.findtext("itunes:author", namespaces=itunes).startswith("Nguồn")
    assert channel.find("itunes:category", namespaces=itunes).get("text") == "News"
    assert channel.find("item").findtext("itunes:author", namespaces=itunes) == "Đài xã"

    # Once the web rendition is ready, listeners get it instead of the loudspeaker MP3.
    web = rendition_build(asset_id=asset.pk, profile="web_audio")
    feed = parsed(client.get("/feeds/podcast/"), "rss20")
    (enclosure,) = feed.entries[0].enclosures
    assert enclosure["type"] == "audio/mp4" and int(enclosure["length"]) == web.size
    assert enclosure["href"] == f"http://testserver{web.file.url}"


def test_podcast_leaves_out_audio_still_being_prepared(units, client: Client, tmp_path):
    asset = make_audio_asset(tmp_path / "a", seconds=1, transcode=False)
    make_published_item(units["A"], "Đang chuyển mã", audio=asset)
    assert parsed(client.get("/feeds/podcast/"), "rss20").entries == []


@pytest.mark.parametrize("feed_url", ["/feeds/rss/", "/feeds/atom/"])
def test_unit_filter_is_the_subtree(units, client: Client, feed_url):
    make_published_item(units["A"], "Tin xã A")
    make_published_item(units["B"], "Tin xã B")
    make_published_item(units["C"], "Tin xã C (huyện khác)")
    make_published_item(units["P"], "Tin tỉnh")
    version = "rss20" if "rss" in feed_url else "atom10"

    district = {e.title for e in parsed(client.get(feed_url, {"unit": "901"}), version).entries}
    commune = {e.title for e in parsed(client.get(feed_url, {"unit": "90003"}), version).entries}
    province = parsed(client.get(feed_url, {"unit": "90"}), version).entries

    assert district == {"Tin xã A", "Tin xã B"}
    assert commune == {"Tin xã C (huyện khác)"}
    assert len(province) == 4


def test_category_filter(units, client: Client):
    health = Category.objects.create(name="Y tế thử", slug="y-te-thu")
    make_published_item(units["A"], "Tiêm chủng", category=health)
    make_published_item(units["A"], "Giao thông")
    feed = parsed(client.get("/feeds/rss/", {"category": "y-te-thu", "unit": "90"}), "rss20")
    assert [e.title for e in feed.entries] == ["Tiêm chủng"]
    assert "Y tế thử" in feed.feed.title


@pytest.mark.parametrize("feed_url", FEEDS)
@pytest.mark.parametrize(
    "params", [{"unit": "99999"}, {"category": "khong-co"}, {"unit": "<script>"}, {"unit": ""}]
)
def test_unknown_unit_or_category_is_an_empty_valid_feed(units, client: Client, feed_url, params):
    make_published_item(units["A"], "Tin có thật")
    response = client.get(feed_url, params)
    version = "atom10" if "atom" in feed_url else "rss20"
    feed = parsed(response, version)
    if params.get("unit") == "":
        return  # an empty parameter is no filter
    assert feed.entries == []


@pytest.mark.parametrize("feed_url", FEEDS)
def test_every_feed_is_conditional(units, client: Client, feed_url):
    with time_machine.travel(timezone.now(), tick=True) as clock:
        make_published_item(units["A"], "Tin một")
        first = client.get(feed_url)
        assert first["ETag"] and first["Last-Modified"]
        assert client.get(feed_url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
        assert (
            client.get(feed_url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304
        )
        # A filtered feed has its own validator.
        filtered = client.get(feed_url, {"unit": "901"})
        assert filtered["ETag"] != first["ETag"]
        clock.shift(timedelta(seconds=2))  # HTTP dates have one-second resolution
        make_published_item(units["B"], "Tin hai")
    assert client.get(feed_url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200
    assert client.get(feed_url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 200


def test_304_does_not_build_the_feed(units, client: Client, django_assert_max_num_queries):
    for i in range(5):
        make_published_item(units["A"], f"Tin {i}")
    etag = client.get("/feeds/rss/")["ETag"]
    with django_assert_max_num_queries(2):
        assert client.get("/feeds/rss/", HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_feed_queries_do_not_grow_with_items(units, client: Client, django_assert_max_num_queries):
    for i in range(30):
        make_published_item(units["ABC"[i % 3]], f"Tin {i}")
    with django_assert_max_num_queries(6):
        assert client.get("/feeds/atom/", {"unit": "90"}).status_code == 200


@pytest.mark.parametrize("feed_url", ["/feeds/rss/", "/feeds/atom/", "/api/v1/items/"])
def test_pictures_cost_the_same_queries_whatever_the_number_of_items(
    units, client: Client, feed_url
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.pictures import picture_fields

    from .helpers import make_item

    fields = [picture_fields(size=(640, 480)), picture_fields(size=(640, 480))]

    def queries() -> int:
        client.get(feed_url)  # the validators' first read
        with CaptureQueriesContext(connection) as captured:
            response = client.get(feed_url)
        assert response.status_code == 200
        assert b"<media:content" in response.content or b'"gallery-1"' in response.content
        return len(captured)

    for i in range(2):
        make_item(units["A"], f"Tin ảnh {i}", **fields[i % 2])
    few = queries()
    for i in range(2, 10):
        make_item(units["A"], f"Tin ảnh {i}", **fields[i % 2])
    assert queries() == few


@pytest.mark.parametrize("feed_url", ["/feeds/rss/", "/feeds/atom/"])
def test_distribution_scope_is_respected_like_the_portal(units, client: Client, feed_url):
    make_published_item(units["A"], "Chỉ loa xã", distribution="commune")
    make_published_item(units["A"], "Trang huyện", distribution="district")
    make_published_item(units["A"], "Toàn tỉnh", distribution="province")
    make_published_item(units["A"], "Quốc gia", distribution="national")
    version = "rss20" if "rss" in feed_url else "atom10"

    def titles(**params):
        return {e.title for e in parsed(client.get(feed_url, params), version).entries}

    assert titles() == {"Toàn tỉnh", "Quốc gia"}
    assert titles(unit="90") == {"Toàn tỉnh", "Quốc gia"}
    assert titles(unit="901") == {"Trang huyện", "Toàn tỉnh", "Quốc gia"}
    assert titles(unit="90001") == {"Trang huyện", "Toàn tỉnh", "Quốc gia"}


def test_atom_audio_entry_links_its_page_as_alternate_and_its_mp3_as_enclosure(
    units, client: Client, tmp_path
):
    asset = make_audio_asset(tmp_path / "a", seconds=1)
    item = make_published_item(units["A"], "Bản tin có âm thanh", audio=asset)
    feed = parsed(client.get("/feeds/atom/"), "atom10")
    links = {link["rel"]: link for link in feed.entries[0].links}
    assert links["alternate"]["href"].endswith(item.public_path)
    assert links["alternate"]["type"] == "text/html"
    assert links["enclosure"]["type"] == "audio/mpeg"
    assert links["enclosure"]["href"].endswith(".mp3")
    assert int(links["enclosure"]["length"]) == asset.rendition("loudspeaker").size


def test_feeds_carry_the_full_text_and_excerpts_keep_spaces_between_paragraphs(
    units, client: Client
):
    body = (
        "<p>Huyền Lý</p><p>(VOV5) - Trạm y tế xã mở cửa.</p>"
        '<p>Xem <a href="/don-vi/">các đơn vị</a>.</p>'
    )
    make_published_item(units["A"], "Tin có toàn văn", body=body, summary="")
    rss = parsed(client.get("/feeds/rss/"), "rss20")
    entry = rss.entries[0]
    assert entry.summary.startswith("Huyền Lý (VOV5) - Trạm y tế xã mở cửa. Xem các đơn vị.")
    full = entry.content[0]["value"]
    assert "<p>(VOV5) - Trạm y tế xã mở cửa.</p>" in full
    assert 'href="http://testserver/don-vi/"' in full
    atom = parsed(client.get("/feeds/atom/"), "atom10")
    content = atom.entries[0].content[0]
    assert content["type"] == "text/html"
    assert "<p>(VOV5) - Trạm y tế xã mở cửa.</p>" in content["value"]


MRSS = {"media": "http://search.yahoo.com/mrss/", "atom": "http://www.w3.org/2005/Atom"}


@pytest.mark.parametrize(
    "feed_url,entry_path",
    [("/feeds/rss/", "channel/item"), ("/feeds/atom/", "atom:entry")],
)
def test_pictures_travel_as_media_rss_with_alt_caption_and_credit(
    units, client: Client, feed_url, entry_path
):
    from django.core.files.storage import default_storage
    from PIL import Image

    from tests.pictures import picture_fields

    make_published_item(units["A"], "Khánh thành cầu mới", **picture_fields())
    response = client.get(feed_url)
    assert response.status_code == 200
    root = etree.fromstring(response.content)
    assert root.nsmap.get("media") == MRSS["media"]  # declared once, on the root
    assert not feedparser.parse(response.content).bozo
    (entry,) = root.xpath(entry_path, namespaces=MRSS)
    contents = entry.findall("media:content", MRSS)
    assert len(contents) == 2  # the picture without alt text is left out
    lead, second = contents
    assert lead.get("medium") == "image" and lead.get("type") == "image/jpeg"
    assert lead.get("isDefault") == "true" and second.get("isDefault") is None
    assert (lead.get("width"), lead.get("height")) == ("1440", "1080")
    assert lead.get("url").startswith("http://testserver/media/")
    assert lead.findtext("media:title", namespaces=MRSS) == "Cầu mới bắc qua kênh Xáng"
    assert lead.findtext("media:description", namespaces=MRSS) == (
        "Lễ khánh thành sáng 03/12 & <b>không phải thẻ</b>"
    )
    assert lead.findtext("media:credit", namespaces=MRSS) == "Ảnh: Lê Văn Chụp"
    # Without a caption, the description is the alt text.
    assert second.findtext("media:description", namespaces=MRSS) == "Người dân đi qua cầu"
    (thumbnail,) = entry.findall("media:thumbnail", MRSS)
    assert (thumbnail.get("width"), thumbnail.get("height")) == ("480", "270")
    for url, size in [(lead.get("url"), (1440, 1080)), (thumbnail.get("url"), (480, 270))]:
        with default_storage.open(url.removeprefix("http://testserver/media/")) as fh:
            assert Image.open(fh).size == size
    # Pictures are never enclosures (the audio is, in Atom an ``enclosure`` link).
    assert not entry.xpath("enclosure|atom:link[@rel='enclosure']", namespaces=MRSS)


def test_an_audio_entry_with_a_picture_keeps_its_mp3_as_the_only_enclosure(
    units, client: Client, tmp_path
):
    from tests.portal.helpers import make_image

    asset = make_audio_asset(tmp_path / "a", seconds=1)
    item = make_published_item(
        units["A"], "Bản tin có ảnh", audio=asset, image=make_image(description="Loa xã")
    )
    for url, version in [("/feeds/atom/", "atom10"), ("/feeds/podcast/", "rss20")]:
        feed = parsed(client.get(url), version)
        (entry,) = feed.entries
        assert [e["type"] for e in entry.enclosures] == ["audio/mpeg"]
        assert entry.media_content[0]["medium"] == "image"
        assert entry.media_thumbnail[0]["width"] == "480"
    atom = parsed(client.get("/feeds/atom/"), "atom10")
    links = {link["rel"]: link for link in atom.entries[0].links}
    assert links["alternate"]["href"].endswith(item.public_path)
    assert links["enclosure"]["type"] == "audio/mpeg"


def test_editing_a_pictures_alt_text_changes_the_validators(units, client: Client):
    from tests.portal.helpers import make_image

    image = make_image(description="Cầu cũ")
    make_published_item(units["A"], "Tin có ảnh", image=image)
    first = client.get("/feeds/rss/")
    image.description = "Cầu mới bắc qua kênh"
    image.save()
    again = client.get("/feeds/rss/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200 and again["ETag"] != first["ETag"]
    assert "Cầu mới bắc qua kênh" in again.content.decode()
