"""Simulated loudspeakers that speak the device API over real HTTP (and MQTT).

Each simulated device, every simulated minute: polls its timeline with ``If-None-Match``,
downloads (and verifies) media it has not got yet, sends a heartbeat, reports entries
that have started as played (idempotent ids), polls and acknowledges commands. With MQTT
configured it also subscribes to its topic and acknowledges what arrives there.

Used by ``manage.py simulate_devices``, by the tests and by the benchmark.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

import requests

logger = logging.getLogger(__name__)


@dataclass
class SimDevice:
    device_id: int
    token: str
    etag: str = ""
    timeline: list = field(default_factory=list)
    media: dict = field(default_factory=dict)  # url -> sha256 verified
    played: set = field(default_factory=set)
    mqtt_messages: list = field(default_factory=list)


class Simulator:
    def __init__(
        self,
        *,
        base_url: str,
        devices: list[SimDevice],
        mqtt_url: str = "",
        topic_prefix: str = "nguon/devices",
        workers: int = 8,
        timeout: float = 15,
    ):
        self.base = base_url.rstrip("/")
        self.devices = devices
        self.mqtt_url = mqtt_url
        self.topic_prefix = topic_prefix
        self.workers = workers
        self.timeout = timeout
        self.stats: Counter = Counter()
        self.lock = threading.Lock()
        self.local = threading.local()
        self._mqtt = None

    # -- plumbing -------------------------------------------------------------------------

    def _session(self) -> requests.Session:
        session = getattr(self.local, "session", None)
        if session is None:
            session = self.local.session = requests.Session()
        return session

    def _count(self, key: str, n: int = 1) -> None:
        with self.lock:
            self.stats[key] += n

    def _url(self, device: SimDevice, tail: str) -> str:
        return f"{self.base}/api/v1/devices/{device.device_id}/{tail}"

    def _headers(self, device: SimDevice) -> dict:
        return {"Authorization": f"Bearer {device.token}"}

    # -- one device, one minute -----------------------------------------------------------

    def poll_timeline(self, device: SimDevice) -> None:
        headers = self._headers(device)
        if device.etag:
            headers["If-None-Match"] = device.etag
        response = self._session().get(
            self._url(device, "timeline"), headers=headers, timeout=self.timeout
        )
        self._count(f"timeline_{response.status_code}")
        if response.status_code == 200:
            device.etag = response.headers.get("ETag", "")
            device.timeline = response.json()["entries"]

    def download_media(self, device: SimDevice) -> None:
        for entry in device.timeline:
            for part in entry["parts"]:
                url = part.get("url")
                if part.get("type") != "audio" or not url or url in device.media:
                    continue
                response = self._session().get(url, headers=self._headers(device), timeout=60)
                self._count(f"media_{response.status_code}")
                if response.status_code != 200:
                    continue
                digest = hashlib.sha256(response.content).hexdigest()
                if digest == part["sha256"]:
                    device.media[url] = digest
                    self._count("media_bytes", len(response.content))
                else:
                    self._count("media_checksum_failures")

    def heartbeat(self, device: SimDevice) -> None:
        now = datetime.now(UTC)
        playing = next(
            (
                e["programme"]
                for e in device.timeline
                if _parse(e["start"]) <= now < _parse(e["end"])
            ),
            "",
        )
        response = self._session().post(
            self._url(device, "heartbeat"),
            json={
                "status": "playing" if playing else "idle",
                "volume": 70,
                "signal": -75,
                "firmware": "sim-1.0",
                "ip": "10.0.0.1",
                "now_playing": playing[:255],
            },
            headers=self._headers(device),
            timeout=self.timeout,
        )
        self._count(f"heartbeat_{response.status_code}")

    def report_played(self, device: SimDevice) -> None:
        now = datetime.now(UTC)
        events = []
        for entry in device.timeline:
            if entry["id"] in device.played or _parse(entry["start"]) > now:
                continue
            duration = sum(float(p.get("duration") or 0) for p in entry["parts"])
            events.append(
                {
                    "id": f"{device.device_id}-{entry['id']}",
                    "entry_id": entry["id"],
                    "slot_id": entry["slot_id"],
                    "started_at": entry["start"],
                    "duration": duration,
                    "status": "completed",
                }
            )
        if not events:
            return
        response = self._session().post(
            self._url(device, "playlogs"),
            json={"sent_at": now.isoformat(), "events": events},
            headers=self._headers(device),
            timeout=self.timeout,
        )
        self._count(f"playlogs_{response.status_code}")
        if response.status_code == 200:
            device.played.update(e["entry_id"] for e in events)
            self._count("played_entries", len(events))

    def commands(self, device: SimDevice) -> None:
        response = self._session().get(
            self._url(device, "commands"), headers=self._headers(device), timeout=self.timeout
        )
        self._count(f"commands_{response.status_code}")
        if response.status_code != 200:
            return
        for command in response.json():
            self.ack(device, command["id"])

    def ack(self, device: SimDevice, command_id: int) -> None:
        response = self._session().post(
            self._url(device, f"commands/{command_id}/ack"),
            json={"status": "done"},
            headers=self._headers(device),
            timeout=self.timeout,
        )
        self._count(f"ack_{response.status_code}")

    def minute(self, device: SimDevice) -> None:
        try:
            self.poll_timeline(device)
            self.download_media(device)
            self.heartbeat(device)
            self.report_played(device)
            self.commands(device)
        except requests.RequestException as exc:
            self._count("errors")
            self._count(f"error_{type(exc).__name__}")
            logger.warning("simulated device %s: %s", device.device_id, exc)

    # -- MQTT -----------------------------------------------------------------------------

    def start_mqtt(self) -> bool:
        if not self.mqtt_url:
            return False
        import paho.mqtt.client as mqtt

        from .mqtt import broker_params

        params = broker_params(self.mqtt_url)
        by_topic = {f"{self.topic_prefix}/{d.device_id}/commands": d for d in self.devices}
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"sim-{uuid.uuid4().hex[:8]}"
        )
        if params["username"]:
            client.username_pw_set(params["username"], params["password"])
        subscribed = threading.Event()

        def on_message(_client, _userdata, message):
            device = by_topic.get(message.topic)
            if device is None:
                return
            payload = json.loads(message.payload)
            payload["_received"] = time.time()
            device.mqtt_messages.append(payload)
            self._count("mqtt_messages")

        client.on_message = on_message
        client.on_subscribe = lambda *args: subscribed.set()
        try:
            client.connect(params["host"], params["port"])
        except OSError:
            self._count("mqtt_unavailable")
            return False
        client.loop_start()
        topics = list(by_topic)
        for i in range(0, len(topics), 100):
            subscribed.clear()
            client.subscribe([(t, 1) for t in topics[i : i + 100]])
            subscribed.wait(10)
        self._mqtt = client
        return True

    def stop_mqtt(self) -> None:
        if self._mqtt is not None:
            self._mqtt.loop_stop()
            self._mqtt.disconnect()
            self._mqtt = None

    # -- run ------------------------------------------------------------------------------

    def run(self, *, minutes: int, tick_seconds: float = 60.0) -> Counter:
        """Run ``minutes`` simulated minutes, each taking ``tick_seconds`` of real time."""
        self.start_mqtt()
        try:
            with ThreadPoolExecutor(max_workers=self.workers) as pool:
                for i in range(minutes):
                    started = time.monotonic()
                    list(pool.map(self.minute, self.devices))
                    self._count("minutes")
                    if i < minutes - 1:
                        time.sleep(max(0.0, tick_seconds - (time.monotonic() - started)))
            if self._mqtt is not None:
                time.sleep(0.5)
                for device in self.devices:  # acknowledge pushed commands too
                    for message in device.mqtt_messages:
                        if not message.get("_acked"):
                            self.ack(device, message["id"])
                            message["_acked"] = True
        finally:
            self.stop_mqtt()
        return self.stats


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def create_fleet(*, clusters: int, commune=None, prefix: str = "SIM") -> list[SimDevice]:
    """Get or create ``clusters`` clusters with one loudspeaker each (serials
    ``<prefix>-<n>``) and give each a fresh token (old tokens of those devices stop)."""
    from newsroom.models import AdministrativeUnit

    from .models import Cluster, Device
    from .services import device_token_issue

    if commune is None:
        commune = (
            AdministrativeUnit.objects.filter(unit_type=AdministrativeUnit.Type.COMMUNE)
            .order_by("path")
            .first()
        )
        if commune is None:
            raise ValueError("no commune: import units first (manage.py import_units)")
    fleet = []
    for i in range(1, clusters + 1):
        serial = f"{prefix}-{i:06d}"
        device = Device.objects.filter(serial=serial).first()
        if device is None:
            cluster = Cluster.objects.create(name=f"Cụm loa mô phỏng {i}", commune=commune)
            device = Device.objects.create(cluster=cluster, serial=serial, vendor="Simulator")
        fleet.append(SimDevice(device_id=device.pk, token=device_token_issue(device=device)))
    return fleet
