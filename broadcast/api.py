"""Device API at /api/v1/devices/: each device reads and writes only its own resources.

Authentication is ``Authorization: Bearer <token>``; the token → device lookup is cached
(``broadcast.cache``), so an unchanged timeline answers ``304`` without the database. These
routes run outside ``ATOMIC_REQUESTS`` (a transaction would open a database connection on
every poll); the services they call open their own transactions where needed.

Errors are JSON ``{"error": ...}``; a bad field adds ``"field"`` (400) or ninja's
``"detail"`` list with each field's location (422).
"""

from __future__ import annotations

import base64
import re
from datetime import datetime, timedelta
from typing import Literal

from django.conf import settings
from django.http import FileResponse, HttpResponse, HttpResponseNotModified, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from ninja.operation import PathView
from ninja.security import HttpBearer

from media.models import Rendition
from newsroom.models import NewsItem

from . import cache as bcache
from . import heartbeats, services
from .cache import DeviceIdentity
from .middleware import etag_matches
from .models import Cluster, Command, Device, Slot, SlotItem
from .selectors import (
    device_identity,
    device_schedule_items,
    device_timeline_data,
    programmes_for_clusters,
)
from .tasks import command_message
from .timeline import to_local_iso


class DeviceToken(HttpBearer):
    def authenticate(self, request, token):
        identity, known = device_identity(token)
        request.bc_known_versions = known
        return identity


router = Router(auth=DeviceToken(), tags=["devices"])


class Error(Schema):
    error: str
    field: str | None = None


def _own(request, device_id: int) -> DeviceIdentity:
    identity: DeviceIdentity = request.auth
    if identity.device_id != device_id:
        raise HttpError(403, _("This token belongs to another device."))
    return identity


def _bad(field: str, message: str) -> JsonResponse:
    return JsonResponse({"error": message, "field": field}, status=400)


# --- trivial view (benchmark baseline) ---------------------------------------------------


@router.get("/ping", auth=None, summary="Trivial JSON answer (load-test baseline)")
def ping(request):
    return {"ok": True}


# --- timeline -----------------------------------------------------------------------------


def _part_out(request, device_id: int, part: dict) -> dict:
    part = dict(part)
    rendition_id = part.pop("rendition_id", None)
    if rendition_id is not None:
        part["url"] = request.build_absolute_uri(
            reverse("api-v1:device_media", args=[device_id, rendition_id])
        )
    return part


@router.get(
    "/{int:device_id}/timeline",
    summary="The device's compiled timeline for the next 48 hours (ETag, 304 when unchanged)",
)
def device_timeline_get(request, device_id: int):
    identity = _own(request, device_id)
    known = getattr(request, "bc_known_versions", None)
    version = bcache.timeline_version(identity, known)
    etag = f'"{version}"'
    if etag_matches(request.headers.get("If-None-Match", ""), etag):
        response = HttpResponseNotModified()
        response["ETag"] = etag
        return response
    now = timezone.now()
    versions = bcache.scope_versions(identity.scopes, known)
    entries = device_timeline_data(identity=identity, versions=versions, now=now)
    body = {
        "device": identity.device_id,
        "cluster": identity.cluster_id,
        "kind": identity.kind,
        "version": version,
        "generated_at": to_local_iso(now),
        "valid_until": to_local_iso(now + timedelta(hours=settings.BROADCAST_TIMELINE_HOURS)),
        "entries": [
            {**e, "parts": [_part_out(request, identity.device_id, p) for p in e["parts"]]}
            for e in entries
        ],
    }
    response = JsonResponse(body, json_dumps_params={"ensure_ascii": False})
    response["ETag"] = etag
    response["Cache-Control"] = "no-cache"
    return response


# --- media --------------------------------------------------------------------------------

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _asset_allowed(device: Device, asset_id: int) -> bool:
    """The file belongs to the device's legacy schedule, its timeline's programmes (audio
    item or rendered TTS), or a play-now command sent to it."""
    if device_schedule_items(device=device).filter(audio=asset_id).exists():
        return True
    clusters = list(
        Cluster.objects.filter(pk=device.cluster_id)
        .select_related("commune")
        .prefetch_related("zones")
    )
    reach = programmes_for_clusters(clusters, start=timezone.now())[device.cluster_id]
    programme_ids = [p.pk for p, _rank in reach]
    if programme_ids:
        live = NewsItem.objects.filter(
            audio_id=asset_id, live=True, withdrawn_at__isnull=True
        ).values("pk")
        if SlotItem.objects.filter(slot__programme_id__in=programme_ids, item__in=live).exists():
            return True
        if Slot.objects.filter(programme_id__in=programme_ids, tts_asset_id=asset_id).exists():
            return True
    # JSON key comparisons differ per database: compare the few recent payloads here.
    rendition_ids = set(Rendition.objects.filter(asset_id=asset_id).values_list("pk", flat=True))
    payloads = Command.objects.filter(
        device=device,
        kind=Command.Kind.PLAY_NOW,
        created_at__gte=timezone.now() - timedelta(days=2),
    ).values_list("payload", flat=True)
    return any(p.get("rendition_id") in rendition_ids for p in payloads)


