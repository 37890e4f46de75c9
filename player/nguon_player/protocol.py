"""The device side of Nguồn's open device API, without audio: what every device runs.

HTTP + JSON under ``/api/v1/devices/<id>/`` with ``Authorization: Bearer <token>``
(timeline with ETag, media with Range, heartbeat, play logs, commands and their acks) and
the MQTT push topic ``<prefix>/<id>/commands``. The player (``nguon_player.player``), the
server's simulator (``manage.py simulate_devices``) and the load drill all use this module,
so what the server is tested and benchmarked against is what devices run.

Only the standard library (``http.client``, keep-alive per thread) and paho-mqtt.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import random
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import unquote, urljoin, urlparse

from . import __version__

DEFAULT_POLL_SECONDS = 60.0
USER_AGENT = f"nguon-player/{__version__}"
_RETRYABLE = (
    http.client.RemoteDisconnected,
    http.client.BadStatusLine,
    ConnectionResetError,
    BrokenPipeError,
)


class Unreachable(Exception):
    """The server could not be reached (network down, refused, timed out)."""


class ProtocolError(Exception):
    """The server answered with a status this call does not expect."""

    def __init__(self, message: str, status: int = 0, body: bytes = b""):
        super().__init__(f"{message} (HTTP {status}): {body[:200]!r}")
        self.status = status


class ChecksumMismatch(Exception):
    """A downloaded file's size or SHA-256 is not what the timeline announced."""


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    elapsed: float

    def json(self):
        return json.loads(self.body)


