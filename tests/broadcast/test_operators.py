"""Operators' screens in the Wagtail admin, per unit subtree: programmes with the conflict
preview, emergencies, monitoring, proof of play with CSV; and the reports selectors."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from broadcast.models import Device, PlayLog, Programme
from broadcast.selectors import (
    device_uptime_summary,
    playback_summary,
    programme_playlist_problems,
)
from broadcast.services import heartbeat_record, playlogs_record, programme_create
from broadcast.timeline import LOCAL_TZ
from newsroom.models import Role
from tests.factories import make_user

from .helpers import timeline

pytestmark = pytest.mark.django_db


@pytest.fixture
def scheduler_client(world):
    client = Client()
    client.force_login(world["scheduler"])
    return client


def when(at, repeat="daily") -> dict:
    """The repeat controls for a first play at ``at`` (local)."""
    return {"repeat": repeat, "first_day": f"{at:%d/%m/%Y}", "times": f"{at:%H:%M}"}


def form_data(world, **overrides):
    at = timezone.localtime(timezone.now() + timedelta(hours=2), LOCAL_TZ)
    data = {
        "name": "Bản tin chiều",
        "bulletin_class": "normal",
        "target_units": [world["units"]["A"].pk],
        **when(at),
        "content": "playlist",
        "items": [world["items"]["bt1"].pk],
        "tts_speed": "1.0",
    }
    data.update(overrides)
    return data


def test_scheduler_sees_conflicts_before_saving_then_confirms(world, scheduler_client):
    url = reverse("broadcast_programme_add")
    page = scheduler_client.get(url)
    assert page.status_code == 200 and "Tên" in page.content.decode()  # Vietnamese form
    first = scheduler_client.post(url, form_data(world))
    assert first.status_code == 302 and Programme.objects.count() == 1
    # The same time again: shown with the rule, nothing saved yet.
    again = scheduler_client.post(url, form_data(world, name="Trùng giờ"))
    html = again.content.decode()
    assert again.status_code == 200 and "Bản tin chiều" in html
    assert "lần lượt" in html  # the resolving rule, in Vietnamese
    assert Programme.objects.count() == 1
    confirmed = scheduler_client.post(url, form_data(world, name="Trùng giờ", confirm="on"))
    assert confirmed.status_code == 302 and Programme.objects.count() == 2


def test_the_form_refuses_the_past_and_foreign_units(world, scheduler_client):
    url = reverse("broadcast_programme_add")
    past = timezone.localtime(timezone.now() - timedelta(hours=2), LOCAL_TZ)
    response = scheduler_client.post(url, form_data(world, **when(past, "once")))
    assert response.status_code == 200 and "quá khứ" in response.content.decode()
    # Commune C is not in the scheduler's subtree: not even offered.
    response = scheduler_client.post(url, form_data(world, target_units=[world["units"]["C"].pk]))
    assert response.status_code == 200 and not Programme.objects.exists()


def test_programme_list_and_stop(world, scheduler_client):
    programme = programme_create(
        user=world["scheduler"],
        name="Dừng tôi",
        targets=[{"unit": world["units"]["A"]}],
        slots=[
            {
                "starts_at": timezone.now() + timedelta(hours=1),
                "rrule": "FREQ=DAILY",
                "items": [world["items"]["bt1"].pk],
            }
        ],
    )
    page = scheduler_client.get(reverse("broadcast_programmes"))
    assert "Dừng tôi" in page.content.decode()
    scheduler_client.post(reverse("broadcast_programmes"), {"stop": programme.pk})
    programme.refresh_from_db()
    assert programme.stopped_at is not None
    device, token = world["devices"]["A1"]
    assert timeline(token) == []


def test_the_programme_list_says_which_bulletins_devices_skip_and_why(
    world, scheduler_client, django_assert_num_queries
):
    from media.models import Rendition

    bt1, bt2 = world["items"]["bt1"], world["items"]["bt2"]
    programme_create(
        user=world["admin"],
        name="Bản tin sáng",
        targets=[{"unit": world["units"]["A"]}],
        slots=[
            {
                "starts_at": timezone.now() + timedelta(hours=1),
                "rrule": "FREQ=DAILY",
                "items": [bt1.pk, bt2.pk],
            }
        ],
    )
    listing = reverse("broadcast_programmes")
    page = scheduler_client.get(listing).content.decode()
    assert "Bản tin sáng" in page and "⚠" not in page  # both MP3s ready: nothing to say

    def loudspeaker(item):
        return Rendition.objects.filter(asset=item.audio, profile="loudspeaker")

    loudspeaker(bt1).update(status=Rendition.Status.PROCESSING)
    loudspeaker(bt2).update(status=Rendition.Status.FAILED)
    page = scheduler_client.get(listing).content.decode()
    assert (
        "“Thông báo tiêm chủng”: tệp cho loa đang được tạo; thiết bị sẽ phát khi tệp sẵn sàng."
        in page
    )
    assert "“Bản tin tỉnh”: không tạo được tệp cho loa: thiết bị bỏ qua bản tin này." in page
    device, token = world["devices"]["A1"]
    heads = [p["headline"] for e in timeline(token)
             for p in e["parts"]]  # fmt: skip
    assert heads == []  # what the page says is what the devices do

    loudspeaker(bt1).update(status=Rendition.Status.READY)
    bt2.withdrawn_at, bt2.live = timezone.now(), False
    bt2.save()
    page = scheduler_client.get(listing).content.decode()
    assert "“Bản tin tỉnh” đã bị gỡ: thiết bị bỏ qua bản tin này." in page
    assert "Thông báo tiêm chủng”: tệp" not in page
    programmes = list(Programme.objects.all())
    with django_assert_num_queries(2):  # for the whole list, however many programmes
        programme_playlist_problems(programmes)


def test_scheduler_edits_a_programme_and_the_devices_follow(world, scheduler_client):
    from wagtail.models import ModelLogEntry

    device, token = world["devices"]["A1"]
    scheduler_client.post(reverse("broadcast_programme_add"), form_data(world))
    original = Programme.objects.get()
    before = timeline(token)
    assert len(before) == 2  # today's and tomorrow's 'Bản tin chiều'

    url = reverse("broadcast_programme_edit", args=[original.pk])
    page = scheduler_client.get(url).content.decode()
    assert "Bản tin chiều" in page and "FREQ" not in page  # filled in, in words
    assert re.search(r'value="daily"[^>]*checked', page)  # "every day" is ticked
    assert "dừng phiên bản hiện tại" in page  # what saving does, said in Vietnamese

    later = timezone.localtime(timezone.now() + timedelta(hours=3), LOCAL_TZ)
    response = scheduler_client.post(
        url,
        form_data(world, name="Bản tin chiều (sửa)", **when(later)),
    )
    # No conflict with its own previous version: saved at once.
    assert response.status_code == 302
    original.refresh_from_db()
    revised = Programme.objects.get(replaces=original)
    assert original.stopped_at is not None and revised.stopped_at is None
    after = timeline(token)
    starts = [timezone.localtime(e.start, LOCAL_TZ).strftime("%H:%M") for e in after]
    assert starts == [later.strftime("%H:%M")] * 2
    assert {e.programme_name for e in after} == {"Bản tin chiều (sửa)"}
    assert ModelLogEntry.objects.filter(action="broadcast.revise").count() == 1
    listing = scheduler_client.get(reverse("broadcast_programmes")).content.decode()
    assert "Bản tin chiều (sửa)" in listing

    # A stopped version is not edited again.
    response = scheduler_client.post(url, form_data(world, name="Lần nữa"), follow=True)
    assert "Lần nữa" not in response.content.decode()
    assert not Programme.objects.filter(name="Lần nữa").exists()


def test_a_scheduler_of_another_commune_cannot_edit(world):
    original = programme_create(
        user=world["scheduler"],
        name="Của xã A",
        targets=[{"unit": world["units"]["A"]}],
        slots=[
            {
                "starts_at": timezone.now() + timedelta(hours=1),
                "rrule": "FREQ=DAILY",
                "items": [world["items"]["bt1"].pk],
            }
        ],
    )
    client = Client()
    client.force_login(make_user("laplich_c", unit=world["units"]["C"], role=Role.SCHEDULER))
    url = reverse("broadcast_programme_edit", args=[original.pk])
    page = client.get(url, follow=True).content.decode()
    assert "Của xã A" not in page and "Bạn không thể sửa chương trình này" in page
    response = client.post(url, form_data(world, name="Chiếm quyền"))
    assert response.status_code == 302  # refused before the form (commune A is not theirs)
    original.refresh_from_db()
    assert original.stopped_at is None and not Programme.objects.filter(replaces=original)


def test_emergency_screen_starts_and_stops(world):
    client = Client()
    client.force_login(world["admin"])
    response = client.post(
        reverse("broadcast_emergency"),
        {"name": "Cháy rừng", "target_units": [world["units"]["A"].pk], "tts_text": "Cháy rừng"},
    )
    assert response.status_code == 302

    def on_air():
        page = client.get(reverse("broadcast_emergency")).content.decode()
        return page.split("bc-active-emergencies")[1].split("</section>")[0]

    assert "Cháy rừng" in on_air()
    programme = Programme.objects.get(name="Cháy rừng")
    client.post(reverse("broadcast_programmes"), {"stop": programme.pk})
    assert "Cháy rừng" not in on_air()
    assert "Không có." in on_air()


def test_monitoring_shows_online_offline_and_only_the_users_subtree(world, scheduler_client):
    device, token = world["devices"]["A1"]
    heartbeat_record(
        device_id=device.pk,
        data={"status": "playing", "volume": 65, "now_playing": "Thông báo tiêm chủng"},
    )
    Device.objects.filter(serial="LOA-A2").update(
        last_seen_at=timezone.now() - timedelta(minutes=4)
    )
    page = scheduler_client.get(reverse("broadcast_monitoring"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "LOA-A1" in html and "LOA-A2" in html and "Thông báo tiêm chủng" in html
    assert "LOA-B1" not in html and "LOA-C1" not in html  # other communes
    assert html.count("bc-online") == 1
    offline = scheduler_client.get(reverse("broadcast_monitoring") + "?offline=1").content.decode()
    assert "LOA-A2" in offline and "LOA-A1" not in offline
    # A command from the monitoring screen.
    scheduler_client.post(
        reverse("broadcast_monitoring"), {"device": device.pk, "kind": "set_volume", "volume": 30}
    )
    assert device.commands.get().payload == {"volume": 30}


def test_people_without_the_scheduler_role_are_kept_out(world):
    reporter = make_user("phongvien", unit=world["units"]["A"], role=Role.REPORTER)
    client = Client()
    client.force_login(reporter)
    for name in ["broadcast_monitoring", "broadcast_proof", "broadcast_programmes"]:
        assert client.get(reverse(name)).status_code in (302, 403)
    device, token = world["devices"]["A1"]
    assert client.get(reverse("broadcast_device_token", args=[device.pk])).status_code in (302, 403)


def test_token_screen_shows_a_new_token_once(world, scheduler_client):
    device, old = world["devices"]["A1"]
    url = reverse("broadcast_device_token", args=[device.pk])
    response = scheduler_client.post(url, {"action": "issue"})
    token = response.content.decode().split('<code class="bc-token">')[1].split("<")[0]
    assert token and token != old and "no-store" in response["Cache-Control"]
    assert token not in scheduler_client.get(url).content.decode()
    api = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert api.get(f"/api/v1/devices/{device.pk}/timeline", **auth).status_code == 200
    scheduler_client.post(url, {"action": "revoke"})
    assert api.get(f"/api/v1/devices/{device.pk}/timeline", **auth).status_code == 401


def played_world(world):
    """A daily programme for commune A that started 30 minutes ago; A1 played it, A2 not."""
    now = timezone.now()
    start = now - timedelta(minutes=30)
    programme_create(
        user=world["admin"],
        name="Sáng nay",
        targets=[{"unit": world["units"]["A"]}],
        slots=[{"starts_at": start, "items": [world["items"]["bt1"].pk]}],
        now=start,
    )
    device, token = world["devices"]["A1"]
    entry = timeline(token, now=start)[0]
    playlogs_record(
        device_id=device.pk,
        commune_id=world["units"]["A"].pk,
        events=[
            {
                "id": "p1",
                "entry_id": entry.key,
                "started_at": start,
                "duration": 2.0,
                "status": "completed",
            }
        ],
    )
    # The day the programme played (yesterday between 00:00 and 00:30, Vietnam time).
    day = timezone.localtime(start, LOCAL_TZ).date()
    return day, entry


def test_proof_of_play_lists_gaps_and_exports_csv(world, scheduler_client):
    day, entry = played_world(world)
    params = {"start": day.strftime("%d/%m/%Y"), "end": day.strftime("%d/%m/%Y")}
    page = scheduler_client.get(reverse("broadcast_proof"), params).content.decode()
    assert "Xã Tân Đồng" in page and "LOA-A2" in page  # the gap: A2 never reported it
    gaps_table = page.split("bc-gaps")[1]
    assert "LOA-A1" not in gaps_table
    export = scheduler_client.get(reverse("broadcast_proof"), {**params, "format": "csv"})
    assert export["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows[0][0] == "Ngày"
    commune_row = next(r for r in rows if len(r) > 2 and r[2] == "Xã Tân Đồng")
    assert commune_row[0] == day.strftime("%d/%m/%Y")
    assert float(commune_row[4]) == pytest.approx(4.0, abs=0.6)  # 2 loudspeakers × 2 s
    assert float(commune_row[5]) == pytest.approx(2.0)


def test_reports_selectors(world):
    played_world(world)
    # 24 hours around now: the play 30 minutes ago and the heartbeats below, at any hour.
    start = timezone.now() - timedelta(hours=12)
    end = start + timedelta(days=1)
    summary = playback_summary(unit_ids=[world["units"]["X"].pk], start=start, end=end)
    by_code = {row["commune_code"]: row for row in summary}
    assert set(by_code) == {"90001", "90002"}
    assert by_code["90001"]["played_seconds"] == pytest.approx(2.0)
    assert by_code["90001"]["scheduled_seconds"] == pytest.approx(4.0, abs=0.6)
    assert by_code["90002"]["scheduled_seconds"] == 0
    device, token = world["devices"]["A1"]
    for _i in range(3):
        heartbeat_record(device_id=device.pk, data={"status": "idle"})
    uptime = {
        r["commune_code"]: r
        for r in device_uptime_summary(unit_ids=[world["units"]["P"].pk], start=start, end=end)
    }
    assert uptime["90001"]["heartbeats"] == 3 and uptime["90001"]["devices"] == 3
    assert uptime["90001"]["expected_heartbeats"] == 3 * 24 * 60
    assert 0 < uptime["90001"]["uptime_ratio"] < 0.01
    assert uptime["90003"]["heartbeats"] == 0
    assert PlayLog.objects.count() == 1


def test_registry_screens_are_scoped_and_check_zones(world, scheduler_client):
    listing = scheduler_client.get(reverse("broadcast_clusters:index")).content.decode()
    assert "Cụm A1" in listing and "Cụm B1" not in listing
    admin = Client()
    admin.force_login(world["admin"])
    foreign_zone = world["zone"]  # a zone of commune A
    response = admin.post(
        reverse("broadcast_clusters:edit", args=[world["clusters"]["B1"].pk]),
        {
            "name": "Cụm B1",
            "commune": world["units"]["B"].pk,
            "zones": [foreign_zone.pk],
            "enabled": "on",
        },
    )
    assert response.status_code == 200
    assert "Vùng loa phải thuộc xã/phường của cụm loa." in response.content.decode()
    assert not world["clusters"]["B1"].zones.exists()
