"""``/api/v1/items/``: IPTC ninjs 2.2 documents, cursor pagination, filters, bad input."""

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from newsroom.models import Category
from tests.factories import make_audio_asset, make_published_item
from tests.pictures import picture_fields
from tests.portal.helpers import make_image

from .helpers import make_item, publish, withdraw

pytestmark = pytest.mark.django_db

API = "/api/v1/items/"
SCHEMA_PATH = Path(settings.BASE_DIR).parent / "shared/standards/ninjs-schema_2.2.json"


@pytest.fixture(scope="module")
def validator():
    if not SCHEMA_PATH.exists():
        pytest.skip(f"the IPTC ninjs 2.2 schema is not at {SCHEMA_PATH} (shared/ not beside)")
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text())
    cls = jsonschema.Draft202012Validator
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def assert_valid(validator, doc):
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def get(client, url=API, **params):
    response = client.get(url, params)
    assert response.status_code == 200, response.content[:500]
    return response.json()


def test_documents_validate_and_carry_what_consumers_need(units, client, validator, tmp_path):
    category = Category.objects.create(name="Y tế thử", slug="y-te-thu")
    asset = make_audio_asset(tmp_path / "a", seconds=1.5)
    audio = make_item(
        units["A"],
        "Bản tin tiêm chủng ]]> <script>x</script>",
        audio=asset,
        kind="audio",
        category=category,
        summary="Tóm tắt",
        body="<p>Trạm y tế &amp; <b>xã</b></p>",
        byline="Nguyễn Văn A",
        transcript="Lời đọc",
    )
    article = make_item(units["P"], "Tin chữ tỉnh")

    docs = {d["uri"]: d for d in get(client)["items"]}
    for doc in docs.values():
        assert_valid(validator, doc)
    doc = docs[f"urn:uuid:{audio.uuid}"]
    assert doc["type"] == "audio" and doc["version"] == "1" and doc["pubstatus"] == "usable"
    assert doc["language"] == "vi"
    assert doc["headlines"] == [{"role": "main", "value": audio.headline}]
    assert {"contenttype": "text/html", "role": "main", "value": audio.body}.items() <= (
        doc["bodies"][0].items()
    )
    assert doc["bodies"][1]["contenttype"] == "text/plain"
    assert doc["bodies"][1]["value"] == "Trạm y tế & xã"
    assert doc["descriptions"][0]["value"] == "Tóm tắt"
    assert doc["by"] == "Nguyễn Văn A"
    assert doc["subjects"][0]["literal"] == "y-te-thu"
    assert doc["places"][0]["literal"] == "90001" and doc["places"][0]["name"] == "Xã Tân Đồng"
    (mp3,) = [r for r in doc["renditions"] if r["name"] == "loudspeaker"]
    rendition = asset.rendition("loudspeaker")
    assert mp3["contenttype"] == "audio/mpeg" and mp3["sizeinbytes"] == rendition.size
    assert mp3["href"] == f"http://testserver{rendition.file.url}"
    assert 1.3 < mp3["duration"] < 1.8
    assert docs[f"urn:uuid:{article.uuid}"]["type"] == "text"
    # The detail document is the same.
    detail = get(client, f"{API}{audio.uuid}/")
    assert detail == doc


def test_pictures_are_associations_with_renditions_alt_caption_and_credit(units, client, validator):
    from django.core.files.storage import default_storage
    from PIL import Image

    fields = picture_fields()
    item = make_item(units["A"], "Khánh thành cầu mới", **fields)
    doc = get(client, f"{API}{item.uuid}/")
    assert_valid(validator, doc)
    (listed,) = get(client)["items"]
    assert listed == doc  # the listing reads the pictures in bulk, to the same document
    lead, second = doc["associations"]  # the picture without alt text is left out
    assert lead["name"] == "mainpic" and second["name"] == "gallery-1"
    assert lead["type"] == second["type"] == "picture"
    assert lead["uri"] == f"urn:nguon:image:{fields['image'].pk}"
    assert lead["descriptions"] == [
        {"role": "alt", "contenttype": "text/plain", "value": "Cầu mới bắc qua kênh Xáng"},
        {
            "role": "caption",
            "contenttype": "text/plain",
            "value": "Lễ khánh thành sáng 03/12 & <b>không phải thẻ</b>",
        },
    ]
    assert lead["by"] == "Ảnh: Lê Văn Chụp" and second["by"] == "Ảnh: Trần Thị Hai"
    assert [d["role"] for d in second["descriptions"]] == ["alt"]
    large, thumbnail = lead["renditions"]
    assert large["name"] == "large" and thumbnail["name"] == "thumbnail"
    # Fitted inside 1920x1080 (1600x1200 → 1440x1080), a 480x270 crop for the thumbnail.
    assert (large["width"], large["height"]) == (1440, 1080)
    assert (thumbnail["width"], thumbnail["height"]) == (480, 270)
    for rendition in (large, thumbnail):
        assert rendition["contenttype"] == "image/jpeg"
        assert rendition["href"].startswith("http://testserver/")
        path = rendition["href"].removeprefix("http://testserver/media/")
        with default_storage.open(path) as fh, Image.open(fh) as picture:
            assert picture.format == "JPEG"
            assert picture.size == (rendition["width"], rendition["height"])
    assert second["renditions"][0]["width"] == 800


