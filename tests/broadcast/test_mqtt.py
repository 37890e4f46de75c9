"""MQTT push against the real Mosquitto: a subscriber on a device's topic receives its
commands and emergency starts; other devices' topics stay silent.

Skips (with the reason) when no broker answers at ``MQTT_URL``; fails instead when
``NGUON_REQUIRE_SERVICES`` names ``mqtt``."""

import json
import os
import queue
import socket
import time
import uuid

import paho.mqtt.client as mqtt
import pytest
from django.utils import timezone

from broadcast import mqtt as bmqtt
from broadcast.models import Command
from broadcast.services import command_issue, emergency_start
from tests.support import require, wait_for

MQTT_URL = os.environ.get("MQTT_URL", "mqtt://127.0.0.1:1883")


@pytest.fixture
def broker(settings):
    params = bmqtt.broker_params(MQTT_URL)
    try:
        socket.create_connection((params["host"], params["port"]), timeout=2).close()
        up = True
    except OSError:
        up = False
    require("mqtt", up, f"no MQTT broker answers at {params['host']}:{params['port']}")
    settings.MQTT_URL = MQTT_URL
    settings.BROADCAST_MQTT_TOPIC_PREFIX = os.environ["BROADCAST_MQTT_TOPIC_PREFIX"]
    return params


class Subscriber:
    """A device-side MQTT client collecting what arrives on its topics."""

    def __init__(self, params, topics):
        self.messages: queue.Queue = queue.Queue()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-{uuid.uuid4().hex[:8]}"
        )
        ready = queue.Queue()
        self.client.on_message = lambda c, u, msg: self.messages.put(
            (msg.topic, json.loads(msg.payload))
        )
        self.client.on_subscribe = lambda c, u, mid, codes, props: ready.put(mid)
        self.client.connect(params["host"], params["port"])
        self.client.loop_start()
        self.client.subscribe([(t, 1) for t in topics])
        ready.get(timeout=10)

    def get(self, timeout=10.0):
        return self.messages.get(timeout=timeout)

    def empty_for(self, seconds):
        time.sleep(seconds)
        return self.messages.empty()

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


@pytest.mark.django_db
def test_a_command_reaches_only_its_devices_topic(
    world, broker, django_capture_on_commit_callbacks
):
    device, _ = world["devices"]["A1"]
    other, _ = world["devices"]["B1"]
    mine = Subscriber(broker, [bmqtt.device_topic(device.pk)])
    theirs = Subscriber(broker, [bmqtt.device_topic(other.pk)])
    try:
        with django_capture_on_commit_callbacks(execute=True):
            command_issue(
                user=world["admin"], devices=[device], kind="set_volume", payload={"volume": 55}
            )
        topic, message = mine.get()
        assert topic == f"{os.environ['BROADCAST_MQTT_TOPIC_PREFIX']}/{device.pk}/commands"
        assert message["kind"] == "set_volume" and message["payload"] == {"volume": 55}
        assert Command.objects.get(pk=message["id"]).pushed_at is not None
        assert theirs.empty_for(1.0)
    finally:
        mine.close()
        theirs.close()


@pytest.mark.worker
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_emergency_start_is_pushed_by_the_worker_within_seconds(world, broker, celery_worker):
    devices = [world["devices"][n][0] for n in ("A1", "A2", "B1")]
    subscriber = Subscriber(broker, [bmqtt.device_topic(d.pk) for d in devices])
    try:
        clicked = time.monotonic()
        emergency_start(
            user=world["admin"],
            name="Cảnh báo bão",
            targets=[{"unit": world["units"]["X"]}],
            tts_text="Bão số 5 đổ bộ, bà con không ra khơi.",
        )
        received = {}
        while len(received) < 3:
            topic, message = subscriber.get(timeout=30)
            received[topic] = message
        latency = time.monotonic() - clicked
        assert {m["kind"] for m in received.values()} == {"emergency_start"}
        assert all(m["payload"]["name"] == "Cảnh báo bão" for m in received.values())
        assert latency < 20, latency
        wait_for(
            lambda: Command.objects.filter(pushed_at__isnull=False).count() >= 3,
            timeout=20,
            what="pushed_at recorded",
        )
        assert Command.objects.filter(created_at__lte=timezone.now()).count() == 4  # + board
    finally:
        subscriber.close()
