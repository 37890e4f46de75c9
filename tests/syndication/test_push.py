"""Pushes to subscribers: signed requests, filters, retries and failures, order, corrections
and withdrawals, receivers that misbehave, resend and the admin log."""

import hashlib
import hmac
import json
import time
import tracemalloc
from datetime import timedelta

import feedparser
import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from newsroom.models import Category, NewsItem
from syndication import services
from syndication.models import Alert, Delivery, Subscriber
from syndication.selectors import delivery_summary
from syndication.tasks import deliveries_sweep
from tests.factories import make_user

from .helpers import make_item, make_subscriber, publish, withdraw

pytestmark = pytest.mark.django_db


def make_due(subscriber):
    Delivery.objects.filter(subscriber=subscriber, state=Delivery.State.RETRYING).update(
        next_try_at=timezone.now() - timedelta(seconds=1)
    )


def drain(subscriber):
    return services.subscriber_drain(subscriber_id=subscriber.pk)


# --- subscriber configuration -------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["ftp://example.vn/in", "javascript:alert(1)", "file:///etc/passwd", "gopher://x", "//x.vn"],
)
def test_subscriber_url_must_be_http_or_https(url):
    subscriber = Subscriber(name="X", endpoint_url=url, format="ninjs")
    with pytest.raises(ValidationError) as exc:
        subscriber.full_clean()
    assert "endpoint_url" in exc.value.message_dict


def test_admin_refuses_a_non_http_subscriber_url():
    admin = make_user("quantri", is_superuser=True, is_staff=True)
    client = Client()
    client.force_login(admin)
    response = client.post(
        "/admin/syndication_subscribers/new/",
        {
            "name": "Sai địa chỉ",
            "endpoint_url": "ftp://example.vn/in",
            "format": "ninjs",
            "min_distribution": "province",
            "active": "on",
            "secret": "s",
            "max_attempts": 5,
            "timeout_seconds": 5,
            "retry_base_seconds": 10,
            "retry_max_seconds": 100,
        },
    )
    assert response.status_code == 200  # the form again, with the error
    assert not Subscriber.objects.exists()
    response = client.post(
        "/admin/syndication_subscribers/new/",
        {
            "name": "Đúng địa chỉ",
            "endpoint_url": "https://example.vn/in",
            "format": "rss",
            "min_distribution": "national",
            "active": "on",
            "kinds": ["audio", "video"],
            "secret": "s",
            "max_attempts": 5,
            "timeout_seconds": 5,
            "retry_base_seconds": 10,
            "retry_max_seconds": 100,
        },
    )
    assert response.status_code == 302
    created = Subscriber.objects.get()
    assert created.kinds == ["audio", "video"] and created.min_distribution == "national"


# --- delivering ---------------------------------------------------------------------------


