"""The approver's review screen and bulk approval, through HTTP: every decision goes
through ``item_review`` (the chain's one path), and the screen says what happened."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from newsroom.models import NewsItem, Role
from newsroom.services import item_create, item_review, item_submit, item_update
from tests.factories import make_user
from tests.newsroom.helpers import current_step

from .helpers import login

pytestmark = pytest.mark.django_db


def review_url(item) -> str:
    return reverse("newsroom_item_review", args=[item.pk])


def submitted(tree, people, headline="Tân Đồng ra quân", distribution="province", body=None):
    item = item_create(
        user=people["rep"],
        unit=tree["A"],
        headline=headline,
        distribution=distribution,
        body=body or "<p>Sáng nay, bà con khu phố 1 ra quân làm sạch kênh mương.</p>",
    )
    item_submit(user=people["rep"], item=item)
    return item


def decide(client, item, action, comment=""):
    """What the review screen's buttons post (the form as rendered, plus the button)."""
    page = client.get(review_url(item))
    context = page.context
    return client.post(
        review_url(item),
        {
            "action": action,
            "comment": comment,
            "revision_id": context["revision"].pk,
            "task_state_id": context["task_state"].pk,
        },
        follow=True,
    )


def said(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)] or [
        str(m) for m in response.context["messages"]
    ]


def test_the_review_screen_shows_the_item_and_only_the_steps_it_needs(tree, people):
    item = submitted(tree, people)
    page = login(people["a"]).get(review_url(item))
    assert page.status_code == 200
    text = page.content.decode()
    assert "bà con khu phố 1 ra quân làm sạch kênh mương" in text
    assert [s["level"] for s in page.context["chain"]] == ["commune", "district", "province"]
    assert "Hội đồng biên tập" not in text  # a province item never reaches the board
    for label in ("Duyệt", "Duyệt kèm ý kiến", "Trả lại kèm ý kiến"):
        assert f">{label}</button>" in text
    assert page.context["chain"][0]["state"] == "current"


def test_each_decision_is_one_click_and_says_what_happened(tree, people):
    item = submitted(tree, people)
    response = decide(login(people["a"]), item, "approve")
    assert response.redirect_chain[-1][0] == reverse("wagtailadmin_home")
    assert any("Đã duyệt, chuyển lên cấp huyện" in m for m in said(response))
    assert current_step(item) == ("district", tree["X"].code)
    response = decide(login(people["x"]), item, "approve-comment", "Đồng ý, bổ sung ảnh")
    assert any("Đã duyệt, chuyển lên cấp tỉnh" in m for m in said(response))
    response = decide(login(people["p"]), item, "approve")
    assert any("Đã xuất bản" in m for m in said(response))
    assert NewsItem.objects.get(pk=item.pk).live


def test_a_return_needs_a_comment_and_the_reporter_reads_it_at_the_top(tree, people):
    item = submitted(tree, people)
    client = login(people["a"])
    response = decide(client, item, "reject")
    assert current_step(item) == ("commune", tree["A"].code)  # nothing happened
    assert any("Nêu lý do" in m or "lý do" in m for m in said(response))
    response = decide(client, item, "reject", "Thiếu nguồn tin, bổ sung tên người phát biểu")
    assert any("Đã trả lại cho phóng viên" in m for m in said(response))
    editor = login(people["rep"]).get(
        reverse("wagtailsnippets_newsroom_newsitem:edit", args=[item.pk])
    )
    messages = [str(m) for m in editor.context["messages"]]
    assert any(
        "duyet_xa" not in m and "Thiếu nguồn tin, bổ sung tên người phát biểu" in m
        for m in messages
    ), messages
    assert any("Trần Thị Duyệt" in m for m in messages), messages
    home = login(people["rep"]).get("/admin/").content.decode()
    assert "Bị trả lại cho tôi (1)" in home and "Trần Thị Duyệt" in home


