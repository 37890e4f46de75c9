"""Item pages: players fed by real renditions (ffmpeg), Open Graph and NewsArticle JSON-LD."""

import json
import re
from datetime import UTC, datetime

import pytest

from media.models import Rendition
from media.services import asset_create, rendition_build
from tests.factories import make_audio_asset, make_upload, make_video

from .helpers import make_image, publish, tags

pytestmark = pytest.mark.django_db


def jsonld(html: str) -> dict:
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert match, "no JSON-LD block"
    return json.loads(match.group(1))


def og(html: str) -> dict:
    return {t["property"]: t["content"] for t in tags(html, "meta") if "property" in t}


def test_audio_item_plays_web_rendition_first_with_waveform_and_transcript(client, tree, tmp_path):
    asset = make_audio_asset(tmp_path, seconds=2.0)  # the loudspeaker MP3, built by ffmpeg
    web = rendition_build(asset_id=asset.pk, profile="web_audio")
    waveform = rendition_build(asset_id=asset.pk, profile="waveform")
    loudspeaker = asset.rendition("loudspeaker")
    assert web.status == Rendition.Status.READY and waveform.status == Rendition.Status.READY
    item = publish(
        tree["A"],
        "Bản tin phát thanh sáng",
        audio=asset,
        transcript="Kính thưa bà con.\nSáng nay xã tổ chức tiêm chủng.",
    )
    html = client.get(item.public_path).content.decode()

    players = tags(html, "audio")
    assert len(players) == 1 and "controls" in players[0]
    assert players[0]["aria-label"].startswith("Bản tin âm thanh")
    sources = [t for t in tags(html, "source")]
    assert [s["src"] for s in sources] == [web.file.url, loudspeaker.file.url]
    assert [s["type"] for s in sources] == ["audio/mp4", "audio/mpeg"]
    wave = next(t for t in tags(html, "img") if t["src"] == waveform.file.url)
    assert wave["alt"].startswith("Dạng sóng")
    assert 'id="transcript-heading">Lời bản tin<' in html
    assert "Kính thưa bà con.<br>Sáng nay xã tổ chức tiêm chủng." in html
    assert '<h2 id="audio-heading">Nghe bản tin' in html

    data = jsonld(html)
    assert data["audio"]["@type"] == "AudioObject"
    assert data["audio"]["contentUrl"] == "http://testserver" + web.file.url
    assert data["audio"]["duration"].startswith("PT")
    assert og(html)["og:audio"] == "http://testserver" + web.file.url

    # The files behind the player are real, decodable media of the announced type.
    assert web.size > 0 and web.mime_type == "audio/mp4"


def test_audio_falls_back_to_the_loudspeaker_mp3_and_says_when_not_ready(client, tree, tmp_path):
    asset = make_audio_asset(tmp_path, seconds=1.5)
    item = publish(tree["A"], "Bản tin chỉ có MP3", audio=asset)
    html = client.get(item.public_path).content.decode()
    sources = tags(html, "source")
    assert [s["src"] for s in sources] == [asset.rendition("loudspeaker").file.url]
    assert not [t for t in tags(html, "img") if "waveform" in t.get("class", "")]

    pending = make_audio_asset(tmp_path / "pending", seconds=1.0, transcode=False)
    item = publish(tree["A"], "Bản tin đang xử lý", audio=pending)
    html = client.get(item.public_path).content.decode()
    assert "<audio" not in html and "Tệp âm thanh đang được chuẩn bị." in html


def test_video_item_has_poster_and_web_renditions(client, tree, tmp_path):
    source = make_video(tmp_path / "clip", seconds=2.0)
    asset = asset_create(upload=make_upload(source), kind="video")
    built = {
        p: rendition_build(asset_id=asset.pk, profile=p)
        for p in ("web_video_720", "web_video_480", "poster")
    }
    item = publish(tree["A"], "Video lễ ra quân", video=asset, summary="Lễ ra quân sáng nay.")
    html = client.get(item.public_path).content.decode()

    video = tags(html, "video")[0]
    assert "controls" in video and video["poster"] == built["poster"].file.url
    assert video["aria-label"] == "Video: Video lễ ra quân"
    sources = tags(html, "source")
    assert [s["src"] for s in sources] == [
        built["web_video_720"].file.url,
        built["web_video_480"].file.url,
    ]
    assert all(s["type"] == "video/mp4" for s in sources)
    assert "Tải video (" in html
    data = jsonld(html)
    assert data["video"]["@type"] == "VideoObject"
    assert data["video"]["thumbnailUrl"] == "http://testserver" + built["poster"].file.url
    meta = og(html)
    assert meta["og:video"] == "http://testserver" + built["web_video_720"].file.url
    assert meta["og:image"] == "http://testserver" + built["poster"].file.url
    # Listings show the poster as the card picture, described for screen readers.
    card = next(t for t in tags(client.get("/").content.decode(), "img"))
    assert card["src"] == built["poster"].file.url
    assert card["alt"] == "Ảnh trích từ video: Video lễ ra quân"


def test_article_carries_open_graph_and_news_article(client, tree, categories):
    image = make_image(description="Đoàn thanh niên dọn vệ sinh", size=(1600, 1000))
    when = datetime(2026, 3, 1, 18, 30, tzinfo=UTC)
    item = publish(
        tree["A"],
        'Ra quân "Ngày chủ nhật xanh" </script><script>alert(1)</script>',
        image=image,
        category=categories[0],
        summary="Hơn 200 đoàn viên tham gia.",
        byline="Trần Thị Duyệt",
    )
    type(item).objects.filter(pk=item.pk).update(first_published_at=when, version_created_at=when)
    html = client.get(item.public_path).content.decode()

    assert "<script>alert(1)</script>" not in html  # headline stays text in JSON-LD and meta
    data = jsonld(html)
    assert data["@context"] == "https://schema.org" and data["@type"] == "NewsArticle"
    assert data["headline"] == item.headline
    assert data["datePublished"] == "2026-03-02T01:30:00+07:00"
    assert data["inLanguage"] == "vi"
    assert data["author"] == [{"@type": "Person", "name": "Trần Thị Duyệt"}]
    assert data["articleSection"] == categories[0].name
    assert data["contentLocation"]["identifier"] == tree["A"].code
    assert data["mainEntityOfPage"]["@id"] == "http://testserver" + item.public_path
    picture = data["image"][0]
    assert picture["@type"] == "ImageObject" and picture["description"] == image.description
    assert picture["url"].startswith("http://testserver/") and picture["url"].endswith(".png")
    assert (picture["width"], picture["height"]) == (1280, 800)

    meta = og(html)
    assert meta["og:type"] == "article" and meta["og:locale"] == "vi_VN"
    assert meta["og:title"] == item.headline
    assert meta["og:url"] == "http://testserver" + item.public_path
    assert meta["og:description"] == "Hơn 200 đoàn viên tham gia."
    assert meta["og:image:alt"] == "Đoàn thanh niên dọn vệ sinh"
    assert meta["og:image:width"] == "1200" and meta["og:image:height"] == "630"
    assert meta["article:published_time"] == "2026-03-02T01:30:00+07:00"
    assert "02/03/2026 01:30" in html
    canonical = next(t for t in tags(html, "link") if t.get("rel") == "canonical")
    assert canonical["href"] == "http://testserver" + item.public_path