@router.get(
    "/{int:device_id}/media/{int:rendition_id}",
    url_name="device_media",
    summary="Download a loudspeaker file of the timeline (Range requests, SHA-256 digest)",
)
def device_media(request, device_id: int, rendition_id: int):
    identity = _own(request, device_id)
    device = Device.objects.select_related("cluster__commune").get(pk=identity.device_id)
    rendition = Rendition.objects.filter(
        pk=rendition_id, profile="loudspeaker", status=Rendition.Status.READY
    ).first()
    if rendition is None or not _asset_allowed(device, rendition.asset_id):
        raise HttpError(404, _("This file is not in the device's schedule."))
    etag = f'"{rendition.sha256}"'
    digest = base64.b64encode(bytes.fromhex(rendition.sha256)).decode("ascii")
    if etag_matches(request.headers.get("If-None-Match", ""), etag):
        response = HttpResponseNotModified()
        response["ETag"] = etag
        return response
    try:
        fh = rendition.file.open("rb")
    except OSError as exc:
        raise HttpError(404, _("This file is not in the device's schedule.")) from exc
    size = rendition.size
    range_header = request.headers.get("Range", "")
    if_range = request.headers.get("If-Range", "")
    match = _RANGE.match(range_header.strip()) if range_header else None
    if range_header and (not if_range or if_range == etag):
        if match is None or (not match.group(1) and not match.group(2)):
            fh.close()
            return _unsatisfiable(size)
        first, last = match.group(1), match.group(2)
        if first:
            start = int(first)
            end = min(int(last), size - 1) if last else size - 1
        else:  # suffix range: the last N bytes
            start = max(size - int(last), 0)
            end = size - 1
        if start >= size or start > end:
            fh.close()
            return _unsatisfiable(size)
        fh.seek(start)
        data = fh.read(end - start + 1)
        fh.close()
        response = HttpResponse(data, status=206, content_type=rendition.mime_type)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(len(data))
    else:
        response = FileResponse(fh, content_type=rendition.mime_type)
        response["Content-Length"] = str(size)
    response["Accept-Ranges"] = "bytes"
    response["ETag"] = etag
    # RFC 3230 wants the base64 of the raw digest; the timeline lists the hex form.
    response["Digest"] = f"sha-256={digest}"
    response["Repr-Digest"] = f"sha-256=:{digest}:"
    response["X-Checksum-SHA256"] = rendition.sha256
    return response


def _unsatisfiable(size: int) -> JsonResponse:
    response = JsonResponse(
        {"error": _("The requested range is not satisfiable."), "field": "Range"}, status=416
    )
    response["Content-Range"] = f"bytes */{size}"
    return response


# --- heartbeat ----------------------------------------------------------------------------


class HeartbeatIn(Schema):
    status: Literal["idle", "playing", "off", "error"] = "idle"
    volume: int | None = Field(None, ge=0, le=100)
    signal: int | None = Field(None, ge=-150, le=0, description="dBm")
    firmware: str | None = Field(None, max_length=64)
    ip: str | None = Field(None, max_length=45)
    now_playing: str | None = Field(None, max_length=255)
    error: str | None = Field(None, max_length=500)


class HeartbeatOut(Schema):
    ok: bool
    server_time: str
    pending_commands: int


@router.post(
    "/{int:device_id}/heartbeat",
    response={200: HeartbeatOut, 400: Error},
    summary="Status, volume, signal, firmware, IP, now playing (every 60 s)",
)
def device_heartbeat(request, device_id: int, data: HeartbeatIn):
    identity = _own(request, device_id)
    if data.ip:
        from ipaddress import ip_address

        try:
            ip_address(data.ip)
        except ValueError:
            return Status(400, {"error": _("Not an IP address."), "field": "ip"})
    return heartbeat_accept(identity.device_id, data.dict())


def heartbeat_accept(device_id: int, data: dict) -> dict:
    """Record a valid heartbeat (buffered in Redis when there is one) and answer it; shared
    with the fast path (``middleware.DeviceFastPathMiddleware``)."""
    now = timezone.now()
    pending = heartbeats.buffer(device_id=device_id, data=data, now=now)
    if pending is None:
        services.heartbeat_record(device_id=device_id, data=data, now=now)
        pending = services.commands_pending_count(device_id=device_id)
    return {"ok": True, "server_time": now.isoformat(), "pending_commands": pending}


# --- play logs ----------------------------------------------------------------------------


