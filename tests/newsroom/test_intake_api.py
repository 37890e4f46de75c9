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
