"""The device protocol shared by the API views (``api``) and the fast path (``middleware``):
who the bearer token belongs to, how an ETag is matched, what a heartbeat is and how it is
accepted. Both import it; neither imports the other.
"""

from __future__ import annotations

from ipaddress import ip_address
from typing import Literal

from django.utils import timezone
from ninja import Field

from core.openapi import ObjectSchema
from newsroom.models import AdministrativeUnit

from .. import commands
from ..models import Device
from ..targets import ancestor_paths, device_scopes
from ..tokens import token_digest
from . import cache as bcache
from . import heartbeats

# --- who is asking -------------------------------------------------------------------------


def bearer_token(request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, else None."""
    scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def device_identity(token: str) -> tuple[bcache.DeviceIdentity | None, dict | None]:
    """The device behind a bearer token, from the cache (one round trip that also reads its
    timeline versions), else from the database (then cached). Revoked, rotated-away and
    disabled devices get ``(None, None)``."""
    if not token or len(token) > 200:
        return None, None
    digest = token_digest(token)
    identity, known = bcache.identity_lookup(digest)
    if identity is not None:
        return identity, known
    device = (
        Device.objects.select_related("cluster__commune")
        .filter(token_hash=digest, enabled=True, cluster__enabled=True)
        .first()
    )
    if device is None:
        return None, None
    commune = device.cluster.commune
    unit_ids = AdministrativeUnit.objects.filter(
        path__in=ancestor_paths(commune.path, commune.steplen)
    ).values_list("pk", flat=True)
    identity = bcache.DeviceIdentity(
        device_id=device.pk,
        cluster_id=device.cluster_id,
        commune_id=commune.pk,
        kind=device.kind,
        scopes=device_scopes(
            cluster_id=device.cluster_id,
            zone_ids=device.cluster.zones.values_list("pk", flat=True),
            unit_ids=unit_ids,
        ),
        token_digest=digest,
    )
    bcache.identity_set(identity)
    return identity, None


# --- conditional requests ------------------------------------------------------------------


def etag_matches(header: str, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (weak or strong) or ``*``."""
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate.startswith("W/"):
            candidate = candidate[2:]
        if candidate in (etag, "*"):
            return True
    return False


# --- heartbeats ----------------------------------------------------------------------------


class HeartbeatIn(ObjectSchema):
    status: Literal["idle", "playing", "off", "error"] = "idle"
    volume: int | None = Field(None, ge=0, le=100, strict=True)
    signal: int | None = Field(None, ge=-150, le=0, strict=True, description="dBm")
    firmware: str | None = Field(None, max_length=64)
    ip: str | None = Field(None, max_length=45)
    now_playing: str | None = Field(None, max_length=255)
    error: str | None = Field(None, max_length=500)


def ip_is_valid(value: str | None) -> bool:
    if not value:
        return True
    try:
        ip_address(value)
    except ValueError:
        return False
    return True


def heartbeat_accept(device_id: int, data: dict) -> dict:
    """Record a valid heartbeat (buffered in Redis when there is one) and answer it."""
    now = timezone.now()
    pending = heartbeats.buffer(device_id=device_id, data=data, now=now)
    if pending is None:
        heartbeats.heartbeat_record(device_id=device_id, data=data, now=now)
        pending = commands.commands_pending_count(device_id=device_id)
    return {"ok": True, "server_time": now.isoformat(), "pending_commands": pending}
