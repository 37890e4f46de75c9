"""The reporter's rooms through HTTP: a home that says what to do, no phantom drafts from
an abandoned "Thêm tin bài", and deleting one's own unsubmitted draft (only that)."""

import pytest
from django.urls import reverse

from newsroom.models import NewsItem, Role
from newsroom.services import item_create, item_review, item_submit
from tests.factories import make_user

from .helpers import login

pytestmark = pytest.mark.django_db


def test_the_home_lists_drafts_returns_levels_and_published(tree, people):
    rep = people["rep"]
    item_create(user=rep, unit=tree["A"], headline="Bản nháp dở dang")
    waiting = item_create(user=rep, unit=tree["A"], headline="Tin đang duyệt")
    item_submit(user=rep, item=waiting)
    item_review(user=people["a"], item=waiting, action="approve")
    returned = item_create(user=rep, unit=tree["A"], headline="Tin bị trả")
    item_submit(user=rep, item=returned)
    item_review(user=people["a"], item=returned, action="reject", comment="Sai tên xã")
    done = item_create(user=rep, unit=tree["A"], headline="Tin đã đăng", distribution="commune")
    item_submit(user=rep, item=done)
    item_review(user=people["a"], item=done, action="approve")

    home = login(rep).get("/admin/")
    sections = home.context  # the panel renders into the page; read the page itself
    text = home.content.decode()
    assert sections is not None
    assert "Bản nháp của tôi (1)" in text and "Bản nháp dở dang" in text
    assert "Bị trả lại cho tôi (1)" in text and "Sai tên xã" in text and "Trần Thị Duyệt" in text
    assert "Đang chờ duyệt (1)" in text and "đang ở cấp Huyện" in text
    assert "Đã xuất bản (1)" in text and "Tin đã đăng" in text
    # An approver who writes nothing gets no reporter home.
    assert "Việc của tôi" not in login(people["x"]).get("/admin/").content.decode()


def test_an_abandoned_new_item_form_leaves_no_draft(tree, people):
    client = login(people["rep"])
    add = reverse("wagtailsnippets_newsroom_newsitem:add")
    page = client.get(add).content.decode()
    assert "data-w-autosave-interval-value" not in page  # a new item is not autosaved
    existing = item_create(user=people["rep"], unit=tree["A"], headline="Đã lưu")
    editor = client.get(reverse("wagtailsnippets_newsroom_newsitem:edit", args=[existing.pk]))
    assert "data-w-autosave-interval-value" in editor.content.decode()  # an existing one is
    before = NewsItem.objects.count()
    response = client.post(
        add,
        {"unit": tree["A"].pk, "kind": "article", "headline": "Gõ dở", "body": ""},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 400
    assert NewsItem.objects.count() == before


def test_a_reporter_deletes_only_their_own_unsubmitted_draft(tree, people):
    rep = people["rep"]
    colleague = make_user("phongvien2", unit=tree["A"], role=Role.REPORTER)
    draft = item_create(user=rep, unit=tree["A"], headline="Nháp bỏ")
    sent = item_create(user=rep, unit=tree["A"], headline="Đã gửi")
    item_submit(user=rep, item=sent)
    url = lambda item: reverse("newsroom_item_delete_draft", args=[item.pk])  # noqa: E731

    login(colleague).post(url(draft), follow=True)
    assert NewsItem.objects.filter(pk=draft.pk).exists()  # not theirs
    response = login(rep).post(url(sent), follow=True)
    assert NewsItem.objects.filter(pk=sent.pk).exists()  # sent for approval once
    assert any("không xóa được" in str(m) for m in response.context["messages"])

    listing = login(rep).get(reverse("wagtailsnippets_newsroom_newsitem:list")).content.decode()
    assert url(draft) in listing and url(sent) not in listing
    confirm = login(rep).get(url(draft))
    assert "Nháp bỏ" in confirm.content.decode()
    response = login(rep).post(url(draft), follow=True)
    assert not NewsItem.objects.filter(pk=draft.pk).exists()
    assert any("Đã xóa bản nháp" in str(m) for m in response.context["messages"])
