"""After publishing: correction, withdrawal, embargo; races; notifications; the audit trail."""

import csv
import io
import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from newsroom.events import item_published, item_withdrawn
from newsroom.models import NewsItem, Notice, Role, StepAlreadyDecided
from newsroom.notifications import steps_remind
from newsroom.services import (
    item_create,
    item_embargo,
    item_review,
    item_submit,
    item_update,
    item_withdraw,
    items_publish_due,
)
from newsroom.tasks import items_publish_due as items_publish_due_task
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(tree):
    return {
        "rep": make_user("rep", unit=tree["A"], role=Role.REPORTER),
        "a": make_user("appr_a", unit=tree["A"], role=Role.APPROVER, email="a@xa.vn"),
        "a2": make_user("appr_a2", unit=tree["A"], role=Role.APPROVER, email="a2@xa.vn"),
        "x": make_user("appr_x", unit=tree["X"], role=Role.APPROVER, email="x@huyen.vn"),
    }


@pytest.fixture
def events():
    got = []

    def on_published(sender, item_id, version, first, **kwargs):
        got.append(("published", item_id, version, first))

    def on_withdrawn(sender, item_id, version, **kwargs):
        got.append(("withdrawn", item_id, version))

    item_published.connect(on_published, weak=False)
    item_withdrawn.connect(on_withdrawn, weak=False)
    yield got
    item_published.disconnect(on_published)
    item_withdrawn.disconnect(on_withdrawn)


def publish(item, people, django_capture_on_commit_callbacks, **fields):
    """Commune-scope chain: the commune approver publishes."""
    with django_capture_on_commit_callbacks(execute=True):
        if fields:
            item_update(user=people["rep"], item=item, **fields)
        item_submit(user=people["rep"], item=item)
        item_review(user=people["a"], item=item, action="approve")
    return NewsItem.objects.get(pk=item.pk)


def test_correction_and_withdrawal_announce_item_id_and_version(
    tree, people, events, django_capture_on_commit_callbacks
):
    item = item_create(user=people["rep"], unit=tree["A"], headline="Tin", distribution="commune")
    item = publish(item, people, django_capture_on_commit_callbacks)
    assert events == [("published", item.pk, 1, True)]
    # A correction: a new version through the chain, announced with first=False.
    item = publish(item, people, django_capture_on_commit_callbacks, headline="Tin (đính chính)")
    assert item.headline == "Tin (đính chính)" and item.version == 2
    assert events[-1] == ("published", item.pk, 2, False)
    # Withdrawal: off the portal, withdrawn_at set, announced with the version.
    with django_capture_on_commit_callbacks(execute=True):
        item = item_withdraw(user=people["a"], item=item, reason="Thông tin sai")
    assert not item.live and item.withdrawn_at is not None and item.pubstatus == "canceled"
    assert events[-1] == ("withdrawn", item.pk, 2)
    # A withdrawn item is not submitted again, neither by service nor in the admin.
    with pytest.raises(ValidationError, match="withdrawn|thu hồi"):
        item_submit(user=people["rep"], item=item)
    client = Client()
    client.force_login(people["rep"])
    client.post(
        reverse("wagtailsnippets_newsroom_newsitem:edit", args=[item.pk]),
        {
            "unit": tree["A"].pk,
            "kind": "article",
            "distribution": "commune",
            "headline": "Gửi lại",
            "body": "{}",
            "action-submit": "1",
        },
    )
    item.refresh_from_db()
    assert not item.workflow_in_progress
    actions = [row["action"] for row in _trail(item)]
    assert "nguon.correct" in actions and "nguon.withdraw" in actions
    assert actions.count("wagtail.publish") == 2 and "wagtail.workflow.approve" in actions


def _trail(item):
    from newsroom.audit import audit_trail

    return audit_trail(item)


def test_withdraw_from_the_admin(tree, people, django_capture_on_commit_callbacks):
    item = item_create(user=people["rep"], unit=tree["A"], headline="Tin", distribution="commune")
    item = publish(item, people, django_capture_on_commit_callbacks)
    client = Client()
    client.force_login(people["rep"])  # a reporter may not withdraw
    url = reverse("newsroom_item_withdraw", args=[item.pk])
    assert client.post(url, {"reason": "x"}).status_code in (302, 403)
    assert NewsItem.objects.get(pk=item.pk).live
    client.force_login(people["a"])
    assert client.get(url).status_code == 200
    assert client.post(url, {"reason": "Sai"}).status_code == 302
    assert not NewsItem.objects.get(pk=item.pk).live


def test_embargo_holds_the_item_until_the_beat_task_releases_it(
    tree, people, events, django_capture_on_commit_callbacks
):
    item = item_create(user=people["rep"], unit=tree["A"], headline="Tin", distribution="commune")
    soon = timezone.now() + timedelta(hours=2)
    item_embargo(user=people["rep"], item=item, go_live_at=soon)
    item = publish(item, people, django_capture_on_commit_callbacks)
    assert not item.live  # approved, waiting for its time
    assert item.get_latest_revision().approved_go_live_at is not None
    assert items_publish_due() == []
    # Time passes: the beat task publishes it (and a replay does nothing).
    later = timezone.now() + timedelta(hours=3)
    with django_capture_on_commit_callbacks(execute=True):
        assert items_publish_due(now=later) == [item.pk]
    assert items_publish_due(now=later) == []
    item.refresh_from_db()
    assert item.live and events == [("published", item.pk, 1, True)]
    assert "nguon.embargo" in [r["action"] for r in _trail(item)]
    assert items_publish_due_task.apply().get() == 0