class PlayEvent(Schema):
    id: str = Field(..., min_length=1, max_length=64, description="device-generated, unique")
    entry_id: str = Field("", max_length=64, description="timeline entry id")
    slot_id: int | None = None
    item: str | None = Field(None, max_length=36)
    started_at: datetime
    duration: float = Field(0, ge=0, le=86400)
    status: Literal["completed", "interrupted", "failed"] = "completed"


class PlayLogBatch(Schema):
    sent_at: datetime | None = Field(None, description="device clock when sending (skew)")
    events: list[PlayEvent]


class PlayLogResult(Schema):
    accepted: int
    duplicates: int
    clock_skew_seconds: float


@router.post(
    "/{int:device_id}/playlogs",
    response={200: PlayLogResult, 400: Error},
    summary="A batch of played events; replays and out-of-order batches are harmless",
)
def device_playlogs(request, device_id: int, batch: PlayLogBatch):
    identity = _own(request, device_id)
    limit = settings.BROADCAST_PLAYLOG_MAX_BATCH
    if len(batch.events) > limit:
        return Status(
            400,
            {"error": _("At most %(n)s events per batch.") % {"n": limit}, "field": "events"},
        )
    return services.playlogs_record(
        device_id=identity.device_id,
        commune_id=identity.commune_id,
        events=[e.dict() for e in batch.events],
        sent_at=batch.sent_at,
    )


# --- commands -----------------------------------------------------------------------------


class CommandOut(Schema):
    id: int
    kind: str
    payload: dict
    created_at: str


class AckIn(Schema):
    status: Literal["done", "failed"] = "done"
    detail: str = Field("", max_length=500)


@router.get(
    "/{int:device_id}/commands",
    response=list[CommandOut],
    summary="Commands not yet acknowledged, oldest first",
)
def device_commands(request, device_id: int):
    identity = _own(request, device_id)
    commands = Command.objects.filter(
        device_id=identity.device_id, acknowledged_at__isnull=True
    ).order_by("pk")[:50]
    return [command_message(c) for c in commands]


@router.post(
    "/{int:device_id}/commands/{int:command_id}/ack",
    response={200: dict, 404: Error},
    summary="Acknowledge a command (done or failed)",
)
def device_command_ack(request, device_id: int, command_id: int, data: AckIn):
    identity = _own(request, device_id)
    if not services.command_acknowledge(
        device_id=identity.device_id, command_id=command_id, status=data.status, detail=data.detail
    ):
        return Status(404, {"error": _("No such command for this device."), "field": "command_id"})
    return {"ok": True}


# --- legacy schedule ----------------------------------------------------------------------


class ScheduleEntry(Schema):
    item: str
    headline: str
    unit_code: str
    published_at: str
    duration: float | None
    url: str
    size: int
    sha256: str
    mime_type: str


class Schedule(Schema):
    device: int
    cluster: str
    commune_code: str
    generated_at: str
    items: list[ScheduleEntry]


@router.get(
    "/{int:device_id}/schedule",
    response=Schedule,
    summary="Legacy: the commune's published audio (kept for deployed receivers; use /timeline)",
)
def device_schedule(request, device_id: int):
    identity = _own(request, device_id)
    device = Device.objects.select_related("cluster__commune").get(pk=identity.device_id)
    Device.objects.filter(pk=device.pk).update(last_seen_at=timezone.now())
    entries = []
    for item in device_schedule_items(device=device):
        rendition = item.audio.rendition("loudspeaker")
        if rendition is None:
            continue
        entries.append(
            {
                "item": str(item.uuid),
                "headline": item.headline,
                "unit_code": item.unit.code,
                "published_at": timezone.localtime(item.first_published_at).isoformat(),
                "duration": rendition.duration,
                "url": request.build_absolute_uri(
                    reverse("api-v1:device_media", args=[device.pk, rendition.pk])
                ),
                "size": rendition.size,
                "sha256": rendition.sha256,
                "mime_type": rendition.mime_type,
            }
        )
    return {
        "device": device.pk,
        "cluster": device.cluster.name,
        "commune_code": device.cluster.commune.code,
        "generated_at": timezone.localtime().isoformat(),
        "items": entries,
    }


# --- outside ATOMIC_REQUESTS --------------------------------------------------------------


class _NonAtomicPathView(PathView):
    """ninja builds one Django view per path; mark ours non-atomic so a poll answered from
    the cache never opens a database connection (Django checks ``_non_atomic_requests``)."""

    def clone(self):
        cloned = super().clone()
        cloned.__class__ = _NonAtomicPathView
        return cloned

    def get_view(self):
        view = super().get_view()
        view._non_atomic_requests = set(settings.DATABASES)
        return view


for _path_view in router.path_operations.values():
    _path_view.__class__ = _NonAtomicPathView