def test_a_picture_whose_alt_text_was_removed_is_not_offered(units, client, validator):
    image = make_image(description="Cầu mới", title="cau.png")
    item = make_item(units["A"], "Tin có ảnh", image=image)
    assert get(client, f"{API}{item.uuid}/")["associations"][0]["name"] == "mainpic"
    image.description = ""
    image.save()
    doc = get(client, f"{API}{item.uuid}/")
    assert_valid(validator, doc)
    assert "associations" not in doc


def test_corrections_bump_the_version_and_withdrawals_are_canceled(units, client, validator):
    item = make_item(units["A"], "Tin ban đầu")
    item.headline = "Tin đã đính chính"
    publish(item)
    doc = get(client, f"{API}{item.uuid}/")
    assert doc["version"] == "2" and doc["headlines"][0]["value"] == "Tin đã đính chính"

    withdraw(item)
    doc = get(client, f"{API}{item.uuid}/")
    assert_valid(validator, doc)
    assert doc["pubstatus"] == "canceled" and doc["version"] == "2"
    assert "bodies" not in doc  # the withdrawn text is no longer offered
    listed = get(client)["items"]
    assert [d["pubstatus"] for d in listed] == ["canceled"]


def test_drafts_and_unknown_items_are_404(units, client):
    draft = make_published_item(units["A"], "Bản nháp", live=False)
    assert client.get(f"{API}{draft.uuid}/").status_code == 404
    assert client.get(f"{API}00000000-0000-0000-0000-000000000000/").status_code == 404
    assert client.get(f"{API}not-a-uuid/").status_code == 404
    assert get(client)["items"] == []


def test_cursor_pagination_walks_everything_once(units, client):
    now = timezone.now()
    items = [
        make_item(units["ABC"[i % 3]], f"Tin {i}", published_at=now - timedelta(minutes=i))
        for i in range(25)
    ]
    # Two items with the same version time: the cursor's id tiebreak keeps both.
    same = make_item(units["A"], "Cùng giờ", published_at=now - timedelta(minutes=3))
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 7}
        if cursor:
            params["cursor"] = cursor
        page = get(client, **params)
        seen += [d["uri"] for d in page["items"]]
        pages += 1
        cursor = page["next"]
        if not cursor:
            break
    assert pages == 4
    assert len(seen) == len(set(seen)) == 26
    assert seen[0] == f"urn:uuid:{items[0].uuid}"
    assert f"urn:uuid:{same.uuid}" in seen
    # Oldest first, from a date.
    page = get(client, order="asc", since=(now - timedelta(minutes=2, seconds=30)).isoformat())
    assert [d["headlines"][0]["value"] for d in page["items"]] == ["Tin 2", "Tin 1", "Tin 0"]


def test_filters(units, client):
    health = Category.objects.create(name="Y tế thử", slug="y-te-thu")
    make_item(units["A"], "Xã A y tế", category=health)
    make_item(units["B"], "Xã B")
    make_item(units["C"], "Xã C", kind="video")
    titles = lambda **p: sorted(d["headlines"][0]["value"] for d in get(client, **p)["items"])  # noqa: E731
    assert titles(unit="901") == ["Xã A y tế", "Xã B"]
    assert titles(category="y-te-thu") == ["Xã A y tế"]
    assert titles(type="video") == ["Xã C"]
    assert titles(unit="99999") == []
    assert titles(category="khong-co") == []
    assert titles(since="2999-01-01") == []
    assert len(titles(since="2000-01-01T00:00:00+07:00")) == 3


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "garbage"},
        {"cursor": "eyJ0IjoiMjAyNSJ9:forged"},
        {"cursor": "' OR 1=1 --"},
        {"since": "hôm qua"},
        {"since": "2025-13-45"},
        {"since": "2025-02-30T25:00:00"},
        {"type": "picture-of-cat"},
        {"order": "sideways"},
    ],
)
def test_bad_input_is_400(units, client, params):
    make_item(units["A"], "Tin")
    response = client.get(API, params)
    assert response.status_code == 400, response.content
    assert response.json()["error"]


