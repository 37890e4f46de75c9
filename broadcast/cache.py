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

The ETag also carries the local hour, so the 48-hour window slides forward at least hourly.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from django.core.cache import cache
from django.utils import timezone

TOKEN_TTL = 3600
VERSION_TTL = 7 * 24 * 3600
ENTRIES_TTL = 3600
_LOCAL_MAX = 200_000
_local: dict[str, DeviceIdentity] = {}


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
    current values of its version keys (read in the same round trip). ``(None, None)``
    means: not cached, ask the database."""
    known = _local.get(digest)
    if known is not None:
        keys = [token_key(digest)] + [version_key(s) for s in known.scopes]
        values = cache.get_many(keys)
        if values.pop(token_key(digest), None) == known.as_dict():
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
    digests = [d for d in digests if d]
    for digest in digests:
        _local.pop(digest, None)
    if digests:
        cache.delete_many([token_key(d) for d in digests])


def _fresh() -> str:
    return f"{time.time_ns():x}"


def versions_bump(scopes: Iterable[str]) -> None:
    """Give each scope a new version: every device timeline built on it changes ETag."""
    scopes = set(scopes)
    if scopes:
        value = _fresh()
        cache.set_many({version_key(s): value for s in scopes}, VERSION_TTL)


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