def test_the_author_gets_no_approve_button_and_the_service_refuses(tree, settings):
    settings.NGUON_ALLOW_SELF_APPROVAL = False
    both = make_user("motminh", unit=tree["A"], role=Role.REPORTER)
    make_user("duyet", unit=tree["A"], role=Role.APPROVER)
    from newsroom.services import membership_grant

    membership_grant(user=both, unit=tree["A"], role=Role.APPROVER)
    item = item_create(user=both, unit=tree["A"], headline="Tự viết", distribution="commune")
    item_submit(user=both, item=item)
    client = login(both)
    page = client.get(review_url(item)).content.decode()
    assert ">Duyệt</button>" not in page and ">Trả lại kèm ý kiến</button>" in page
    client.post(review_url(item), {"action": "approve", "comment": ""}, follow=True)
    assert current_step(item) == ("commune", tree["A"].code)
    assert not NewsItem.objects.get(pk=item.pk).live


def test_the_review_screen_shows_what_changed_since_the_last_approval(tree, people):
    item = submitted(tree, people, body="<p>Có 120 người tham gia.</p>")
    item_review(user=people["a"], item=item, action="approve")
    item_review(user=people["x"], item=item, action="reject", comment="Kiểm tra số liệu")
    item_update(user=people["rep"], item=item, body="<p>Có 150 người tham gia.</p>")
    item_submit(user=people["rep"], item=item)
    page = login(people["a"]).get(review_url(item)).content.decode()
    assert "<del>120</del><ins>150</ins>" in page


def test_the_listing_names_the_level_an_item_waits_at(tree, people):
    item = submitted(tree, people)
    item_review(user=people["a"], item=item, action="approve")
    listing = login(people["rep"]).get(reverse("wagtailsnippets_newsroom_newsitem:list"))
    assert "chờ duyệt cấp huyện" in listing.content.decode()


def test_bulk_approval_lists_the_items_then_approves_each_at_ones_own_level(tree, people):
    first = submitted(tree, people, headline="Tin thứ nhất")
    second = submitted(tree, people, headline="Tin thứ hai")
    elsewhere = submitted(tree, people, headline="Tin đã qua xã")
    item_review(user=people["a"], item=elsewhere, action="approve")  # at the district now
    client = login(people["a"])
    url = reverse("newsroom_bulk_approve")
    ids = [first.pk, second.pk, elsewhere.pk]
    confirm = client.get(url, {"item": ids})
    text = confirm.content.decode()
    assert "Tin thứ nhất" in text and "Tin thứ hai" in text and "Tin đã qua xã" not in text
    assert current_step(first) == ("commune", tree["A"].code)  # nothing before confirming
    response = client.post(url, {"item": ids, "confirm": "1"}, follow=True)
    assert current_step(first) == current_step(second) == ("district", tree["X"].code)
    assert current_step(elsewhere) == ("district", tree["X"].code)  # untouched
    assert sum("Đã duyệt, chuyển lên cấp huyện" in m for m in said(response)) == 2


def test_the_editor_draws_only_the_steps_the_item_needs(tree, people):
    item = submitted(tree, people, distribution="province")
    editor = login(people["a"]).get(
        reverse("wagtailsnippets_newsroom_newsitem:edit", args=[item.pk])
    )
    timeline = editor.content.decode().split('class="workflow-timeline"', 1)[1].split("</ol>")[0]
    for step in ("Duyệt cấp xã", "Duyệt cấp huyện", "Duyệt cấp tỉnh"):
        assert step in timeline
    assert "Hội đồng biên tập tỉnh" not in timeline


def test_approving_in_the_editor_also_says_where_the_item_went(tree, people):
    item = submitted(tree, people)
    item = NewsItem.objects.get(pk=item.pk)
    latest = item.get_latest_revision()
    draft = latest.as_object()
    from wagtail.test.utils.form_data import rich_text

    response = login(people["a"]).post(
        reverse("wagtailsnippets_newsroom_newsitem:edit", args=[item.pk]),
        {
            "unit": draft.unit_id,
            "kind": draft.kind,
            "distribution": draft.distribution,
            "headline": draft.headline,
            "summary": draft.summary,
            "body": rich_text(draft.body),
            "byline": draft.byline,
            "loaded_revision_id": latest.pk,
            "loaded_revision_created_at": latest.created_at.isoformat(),
            "action-workflow-action": "1",
            "workflow-action-name": "approve",
        },
        follow=True,
    )
    assert current_step(item) == ("district", tree["X"].code)
    assert any("Đã duyệt, chuyển lên cấp huyện" in m for m in said(response)), said(response)
