"""The device API's cache: token → device identity, and timeline versions per scope.

An unchanged timeline is answered ``304`` from these keys alone, without the database, in
one cache round trip.

- ``bc:tok:<sha256>``: the identity of the device holding that token (device id, cluster,
  kind, and the scopes whose versions make up its timeline's ETag). Deleted when the token
  is rotated or revoked, or the device, its cluster or the cluster's zones change. It is
  the authority: each process also keeps identities it has seen, but trusts one only when
  the shared key, read in the same round trip as the versions, still holds it.
- ``bc:v:<scope>``: an opaque version per scope, ``c<cluster id>``, ``z<zone id>`` or
  ``u<unit id>``. A change to a programme bumps the scopes it targets (a provincial
  programme bumps one key, not every cluster of the province). A missing key is created
  fresh, so an evicted key costs one ``200``, never a stale ``304``.
- ``bc:tl:<hash>``: compiled timeline entries shared by every cluster reached by the same
  programmes with the same versions (a provincial emergency compiles once per province,
  not once per device).

With Redis, each process also keeps what it read in a per-process layer (``LocalLayer``)
that every change invalidates over pub/sub, so the common poll costs no round trip at all.

The ETag also carries the local hour, so the 48-hour window slides forward at least hourly.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

TOKEN_TTL = 3600
VERSION_TTL = 7 * 24 * 3600
ENTRIES_TTL = 3600
_LOCAL_MAX = 200_000
_local: dict[str, DeviceIdentity] = {}
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeviceIdentity:
    """What the API knows about an authenticated device without reading the database."""

    device_id: int
    cluster_id: int
    commune_id: int
    kind: str
    scopes: tuple[str, ...]
    token_digest: str

    @property
    def pk(self) -> int:
        return self.device_id

    def as_dict(self) -> dict:
        data = asdict(self)
        data["scopes"] = list(self.scopes)
        return data


def token_key(digest: str) -> str:
    return f"bc:tok:{digest}"


def version_key(scope: str) -> str:
    return f"bc:v:{scope}"


def _from_dict(data: dict) -> DeviceIdentity:
    return DeviceIdentity(**{**data, "scopes": tuple(data["scopes"])})


def identity_lookup(digest: str) -> tuple[DeviceIdentity | None, dict | None]:
    """The cached identity for a token digest and, when this process knew it already, the
    current values of its version keys. ``(None, None)`` means: not cached, ask the database.

    With Redis, the per-process layer (``LocalLayer``) answers without a round trip once it
    holds the identity and every version; otherwise one round trip reads the shared token
    key and the versions together, and what it read is kept in the layer."""
    layer = local_layer()
    generation = 0
    if layer is not None:
        identity, versions = layer.lookup(digest)
        if identity is not None:
            return identity, versions
        generation = layer.generation
    known = _local.get(digest)
    if known is not None:
        keys = [token_key(digest)] + [version_key(s) for s in known.scopes]
        values = cache.get_many(keys)
        if values.pop(token_key(digest), None) == known.as_dict():
            if layer is not None:
                layer.remember(generation, known, values)
            return known, values
        _local.pop(digest, None)
    data = cache.get(token_key(digest))
    if not data:
        return None, None
    identity = _from_dict(data)
    _remember(identity)
    return identity, None


def _remember(identity: DeviceIdentity) -> None:
    if len(_local) >= _LOCAL_MAX:
        _local.clear()
    _local[identity.token_digest] = identity


def identity_set(identity: DeviceIdentity) -> None:
    cache.set(token_key(identity.token_digest), identity.as_dict(), TOKEN_TTL)
    _remember(identity)


def identity_forget(digests: Iterable[str | None]) -> None:
    known = [d for d in digests if d]
    for digest in known:
        _local.pop(digest, None)
    if known:
        cache.delete_many([token_key(d) for d in known])
        _publish(tokens=known)


def _fresh() -> str:
    return f"{time.time_ns():x}"


def versions_bump(scopes: Iterable[str]) -> None:
    """Give each scope a new version: every device timeline built on it changes ETag."""
    scopes = set(scopes)
    if scopes:
        value = _fresh()
        cache.set_many({version_key(s): value for s in scopes}, VERSION_TTL)
        _publish(scopes=scopes)


def scope_versions(scopes: Iterable[str], known: dict | None = None) -> dict[str, str]:
    """Current version per scope (``known`` = values already read this request)."""
    keys = [version_key(s) for s in scopes]
    values = dict(known or {})
    missing = [k for k in keys if k not in values]
    if missing:
        values.update(cache.get_many(missing))
        missing = [k for k in keys if k not in values]
    if missing:
        fresh = _fresh()
        for key in missing:
            cache.add(key, fresh, VERSION_TTL)
        values.update(cache.get_many(missing))
    return {k[len("bc:v:") :]: values.get(k, "") for k in keys}


def hour_bucket() -> str:
    return timezone.localtime().strftime("%Y%m%d%H")


def timeline_version(identity: DeviceIdentity, known: dict | None = None) -> str:
    """The device's current timeline version, from the cache only."""
    versions = scope_versions(identity.scopes, known)
    raw = "|".join(
        [identity.kind, str(identity.cluster_id), hour_bucket()]
        + [versions[s] for s in identity.scopes]
    )
    return hashlib.blake2b(raw.encode(), digest_size=10).hexdigest()