def test_a_tampered_cursor_is_refused(units, client):
    for i in range(3):
        make_item(units["A"], f"Tin {i}")
    cursor = get(client, limit=1)["next"]
    value, _sep, signature = cursor.rpartition(":")
    tampered = value[:-2] + ("AA" if value[-2:] != "AA" else "BB") + ":" + signature
    assert client.get(API, {"cursor": tampered}).status_code == 400
    assert client.get(API, {"cursor": cursor}).status_code == 200


def test_list_queries_do_not_grow_with_items(units, client, django_assert_max_num_queries):
    for i in range(20):
        make_item(units["ABC"[i % 3]], f"Tin {i}")
    with django_assert_max_num_queries(8):
        assert len(get(client, limit=20)["items"]) == 20


def test_loudspeaker_only_items_are_not_offered(units, client):
    local = make_item(units["A"], "Chỉ loa xã", distribution="commune")
    make_item(units["A"], "Trang huyện", distribution="district")
    assert client.get(f"{API}{local.uuid}/").status_code == 404
    assert [d["headlines"][0]["value"] for d in get(client)["items"]] == ["Trang huyện"]


def test_items_imported_in_bulk_are_listed_after_a_rebuild(units, client):
    from newsroom.models import NewsItem
    from syndication.services import syndicated_items_rebuild

    now = timezone.now()
    NewsItem.objects.bulk_create(
        [
            NewsItem(
                unit=units["A"],
                headline=f"Nhập {i}",
                live=True,
                version=1,
                version_created_at=now - timedelta(minutes=i),
                first_published_at=now,
                last_published_at=now,
            )
            for i in range(3)
        ]
    )
    assert get(client)["items"] == []  # no events ran
    assert syndicated_items_rebuild() == 3
    assert [d["headlines"][0]["value"] for d in get(client)["items"]] == [
        "Nhập 0",
        "Nhập 1",
        "Nhập 2",
    ]


def test_publishing_makes_the_picture_files_before_anyone_reads_them(units):
    from wagtail.images import get_image_model

    from media.image_renditions import PICTURE_SPECS

    fields = picture_fields()
    make_item(units["A"], "Khánh thành cầu mới", **fields)  # announces item_published
    renditions = get_image_model().get_rendition_model().objects
    for image in (fields["image"], fields["gallery"][0][1]["image"]):
        made = set(renditions.filter(image=image).values_list("filter_spec", flat=True))
        assert set(PICTURE_SPECS) <= made  # (the portal makes its own sizes too)
    # The picture without alt text travels nowhere, so nothing is made of it.
    undescribed = fields["gallery"][1][1]["image"]
    assert not renditions.filter(image=undescribed, filter_spec__in=PICTURE_SPECS).exists()


def test_body_pictures_and_links_are_plain_html_with_absolute_urls(units, client):
    """The HTML body is what a consumer can render: Wagtail's stored embed becomes a plain
    ``<img>`` with an absolute URL (not ``<embed embedtype="image">``, not a ``<picture>``)."""
    image = make_image(description="Cây cầu mới", title="cau.jpg")
    item = make_item(
        units["A"],
        "Tin có ảnh trong bài",
        body=(
            "<p>Khánh thành cầu.</p>"
            f'<embed alt="Cây cầu nhìn từ bờ bắc" embedtype="image" format="left" id="{image.pk}"/>'
        ),
    )
    bodies = get(client, f"{API}{item.uuid}/")["bodies"]
    (html_body,) = [b["value"] for b in bodies if b["contenttype"] == "text/html"]
    assert "<embed" not in html_body and "<picture" not in html_body
    src = re.search(r'<img[^>]* src="([^"]+)"', html_body).group(1)
    assert src.startswith("http://testserver/"), html_body
    assert 'alt="Cây cầu nhìn từ bờ bắc"' in html_body
