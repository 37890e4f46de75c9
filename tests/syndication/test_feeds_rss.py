"""What a feed reader (or a provincial portal aggregating communes) gets from /feeds/rss/:
well-formed RSS 2.0 whatever reporters paste, Vietnamese intact, MP3 enclosures, only
published items, and cheap conditional requests."""

import unicodedata
from datetime import timedelta
from email.utils import parsedate_to_datetime

import feedparser
import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from media.models import Rendition
from tests.factories import make_audio_asset, make_published_item, make_tree

pytestmark = pytest.mark.django_db

FEED = "/feeds/rss/"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media-root"
    return settings.MEDIA_ROOT


@pytest.fixture
def units():
    return make_tree(three_level=True)


def parse(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/rss+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "rss20"
    return feed


def test_pasted_control_characters_and_markup_do_not_break_the_feed(units, client: Client):
    nasty = (
        "Cảnh báo\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x1f lũ ]]> <script>alert(1)</script>"
    )
    item = make_published_item(
        units["A"],
        nasty,
        summary="Tóm tắt ]]> <script>alert('x')</script> \x0b\x00hết & còn",
        byline="Phóng viên\x08 <b>Xã</b>",
    )

    response = client.get(FEED)
    feed = parse(response)

    assert b"<script>" not in response.content  # escaped text, never markup
    (entry,) = feed.entries
    assert entry.title == "Cảnh báo lũ ]]> <script>alert(1)</script>"
    assert "Tóm tắt ]]>" in entry.summary and "hết" in entry.summary
    assert "<script" not in entry.summary  # what a reader would render
    assert entry.id == f"urn:uuid:{item.uuid}"
    assert entry.link == f"http://testserver{item.public_path}"


def test_vietnamese_text_arrives_intact(units, client: Client):
    headline = "Đồng Xoài triển khai tiêm chủng mở rộng cho trẻ dưới 5 tuổi"
    summary = (
        "Trạm y tế xã Tân Đồng: ưu tiên người già, phụ nữ mang thai; đề nghị bà con hưởng ứng."
    )
    make_published_item(units["A"], headline, summary=summary)

    response = client.get(FEED)
    feed = parse(response)

    assert "charset=utf-8" in response["Content-Type"]
    assert headline.encode("utf-8") in response.content  # not entity-escaped, not mangled
    assert feed.entries[0].title == headline
    assert feed.entries[0].summary == summary
    assert unicodedata.is_normalized("NFC", feed.entries[0].title)
    assert feed.feed.language == "vi"
    assert feed.feed.title.startswith("Nguồn")


def test_summary_falls_back_to_the_body_as_plain_text(units, client: Client):
    make_published_item(
        units["A"], "Tin không tóm tắt", body="<p>Họp dân &amp; bàn việc&nbsp;làm đường</p>"
    )
    entry = parse(client.get(FEED)).entries[0]
    assert entry.summary == "Họp dân & bàn việc\xa0làm đường"


def test_audio_items_carry_their_mp3_as_an_enclosure(units, client: Client, tmp_path):
    asset = make_audio_asset(tmp_path / "a", seconds=1.5)
    rendition = asset.rendition("loudspeaker")
    audio_item = make_published_item(units["A"], "Bản tin phát thanh", audio=asset)
    article = make_published_item(
        units["B"], "Tin chữ", published_at=timezone.now() - timedelta(minutes=1)
    )

    feed = parse(client.get(FEED))

    by_title = {e.title: e for e in feed.entries}
    (enclosure,) = by_title[audio_item.headline].enclosures
    assert enclosure["type"] == "audio/mpeg"
    assert int(enclosure["length"]) == rendition.size
    assert enclosure["href"] == f"http://testserver{rendition.file.url}"
    assert by_title[article.headline].enclosures == []
    # The enclosure is what the file on disk holds.
    assert rendition.file.size == rendition.size


def test_enclosure_on_a_cdn_media_url_is_not_prefixed_with_the_site(
    units, client: Client, tmp_path, settings
):
    asset = make_audio_asset(tmp_path / "a", seconds=1)
    make_published_item(units["A"], "Bản tin CDN", audio=asset)
    settings.MEDIA_URL = "https://cdn.example.vn/media/"

    entry = parse(client.get(FEED)).entries[0]

    assert entry.enclosures[0]["href"].startswith("https://cdn.example.vn/media/renditions/")


def test_an_audio_item_still_transcoding_has_no_enclosure_yet(units, client: Client, tmp_path):
    asset = make_audio_asset(tmp_path / "a", seconds=1, transcode=False)
    make_published_item(units["A"], "Đang chuyển mã", audio=asset)
    entry = parse(client.get(FEED)).entries[0]
    assert entry.enclosures == []


def test_unpublished_items_are_absent(units, client: Client):
    make_published_item(units["A"], "Đã xuất bản")
    make_published_item(units["A"], "Bản nháp", live=False)
    taken_down = make_published_item(units["B"], "Đã gỡ xuống")
    taken_down.live = False
    taken_down.save()

    titles = [e.title for e in parse(client.get(FEED)).entries]

    assert titles == ["Đã xuất bản"]


def test_at_most_50_items_newest_first(units, client: Client):
    now = timezone.now()
    for i in range(55):
        make_published_item(
            units["ABC"[i % 3]], f"Tin số {i:02d}", published_at=now - timedelta(hours=i)
        )

    entries = parse(client.get(FEED)).entries

    assert [e.title for e in entries] == [f"Tin số {i:02d}" for i in range(50)]
    dates = [e.published_parsed for e in entries]
    assert dates == sorted(dates, reverse=True)


# --- conditional requests -----------------------------------------------------------------


def test_feed_sends_validators_and_answers_304(units, client: Client):
    make_published_item(units["A"], "Tin một")

    first = client.get(FEED)
    etag, last_modified = first["ETag"], first["Last-Modified"]
    assert etag and last_modified

    again = client.get(FEED, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    since = client.get(FEED, HTTP_IF_MODIFIED_SINCE=last_modified)
    assert since.status_code == 304
    assert client.get(FEED, HTTP_IF_NONE_MATCH='"something-else"').status_code == 200
    assert client.head(FEED, HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_publishing_changes_the_validators(units, client: Client):
    make_published_item(units["A"], "Tin một", published_at=timezone.now() - timedelta(hours=1))
    with time_machine.travel(timezone.now(), tick=True) as clock:
        first = client.get(FEED)
        clock.shift(timedelta(seconds=2))  # HTTP dates have one-second resolution
        make_published_item(units["B"], "Tin hai")

    second = client.get(FEED, HTTP_IF_NONE_MATCH=first["ETag"])
    assert second.status_code == 200 and second["ETag"] != first["ETag"]
    assert "Tin hai" in [e.title for e in parse(second).entries]
    assert client.get(FEED, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 200


def test_taking_an_item_down_changes_the_validators(units, client: Client):
    # Both published a while ago (HTTP dates have one-second resolution).
    now = timezone.now()
    make_published_item(units["A"], "Tin một", published_at=now - timedelta(hours=1))
    item = make_published_item(
        units["B"], "Tin sai, phải gỡ", published_at=now - timedelta(minutes=30)
    )
    with time_machine.travel(timezone.now(), tick=True) as clock:
        first = client.get(FEED)
        clock.shift(timedelta(seconds=2))  # HTTP dates have one-second resolution
        item.live = False
        item.save()

    second = client.get(FEED, HTTP_IF_NONE_MATCH=first["ETag"])
    assert second.status_code == 200
    assert [e.title for e in parse(second).entries] == ["Tin một"]
    # Readers that only send If-Modified-Since notice too (the take-down is a modification).
    assert client.get(FEED, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 200


def test_an_mp3_becoming_ready_changes_the_etag(units, client: Client, tmp_path):
    from media.services import rendition_build

    asset = make_audio_asset(tmp_path / "a", seconds=1, transcode=False)
    make_published_item(units["A"], "Bản tin", audio=asset)
    first = client.get(FEED)
    assert parse(first).entries[0].enclosures == []

    rendition_build(asset_id=asset.pk, profile="loudspeaker")
    assert (
        Rendition.objects.get(asset=asset, profile="loudspeaker").status == Rendition.Status.READY
    )

    second = client.get(FEED, HTTP_IF_NONE_MATCH=first["ETag"])
    assert second.status_code == 200
    assert parse(second).entries[0].enclosures[0]["type"] == "audio/mpeg"


def test_an_empty_feed_is_still_valid_and_conditional(client: Client):
    first = client.get(FEED)
    parse(first)
    assert first["ETag"]
    assert client.get(FEED, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_last_modified_is_the_time_of_the_latest_change(units, client: Client):
    before = timezone.now().replace(microsecond=0)
    make_published_item(units["A"], "Tin cũ", published_at=before - timedelta(days=2))
    make_published_item(units["A"], "Tin mới hơn", published_at=before - timedelta(days=1))
    response = client.get(FEED)
    last_modified = parsedate_to_datetime(response["Last-Modified"])
    # The feed changed when the rows were written (now), whatever dates they carry.
    assert before <= last_modified <= timezone.now()


def test_only_get_and_head(client: Client):
    assert client.post(FEED).status_code == 405
