"""``manage.py simulate_devices`` against a live server: devices poll with ETag (200, then
304), download and verify media, send heartbeats and idempotent play logs, acknowledge
commands — over HTTP, and over MQTT when a broker answers."""

import os
import socket
import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from broadcast import mqtt as bmqtt
from broadcast.models import Command, Device, DeviceDay, PlayLog
from broadcast.services import command_issue, programme_create


def broker_up() -> bool:
    params = bmqtt.broker_params(os.environ.get("MQTT_URL", "mqtt://127.0.0.1:1883"))
    try:
        socket.create_connection((params["host"], params["port"]), timeout=2).close()
        return True
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_simulated_devices_use_the_whole_api(world, live_server, settings):
    use_mqtt = broker_up()
    if use_mqtt:
        settings.MQTT_URL = os.environ.get("MQTT_URL", "mqtt://127.0.0.1:1883")
        settings.BROADCAST_MQTT_TOPIC_PREFIX = os.environ["BROADCAST_MQTT_TOPIC_PREFIX"]
    programme_create(
        user=world["admin"],
        name="Phát ngay",
        targets=[{"unit": world["units"]["B"]}],
        slots=[
            {  # on air now: reported played once per device
                "starts_at": timezone.now() - timedelta(seconds=5),
                "content": "relay",
                "relay_url": "https://radio.example.vn/vov1",
                "duration_seconds": 600,
            },
            {  # later today: downloaded ahead of time
                "starts_at": timezone.now() + timedelta(minutes=30),
                "items": [world["items"]["bt1"].pk, world["items"]["bt2"].pk],
            },
        ],
    )

    def send_command():
        try:
            devices = list(
                Device.objects.filter(serial__startswith="SIMT-").select_related("cluster__commune")
            )
            command_issue(
                user=world["admin"], devices=devices, kind="set_volume", payload={"volume": 20}
            )
        finally:
            connection.close()

    timer = threading.Timer(1.5, send_command)
    timer.start()
    call_command(
        "simulate_devices",
        clusters=3,
        minutes=3,
        tick_seconds=1.5,
        base_url=live_server.url,
        commune=world["units"]["B"].code,
        prefix="SIMT",
        workers=3,
        mqtt_url=settings.MQTT_URL if use_mqtt else "",
    )
    timer.join()
    devices = Device.objects.filter(serial__startswith="SIMT-")
    assert devices.count() == 3
    # Minute 1: 200; then 304 unless the command-free timeline changed (it did not).
    assert (
        DeviceDay.objects.filter(device__in=devices)
        .values_list("heartbeats", flat=True)
        .distinct()
        .get()
        == 3
    )
    assert all(d.firmware == "sim-1.0" and d.last_seen_at for d in devices)
    assert all(d.now_playing == "Phát ngay" for d in devices)
    # Each device reported the current hour's entry exactly once despite three rounds.
    assert PlayLog.objects.filter(device__in=devices).count() == 3
    assert set(PlayLog.objects.values_list("commune__code", flat=True)) == {"90002"}
    # Every command was acknowledged (by polling, or over MQTT).
    assert Command.objects.filter(device__in=devices).count() == 3
    assert not Command.objects.filter(device__in=devices, acknowledged_at__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_simulator_counts_304s_and_verified_media(world, live_server):
    from broadcast.simulator import Simulator, create_fleet

    programme_create(
        user=world["admin"],
        name="Phát ngay",
        targets=[{"unit": world["units"]["C"]}],
        slots=[
            {
                "starts_at": timezone.now() + timedelta(minutes=5),
                "items": [world["items"]["bt1"].pk],
            }
        ],
    )
    fleet = create_fleet(clusters=2, commune=world["units"]["C"], prefix="SIMC")
    stats = Simulator(base_url=live_server.url, devices=fleet, workers=2).run(
        minutes=2, tick_seconds=0
    )
    assert stats["timeline_200"] == 2 and stats["timeline_304"] == 2
    assert stats["media_200"] == 2 and stats["media_checksum_failures"] == 0
    assert stats["heartbeat_200"] == 4 and stats["errors"] == 0