def test_publish_pushes_a_signed_ninjs_document(units, receiver):
    subscriber = make_subscriber(receiver)
    item = make_item(units["A"], "Tin khẩn: lũ về ]]> <script>", summary="Sơ tán ngay")

    (delivery,) = Delivery.objects.all()
    assert delivery.state == Delivery.State.SUCCESS and delivery.attempts == 1
    (request,) = receiver.requests
    headers, body = request["headers"], request["body"]
    expected = hmac.new(
        subscriber.secret.encode(), headers["X-Timestamp"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    assert headers["X-Signature"] == f"sha256={expected}"
    assert abs(int(headers["X-Timestamp"]) - time.time()) < 60
    assert headers["Idempotency-Key"] == f"urn:uuid:{item.uuid}@1"
    assert headers["Content-Type"].startswith("application/json")
    doc = json.loads(body)
    assert doc["uri"] == f"urn:uuid:{item.uuid}" and doc["version"] == "1"
    assert doc["headlines"][0]["value"] == item.headline
    assert doc["altids"][0]["value"] == f"http://nguon.test{item.public_path}"
    assert receiver.bad_signatures == 0


def test_rss_subscribers_get_an_rss_item(units, receiver):
    make_subscriber(receiver, format=Subscriber.Format.RSS)
    item = make_item(units["A"], "Tin RSS\x0b đẩy đi")
    (request,) = receiver.requests
    feed = feedparser.parse(request["body"])
    assert not feed.bozo and feed.entries[0].id == f"urn:uuid:{item.uuid}"
    assert feed.entries[0].title == "Tin RSS đẩy đi"


@pytest.mark.parametrize("format_", [Subscriber.Format.NINJS, Subscriber.Format.RSS])
def test_pushes_carry_the_pictures_with_absolute_urls(units, receiver, format_):
    from tests.pictures import picture_fields

    make_subscriber(receiver, format=format_)
    make_item(units["A"], "Khánh thành cầu mới", **picture_fields())
    (request,) = receiver.requests
    if format_ == Subscriber.Format.NINJS:
        doc = json.loads(request["body"])
        assert [a["name"] for a in doc["associations"]] == ["mainpic", "gallery-1"]
        assert doc["associations"][0]["by"] == "Ảnh: Lê Văn Chụp"
        href = doc["associations"][0]["renditions"][0]["href"]
    else:
        (entry,) = feedparser.parse(request["body"]).entries
        assert [c["medium"] for c in entry.media_content] == ["image", "image"]
        assert entry.media_credit[0]["content"] == "Ảnh: Lê Văn Chụp"
        href = entry.media_content[0]["url"]
    assert href.startswith("http://nguon.test/media/") and href.endswith(".jpg")


def test_filters_choose_the_subscribers(units, receiver):
    health = Category.objects.create(name="Y tế thử", slug="y-te-thu")
    district = make_subscriber(receiver, "Huyện", units=[units["X"]])
    health_only = make_subscriber(receiver, "Y tế", categories=[health])
    audio_only = make_subscriber(receiver, "Phát thanh", kinds=["audio"])
    everyone = make_subscriber(receiver, "Tất cả")
    make_subscriber(receiver, "Tạm ngừng", active=False)

    make_item(units["A"], "Xã A y tế", category=health)
    make_item(units["C"], "Xã C")

    got = {
        s: sorted(Delivery.objects.filter(subscriber=s).values_list("headline", flat=True))
        for s in (district, health_only, audio_only, everyone)
    }
    assert got[district] == ["Xã A y tế"]
    assert got[health_only] == ["Xã A y tế"]
    assert got[audio_only] == []
    assert got[everyone] == ["Xã A y tế", "Xã C"]
    assert Delivery.objects.count() == 4


def test_a_server_error_is_retried_with_backoff_then_fails_with_an_alert(units, receiver):
    subscriber = make_subscriber(receiver, max_attempts=3, retry_base_seconds=60)
    receiver.set_mode("status:503")
    make_item(units["A"], "Tin thử lại")

    delivery = Delivery.objects.get()
    assert delivery.state == Delivery.State.RETRYING and delivery.attempts == 1
    assert delivery.last_status == 503 and "503" in delivery.last_error
    wait = (delivery.next_try_at - timezone.now()).total_seconds()
    assert 25 <= wait <= 60  # half fixed, half jitter, of the first 60 s step
    assert drain(subscriber) == ("waiting", pytest.approx(wait, abs=2))  # not due yet

    make_due(subscriber)
    drain(subscriber)
    delivery.refresh_from_db()
    assert delivery.attempts == 2
    assert 55 <= (delivery.next_try_at - timezone.now()).total_seconds() <= 120  # 2nd step
    make_due(subscriber)
    drain(subscriber)
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.FAILED and delivery.attempts == 3
    (alert,) = Alert.objects.filter(kind=Alert.Kind.DELIVERY_FAILED)
    assert "Tin thử lại" in alert.message and alert.resolved_at is None


@pytest.mark.parametrize(
    "status,retried",
    [(400, False), (404, False), (410, False), (408, True), (429, True), (500, True)],
)
def test_4xx_fail_at_once_except_408_and_429(units, receiver, status, retried):
    make_subscriber(receiver, max_attempts=5)
    receiver.set_mode(f"status:{status}")
    make_item(units["A"], "Tin")
    delivery = Delivery.objects.get()
    expected = Delivery.State.RETRYING if retried else Delivery.State.FAILED
    assert delivery.state == expected and delivery.attempts == 1
    assert Alert.objects.exists() is (not retried)


def test_connection_refused_is_retried(units, receiver):
    make_subscriber(receiver)
    receiver.set_mode("refuse")
    make_item(units["A"], "Tin")
    delivery = Delivery.objects.get()
    assert delivery.state == Delivery.State.RETRYING
    assert "PushConnectError" in delivery.last_error


def test_order_is_kept_per_subscriber(units, receiver):
    subscriber = make_subscriber(receiver)
    receiver.set_mode("status:500")
    now = timezone.now()
    items = [
        make_item(units["A"], f"Tin {i}", published_at=now + timedelta(seconds=i)) for i in range(4)
    ]
    # The head failed; the others wait behind it without a single attempt.
    states = list(Delivery.objects.order_by("queued_at").values_list("state", "attempts"))
    assert states[0] == (Delivery.State.RETRYING, 1)
    assert states[1:] == [(Delivery.State.PENDING, 0)] * 3
    assert len(receiver.requests) == 1

    receiver.set_mode("ok")
    make_due(subscriber)
    deliveries_sweep()  # the beat sweeper finds it due and drains (eagerly here)
    assert receiver.first_seen == [f"urn:uuid:{i.uuid}@1" for i in items]
    assert set(Delivery.objects.values_list("state", flat=True)) == {Delivery.State.SUCCESS}


@pytest.mark.parametrize("mode", ["hang", "drip"])
def test_a_receiver_that_never_answers_costs_one_timeout(units, receiver, mode):
    make_subscriber(receiver, timeout_seconds=1.5)
    receiver.set_mode(mode)
    started = time.monotonic()
    make_item(units["A"], "Tin")
    elapsed = time.monotonic() - started
    delivery = Delivery.objects.get()
    assert delivery.state == Delivery.State.RETRYING
    assert "PushTimeout" in delivery.last_error
    assert elapsed < 4


@pytest.mark.parametrize("mode,state", [("huge", "retrying"), ("endless-ok", "success")])
def test_a_huge_or_endless_answer_is_not_read(units, receiver, mode, state):
    make_subscriber(receiver, timeout_seconds=5)
    receiver.set_mode(mode)
    tracemalloc.start()
    started = time.monotonic()
    try:
        make_item(units["A"], "Tin")
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    delivery = Delivery.objects.get()
    assert delivery.state == state
    assert time.monotonic() - started < 4
    assert peak < 8 * 1024 * 1024  # the ~1 GB answer was never held
    assert len(delivery.last_error) <= 4000


def test_corrections_go_to_previous_recipients_and_new_matches(units, receiver):
    old_topic = Category.objects.create(name="Giao thông", slug="giao-thong")
    new_topic = Category.objects.create(name="Y tế thử", slug="y-te-thu")
    first = make_subscriber(receiver, "Theo giao thông", categories=[old_topic])
    second = make_subscriber(receiver, "Theo y tế", categories=[new_topic])
    never = make_subscriber(receiver, "Chỉ huyện Bù Đăng", units=[units["Y"]])

    item = make_item(units["A"], "Tin ban đầu", category=old_topic)
    item.category = new_topic
    item.headline = "Tin đính chính"
    publish(item)

    by = lambda s: list(  # noqa: E731
        Delivery.objects.filter(subscriber=s).order_by("queued_at").values_list("version", "action")
    )
    assert by(first) == [(1, "publish"), (2, "publish")]  # received v1: gets the correction
    assert by(second) == [(2, "publish")]  # a new match
    assert by(never) == []

    withdraw(item)
    assert by(first)[-1] == (2, "cancel") and by(second)[-1] == (2, "cancel")
    assert by(never) == []
    cancel = receiver.bodies_for(f"urn:uuid:{item.uuid}@2:canceled")
    assert len(cancel) == 2 and json.loads(cancel[0])["pubstatus"] == "canceled"
    assert receiver.requests[-1]["headers"]["X-Nguon-Pubstatus"] == "canceled"


def test_a_withdrawal_of_an_item_nobody_received_sends_nothing(units, receiver):
    make_subscriber(receiver, units=[units["Y"]])
    item = make_item(units["A"], "Tin")
    withdraw(item)
    assert not Delivery.objects.exists() and receiver.requests == []


def test_replayed_events_do_not_queue_twice(units, receiver):
    make_subscriber(receiver)
    item = make_item(units["A"], "Tin")
    services.deliveries_fanout_publish(item_id=item.pk, version=1)
    services.deliveries_fanout_publish(item_id=item.pk, version=1)
    assert Delivery.objects.count() == 1 and len(receiver.requests) == 1


def test_the_sweeper_fans_out_a_publication_whose_event_was_lost(units, receiver):
    make_subscriber(receiver)
    when = timezone.now() - timedelta(minutes=5)
    # Published rows whose after-commit event never ran (the process died).
    item = NewsItem.objects.create(
        unit=units["A"],
        headline="Tin bị lỡ",
        live=True,
        version=1,
        first_published_at=when,
        last_published_at=when,
        version_created_at=when,
    )
    assert not Delivery.objects.exists()
    deliveries_sweep()
    assert receiver.first_seen == [f"urn:uuid:{item.uuid}@1"]


def test_the_sweeper_sends_the_cancel_of_a_withdrawal_whose_event_was_lost(units, receiver):
    make_subscriber(receiver)
    item = make_item(units["A"], "Tin rút lại", published_at=timezone.now() - timedelta(minutes=9))
    assert receiver.first_seen == [f"urn:uuid:{item.uuid}@1"]
    # Withdrawn in a transaction whose after-commit event never ran (the process died).
    NewsItem.objects.filter(pk=item.pk).update(
        live=False, withdrawn_at=timezone.now() - timedelta(minutes=5)
    )
    deliveries_sweep()
    assert receiver.first_seen == [f"urn:uuid:{item.uuid}@1", f"urn:uuid:{item.uuid}@1:canceled"]
    deliveries_sweep()  # reconciled once: the fan-out record stops a second cancel
    assert len(receiver.bodies_for(f"urn:uuid:{item.uuid}@1:canceled")) == 1


def test_a_stuck_in_progress_delivery_is_sent_again_after_its_lease(units, receiver):
    subscriber = make_subscriber(receiver)
    receiver.set_mode("refuse")
    make_item(units["A"], "Tin")
    # A worker took it and died mid-send: in progress, its lease run out.
    Delivery.objects.update(state=Delivery.State.IN_PROGRESS, next_try_at=None)
    Subscriber.objects.filter(pk=subscriber.pk).update(
        lease_until=timezone.now() - timedelta(seconds=1), lease_token="dead"
    )
    receiver.set_mode("ok")
    deliveries_sweep()
    assert Delivery.objects.get().state == Delivery.State.SUCCESS
    assert len(receiver.first_seen) == 1


def test_a_held_lease_keeps_a_second_worker_out(units, receiver):
    subscriber = make_subscriber(receiver)
    receiver.set_mode("refuse")
    make_item(units["A"], "Tin")
    Subscriber.objects.filter(pk=subscriber.pk).update(
        lease_until=timezone.now() + timedelta(seconds=30), lease_token="other"
    )
    make_due(subscriber)
    assert drain(subscriber) == ("busy", None)


# --- admin --------------------------------------------------------------------------------


def test_admin_log_per_item_and_subscriber_and_resend(
    units, receiver, django_capture_on_commit_callbacks
):
    admin = make_user("quantri", is_superuser=True, is_staff=True)
    client = Client()
    client.force_login(admin)
    first = make_subscriber(receiver, "Hệ thống quốc gia")
    second = make_subscriber(receiver, "Tỉnh bạn")
    receiver.set_mode("status:404")
    item = make_item(units["A"], "Tin bị trả về")
    other = make_item(units["B"], "Tin khác")
    assert set(Delivery.objects.values_list("state", flat=True)) == {Delivery.State.FAILED}

    page = client.get("/admin/phan-phoi/giao-tin/", {"item": item.pk}).content.decode()
    assert "Tin bị trả về" in page and "Tin khác" not in page
    assert page.count('class="delivery-row') == 2
    page = client.get("/admin/phan-phoi/giao-tin/", {"subscriber": second.pk}).content.decode()
    assert page.count('class="delivery-row') == 2 and "Tỉnh bạn" in page
    alerts = client.get("/admin/phan-phoi/canh-bao/").content.decode()
    assert alerts.count('class="alert-row"') == 4
    home = client.get("/admin/").content.decode()
    assert "nguon-syndication-alerts" in home

    receiver.set_mode("ok")
    delivery = Delivery.objects.get(subscriber=first, item=other)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/phan-phoi/giao-tin/{delivery.pk}/gui-lai/")
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.SUCCESS and delivery.attempts == 1
    assert receiver.first_seen == [f"urn:uuid:{other.uuid}@1"]
    assert not Alert.objects.filter(delivery=delivery, resolved_at__isnull=True).exists()


def test_people_without_permission_cannot_resend(units, receiver):
    make_subscriber(receiver)
    receiver.set_mode("status:404")
    make_item(units["A"], "Tin")
    reporter = make_user("phongvien", is_staff=True)
    client = Client()
    client.force_login(reporter)
    delivery = Delivery.objects.get()
    assert client.post(f"/admin/phan-phoi/giao-tin/{delivery.pk}/gui-lai/").status_code in (
        302,
        403,
    )
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.FAILED
    assert client.get("/admin/phan-phoi/giao-tin/").status_code in (302, 403)


def test_delivery_summary_counts_states_per_subscriber(units, receiver):
    ok = make_subscriber(receiver, "Nhận tốt")
    make_item(units["A"], "Tin 1")
    bad = make_subscriber(receiver, "Hỏng")
    Subscriber.objects.filter(pk=bad.pk).update(endpoint_url="http://127.0.0.1:9/")
    make_item(units["A"], "Tin 2")

    now = timezone.now()
    summary = delivery_summary(start=now - timedelta(hours=1), end=now + timedelta(minutes=1))
    rows = {r["name"]: r for r in summary["subscribers"]}
    assert rows["Nhận tốt"]["success"] == 2 and rows["Nhận tốt"]["total"] == 2
    assert rows["Hỏng"]["retrying"] == 1 and rows["Hỏng"]["total"] == 1
    assert summary["totals"]["total"] == 3
    assert ok.pk == rows["Nhận tốt"]["id"]
    empty = delivery_summary(start=now - timedelta(days=9), end=now - timedelta(days=8))
    assert empty["subscribers"] == [] and empty["totals"]["total"] == 0


def test_subscribers_get_only_the_scope_they_asked_for(units, receiver):
    national = make_subscriber(receiver, "Quốc gia", min_distribution="national")
    province = make_subscriber(receiver, "Tỉnh bạn")  # default: province and wider
    district = make_subscriber(receiver, "Cổng huyện", min_distribution="district")
    for scope in ("commune", "district", "province", "national"):
        make_item(units["A"], f"Tin {scope}", distribution=scope)

    def got(s):
        return sorted(Delivery.objects.filter(subscriber=s).values_list("headline", flat=True))

    assert got(national) == ["Tin national"]
    assert got(province) == ["Tin national", "Tin province"]
    assert got(district) == ["Tin district", "Tin national", "Tin province"]


def test_old_finished_deliveries_are_pruned_open_ones_kept(units, receiver, settings):
    settings.SYNDICATION_DELIVERY_RETENTION_DAYS = 30
    subscriber = make_subscriber(receiver)
    make_item(units["A"], "Tin cũ")
    receiver.set_mode("status:500")
    make_item(units["A"], "Tin đang thử lại")
    long_ago = timezone.now() - timedelta(days=31)
    Delivery.objects.update(finished_at=long_ago, created_at=long_ago)
    assert services.outbox_prune() >= 1
    assert list(Delivery.objects.values_list("headline", flat=True)) == ["Tin đang thử lại"]
    assert Delivery.objects.get().subscriber == subscriber
