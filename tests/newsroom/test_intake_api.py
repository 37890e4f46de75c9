"""POST /api/v1/intake/items: tokens, idempotency, media, and every bad input the issue lists."""

import json

import pytest
from django.test import Client

from media.models import MediaAsset
from newsroom.intake import intake_token_issue
from newsroom.models import IntakeToken, NewsItem, Role
from tests.factories import make_audio, make_upload, make_user

pytestmark = pytest.mark.django_db
URL = "/api/v1/intake/items"


@pytest.fixture
def api(tree):
    reporter = make_user("app_rep", unit=tree["A"], role=Role.REPORTER)
    _token, raw = intake_token_issue(user=reporter, name="Ứng dụng di động")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def post(client, payload, key=None, **extra):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(
        URL, data=json.dumps(payload), content_type="application/json", **headers, **extra
    )


GOOD = {
    "headline": "Xã Tân Đồng ra quân dọn vệ sinh",
    "body": "<p>Sáng nay, <b>200</b> người tham gia.</p>",
    "byline": "Nguyễn Văn A",
    "language": "vi",
    "category": "thien-tai-hoa-hoan-dich-benh",
    "unit": "90001",
}


def test_a_valid_item_is_created_once_per_idempotency_key(api):
    first = post(api, GOOD, key="k-1")
    assert first.status_code == 201, first.content
    again = post(api, GOOD, key="k-1")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert NewsItem.objects.count() == 1
    item = NewsItem.objects.get()
    assert item.unit.code == "90001" and not item.live and item.category.slug == GOOD["category"]
    assert item.latest_revision is not None  # a draft the reporter can submit
    conflict = post(api, {**GOOD, "headline": "Khác"}, key="k-1")
    assert conflict.status_code == 409 and NewsItem.objects.count() == 1


def test_token_is_required_and_stored_hashed(tree):
    assert post(Client(), GOOD).status_code == 401
    assert post(Client(HTTP_AUTHORIZATION="Bearer sai"), GOOD).status_code == 401
    user = make_user("u", unit=tree["A"], role=Role.REPORTER)
    token, raw = intake_token_issue(user=user, name="x")
    assert raw not in token.key_hash and IntakeToken.objects.filter(key_hash=token.key_hash)


@pytest.mark.parametrize(
    "change, status, field",
    [
        ({"unit": "99999"}, 422, "unit"),  # unknown unit code
        ({"unit": "90003"}, 403, "unit"),  # a unit the caller has no role in
        ({"headline": ""}, 422, "headline"),
        ({"headline": 12}, 422, "headline"),
        ({"category": "khong-co"}, 422, "category"),
        ({"language": "xx"}, 422, "language"),
        ({"body": "<p>" + "a" * 600_000 + "</p>"}, 413, "body"),  # oversize body
    ],
)
def test_bad_input_names_the_field(api, change, status, field):
    response = post(api, {**GOOD, **change})
    assert response.status_code == status, response.content
    assert response.json()["field"] == field and response.json()["error"]
    assert not NewsItem.objects.exists()


def test_invalid_json_is_refused(api):
    response = api.post(URL, data="{không phải json", content_type="application/json")
    assert response.status_code == 400


def test_scripts_are_removed_and_control_characters_dropped(api):
    payload = {
        **GOOD,
        "headline": "Tin <script>alert(1)</script>nóng\x00\x07",
        "body": '<p onclick="x()">A<script>alert(2)</script><a href="javascript:alert(3)">b</a>'
        "<img src=x onerror=alert(4)></p>",
    }
    response = post(api, payload)
    assert response.status_code == 201
    item = NewsItem.objects.get()
    for text in (item.headline, item.body):
        assert "<script" not in text and "onerror" not in text and "onclick" not in text
        assert "javascript:" not in text and "\x00" not in text and "\x07" not in text
    # The admin shows it without any script element from the payload.
    admin = make_user("root2", is_superuser=True, is_staff=True)
    client = Client()
    client.force_login(admin)
    page = client.get(f"/admin/snippets/newsroom/newsitem/edit/{item.pk}/").content.decode()
    assert "alert(1)" not in page and "alert(2)" not in page and "alert(4)" not in page


def test_multipart_with_audio(api, tmp_path):
    wav = make_audio(tmp_path / "ban-tin", seconds=1)
    response = api.post(
        URL,
        {"data": json.dumps(GOOD), "audio": make_upload(wav, content_type="audio/wav")},
        HTTP_IDEMPOTENCY_KEY="media-1",
    )
    assert response.status_code == 201, response.content
    item = NewsItem.objects.get()
    assert item.kind == "audio" and item.audio_id and MediaAsset.objects.count() == 1
    bad = api.post(
        URL,
        {"data": json.dumps(GOOD), "audio": make_upload(b"not audio" * 50, name="x.mp3")},
    )
    assert bad.status_code == 422 and bad.json()["field"] == "audio"


