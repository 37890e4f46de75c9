"""Hostile requests to the admin and to the whole site (issue 14): each answers a 4xx that
names the problem, never a 500 (the client raises whatever the server raised)."""

import json
import logging

import pytest
from django.test import Client

from newsroom.models import NewsItem, Role
from tests.factories import make_tree, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree(db):
    return make_tree(three_level=True)


@pytest.fixture
def root(db):
    return make_user("root", is_superuser=True, is_staff=True)


def admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "start, end, field, message",
    [
        ("01/01/2025", "31/12/9999", "end", "Ngày kết thúc cách hôm nay quá một năm."),
        ("01/01/0001", "01/01/2025", "start", "Khoảng thời gian dài quá mười năm."),
    ],
)
def test_a_report_period_at_the_calendars_edge_is_a_form_error(
    tree, root, start, end, field, message
):
    client = admin_client(root)
    params = {"unit": tree["P"].pk, "start": start, "end": end}
    for extra in ({}, {"export": "csv"}, {"export": "xlsx"}):
        response = client.get("/admin/reports/", {**params, **extra})
        assert response.status_code == 200
        assert response.context["form"].errors[field] == [message]
        assert message in response.content.decode()
        assert response["Content-Type"].startswith("text/html")  # no export of nothing


def test_the_item_choosers_create_view_creates_nothing(tree):
    editor = make_user("bt_a", unit=tree["A"], role=Role.REPORTER, is_staff=True)
    client = admin_client(editor)
    url = "/admin/snippets/choose/newsroom/newsitem/create/"
    data = {"headline": "Tin tạo từ hộp chọn", "unit": tree["A"].pk, "body": "x"}
    for response in (client.post(url, data), client.get(url)):
        assert response.status_code == 403
        assert response.content.decode() == (
            "Tin bài được tạo trong trình soạn thảo, không tạo từ hộp chọn."
        )
    assert not NewsItem.objects.exists()


@pytest.mark.parametrize(
    "path, content_type, expect_json",
    [
        ("/api/v1/intake/items", "application/json", True),
        ("/api/v1/devices/1/playlogs", "application/json", True),
        ("/api/v1/devices/1/heartbeat", "application/json", True),
        ("/admin/login/", "application/x-www-form-urlencoded", False),
        ("/search/", "application/x-www-form-urlencoded", False),
    ],
)
def test_a_body_over_the_limit_is_a_413_without_a_traceback(
    tree, settings, caplog, path, content_type, expect_json
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    client = Client(HTTP_AUTHORIZATION="Bearer whatever")
    body = json.dumps({"headline": "x" * 10_000}) if expect_json else "a=" + "x" * 10_000
    with caplog.at_level(logging.INFO):
        response = client.generic("POST", path, body, content_type=content_type)
    assert response.status_code == 413
    if expect_json:
        assert response.json() == {"error": "Yêu cầu gửi lên quá lớn.", "field": None}
    else:
        assert response.content.decode() == "Yêu cầu gửi lên quá lớn."
    assert not any(r.exc_info for r in caplog.records)
    assert "Traceback" not in caplog.text
    assert not NewsItem.objects.exists()


def test_form_fields_over_the_limit_in_an_upload_are_a_413_too(tree, settings, caplog):
    """A multipart body may carry large files, so its declared length passes; its form
    fields are read in memory and Django stops at the limit: the same 413, one log line."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    reporter = make_user("app_rep", unit=tree["A"], role=Role.REPORTER)
    from newsroom.intake import intake_token_issue

    _token, raw = intake_token_issue(user=reporter, name="x")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    data = json.dumps({"headline": "x" * 10_000, "unit": "90001"})
    with caplog.at_level(logging.INFO):
        response = client.post("/api/v1/intake/items", {"data": data})
    assert response.status_code == 413, response.content
    assert response.json()["error"] == "Yêu cầu gửi lên quá lớn."
    assert not any(r.exc_info for r in caplog.records)
    assert "Traceback" not in caplog.text
    assert not NewsItem.objects.exists()
