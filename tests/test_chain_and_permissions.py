"""Who sees and acts on what: unit scopes, the chain at each level, returns with comments."""

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from wagtail.models import TaskState, WorkflowState
from wagtail.test.utils.form_data import rich_text

from media.models import MediaAsset
from newsroom.models import NewsItem, Role
from newsroom.services import item_create, item_review, item_submit

from .factories import make_tree, make_user

pytestmark = pytest.mark.django_db

EDIT = "wagtailsnippets_newsroom_newsitem:edit"
INDEX = "wagtailsnippets_newsroom_newsitem:list"
ADD = "wagtailsnippets_newsroom_newsitem:add"
ACTION = "wagtailsnippets_newsroom_newsitem:workflow_action"


@pytest.fixture
def tree():
    return make_tree(three_level=True)


def denied(response) -> bool:
    """Wagtail answers a permission error by sending the user back to the dashboard."""
    return response.status_code == 403 or (
        response.status_code == 302 and response["Location"] == "/admin/"
    )


def submitted_item(reporter, unit, headline="Tin thử nghiệm"):
    item = item_create(user=reporter, unit=unit, headline=headline, summary="Tóm tắt")
    item_submit(user=reporter, item=item)
    item.refresh_from_db()
    return item


def step_units(item):
    return [
        (s.specific.unit.code if s.specific.unit else None, s.status)
        for s in TaskState.objects.filter(workflow_state__object_id=str(item.pk)).order_by("id")
    ]


def test_reporter_of_commune_a_cannot_see_or_edit_commune_b_items(tree):
    reporter_a = make_user("rep_a", unit=tree["A"], role=Role.REPORTER)
    reporter_b = make_user("rep_b", unit=tree["B"], role=Role.REPORTER)
    item_b = item_create(user=reporter_b, unit=tree["B"], headline="Tin của xã B")
    client = Client()
    client.force_login(reporter_a)
    listing = client.get(reverse(INDEX)).content.decode()
    assert "Tin của xã B" not in listing
    assert denied(client.get(reverse(EDIT, args=[item_b.pk])))
    assert denied(client.post(reverse(EDIT, args=[item_b.pk]), {"headline": "Sửa trộm"}))
    item_b.refresh_from_db()
    assert item_b.headline == "Tin của xã B"
    with pytest.raises(PermissionDenied):
        item_create(user=reporter_a, unit=tree["B"], headline="Đăng hộ xã B")
    # Their own commune's listing shows only their items.
    item_create(user=reporter_a, unit=tree["A"], headline="Tin của xã A")
    listing = client.get(reverse(INDEX)).content.decode()
    assert "Tin của xã A" in listing


def test_reporter_cannot_pick_another_commune_in_the_form(tree):
    reporter_a = make_user("rep_a", unit=tree["A"], role=Role.REPORTER)
    client = Client()
    client.force_login(reporter_a)
    response = client.post(
        reverse(ADD),
        {"unit": tree["B"].pk, "kind": "article", "headline": "Sai đơn vị", "body": rich_text("")},
    )
    assert response.status_code == 200  # the form is shown again with an error
    assert not NewsItem.objects.exists()


def test_three_level_chain_runs_commune_district_province(tree):
    reporter = make_user("rep", unit=tree["A"], role=Role.REPORTER)
    appr_a = make_user("appr_a", unit=tree["A"], role=Role.APPROVER)
    appr_x = make_user("appr_x", unit=tree["X"], role=Role.APPROVER)
    appr_p = make_user("appr_p", unit=tree["P"], role=Role.APPROVER)
    item = submitted_item(reporter, tree["A"])
    assert step_units(item) == [("90001", "in_progress")]
    # The district and province cannot act before the commune.
    for early in (appr_x, appr_p):
        with pytest.raises(PermissionDenied):
            item_review(user=early, item=item, action="approve")
    item = item_review(user=appr_a, item=item, action="approve")
    assert step_units(item)[-1] == ("901", "in_progress")
    item = item_review(user=appr_x, item=item, action="approve")
    assert step_units(item)[-1] == ("90", "in_progress")
    assert not item.live
    item = item_review(user=appr_p, item=item, action="approve")
    assert item.live
    # The provincial editorial board only vets national items: skipped here.
    assert step_units(item) == [
        ("90001", "approved"),
        ("901", "approved"),
        ("90", "approved"),
        (None, "skipped"),
    ]


def test_two_level_province_skips_the_missing_district_step():
    tree = make_tree(three_level=False)
    reporter = make_user("rep", unit=tree["A"], role=Role.REPORTER)
    appr_a = make_user("appr_a", unit=tree["A"], role=Role.APPROVER)
    appr_p = make_user("appr_p", unit=tree["P"], role=Role.APPROVER)
    item = submitted_item(reporter, tree["A"])
    item = item_review(user=appr_a, item=item, action="approve")
    assert step_units(item) == [("91001", "approved"), (None, "skipped"), ("91", "in_progress")]
    item = item_review(user=appr_p, item=item, action="approve")
    assert item.live


