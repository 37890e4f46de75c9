"""The chain follows the distribution scope; approvals are bound to what was approved."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from newsroom.models import NewsItem, Role
from newsroom.services import (
    item_create,
    item_review,
    item_scope_change,
    item_submit,
    item_update,
)
from tests.factories import make_tree, make_user

from .helpers import current_step

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(tree):
    return {
        "rep": make_user("rep", unit=tree["A"], role=Role.REPORTER),
        "a": make_user("appr_a", unit=tree["A"], role=Role.APPROVER),
        "x": make_user("appr_x", unit=tree["X"], role=Role.APPROVER),
        "p": make_user("appr_p", unit=tree["P"], role=Role.APPROVER),
        "board": make_user("board_p", unit=tree["P"], role=Role.EDITORIAL_BOARD),
    }


def run_chain(item, approvers):
    """Approve with whoever holds the current step until done; returns the steps seen."""
    seen = []
    while (step := current_step(item)) is not None:
        seen.append(step)
        item = item_review(user=approvers[step], item=item, action="approve")
    return seen, NewsItem.objects.get(pk=item.pk)


@pytest.mark.parametrize(
    "distribution, expected",
    [
        ("commune", [("commune", "90001")]),
        ("district", [("commune", "90001"), ("district", "901")]),
        ("province", [("commune", "90001"), ("district", "901"), ("province", "90")]),
        (
            "national",
            [("commune", "90001"), ("district", "901"), ("province", "90"), ("board", "90")],
        ),
    ],
)
def test_scope_decides_how_far_up_the_chain_goes(tree, people, distribution, expected):
    approvers = {
        ("commune", "90001"): people["a"],
        ("district", "901"): people["x"],
        ("province", "90"): people["p"],
        ("board", "90"): people["board"],
    }
    item = item_create(
        user=people["rep"], unit=tree["A"], headline="Tin phạm vi", distribution=distribution
    )
    item_submit(user=people["rep"], item=item)
    seen, item = run_chain(item, approvers)
    assert seen == expected
    assert item.live and item.version == 1


def test_district_scope_in_a_two_level_province_stops_at_the_commune():
    tree = make_tree(three_level=False)
    rep = make_user("rep2", unit=tree["A"], role=Role.REPORTER)
    appr = make_user("appr2", unit=tree["A"], role=Role.APPROVER)
    item = item_create(user=rep, unit=tree["A"], headline="Tin xã", distribution="district")
    item_submit(user=rep, item=item)
    seen, item = run_chain(item, {("commune", "91001"): appr})
    assert seen == [("commune", "91001")] and item.live


def test_the_board_cannot_approve_a_province_step_nor_the_approver_a_board_step(tree, people):
    item = item_create(user=people["rep"], unit=tree["A"], headline="Tin", distribution="national")
    item_submit(user=people["rep"], item=item)
    item_review(user=people["a"], item=item, action="approve")
    item_review(user=people["x"], item=item, action="approve")
    with pytest.raises(Exception, match="cannot|không"):
        item_review(user=people["board"], item=item, action="approve")
    item_review(user=people["p"], item=item, action="approve")
    assert current_step(item) == ("board", "90")
    with pytest.raises(Exception, match="cannot|không"):
        item_review(user=people["p"], item=item, action="approve")
    item = item_review(user=people["board"], item=item, action="approve")
    assert item.live


def test_widening_the_scope_extends_the_chain_and_narrowing_shortens_it(tree, people):
    item = item_create(user=people["rep"], unit=tree["A"], headline="Tin", distribution="commune")
    item_submit(user=people["rep"], item=item)
    # The commune approver widens to the province: district and province now follow.
    item_scope_change(user=people["a"], item=item, distribution="province", comment="Tin hay")
    item = item_review(user=people["a"], item=item, action="approve")
    assert current_step(item) == ("district", "901")
    # The district narrows back to the district: its approval ends the chain.
    item_scope_change(user=people["x"], item=item, distribution="district")
    item = item_review(user=people["x"], item=item, action="approve")
    assert item.live and item.distribution == "district"
    # Someone not on the step cannot change the scope.
    other = item_create(user=people["rep"], unit=tree["A"], headline="Khác")
    item_submit(user=people["rep"], item=other)
    with pytest.raises(Exception, match="scope|phạm vi"):
        item_scope_change(user=people["p"], item=other, distribution="national")


def test_scope_change_through_the_admin_workflow_action(tree, people):
    item = item_create(user=people["rep"], unit=tree["A"], headline="Tin", distribution="commune")
    item_submit(user=people["rep"], item=item)
    item.refresh_from_db()
    state = item.current_workflow_state.current_task_state
    client = Client()
    client.force_login(people["a"])
    url = reverse(
        "wagtailsnippets_newsroom_newsitem:workflow_action", args=[item.pk, "scope", state.pk]
    )
    response = client.post(url, {"distribution": "district", "comment": "Cả huyện"})
    assert response.status_code == 302
    item_review(user=people["a"], item=item, action="approve")
    assert current_step(item) == ("district", "901")


def test_an_edit_after_an_approval_is_approved_again(tree, people):
    item = item_create(user=people["rep"], unit=tree["A"], headline="Bản đầu")
    item_submit(user=people["rep"], item=item)
    item = item_review(user=people["a"], item=item, action="approve")
    assert current_step(item) == ("district", "901")
    # The district approver edits the text; a colleague approves (nobody approves their own
    # edit): the commune sees the change first, then the district approves it again after
    # the commune (an approval given before the step below approved counts for nothing).
    item_update(user=people["x"], item=item, headline="Bản đã sửa ở huyện")
    colleague = make_user("appr_x2", unit=tree["X"], role=Role.APPROVER)
    item = item_review(user=colleague, item=item, action="approve")
    assert current_step(item) == ("commune", "90001")
    item = item_review(user=people["a"], item=item, action="approve")
    assert current_step(item) == ("district", "901")
    item = item_review(user=colleague, item=item, action="approve")
    assert current_step(item) == ("province", "90")
    item = item_review(user=people["p"], item=item, action="approve")
    assert item.live and item.headline == "Bản đã sửa ở huyện"


def test_return_with_comment_then_resubmit_after_changes_restarts_at_the_first_step(tree, people):
    item = item_create(user=people["rep"], unit=tree["A"], headline="Bản đầu")
    item_submit(user=people["rep"], item=item)
    item_review(user=people["a"], item=item, action="approve")
    item_review(user=people["x"], item=item, action="reject", comment="Thiếu nguồn tin.")
    # The reporter reads why in the editor.
    client = Client()
    client.force_login(people["rep"])
    page = client.get(reverse("wagtailsnippets_newsroom_newsitem:edit", args=[item.pk]))
    assert "Thiếu nguồn tin." in page.content.decode()
    # Changed content: the commune approves the new version again.
    item_update(user=people["rep"], item=item, summary="Nguồn: UBND xã")
    item_submit(user=people["rep"], item=item)
    assert current_step(item) == ("commune", "90001")
    item_review(user=people["a"], item=item, action="approve")
    assert current_step(item) == ("district", "901")


def test_a_stale_editor_is_refused_with_a_clear_message(tree, people):
    item = item_create(user=people["rep"], unit=tree["A"], headline="Bản đầu")
    loaded = item.latest_revision_id
    other = make_user("rep_b", unit=tree["A"], role=Role.REPORTER)
    item_update(user=other, item=item, loaded_revision_id=loaded, headline="Người khác sửa")
    with pytest.raises(ValidationError) as exc:
        item_update(user=people["rep"], item=item, loaded_revision_id=loaded, headline="Tôi sửa")
    assert "rep_b" in str(exc.value)
    assert NewsItem.objects.get(pk=item.pk).get_latest_revision().content["headline"] == (
        "Người khác sửa"
    )


def test_the_admin_editor_refuses_to_overwrite_a_newer_revision(tree, people):
    from wagtail.test.utils.form_data import rich_text

    item = item_create(user=people["rep"], unit=tree["A"], headline="Bản đầu")
    old = item.get_latest_revision()
    item_update(user=people["rep"], item=item, headline="Bản mới của người khác")
    client = Client()
    client.force_login(people["rep"])
    response = client.post(
        reverse("wagtailsnippets_newsroom_newsitem:edit", args=[item.pk]),
        {
            "unit": tree["A"].pk,
            "kind": "article",
            "distribution": "province",
            "headline": "Bản của tôi",
            "body": rich_text("<p>x</p>"),
            "loaded_revision_id": old.pk,
            "loaded_revision_created_at": old.created_at.isoformat(),
        },
    )
    assert response.status_code == 200
    assert "phiên bản mới hơn" in response.content.decode()
    latest = NewsItem.objects.get(pk=item.pk).get_latest_revision()
    assert latest.content["headline"] == "Bản mới của người khác"
