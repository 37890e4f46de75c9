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
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from ninja.operation import PathView
from ninja.security import HttpBearer

from media.models import Rendition
from newsroom.models import NewsItem

from ..commands import command_acknowledge, command_message
from ..models import Command
from ..reach import device_timeline_data
from ..timeline import to_local_iso
from . import cache as bcache
from .cache import DeviceIdentity
from .playlogs import playlogs_record
from .protocol import HeartbeatIn, device_identity, etag_matches, heartbeat_accept, ip_is_valid


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


# Advised to devices in every timeline ("poll_seconds"; they add jitter): a 304 costs the
# server next to nothing, and emergencies reach devices by MQTT push without waiting.
TIMELINE_POLL_SECONDS = 60


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
        response: HttpResponse = HttpResponseNotModified()
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
        "poll_seconds": TIMELINE_POLL_SECONDS,
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


def _rendition_allowed(request, identity: DeviceIdentity, rendition_id: int) -> bool:
    """The file is a part of the device's timeline (the same compiled entries ``/timeline``
    answers: audio items approved for it, rendered TTS) or of a play-now command sent to
    it."""
    known = getattr(request, "bc_known_versions", None)
    versions = bcache.scope_versions(identity.scopes, known)
    for entry in device_timeline_data(identity=identity, versions=versions):
        for part in entry["parts"]:
            if part.get("rendition_id") != rendition_id:
                continue
            # The entries may be cached: the item must still be live at download time.
            return (
                "item" not in part
                or NewsItem.objects.filter(
                    uuid=part["item"], live=True, withdrawn_at__isnull=True
                ).exists()
            )
    # JSON key comparisons differ per database: compare the few recent payloads here.
    payloads = Command.objects.filter(
        device_id=identity.device_id,
        kind=Command.Kind.PLAY_NOW,
        created_at__gte=timezone.now() - timedelta(days=2),
    ).values_list("payload", flat=True)
    return any(p.get("rendition_id") == rendition_id for p in payloads)


@router.get(
    "/{int:device_id}/media/{int:rendition_id}",
    url_name="device_media",
    summary="Download a loudspeaker file of the timeline (Range requests, SHA-256 digest)",
)
def device_media(request, device_id: int, rendition_id: int):
    identity = _own(request, device_id)
    rendition = Rendition.objects.filter(
        pk=rendition_id, profile="loudspeaker", status=Rendition.Status.READY
    ).first()
    if rendition is None or not _rendition_allowed(request, identity, rendition.pk):
        raise HttpError(404, _("This file is not in the device's schedule."))
    etag = f'"{rendition.sha256}"'
    digest = base64.b64encode(bytes.fromhex(rendition.sha256)).decode("ascii")
    if etag_matches(request.headers.get("If-None-Match", ""), etag):
        response: HttpResponseBase = HttpResponseNotModified()
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
    if not ip_is_valid(data.ip):
        return Status(400, {"error": _("Not an IP address."), "field": "ip"})
    return heartbeat_accept(identity.device_id, data.dict())


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
    return playlogs_record(
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
    if not command_acknowledge(
        device_id=identity.device_id, command_id=command_id, status=data.status, detail=data.detail
    ):
        return Status(404, {"error": _("No such command for this device."), "field": "command_id"})
    return {"ok": True}


# --- retired ------------------------------------------------------------------------------


@router.get("/{int:device_id}/schedule", auth=None, include_in_schema=False)
def device_schedule_retired(request, device_id: int):
    """The legacy ``/schedule`` (the commune's published audio), retired in 0.4.0: a device
    plays its ``/timeline``."""
    return JsonResponse(
        {"error": _("This address was retired; devices read /api/v1/devices/<id>/timeline.")},
        status=410,
    )


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
        view._non_atomic_requests = set(settings.DATABASES)  # type: ignore[attr-defined]
        return view


for _path_view in router.path_operations.values():
    _path_view.__class__ = _NonAtomicPathView
