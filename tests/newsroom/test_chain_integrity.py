"""Chain integrity through the paths people take: the admin editor's buttons, the admin's
choosers and reports, the dashboard, the public pages. Each test here was written against
a leak found by trying the product as a new user would (issue "Chain integrity")."""

import json
import re

import pytest
from django.test import Client
from django.urls import reverse
from wagtail.test.utils.form_data import rich_text

from newsroom.models import NewsItem, Role
from newsroom.services import item_create, item_review, item_submit
from tests.factories import make_user

from .helpers import current_step

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


# --- 3. admin screens show only the user's subtrees ---------------------------------------


@pytest.fixture
def elsewhere(tree):
    """An item, a reporter and a membership of commune C (another district)."""
    other = make_user("rep_c", unit=tree["C"], role=Role.REPORTER)
    item = item_create(user=other, unit=tree["C"], headline="Tin riêng của xã Minh Hưng")
    return {"item": item, "user": other}


def test_the_item_chooser_lists_and_returns_only_items_of_the_users_subtrees(
    tree, people, elsewhere
):
    mine = item_create(user=people["rep"], unit=tree["A"], headline="Tin của xã Tân Đồng")
    client = login(people["rep"])
    listing = client.get("/admin/snippets/choose/newsroom/newsitem/").json()["html"]
    assert "Tin của xã Tân Đồng" in listing
    assert "Tin riêng của xã Minh Hưng" not in listing
    results = client.get("/admin/snippets/choose/newsroom/newsitem/results/?q=Minh")
    assert "Minh Hưng" not in results.content.decode("unicode_escape", "ignore")
    # Walking the ids: another unit's item is not found, one's own is.
    other = client.get(f"/admin/snippets/choose/newsroom/newsitem/chosen/{elsewhere['item'].pk}/")
    assert other.status_code == 404
    own = client.get(f"/admin/snippets/choose/newsroom/newsitem/chosen/{mine.pk}/")
    assert own.status_code == 200 and own.json()["result"]["string"] == "Tin của xã Tân Đồng"


def test_site_history_is_for_superusers_only(tree, people, elsewhere):
    admin_a = make_user("admin_a", unit=tree["A"], role=Role.UNIT_ADMIN)
    for user in (admin_a, people["rep"], people["p"]):
        client = login(user)
        for url in ("/admin/reports/site-history/", "/admin/reports/site-history/results/"):
            response = client.get(url)
            assert response.status_code in (302, 403), (user, url, response.status_code)
            assert "Minh Hưng" not in response.content.decode()
        menu = client.get("/admin/").content.decode()
        assert "/admin/reports/site-history/" not in menu
    root = make_user("root", is_superuser=True, is_staff=True)
    page = login(root).get("/admin/reports/site-history/")
    assert page.status_code == 200 and "Tin riêng của xã Minh Hưng" in page.content.decode()


def test_a_unit_admin_sees_and_offers_only_the_people_of_their_subtree(tree, people, elsewhere):
    admin_a = make_user("admin_a", unit=tree["A"], role=Role.UNIT_ADMIN)
    newcomer = make_user("nguoi_moi")  # no role anywhere yet: can be given one here
    client = login(admin_a)
    listing = client.get(reverse("memberships:index")).content.decode()
    assert "rep_c" not in listing and "appr_p" not in listing
    assert "appr_a" in listing
    form = client.get(reverse("memberships:add")).content.decode()
    assert "rep_c" not in form and "appr_p" not in form
    assert "nguoi_moi" in form and "appr_a" in form
    # A forged post for someone of another unit's subtree is refused.
    client.post(
        reverse("memberships:add"),
        {"user": elsewhere["user"].pk, "unit": tree["A"].pk, "role": Role.REPORTER},
    )
    assert not elsewhere["user"].memberships.filter(unit=tree["A"]).exists()
    client.post(
        reverse("memberships:add"),
        {"user": newcomer.pk, "unit": tree["A"].pk, "role": Role.REPORTER},
    )
    assert newcomer.memberships.filter(unit=tree["A"], role=Role.REPORTER).exists()


# --- 4. nobody approves what they wrote ---------------------------------------------------


def test_a_unit_admin_cannot_grant_himself_a_role(tree):
    from django.core.exceptions import PermissionDenied

    from newsroom.services import membership_grant

    admin_a = make_user("admin_a", unit=tree["A"], role=Role.UNIT_ADMIN)
    client = login(admin_a)
    response = client.post(
        reverse("memberships:add"), {"user": admin_a.pk, "unit": tree["A"].pk, "role": "approver"}
    )
    assert response.status_code == 200
    assert "chính mình" in response.content.decode()
    assert not admin_a.memberships.filter(role=Role.APPROVER).exists()
    with pytest.raises(PermissionDenied):
        membership_grant(user=admin_a, unit=tree["A"], role=Role.APPROVER, by=admin_a)


@pytest.fixture
def one_official(tree):
    """One person holding both the reporter and the approver role at commune A."""
    user = make_user("mot_nguoi", unit=tree["A"], role=Role.REPORTER)
    from newsroom.services import membership_grant

    membership_grant(user=user, unit=tree["A"], role=Role.APPROVER)
    return user