def test_approver_of_district_x_cannot_act_on_items_of_district_y(tree):
    reporter_c = make_user("rep_c", unit=tree["C"], role=Role.REPORTER)
    appr_c = make_user("appr_c", unit=tree["C"], role=Role.APPROVER)
    appr_x = make_user("appr_x", unit=tree["X"], role=Role.APPROVER)
    item = submitted_item(reporter_c, tree["C"], headline="Tin huyện Y")
    item = item_review(user=appr_c, item=item, action="approve")  # now at district Y
    state = item.current_workflow_state.current_task_state
    client = Client()
    client.force_login(appr_x)
    assert denied(client.post(reverse(ACTION, args=[item.pk, "approve", state.pk]), {}))
    assert denied(client.get(reverse(EDIT, args=[item.pk])))
    assert "Tin huyện Y" not in client.get(reverse(INDEX)).content.decode()
    with pytest.raises(PermissionDenied):
        item_review(user=appr_x, item=item, action="approve")
    item.refresh_from_db()
    assert item.current_workflow_state.current_task_state.status == "in_progress"


def test_returned_item_goes_back_to_its_reporter_with_the_comment(tree):
    reporter = make_user("rep", unit=tree["A"], role=Role.REPORTER)
    appr_a = make_user("appr_a", unit=tree["A"], role=Role.APPROVER)
    appr_x = make_user("appr_x", unit=tree["X"], role=Role.APPROVER)
    item = submitted_item(reporter, tree["A"])
    item = item_review(user=appr_a, item=item, action="approve")
    state = item.current_workflow_state.current_task_state
    client = Client()
    client.force_login(appr_x)
    response = client.post(
        reverse(ACTION, args=[item.pk, "reject", state.pk]),
        {"comment": "Bổ sung số liệu tiêm chủng của xã."},
    )
    assert response.status_code == 302
    workflow_state = WorkflowState.objects.get(object_id=str(item.pk))
    assert workflow_state.status == WorkflowState.STATUS_NEEDS_CHANGES
    # The reporter opens the item and reads why.
    client.force_login(reporter)
    page = client.get(reverse(EDIT, args=[item.pk])).content.decode()
    assert "Bổ sung số liệu tiêm chủng của xã." in page
    # A return without a reason is refused.
    item_submit(user=reporter, item=item)  # resubmitting resumes at the district
    item.refresh_from_db()
    assert step_units(item)[-1] == ("901", "in_progress")
    with pytest.raises(Exception, match="trả lại|returned"):
        item_review(user=appr_x, item=item, action="reject", comment="  ")


def test_empty_headline_and_fake_audio_are_refused_and_nothing_is_stored(tree, tmp_path):
    reporter = make_user("rep", unit=tree["A"], role=Role.REPORTER)
    client = Client()
    client.force_login(reporter)
    fake = SimpleUploadedFile("ban-tin.mp3", b"this is not audio at all" * 100, "audio/mpeg")
    response = client.post(
        reverse(ADD),
        {
            "unit": tree["A"].pk,
            "kind": "audio",
            "headline": "   ",
            "body": rich_text("<p>x</p>"),
            "audio_file": fake,
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Vui lòng nhập tiêu đề" in html or "Trường này là bắt buộc" in html
    assert "không phải là tệp âm thanh" in html.lower() or "bị hỏng" in html
    assert not NewsItem.objects.exists()
    assert not MediaAsset.objects.exists()


def test_admin_adds_a_commune_under_a_district(tree):
    admin = make_user("root", is_superuser=True, is_staff=True)
    client = Client()
    client.force_login(admin)
    response = client.post(
        reverse("units:add"),
        {
            "code": "90009",
            "name": "Xã Mới Lập",
            "unit_type": "commune",
            "division_type": "xã",
            "is_active": "on",
            "parent": tree["X"].pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    from newsroom.models import AdministrativeUnit

    new = AdministrativeUnit.objects.get(code="90009")
    assert new.get_parent() == tree["X"]
    assert AdministrativeUnit.find_problems() == ([], [], [], [], [])


def test_dashboards_show_what_awaits_each_approver(tree):
    reporter = make_user("rep", unit=tree["A"], role=Role.REPORTER)
    appr_a = make_user("appr_a", unit=tree["A"], role=Role.APPROVER)
    appr_b = make_user("appr_b", unit=tree["B"], role=Role.APPROVER)
    admin = make_user("root", is_superuser=True, is_staff=True)
    submitted_item(reporter, tree["A"], headline="Chờ xã A duyệt")
    client = Client()
    client.force_login(appr_a)
    page = client.get("/admin/")
    assert page.status_code == 200 and "Chờ xã A duyệt" in page.content.decode()
    client.force_login(appr_b)
    page = client.get("/admin/")
    assert page.status_code == 200 and "Chờ xã A duyệt" not in page.content.decode()
    client.force_login(admin)
    assert client.get("/admin/").status_code == 200


def test_pasted_control_characters_are_dropped_before_storage(tree):
    reporter = make_user("rep", unit=tree["A"], role=Role.REPORTER)
    item = item_create(
        user=reporter, unit=tree["A"], headline="Cảnh báo\x00 lũ\x07", summary="Nước\x0b dâng"
    )
    item.refresh_from_db()
    assert (item.headline, item.summary) == ("Cảnh báo lũ", "Nước dâng")
