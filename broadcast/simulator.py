"""Simulated loudspeakers that speak the device API over real HTTP (and MQTT).

They run the reference player's protocol code (``nguon_player.protocol``, the package in
``player/``) without audio, so what the server is tested and benchmarked against is what
devices run. Each simulated device, every simulated minute: polls its timeline with
``If-None-Match``, downloads and verifies (size, SHA-256) media it has not got yet, sends
a heartbeat, reports entries that have started as played (the player's stable event
ids), polls and acknowledges commands. With MQTT configured it also subscribes to its
topic and acknowledges what arrives there.

Used by ``manage.py simulate_devices``, by the tests and by the benchmarks.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from nguon_player.protocol import (
    ChecksumMismatch,
    CommandSubscriber,
    DeviceClient,
    HttpClient,
    ProtocolError,
    Unreachable,
    command_topic,
    entries_of,
    media_needed,
    play_event,
)

logger = logging.getLogger(__name__)


@dataclass
class SimDevice:
    device_id: int
    token: str
    etag: str = ""
    timeline: list = field(default_factory=list)  # nguon_player.protocol.Entry
    media: dict = field(default_factory=dict)  # sha256 -> bytes verified
    played: set = field(default_factory=set)
    mqtt_messages: list = field(default_factory=list)
    client: DeviceClient | None = None


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
        self.http = HttpClient(timeout=timeout)  # keep-alive per thread, shared by devices
        self._mqtt: CommandSubscriber | None = None
        for device in devices:
            device.client = DeviceClient(
                self.base,
                device.device_id,
                device.token,
                timeout=timeout,
                http=self.http,
                on_request=self._observe,
            )

    # -- plumbing -------------------------------------------------------------------------

    def _count(self, key: str, n: int = 1) -> None:
        with self.lock:
            self.stats[key] += n

    def _observe(self, name: str, _seconds: float, status: int) -> None:
        self._count(f"{name}_{status}" if status else f"{name}_unreachable")

    # -- one device, one minute -----------------------------------------------------------

    def poll_timeline(self, device: SimDevice) -> None:
        result = device.client.timeline(device.etag)
        if result.status == 200:
            device.etag = result.etag
            device.timeline = entries_of(result.body)

    def download_media(self, device: SimDevice) -> None:
        now = device.client.server_now()
        for part in media_needed(device.timeline, now=now, hours=48):
            if part["sha256"] in device.media:
                continue
            try:
                size = device.client.media_verify(
                    part["url"], sha256=part["sha256"], size=part.get("size")
                )
            except ChecksumMismatch:
                self._count("media_checksum_failures")
                continue
            except ProtocolError:
                continue  # counted by status
            device.media[part["sha256"]] = size
            self._count("media_bytes", size)

    def heartbeat(self, device: SimDevice) -> None:
        now = device.client.server_now()
        playing = next((e.programme for e in device.timeline if e.start <= now < e.end), "")
        device.client.heartbeat(
            {
                "status": "playing" if playing else "idle",
                "volume": 70,
                "signal": -75,
                "firmware": "sim-1.0",
                "ip": "10.0.0.1",
                "now_playing": playing[:255],
            }
        )

    def report_played(self, device: SimDevice) -> None:
        now = device.client.server_now()
        events = []
        for entry in device.timeline:
            if entry.key in device.played or entry.start > now:
                continue
            events.append(
                play_event(
                    entry,
                    attempt=1,
                    started_at=entry.start - device.client.skew,  # our clock, as a device
                    duration=entry.duration,
                    status="completed",
                )
            )
        if not events:
            return
        device.client.playlogs(events)
        device.played.update(e.key for e in device.timeline if e.start <= now)
        self._count("played_entries", len(events))

    def commands(self, device: SimDevice) -> None:
        for command in device.client.commands():
            self.ack(device, command["id"])

    def ack(self, device: SimDevice, command_id: int) -> None:
        device.client.ack(command_id, "done")

    def minute(self, device: SimDevice) -> None:
        try:
            self.poll_timeline(device)
            self.download_media(device)
            self.heartbeat(device)
            self.report_played(device)
            self.commands(device)
        except (Unreachable, ProtocolError) as exc:
            self._count("errors")
            self._count(f"error_{type(exc).__name__}")
            logger.warning("simulated device %s: %s", device.device_id, exc)

    # -- MQTT -----------------------------------------------------------------------------

    def start_mqtt(self) -> bool:
        if not self.mqtt_url:
            return False
        by_topic = {command_topic(self.topic_prefix, d.device_id): d for d in self.devices}

        def on_command(device_id: int, command: dict) -> None:
            device = by_topic[command_topic(self.topic_prefix, device_id)]
            command["_received"] = time.time()
            device.mqtt_messages.append(command)
            self._count("mqtt_messages")

        subscriber = CommandSubscriber(
            self.mqtt_url,
            topics={t: d.device_id for t, d in by_topic.items()},
            on_command=on_command,
            client_id=f"sim-{uuid.uuid4().hex[:8]}",
        )
        if not subscriber.start(wait=10):
            subscriber.stop()
            self._count("mqtt_unavailable")
            return False
        self._mqtt = subscriber
        return True

    def stop_mqtt(self) -> None:
        if self._mqtt is not None:
            self._mqtt.stop()
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