def parse_time(value: str) -> datetime:
    """An aware datetime from the API's ISO 8601 (``Z`` or an offset)."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


# --- HTTP ---------------------------------------------------------------------------------


class HttpClient:
    """Keep-alive HTTP(S) connections, one per thread and origin; a request that finds its
    pooled connection closed by the server is sent once more on a fresh one."""

    def __init__(self, *, timeout: float = 15.0):
        self.timeout = timeout
        self._local = threading.local()

    def _connection(self, scheme: str, netloc: str, fresh: bool = False):
        pool = getattr(self._local, "pool", None)
        if pool is None:
            pool = self._local.pool = {}
        key = (scheme, netloc)
        conn = pool.get(key)
        if conn is not None and fresh:
            conn.close()
            conn = None
        if conn is None:
            if scheme == "https":
                conn = http.client.HTTPSConnection(
                    netloc, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                conn = http.client.HTTPConnection(netloc, timeout=self.timeout)
            pool[key] = conn
        return conn

    def close(self) -> None:
        for conn in getattr(self._local, "pool", {}).values():
            conn.close()
        self._local.pool = {}

    def open(self, method: str, url: str, *, body: bytes | None = None, headers=None):
        """Send a request and return the open ``http.client.HTTPResponse`` (read it fully
        or close it). Raises :class:`Unreachable` on network errors."""
        parsed = urlparse(url)
        path = parsed.path + (f"?{parsed.query}" if parsed.query else "")
        headers = {"User-Agent": USER_AGENT, **(headers or {})}
        for attempt in (0, 1):
            conn = self._connection(parsed.scheme, parsed.netloc, fresh=attempt == 1)
            try:
                conn.request(method, path, body=body, headers=headers)
                return conn.getresponse()
            except _RETRYABLE as exc:
                conn.close()
                if attempt == 1:
                    raise Unreachable(f"{method} {url}: {exc!r}") from exc
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                raise Unreachable(f"{method} {url}: {exc!r}") from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def request(self, method: str, url: str, *, body=None, headers=None) -> Response:
        started = time.monotonic()
        response = self.open(method, url, body=body, headers=headers)
        try:
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            response.close()
            raise Unreachable(f"{method} {url}: {exc!r}") from exc
        if response.will_close:
            self.close()
        return Response(
            status=response.status,
            headers={k.lower(): v for k, v in response.getheaders()},
            body=data,
            elapsed=time.monotonic() - started,
        )


# --- the device API -----------------------------------------------------------------------


@dataclass
class TimelineResult:
    status: int  # 200 or 304
    etag: str
    body: dict | None  # the JSON on 200


@dataclass
class DeviceClient:
    """One device's calls to the API. ``skew`` is the server's clock minus ours (seconds),
    measured at every heartbeat and timeline answer; ``server_now()`` is our clock
    corrected by it, which is what timeline times are compared with."""

    base_url: str
    device_id: int
    token: str
    timeout: float = 15.0
    http: HttpClient | None = None
    skew: float = 0.0
    skew_known: bool = False
    advised_poll: float = DEFAULT_POLL_SECONDS
    on_request: Callable[[str, float, int], None] | None = None  # (name, seconds, status)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _samples: list = field(default_factory=list, repr=False)

    def __post_init__(self):
        self.base_url = self.base_url.rstrip("/")
        if self.http is None:
            self.http = HttpClient(timeout=self.timeout)

    # plumbing

    def url(self, tail: str) -> str:
        return f"{self.base_url}/api/v1/devices/{self.device_id}/{tail}"

    def media_url(self, rendition_id: int) -> str:
        return self.url(f"media/{rendition_id}")

    def auth(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    def _call(self, name: str, method: str, url: str, *, payload=None, headers=None):
        body = None
        headers = {**self.auth(), **(headers or {})}
        if payload is not None:
            body = json.dumps(payload, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        t0 = time.time()
        try:
            response = self.http.request(method, url, body=body, headers=headers)
        except Unreachable:
            if self.on_request:
                self.on_request(name, time.time() - t0, 0)
            raise
        if self.on_request:
            self.on_request(name, response.elapsed, response.status)
        return response, t0, time.time()

    def _observe_clock(self, server_iso: str | None, sent: float, received: float) -> None:
        """Skew from a server time taken while we waited. The server may have read its
        clock anywhere in the round trip, so a sample is only as good as half its round
        trip: keep the recent sample with the shortest one (NTP's minimum filter)."""
        if not server_iso:
            return
        try:
            server = parse_time(server_iso).timestamp()
        except ValueError:
            return
        rtt = max(0.0, received - sent)
        with self._lock:
            self._samples = (self._samples + [(rtt, server - (sent + received) / 2)])[-8:]
            self.skew = min(self._samples)[1]
            self.skew_known = True

    def server_now(self) -> float:
        return time.time() + self.skew

    # calls

    def timeline(self, etag: str = "") -> TimelineResult:
        headers = {"If-None-Match": etag} if etag else {}
        response, sent, received = self._call(
            "timeline", "GET", self.url("timeline"), headers=headers
        )
        if response.status == 304:
            return TimelineResult(304, response.headers.get("etag", etag), None)
        if response.status != 200:
            raise ProtocolError("timeline", response.status, response.body)
        body = response.json()
        # generated_at is the server's clock when it compiled this answer (not cached).
        self._observe_clock(body.get("generated_at"), sent, received)
        advised = body.get("poll_seconds")
        if isinstance(advised, int | float) and 5 <= advised <= 3600:
            self.advised_poll = float(advised)
        return TimelineResult(200, response.headers.get("etag", ""), body)

    def heartbeat(self, state: dict) -> dict:
        response, sent, received = self._call(
            "heartbeat", "POST", self.url("heartbeat"), payload=state
        )
        if response.status != 200:
            raise ProtocolError("heartbeat", response.status, response.body)
        answer = response.json()
        self._observe_clock(answer.get("server_time"), sent, received)
        return answer

    def playlogs(self, events: list[dict]) -> dict:
        """Upload play events; ``sent_at`` is our own clock (the server corrects by it)."""
        payload = {"sent_at": iso(time.time()), "events": events}
        response, _s, _r = self._call("playlogs", "POST", self.url("playlogs"), payload=payload)
        if response.status != 200:
            raise ProtocolError("playlogs", response.status, response.body)
        return response.json()

    def commands(self) -> list[dict]:
        response, _s, _r = self._call("commands", "GET", self.url("commands"))
        if response.status != 200:
            raise ProtocolError("commands", response.status, response.body)
        return response.json()

    def ack(self, command_id: int, status: str = "done", detail: str = "") -> bool:
        response, _s, _r = self._call(
            "ack",
            "POST",
            self.url(f"commands/{command_id}/ack"),
            payload={"status": status, "detail": detail[:500]},
        )
        if response.status not in (200, 404):
            raise ProtocolError("ack", response.status, response.body)
        return response.status == 200

    def media(self, url: str, *, offset: int = 0, etag: str = ""):
        """Open a media download from byte ``offset`` (``Range`` + ``If-Range``). Returns
        ``(response, resumed)``: ``resumed`` is False when the server sent the whole file
        (so the caller restarts from byte 0). Read the response fully or close it."""
        url = urljoin(self.base_url + "/", url)
        headers = self.auth()
        if offset:
            headers["Range"] = f"bytes={offset}-"
            if etag:
                headers["If-Range"] = etag
        t0 = time.monotonic()
        response = self.http.open("GET", url, headers=headers)
        if self.on_request:
            self.on_request("media", time.monotonic() - t0, response.status)
        if response.status == 206:
            return response, True
        if response.status == 200:
            return response, False
        body = response.read()
        raise ProtocolError("media", response.status, body)

    def media_verify(self, url: str, *, sha256: str, size: int | None) -> int:
        """Download a file and check it without keeping it (the simulator's devices).
        Returns its size; raises :class:`ChecksumMismatch`."""
        response, _resumed = self.media(url)
        digest = hashlib.sha256()
        total = 0
        try:
            while chunk := response.read(65536):
                digest.update(chunk)
                total += len(chunk)
        except (OSError, http.client.HTTPException) as exc:
            raise Unreachable(f"GET {url}: {exc!r}") from exc
        finally:
            response.close()
        if (size is not None and total != size) or digest.hexdigest() != sha256:
            raise ChecksumMismatch(f"{url}: {total} bytes, sha256 {digest.hexdigest()}")
        return total


def jittered(seconds: float, spread: float = 0.1) -> float:
    """``seconds`` ± ``spread`` (10 %), so a fleet started together does not poll in step."""
    return seconds * random.uniform(1 - spread, 1 + spread)  # noqa: S311 - not security


# --- timeline entries ---------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One timeline entry as the device plays it. ``key`` tells occurrences apart: an
    entry moved to later (after an emergency) is played again at its new start."""

    id: str
    start: float  # server clock, epoch seconds
    end: float
    bulletin_class: str
    preempts: bool
    programme: str
    slot_id: int | None
    parts: tuple[dict, ...]

    @property
    def key(self) -> str:
        return f"{self.id}@{int(self.start)}"

    @property
    def emergency(self) -> bool:
        return self.preempts or self.bulletin_class == "emergency"

    @property
    def duration(self) -> float:
        return max(0.0, self.end - self.start)

    def item(self) -> str | None:
        return next((p["item"] for p in self.parts if p.get("item")), None)


# Part types a loudspeaker plays: cached audio, speech, an outside station relayed through
# Icecast, and a live broadcast from the server's Icecast mount.
PLAYABLE = ("audio", "tts", "relay", "live")


def entries_of(timeline: dict) -> list[Entry]:
    """The playable entries of a ``GET /timeline`` body (loudspeaker parts only)."""
    found = []
    for raw in timeline.get("entries", []):
        parts = tuple(p for p in raw.get("parts", []) if p.get("type") in PLAYABLE)
        if not parts:
            continue
        found.append(
            Entry(
                id=str(raw["id"]),
                start=parse_time(raw["start"]).timestamp(),
                end=parse_time(raw["end"]).timestamp(),
                bulletin_class=raw.get("class", "normal"),
                preempts=bool(raw.get("preempts")),
                programme=str(raw.get("programme", ""))[:255],
                slot_id=raw.get("slot_id"),
                parts=parts,
            )
        )
    return sorted(found, key=lambda e: (e.start, not e.emergency))


def media_needed(entries: list[Entry], *, now: float, hours: float) -> list[dict]:
    """Audio parts of entries not yet over and starting within ``hours``: emergencies
    first, then by start time; one per file."""
    horizon = now + hours * 3600
    wanted = [e for e in entries if e.end > now and e.start < horizon]
    wanted.sort(key=lambda e: (not e.emergency, e.start))
    seen: set[str] = set()
    parts = []
    for entry in wanted:
        for part in entry.parts:
            if part.get("type") == "audio" and part.get("url") and part.get("sha256"):
                if part["sha256"] not in seen:
                    seen.add(part["sha256"])
                    parts.append(part)
    return parts


def play_event(
    entry: Entry, *, attempt: int, started_at: float, duration: float, status: str
) -> dict:
    """A ``POST /playlogs`` event. Its id is stable (entry, start, attempt), so uploading
    it twice stores it once."""
    return {
        "id": f"{entry.key}#{attempt}"[:64],
        "entry_id": entry.id[:64],
        "slot_id": entry.slot_id,
        "item": entry.item(),
        "started_at": iso(started_at),
        "duration": round(max(0.0, duration), 3),
        "status": status,
    }


# --- MQTT ---------------------------------------------------------------------------------


def mqtt_params(url: str, *, username: str = "", password: str = "") -> dict:
    """Host, port, credentials and TLS from ``mqtt://user:pass@host:1883`` (``mqtts://``);
    credentials in the URL win over the defaults given."""
    parsed = urlparse(url)
    return {
        "host": parsed.hostname or "127.0.0.1",
        "port": parsed.port or (8883 if parsed.scheme == "mqtts" else 1883),
        "username": unquote(parsed.username) if parsed.username else (username or None),
        "password": unquote(parsed.password) if parsed.password else (password or None),
        "tls": parsed.scheme == "mqtts",
    }


def command_topic(prefix: str, device_id: int) -> str:
    return f"{prefix.strip('/')}/{device_id}/commands"


class CommandSubscriber:
    """Subscribes to device command topics and calls ``on_command(device_id, command)``
    for each JSON message; reconnects by itself (paho's network thread)."""

    def __init__(
        self,
        url: str,
        *,
        topics: dict[str, int],
        on_command: Callable[[int, dict], None],
        client_id: str,
        username: str = "",
        password: str = "",
        on_connected: Callable[[bool], None] | None = None,
    ):
        import paho.mqtt.client as mqtt

        self.params = mqtt_params(url, username=username, password=password)
        self.topics = topics
        self.on_command = on_command
        self.on_connected = on_connected
        self.subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
        if self.params["username"]:
            self.client.username_pw_set(self.params["username"], self.params["password"])
        if self.params["tls"]:
            self.client.tls_set()
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        self.client.on_connect = self._connected
        self.client.on_disconnect = self._disconnected
        self.client.on_message = self._message
        self.client.on_subscribe = self._suback
        self._pending_subs = 0

    def _connected(self, client, _userdata, _flags, reason_code, _props):
        if reason_code.is_failure:
            if self.on_connected:
                self.on_connected(False)
            return
        topics = list(self.topics)
        self._pending_subs = (len(topics) + 99) // 100
        for i in range(0, len(topics), 100):
            client.subscribe([(t, 1) for t in topics[i : i + 100]])
        if self.on_connected:
            self.on_connected(True)

    def _suback(self, *_args):
        self._pending_subs -= 1
        if self._pending_subs <= 0:
            self.subscribed.set()

    def _disconnected(self, *_args):
        self.subscribed.clear()
        if self.on_connected:
            self.on_connected(False)

    def _message(self, _client, _userdata, message):
        device_id = self.topics.get(message.topic)
        if device_id is None:
            return
        try:
            command = json.loads(message.payload)
        except ValueError:
            return
        if isinstance(command, dict) and "id" in command:
            self.on_command(device_id, command)

    def start(self, wait: float = 0.0) -> bool:
        """Connect in the background; with ``wait``, wait that long for the subscription."""
        self.client.connect_async(self.params["host"], self.params["port"], keepalive=30)
        self.client.loop_start()
        return self.subscribed.wait(wait) if wait else False

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