def test_the_submitter_cannot_approve_their_own_item(tree, one_official):
    from django.core.exceptions import PermissionDenied

    item = item_create(
        user=one_official, unit=tree["A"], headline="Tự viết tự duyệt", distribution="commune"
    )
    item_submit(user=one_official, item=item)
    with pytest.raises(PermissionDenied):
        item_review(user=one_official, item=item, action="approve")
    # Nor through the admin: no approve action is offered, and a forged post changes nothing.
    client = login(one_official)
    page = client.get(edit_url(item)).content.decode()
    assert "workflow-action-name" not in page or 'value="approve"' not in page
    state = NewsItem.objects.get(pk=item.pk).current_workflow_state.current_task_state
    client.post(
        reverse(
            "wagtailsnippets_newsroom_newsitem:workflow_action",
            args=[item.pk, "approve", state.pk],
        ),
        {},
    )
    item = NewsItem.objects.get(pk=item.pk)
    assert not item.live and current_step(item) == ("commune", "90001")


def test_the_last_editor_of_the_revision_cannot_approve_it(tree, people):
    from django.core.exceptions import PermissionDenied

    from newsroom.services import item_update

    item = item_create(user=people["rep"], unit=tree["A"], headline="Bản đầu")
    item_submit(user=people["rep"], item=item)
    item_review(user=people["a"], item=item, action="approve")
    # The district approver rewrites the item on their step: someone else must approve it.
    item_update(user=people["x"], item=item, headline="Huyện viết lại")
    with pytest.raises(PermissionDenied):
        item_review(user=people["x"], item=item, action="approve")
    x2 = make_user("appr_x2", unit=tree["X"], role=Role.APPROVER)
    item_review(user=x2, item=item, action="approve")
    # Changed content goes back to the commune first, then up the chain in order: the
    # district's approval given before the commune's does not count.
    assert current_step(item) == ("commune", "90001")
    item_review(user=people["a"], item=item, action="approve")
    assert current_step(item) == ("district", "901")
    item_review(user=x2, item=item, action="approve")
    assert current_step(item) == ("province", "90")


def test_a_one_official_commune_may_be_allowed_and_every_use_is_marked(
    tree, one_official, settings
):
    from newsroom.audit import audit_trail

    settings.NGUON_ALLOW_SELF_APPROVAL = True
    item = item_create(
        user=one_official, unit=tree["A"], headline="Xã một người", distribution="commune"
    )
    item_submit(user=one_official, item=item)
    item_review(user=one_official, item=item, action="approve")
    item = NewsItem.objects.get(pk=item.pk)
    assert item.live
    actions = [row["action"] for row in audit_trail(item)]
    assert "nguon.self_approve" in actions


# --- 6. notices that tell the truth -------------------------------------------------------


def test_a_notice_is_done_when_its_step_is_decided_and_never_leads_to_a_refusal(tree, people):
    second = make_user("appr_a2", unit=tree["A"], role=Role.APPROVER)
    for n in range(3):
        item = item_create(user=people["rep"], unit=tree["A"], headline=f"Tin số {n}")
        item_submit(user=people["rep"], item=item)
    client = login(second)
    page = client.get("/admin/").content.decode()
    assert page.count("đang chờ bạn duyệt") == 3
    # The other commune approver decides every step: this one's notices are done.
    for item in NewsItem.objects.all():
        item_review(user=people["a"], item=item, action="approve")
    page = client.get("/admin/").content.decode()
    assert "đang chờ bạn duyệt" not in page
    # An approver who lost the role is not sent to a page that refuses them.
    item = item_create(user=people["rep"], unit=tree["A"], headline="Tin sau cùng")
    item_submit(user=people["rep"], item=item)
    from newsroom.services import membership_revoke

    membership_revoke(membership=second.memberships.get(role=Role.APPROVER))
    page = login(second).get("/admin/").content.decode()
    assert "Tin sau cùng" not in page


# --- 7. only the buttons that work --------------------------------------------------------


def test_withdraw_is_offered_only_to_those_who_may_withdraw(tree, people):
    item = item_create(user=people["rep"], unit=tree["A"], headline="Tin đã đăng")
    item_submit(user=people["rep"], item=item)
    for who in ("a", "x", "p"):
        item_review(user=people[who], item=item, action="approve")
    withdraw = reverse("newsroom_item_withdraw", args=[item.pk])
    listing = reverse("wagtailsnippets_newsroom_newsitem:list")
    for who in ("rep", "a", "x"):
        assert withdraw not in login(people[who]).get(listing).content.decode(), who
        refused = login(people[who]).get(withdraw)
        assert refused.status_code in (302, 403) and refused.get("Location", "") != withdraw
    assert withdraw in login(people["p"]).get(listing).content.decode()
    assert login(people["p"]).get(withdraw).status_code == 200


@pytest.mark.parametrize("who", ["rep", "a", "x", "p"])
def test_every_role_searches_from_the_dashboard_within_its_scope(tree, people, who):
    from search.services import item_index

    other = make_user("rep_c", unit=tree["C"], role=Role.REPORTER)
    for user, unit, headline in (
        (people["rep"], tree["A"], "Tiêm chủng ở Tân Đồng"),
        (other, tree["C"], "Tiêm chủng ở Minh Hưng"),
    ):
        item_index(item_id=item_create(user=user, unit=unit, headline=headline).pk)
    client = login(people[who])
    dashboard = client.get("/admin/").content.decode()
    action = re.search(r'<form class="w-mb-12" action="([^"]+)"', dashboard).group(1)
    response = client.get(action, {"q": "tiem chung"})
    assert response.status_code == 200
    text = re.sub(r"<[^>]+>", "", response.content.decode())  # results mark the words
    assert "Tiêm chủng ở Tân Đồng" in text
    # Commune C lies in the province approver's subtree only.
    assert ("Tiêm chủng ở Minh Hưng" in text) is (who == "p")
    assert ("Minh Hưng" in text) is (who == "p")