def test_approving_twice_at_once_one_wins_the_other_is_told(tree, people):
    item = item_create(user=people["rep"], unit=tree["A"], headline="Tin", distribution="commune")
    item_submit(user=people["rep"], item=item)
    item.refresh_from_db()
    seen = item.current_workflow_state.current_task_state_id
    item_review(user=people["a"], item=item, action="approve", task_state_id=seen)
    with pytest.raises(StepAlreadyDecided, match="appr_a"):
        item_review(user=people["a2"], item=item, action="approve", task_state_id=seen)
    # Through the admin: the stale step gives a message, not an error page.
    item2 = item_create(user=people["rep"], unit=tree["A"], headline="Tin 2")
    item_submit(user=people["rep"], item=item2)
    item2.refresh_from_db()
    state = item2.current_workflow_state.current_task_state
    item_review(user=people["a"], item=item2, action="approve")
    client = Client()
    client.force_login(people["a2"])
    url = reverse(
        "wagtailsnippets_newsroom_newsitem:workflow_action", args=[item2.pk, "approve", state.pk]
    )
    response = client.post(url, {}, follow=True)
    assert response.status_code == 200


@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_in_two_threads(tree, people):
    item = item_create(user=people["rep"], unit=tree["A"], headline="Tin", distribution="commune")
    item_submit(user=people["rep"], item=item)
    item.refresh_from_db()
    seen = item.current_workflow_state.current_task_state_id
    barrier = threading.Barrier(2)
    outcomes = []

    def approve(user):
        try:
            barrier.wait(timeout=10)
            item_review(user=user, item=item, action="approve", task_state_id=seen)
            outcomes.append("ok")
        except StepAlreadyDecided:
            outcomes.append("decided")
        except Exception as exc:  # noqa: BLE001 - report anything else
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(people[k],)) for k in ("a", "a2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["decided", "ok"], outcomes
    item.refresh_from_db()
    assert item.live and item.version == 1


def test_approvers_of_the_reached_step_get_an_email_and_a_notice(
    tree, people, outbox, django_capture_on_commit_callbacks
):
    item = item_create(
        user=people["rep"], unit=tree["A"], headline="Tin lũ", distribution="district"
    )
    with django_capture_on_commit_callbacks(execute=True):
        item_submit(user=people["rep"], item=item)
    assert sorted(r for m in outbox for r in m.to) == ["a2@xa.vn", "a@xa.vn"]
    assert "Tin lũ" in outbox[0].subject
    assert Notice.objects.filter(user=people["a"], item=item).exists()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        item_review(user=people["a"], item=item, action="approve")
    assert [m.to for m in outbox] == [["x@huyen.vn"]]
    # The district approver's dashboard shows it, with counts per level.
    client = Client()
    client.force_login(people["x"])
    page = client.get("/admin/").content.decode()
    assert "Tin lũ" in page
    # Nothing waits 4 hours yet; later, one reminder per waiting step.
    mail.outbox.clear()
    assert steps_remind() == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert steps_remind(now=timezone.now() + timedelta(hours=5)) == 1
    assert steps_remind(now=timezone.now() + timedelta(hours=6)) == 0
    assert [m.to for m in outbox] == [["x@huyen.vn"]]


def test_audit_trail_in_the_admin_and_as_csv(tree, people, django_capture_on_commit_callbacks):
    item = item_create(user=people["rep"], unit=tree["A"], headline="Tin", distribution="district")
    item_submit(user=people["rep"], item=item)
    item_review(user=people["a"], item=item, action="approve", comment="Được")
    item_review(user=people["x"], item=item, action="reject", comment="Cần ảnh")
    client = Client()
    client.force_login(people["x"])
    page = client.get(reverse("newsroom_item_audit", args=[item.pk]))
    assert page.status_code == 200 and "Cần ảnh" in page.content.decode()
    response = client.get(reverse("newsroom_item_audit", args=[item.pk]) + "?format=csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    body = rows[1:]
    approve = next(r for r in body if r[2] == "wagtail.workflow.approve")
    reject = next(r for r in body if r[2] == "wagtail.workflow.reject")
    assert approve[1] == "appr_a" and approve[4] == "Xã/Phường" and approve[5] == "90001"
    assert approve[6] == "Xã Tân Đồng" and approve[7] == "Được" and approve[9]
    assert reject[1] == "appr_x" and reject[5] == "901" and reject[7] == "Cần ảnh"
    # Someone outside the unit sees nothing.
    stranger = make_user("stranger", unit=tree["C"], role=Role.REPORTER)
    client.force_login(stranger)
    assert client.get(reverse("newsroom_item_audit", args=[item.pk])).status_code in (302, 403)
