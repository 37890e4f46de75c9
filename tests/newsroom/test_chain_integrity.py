"""Chain integrity through the paths people take: the admin editor's buttons, the admin's
choosers and reports, the dashboard, the public pages. Each test here was written against
a leak found by trying the product as a new user would (issue "Chain integrity")."""

import json

import pytest
from django.test import Client
from django.urls import reverse
from wagtail.test.utils.form_data import rich_text

from newsroom.models import NewsItem, Role
from newsroom.services import item_create, item_review, item_submit
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(tree):
    return {
        "rep": make_user("rep", unit=tree["A"], role=Role.REPORTER, first_name="Phóng"),
        "a": make_user("appr_a", unit=tree["A"], role=Role.APPROVER),
        "x": make_user("appr_x", unit=tree["X"], role=Role.APPROVER),
        "p": make_user("appr_p", unit=tree["P"], role=Role.APPROVER),
    }


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def current_step(item):
    item = NewsItem.objects.get(pk=item.pk)
    state = item.current_workflow_state
    if state is None or state.status != "in_progress":
        return None
    task_state = state.current_task_state.specific
    return (task_state.task.specific.level, task_state.unit.code)


def edit_url(item) -> str:
    return reverse("wagtailsnippets_newsroom_newsitem:edit", args=[item.pk])


def editor_post(client, item, *, headline, **extra):
    """What the admin editor posts: the form as loaded, plus the pressed button."""
    item = NewsItem.objects.get(pk=item.pk)
    latest = item.get_latest_revision()
    draft = latest.as_object()
    data = {
        "unit": draft.unit_id,
        "kind": draft.kind,
        "distribution": draft.distribution,
        "headline": headline,
        "summary": draft.summary,
        "body": rich_text(draft.body or "<p>Nội dung</p>"),
        "byline": draft.byline,
        "loaded_revision_id": latest.pk,
        "loaded_revision_created_at": latest.created_at.isoformat(),
    }
    data.update(extra)
    return client.post(edit_url(item), data)


def returned_by_district_in_the_editor(tree, people):
    """Commune approves; the district approver opens the editor and returns it there."""
    item = item_create(
        user=people["rep"], unit=tree["A"], headline="Bản đầu", body="<p>Nội dung</p>"
    )
    item_submit(user=people["rep"], item=item)
    item_review(user=people["a"], item=item, action="approve")
    assert current_step(item) == ("district", "901")
    response = editor_post(
        login(people["x"]),
        item,
        headline="Bản đầu",
        **{
            "action-workflow-action": "true",
            "workflow-action-name": "reject",
            "workflow-action-extra-data": json.dumps({"comment": "Thiếu nguồn tin."}),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    item = NewsItem.objects.get(pk=item.pk)
    assert item.current_workflow_state.status == "needs_changes"
    return item


def test_the_editor_button_after_a_return_says_it_starts_again_at_the_commune(tree, people):
    item = returned_by_district_in_the_editor(tree, people)
    page = login(people["rep"]).get(edit_url(item)).content.decode()
    assert "Gửi duyệt lại từ cấp xã" in page
    assert "Gửi lại cho bước Duyệt cấp huyện" not in page


def test_resubmitting_a_changed_item_in_the_editor_goes_to_the_commune_first(tree, people):
    item = returned_by_district_in_the_editor(tree, people)
    response = editor_post(
        login(people["rep"]), item, headline="Bản đã bổ sung nguồn", **{"action-submit": "1"}
    )
    assert response.status_code == 302
    assert current_step(item) == ("commune", "90001")
    # The commune's step is bound to the reporter's edit, which it approves...
    item = NewsItem.objects.get(pk=item.pk)
    step = item.current_workflow_state.current_task_state
    assert step.revision.content["headline"] == "Bản đã bổ sung nguồn"
    item_review(user=people["a"], item=item, action="approve")
    # ...then the district sees the same version, and the province publishes it.
    assert current_step(item) == ("district", "901")
    step = NewsItem.objects.get(pk=item.pk).current_workflow_state.current_task_state
    assert step.revision.content["headline"] == "Bản đã bổ sung nguồn"
    item_review(user=people["x"], item=item, action="approve")
    item_review(user=people["p"], item=item, action="approve")
    item = NewsItem.objects.get(pk=item.pk)
    assert item.live and item.headline == "Bản đã bổ sung nguồn"


def test_restarting_the_workflow_from_the_editor_also_starts_at_the_commune(tree, people):
    item = returned_by_district_in_the_editor(tree, people)
    editor_post(
        login(people["rep"]),
        item,
        headline="Bản viết lại",
        **{"action-restart-workflow": "1"},
    )
    assert current_step(item) == ("commune", "90001")


def test_resubmitting_unchanged_content_resumes_where_it_was_returned(tree, people):
    """Nothing the commune approved changed: its approval carries forward."""
    item = returned_by_district_in_the_editor(tree, people)
    editor_post(login(people["rep"]), item, headline="Bản đầu", **{"action-submit": "1"})
    assert current_step(item) == ("district", "901")
    step = NewsItem.objects.get(pk=item.pk).current_workflow_state.current_task_state
    assert step.revision_id == NewsItem.objects.get(pk=item.pk).latest_revision_id
