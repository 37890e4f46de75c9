"""The help menu leads to Vietnamese guides, one per role; history words a return as a
return and the create action as an action."""

import json
import re

import pytest
from django.urls import reverse

from newsroom.models import Role
from newsroom.services import item_review
from tests.factories import make_user

from .helpers import created_and_submitted_in_the_editor, login
from .visible_text import english_words, sidebar_props, visible_text

pytestmark = pytest.mark.django_db

GUIDE_HEADINGS = {
    "phong-vien": "Viết và gửi tin bài",
    "duyet-tin": "Duyệt tin",
    "lap-lich-loa": "Lập lịch phát loa",
    "quan-tri-don-vi": "Quản lý người dùng của đơn vị",
}


def test_the_help_menu_leads_to_a_vietnamese_guide_for_each_role(tree):
    reporter = make_user("rep", unit=tree["A"], role=Role.REPORTER)
    client = login(reporter)
    home = client.get("/admin/").content.decode()
    menu = json.dumps(json.loads(sidebar_props(home)), ensure_ascii=False)
    assert "guide.wagtail.org" not in menu and "wagtail.org" not in menu
    assert "Hướng dẫn sử dụng" in menu
    for slug, heading in GUIDE_HEADINGS.items():
        url = reverse("nguon_guide", args=[slug])
        assert url in menu
        page = client.get(url)
        assert page.status_code == 200
        assert heading in page.content.decode()
        assert english_words(visible_text(page.content.decode()), {"Wagtail"}) == []


def test_history_says_returned_and_created_in_vietnamese(tree, people):
    item = created_and_submitted_in_the_editor(tree, people)
    item_review(user=people["a"], item=item, action="reject", comment="Thiếu nguồn")
    for url in (
        reverse("newsroom_item_audit", args=[item.pk]),
        reverse("wagtailsnippets_newsroom_newsitem:history", args=[item.pk]),
    ):
        page = login(people["rep"]).get(url)
        assert page.status_code == 200, url
        text = " ".join(visible_text(page.content.decode()))
        assert "Đã tạo" in text and "Ngày tạo" not in text, url
        assert re.search("trả lại", text, re.I) and not re.search("từ chối", text, re.I), url
