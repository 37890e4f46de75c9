"""What a commune hears: a bulletin scheduled ahead plays at its second, byte for byte;
proof of play shows it; an emergency cuts in; commands are obeyed and acknowledged."""

import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.support import wait_for

from .helpers import rendition_pcm, schedule, server_api

LEAD_SECONDS = 20  # a test-only lead time; the minute works the same, only slower


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_bulletin_scheduled_ahead_starts_on_its_second_and_plays_the_bulletin(
    commune, server, players
):
    from broadcast.models import PlayLog

    start = (timezone.now() + timedelta(seconds=LEAD_SECONDS)).replace(microsecond=0)
    schedule(commune, name="Bản tin sáng", at=start, items=["short"])
    player = players(server, commune["device"].pk, commune["token"], poll_seconds=3)
    player.start()
    player.wait_log(r"cached [0-9a-f]{12}", timeout=LEAD_SECONDS - 5)  # fetched ahead
    ends = wait_for(
        lambda: [m for m in player.marks() if m.event == "end"],
        timeout=LEAD_SECONDS + 15,
        what="the bulletin played to its end",
    )
    begin = next(m for m in player.marks() if m.event == "start")
    late = begin.at - start.timestamp()
    assert 0 <= late < 1.0, f"first sound {late:+.3f} s from the scheduled second"
    played = player.out.read_bytes()[begin.offset : ends[0].offset]
    assert played == rendition_pcm(commune["items"]["short"])

    # The play log reaches the server once, and proof of play in the admin shows it.
    log = wait_for(
        lambda: PlayLog.objects.filter(device=commune["device"]).first(),
        timeout=15,
        what="the play log on the server",
    )
    assert log.status == "completed" and 2.9 < log.duration_seconds < 3.2
    assert abs((log.started_at - start).total_seconds()) < 1.0
    admin = Client()
    admin.force_login(commune["admin"])
    page = admin.get(
        "/admin/phat-thanh/xac-nhan-phat/", {"unit": commune["units"]["A"].pk}
    ).content.decode()
    row = page.split('class="listing bc-proof"')[1].split("</table>")[0]
    assert commune["units"]["A"].name in row
    assert "Bản tin sáng" not in page.split('class="listing bc-gaps"')[1]  # no gap
    csv = admin.get(
        "/admin/phat-thanh/xac-nhan-phat/", {"unit": commune["units"]["A"].pk, "format": "csv"}
    ).content.decode("utf-8-sig")
    played_seconds = float(csv.splitlines()[1].split(",")[-1])
    assert 2.9 < played_seconds < 3.2


@pytest.mark.slow
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_emergency_pushed_while_a_bulletin_plays_cuts_in_within_two_seconds(
    commune, server, players, broker, celery_worker
):
    import os

    from broadcast.models import Command, PlayLog

    start = timezone.now() + timedelta(seconds=6)
    schedule(commune, name="Bản tin chiều", at=start, items=["long"])
    player = players(
        server,
        commune["device"].pk,
        commune["token"],
        poll_seconds=600,  # no polling to help: only the MQTT push can make it in time
        mqtt_url=broker,
        mqtt_topic_prefix=os.environ["BROADCAST_MQTT_TOPIC_PREFIX"],
    )
    player.start()
    player.wait_log(r"MQTT connected", timeout=15)
    player.wait_log(r"playing .*Bản tin chiều", timeout=20)
    time.sleep(1.0)  # well into the 6 s bulletin
    clicked = time.time()
    server_api("emergency_start")(
        user=commune["admin"],
        name="Cảnh báo lũ quét khẩn cấp",
        targets=[{"cluster": commune["cluster"]}],
        items=[commune["items"]["alert"].pk],
    )
    wait_for(
        lambda: any(m.event == "start" and m.at > clicked for m in player.marks()),
        timeout=10,
        interval=0.05,
        what="the emergency on air",
    )
    marks = player.marks()
    stop = next(m for m in marks if m.event == "stop")
    emergency = next(m for m in marks if m.event == "start" and m.at > clicked)
    assert stop.at - clicked < 2.0, f"bulletin still playing {stop.at - clicked:.2f} s later"
    assert emergency.at - clicked < 2.0, f"emergency started {emergency.at - clicked:.2f} s later"
    # The emergency plays to its end, byte for byte.
    end = wait_for(
        lambda: next(
            (m for m in player.marks() if m.event == "end" and m.offset > emergency.offset), None
        ),
        timeout=10,
        what="the emergency's end",
    )
    assert player.out.read_bytes()[emergency.offset : end.offset] == rendition_pcm(
        commune["items"]["alert"]
    )
    wait_for(
        lambda: PlayLog.objects.filter(device=commune["device"]).count() >= 2,
        timeout=15,
        what="both play logs on the server",
    )
    logs = set(
        PlayLog.objects.filter(device=commune["device"]).values_list("programme__name", "status")
    )
    assert ("Bản tin chiều", "interrupted") in logs
    assert ("Cảnh báo lũ quét khẩn cấp", "completed") in logs
    wait_for(
        lambda: (
            not Command.objects.filter(
                device=commune["device"], acknowledged_at__isnull=True
            ).exists()
        ),
        timeout=10,
        what="the emergency command acknowledged",
    )