def entries_key(*, kind: str, reach: list[tuple], versions: dict[str, str]) -> str:
    raw = repr((kind, hour_bucket(), sorted(reach), sorted(versions.items())))
    return "bc:tl:" + hashlib.blake2b(raw.encode(), digest_size=16).hexdigest()


def entries_get(key: str):
    return cache.get(key)


def entries_set(key: str, entries) -> None:
    cache.set(key, entries, ENTRIES_TTL)


# --- the per-process layer ---------------------------------------------------------------


class LocalLayer:
    """This process's copy of token identities and scope versions, kept right by Redis
    pub/sub, so that an unchanged timeline is answered without any network round trip.

    Every change that matters to a cached answer — ``versions_bump`` (a programme, a slot, an
    emergency, a withdrawn item, a cluster moved) and ``identity_forget`` (a token rotated or
    revoked, a device disabled) — deletes the shared key and then publishes the keys it
    touched on one channel. A subscriber thread in each process drops those entries from its
    copy, and the process that made the change drops them at once.

    The copy is trusted only while the subscription is confirmed: on (re)subscribing, on any
    connection error and after a fork it is emptied, and until the server confirms the
    subscription every lookup goes to Redis as before. A value read from Redis is kept only if
    no invalidation arrived while it was being read (the ``generation`` check), so a read that
    races a change can answer once with the old value but is never remembered.

    Cross-process staleness is therefore bounded by pub/sub delivery (milliseconds on a
    healthy link) and, when the link fails silently, by the health check (``HEALTH_SECONDS``).
    """

    HEALTH_SECONDS = 5
    MAX_ENTRIES = 500_000

    def __init__(self, client_factory, channel: str):
        self._client_factory = client_factory
        self.channel = channel
        self.lock = threading.Lock()
        self.generation = 0
        self.live = False
        self.identities: dict[str, DeviceIdentity] = {}
        self.versions: dict[str, str] = {}
        self.pid = os.getpid()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="bc-invalidation", daemon=True)
        self.thread.start()

    # the request side

    def lookup(self, digest: str) -> tuple[DeviceIdentity | None, dict | None]:
        if not self.live:
            return None, None
        identity = self.identities.get(digest)
        if identity is None:
            return None, None
        known = {}
        for scope in identity.scopes:
            key = version_key(scope)
            value = self.versions.get(key)
            if value is None:
                return None, None
            known[key] = value
        return identity, known

    def remember(self, generation: int, identity: DeviceIdentity | None, values: dict) -> None:
        """Keep what was read from Redis, unless an invalidation came in meanwhile."""
        with self.lock:
            if not self.live or generation != self.generation:
                return
            if len(self.versions) + len(values) > self.MAX_ENTRIES:
                self.versions.clear()
            if len(self.identities) >= self.MAX_ENTRIES:
                self.identities.clear()
            if identity is not None:
                self.identities[identity.token_digest] = identity
            self.versions.update({k: v for k, v in values.items() if v is not None})

    def drop(self, *, tokens=(), versions=()) -> None:
        with self.lock:
            self.generation += 1
            for digest in tokens:
                self.identities.pop(digest, None)
            for key in versions:
                self.versions.pop(key, None)

    def _reset(self, live: bool) -> None:
        with self.lock:
            self.generation += 1
            self.identities.clear()
            self.versions.clear()
            self.live = live

    # the subscriber thread

    def _run(self) -> None:
        delay = 0.5
        while not self.stopping.is_set():
            pubsub = None
            try:
                client = self._client_factory(health_check_interval=self.HEALTH_SECONDS)
                pubsub = client.pubsub()
                pubsub.subscribe(self.channel)
                while not self.stopping.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message is None:
                        continue
                    if message["type"] == "subscribe":
                        self._reset(live=True)  # nothing published from now on is missed
                        delay = 0.5
                    elif message["type"] == "message":
                        self._apply(message["data"])
            except Exception:  # noqa: BLE001 - any failure: stop trusting the copy, retry
                logger.warning("device cache invalidation link lost; retrying", exc_info=True)
            finally:
                self._reset(live=False)
                if pubsub is not None:
                    with contextlib.suppress(Exception):
                        pubsub.close()
            self.stopping.wait(delay)
            delay = min(delay * 2, 10.0)

    def _apply(self, data) -> None:
        try:
            payload = json.loads(data)
        except (TypeError, ValueError):
            self._reset(live=True)  # unreadable: forget everything, stay subscribed
            return
        self.drop(
            tokens=payload.get("t", ()), versions=[version_key(s) for s in payload.get("v", ())]
        )

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)
        self._reset(live=False)