# --- hostile input (issue 14) --------------------------------------------------------------


def test_text_is_stored_as_typed_and_escaped_only_on_output(api):
    """``Tom & Jerry <3 > 2`` is stored as typed (not ``&amp;`` / ``&lt;``); tags go, and an
    escaped tag does not come back as one. The portal page and the RSS feed escape it."""
    payload = {
        **GOOD,
        "headline": "Tom & Jerry <3 > 2",
        "byline": "<b>Trần</b> &amp; Lê",
        "summary": "&lt;img src=x onerror=alert(1)&gt;Giá 5 < 7 > 3 \"ngon\" 'rẻ'",
    }
    response = post(api, payload)
    assert response.status_code == 201, response.content
    assert response.json()["headline"] == "Tom & Jerry <3 > 2"
    item = NewsItem.objects.get()
    assert item.headline == "Tom & Jerry <3 > 2"
    assert item.byline == "Trần & Lê"
    assert item.summary == "Giá 5 < 7 > 3 \"ngon\" 'rẻ'"

    from tests.factories import make_published_item

    published = make_published_item(item.unit, item.headline, summary=item.summary)
    client = Client()
    page = client.get(published.public_path)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Tom &amp; Jerry &lt;3 &gt; 2" in html and "<3 > 2" not in html
    assert "onerror" not in html
    import feedparser

    feed = client.get("/feeds/rss/")
    assert b"<3 > 2" not in feed.content
    titles = [e.title for e in feedparser.parse(feed.content).entries]
    assert "Tom & Jerry <3 > 2" in titles


def test_an_idempotency_key_longer_than_255_characters_is_refused(api):
    """A cut key would let two keys sharing 255 characters collide: 400 naming the header."""
    too_long = "k" * 256
    response = post(api, GOOD, key=too_long)
    assert response.status_code == 400
    assert response.json() == {
        "error": "Idempotency-Key dài quá 255 ký tự.",
        "field": "Idempotency-Key",
    }
    other = post(api, {**GOOD, "headline": "Khác"}, key=too_long[:255] + "x")
    assert other.status_code == 400
    assert not NewsItem.objects.exists()
    assert post(api, GOOD, key="k" * 255).status_code == 201


def test_a_lone_surrogate_in_the_json_is_a_400(api):
    for text in ('{"headline": "Tin \\ud800", "unit": "90001"}', '{"unit": "\\udfff"}'):
        response = api.post(URL, data=text, content_type="application/json")
        assert response.status_code == 400, response.content
        assert response.json()["error"] == "Nội dung gửi lên không phải JSON hợp lệ."
    assert not NewsItem.objects.exists()


def _multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    """A multipart body written by hand: file names exactly as given (the test client
    would sanitise them)."""
    boundary = "nguon-test-boundary"
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    for name, (filename, data) in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: audio/wav\r\n\r\n'.encode()
            + data
            + b"\r\n"
        )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize("filename", ["..", ".", "a/..", "&#46;&#46;", "\x01\x02"])
def test_a_file_whose_name_sanitises_to_nothing_is_refused_not_dropped(api, tmp_path, filename):
    wav = make_audio(tmp_path / "ban-tin", seconds=1).read_bytes()
    body, content_type = _multipart({"data": json.dumps(GOOD)}, {"audio": (filename, wav)})
    response = api.generic("POST", URL, body, content_type=content_type)
    assert response.status_code == 422, response.content
    assert response.json() == {
        "error": "Tên tệp chứa ký tự không được phép.",
        "field": "audio",
    }
    assert not NewsItem.objects.exists() and not MediaAsset.objects.exists()
    # The same file with a plain name is kept.
    body, content_type = _multipart({"data": json.dumps(GOOD)}, {"audio": ("ban-tin.wav", wav)})
    kept = api.generic("POST", URL, body, content_type=content_type)
    assert kept.status_code == 201 and kept.json()["audio"]


def test_bidirectional_overrides_are_stripped_from_headlines(api):
    payload = {
        **GOOD,
        "headline": "Thông báo \u202egpj.exe\u202c và \u2066cách ly\u2069 \u202a\u202b\u202d",
        "summary": "Tóm \u2067tắt\u2068",
    }
    response = post(api, payload)
    assert response.status_code == 201
    item = NewsItem.objects.get()
    assert item.headline == "Thông báo gpj.exe và cách ly"
    assert item.summary == "Tóm tắt"
    # The same rule holds for a headline saved any other way (the admin form, services).
    item.headline = "Sửa \u202eđổi"
    item.save()
    item.refresh_from_db()
    assert item.headline == "Sửa đổi"