_layer: LocalLayer | None = None
SUBSCRIBER_NAME = "nguon-bc-invalidate"  # CLIENT LIST shows the subscribers by this name
_layer_lock = threading.Lock()


def _channel() -> str:
    return cache.make_key("bc:invalidate")


def local_layer() -> LocalLayer | None:
    """This process's layer: started on first use when the cache is Redis (and
    ``BROADCAST_LOCAL_CACHE`` is on), restarted after a fork; ``None`` otherwise."""
    global _layer
    layer = _layer
    if layer is not None and layer.pid == os.getpid():
        return layer
    if not settings.BROADCAST_LOCAL_CACHE:
        return None
    from core.cache import redis_url

    url = redis_url()
    if url is None:
        return None
    import redis

    with _layer_lock:
        if _layer is None or _layer.pid != os.getpid():
            _layer = LocalLayer(
                lambda **kw: redis.Redis.from_url(url, client_name=SUBSCRIBER_NAME, **kw),
                _channel(),
            )
        return _layer


def local_layer_stop() -> None:
    global _layer
    with _layer_lock:
        if _layer is not None and _layer.pid == os.getpid():
            _layer.stop()
        _layer = None


def _publish(*, tokens=(), scopes=()) -> None:
    from core.cache import redis_client

    layer = _layer if _layer is not None and _layer.pid == os.getpid() else None
    if layer is not None:
        layer.drop(tokens=tokens, versions=[version_key(s) for s in scopes])
    client = redis_client()
    if client is None:
        return
    payload = {}
    if tokens:
        payload["t"] = list(tokens)
    if scopes:
        payload["v"] = sorted(scopes)
    client.publish(_channel(), json.dumps(payload))
