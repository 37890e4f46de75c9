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
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Literal

from django.conf import settings
from django.http import FileResponse, HttpResponse, HttpResponseNotModified, JsonResponse
from django.http.response import HttpResponseBase
from django.urls import register_converter, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from ninja.operation import PathView
from ninja.security import HttpBearer
from wagtail.images import get_image_model

from core.openapi import ETAG, ObjectSchema, header, operation
from media.models import Rendition
from newsroom.models import NewsItem

from ..commands import command_acknowledge, command_message
from ..models import Command
from ..reach import device_timeline_data
from ..timeline import to_local_iso
from . import cache as bcache
from .cache import DeviceIdentity
from .playlogs import PlayEventError, playlogs_record
from .protocol import HeartbeatIn, device_identity, etag_matches, heartbeat_accept, ip_is_valid


class RowId:
    """A database id in a path: 1 to 19 digits (a 64-bit key). A longer number matches no
    route, so it is a 404 like any unknown id, never converted."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(value)


register_converter(RowId, "rowid")


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


class PingOut(Schema):
    ok: bool


@router.get(
    "/ping", auth=None, response=PingOut, summary="Trivial JSON answer (load-test baseline)"
)
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
    if "pictures" in part:
        part["pictures"] = [_picture_out(request, device_id, p) for p in part["pictures"]]
    return part


def _picture_out(request, device_id: int, picture: dict) -> dict:
    picture = dict(picture)
    picture_id = picture.pop("picture_id")
    picture["url"] = request.build_absolute_uri(
        reverse("api-v1:device_picture", args=[device_id, picture_id])
    )
    return picture


# Advised to devices in every timeline ("poll_seconds"; they add jitter): a 304 costs the
# server next to nothing, and emergencies reach devices by MQTT push without waiting.
TIMELINE_POLL_SECONDS = 60


class BoardPictureOut(Schema):
    url: str = Field(..., description="download address (the device's picture route)")
    alt: str = Field(..., description="what the picture shows (alt text)")
    caption: str
    credit: str
    lead: bool = Field(..., description="the item's lead picture (listed first)")
    width: int
    height: int
    mime_type: str
    size: int
    sha256: str = Field(..., description="hex SHA-256 of the file (its ETag)")


class TimelinePart(Schema):
    model_config = {"extra": "allow"}
    url: str | None = Field(None, description="download address (the device's media route)")
    pictures: list[BoardPictureOut] | None = Field(
        None, description="a board's display part: the item's pictures, lead first"
    )


class TimelineEntry(Schema):
    model_config = {"extra": "allow"}
    id: str
    start: str = Field(..., description="ISO 8601, Vietnam time")
    end: str
    parts: list[TimelinePart]


class TimelineOut(Schema):
    device: int
    cluster: int
    kind: str
    version: str
    generated_at: str
    poll_seconds: int
    valid_until: str
    entries: list[TimelineEntry]


_DEVICE_ERRORS = (401, 403, 404)


@router.get(
    "/{rowid:device_id}/timeline",
    response={200: TimelineOut},
    summary="The device's compiled timeline for the next 48 hours (ETag, 304 when unchanged)",
    openapi_extra=operation(
        errors=_DEVICE_ERRORS,
        parameters=[header("If-None-Match", "the ETag of the timeline the device holds")],
        responses={
            200: {"headers": {"ETag": ETAG}},
            304: {"description": "Not modified", "headers": {"ETag": ETAG}},
        },
    ),
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


def _not_scheduled() -> HttpError:
    return HttpError(404, _("This file is not in the device's schedule."))


# One range; positions of more than 19 digits are beyond any file (416, never converted).
_RANGE = re.compile(r"^bytes=(\d{0,19})-(\d{0,19})$")


def _timeline_find(
    request, identity: DeviceIdentity, pick: Callable[[dict], dict | None]
) -> dict | None:
    """What ``pick`` finds in a part of the device's timeline (the same compiled entries
    ``/timeline`` answers), while the part's item is still live; else None."""
    known = getattr(request, "bc_known_versions", None)
    versions = bcache.scope_versions(identity.scopes, known)
    for entry in device_timeline_data(identity=identity, versions=versions):
        for part in entry["parts"]:
            found = pick(part)
            if found is None:
                continue
            # The entries may be cached: the item must still be live at download time.
            live = (
                "item" not in part
                or NewsItem.objects.filter(
                    uuid=part["item"], live=True, withdrawn_at__isnull=True
                ).exists()
            )
            return found if live else None
    return None


def _rendition_allowed(request, identity: DeviceIdentity, rendition_id: int) -> bool:
    """The file is a part of the device's timeline (audio items approved for it, rendered
    TTS) or of a play-now command sent to it."""
    found = _timeline_find(
        request, identity, lambda part: part if part.get("rendition_id") == rendition_id else None
    )
    if found is not None:
        return True
    # JSON key comparisons differ per database: compare the few recent payloads here.
    payloads = Command.objects.filter(
        device_id=identity.device_id,
        kind=Command.Kind.PLAY_NOW,
        created_at__gte=timezone.now() - timedelta(days=2),
    ).values_list("payload", flat=True)
    return any(p.get("rendition_id") == rendition_id for p in payloads)


_FILE_HEADERS = {
    "ETag": ETAG,
    "Accept-Ranges": {"schema": {"type": "string", "enum": ["bytes"]}},
    "X-Checksum-SHA256": {
        "description": "hex SHA-256 of the whole file",
        "schema": {"type": "string"},
    },
    "Digest": {"description": "RFC 3230 sha-256 (base64)", "schema": {"type": "string"}},
}
_AUDIO = {"content": {"audio/mpeg": {"schema": {"type": "string", "format": "binary"}}}}
_PICTURE = {"content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}}}


def _file_operation(content: dict) -> dict:
    """The description of a device file download (audio or picture): one byte range,
    ``If-Range``/``If-None-Match`` against the ETag, and the digest headers."""
    return operation(
        errors=(*_DEVICE_ERRORS, 416),
        parameters=[
            header("Range", "one byte range: bytes=FIRST-LAST, bytes=FIRST- or bytes=-SUFFIX"),
            header("If-Range", "the ETag: the range is answered only while it matches"),
            header("If-None-Match", "the ETag of the copy the device holds"),
        ],
        responses={
            200: {"description": "The whole file", **content, "headers": _FILE_HEADERS},
            206: {
                "description": "The requested range",
                **content,
                "headers": {**_FILE_HEADERS, "Content-Range": {"schema": {"type": "string"}}},
            },
            304: {"description": "Not modified", "headers": {"ETag": ETAG}},
        },
    )


@router.get(
    "/{rowid:device_id}/media/{rowid:rendition_id}",
    url_name="device_media",
    summary="Download a loudspeaker file of the timeline (Range requests, SHA-256 digest)",
    openapi_extra=_file_operation(_AUDIO),
)
def device_media(request, device_id: int, rendition_id: int):
    identity = _own(request, device_id)
    rendition = Rendition.objects.filter(
        pk=rendition_id, profile="loudspeaker", status=Rendition.Status.READY
    ).first()
    if rendition is None or not _rendition_allowed(request, identity, rendition.pk):
        raise _not_scheduled()
    return _file_response(
        request,
        file=rendition.file,
        size=rendition.size,
        sha256=rendition.sha256,
        mime_type=rendition.mime_type,
    )


@router.get(
    "/{rowid:device_id}/pictures/{rowid:picture_id}",
    url_name="device_picture",
    summary="Download a picture a bulletin board shows (Range requests, SHA-256 digest)",
    openapi_extra=_file_operation(_PICTURE),
)
def device_picture(request, device_id: int, picture_id: int):
    """A picture of a display part of the device's timeline (``pictures[].url``): the same
    token rules as the loudspeaker files — only the device's own timeline, only while the
    item is live."""
    identity = _own(request, device_id)
    picture = _timeline_find(
        request,
        identity,
        lambda part: next(
            (p for p in part.get("pictures", ()) if p["picture_id"] == picture_id), None
        ),
    )
    image_rendition = (
        get_image_model().get_rendition_model().objects.filter(pk=picture_id).first()
        if picture is not None
        else None
    )
    if picture is None or image_rendition is None:
        raise _not_scheduled()
    return _file_response(
        request,
        file=image_rendition.file,
        size=picture["size"],
        sha256=picture["sha256"],
        mime_type=picture["mime_type"],
    )


def _file_response(request, *, file, size: int, sha256: str, mime_type: str) -> HttpResponseBase:
    """A device's download, whatever the file: ``ETag`` = the SHA-256 (``304`` on
    ``If-None-Match``), one ``Range`` (``If-Range``), ``Digest``/``Repr-Digest`` and
    ``X-Checksum-SHA256``."""
    etag = f'"{sha256}"'
    digest = base64.b64encode(bytes.fromhex(sha256)).decode("ascii")
    if etag_matches(request.headers.get("If-None-Match", ""), etag):
        response: HttpResponseBase = HttpResponseNotModified()
        response["ETag"] = etag
        return response
    try:
        fh = file.open("rb")
    except OSError as exc:
        raise _not_scheduled() from exc
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
        response = HttpResponse(data, status=206, content_type=mime_type)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(len(data))
    else:
        response = FileResponse(fh, content_type=mime_type)
        response["Content-Length"] = str(size)
    response["Accept-Ranges"] = "bytes"
    response["ETag"] = etag
    # RFC 3230 wants the base64 of the raw digest; the timeline lists the hex form.
    response["Digest"] = f"sha-256={digest}"
    response["Repr-Digest"] = f"sha-256=:{digest}:"
    response["X-Checksum-SHA256"] = sha256
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
    "/{rowid:device_id}/heartbeat",
    response={200: HeartbeatOut, 400: Error},
    summary="Status, volume, signal, firmware, IP, now playing (every 60 s)",
    openapi_extra=operation(errors=(*_DEVICE_ERRORS, 413, 422)),
)
def device_heartbeat(request, device_id: int, data: HeartbeatIn):
    identity = _own(request, device_id)
    if not ip_is_valid(data.ip):
        return Status(400, {"error": _("Not an IP address."), "field": "ip"})
    return heartbeat_accept(identity.device_id, data.dict())


# --- play logs ----------------------------------------------------------------------------


# ISO 8601 date and time, the offset optional (without one: Vietnam time).
LOCAL_DATETIME = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,6})?)?"
    r"([Zz]|[+-][0-9]{2}:?[0-9]{2})?$"
)


class PlayLogBatch(ObjectSchema):
    sent_at: str | None = Field(
        None,
        pattern=LOCAL_DATETIME,
        description="device clock when sending, ISO 8601 (the server corrects event times "
        "by the skew); without an offset, Vietnam time",
    )
    events: list[Any] = Field(
        ...,
        description="play events, each validated on its own (see ``PlayEvent``): "
        "``id`` (1-64 characters, unique per device), ``entry_id``, ``slot_id``, ``item`` "
        "(uuid), ``started_at`` (ISO 8601), ``duration`` (0-86400 s), ``status`` "
        "(completed, interrupted, failed). A refused event is listed in ``errors`` and "
        "the others are stored.",
    )


class PlayLogResult(Schema):
    accepted: int = Field(..., description="events stored by this request")
    duplicates: int = Field(..., description="events already stored (replays) or repeated")
    refused: int = Field(..., description="events refused for good (listed in ``errors``)")
    clock_skew_seconds: float
    errors: list[PlayEventError]


@router.post(
    "/{rowid:device_id}/playlogs",
    response={200: PlayLogResult, 400: Error},
    summary="A batch of played events; replays and out-of-order batches are harmless",
    openapi_extra=operation(errors=(*_DEVICE_ERRORS, 413, 422)),
)
def device_playlogs(request, device_id: int, batch: PlayLogBatch):
    """Valid events are stored, refused ones are named in ``errors`` (index, id, field,
    message) with a 200: the device drops what it sent either way."""
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
        events=batch.events,
        sent_at=batch.sent_at,
    )


# --- commands -----------------------------------------------------------------------------


class CommandOut(Schema):
    id: int
    kind: str
    payload: dict
    created_at: str


class AckOut(Schema):
    ok: bool


class AckIn(ObjectSchema):
    status: Literal["done", "failed"] = "done"
    detail: str = Field("", max_length=500)


@router.get(
    "/{rowid:device_id}/commands",
    response=list[CommandOut],
    summary="Commands not yet acknowledged, oldest first",
    openapi_extra=operation(errors=_DEVICE_ERRORS),
)
def device_commands(request, device_id: int):
    identity = _own(request, device_id)
    commands = Command.objects.filter(
        device_id=identity.device_id, acknowledged_at__isnull=True
    ).order_by("pk")[:50]
    return [command_message(c) for c in commands]


@router.post(
    "/{rowid:device_id}/commands/{rowid:command_id}/ack",
    response={200: AckOut, 404: Error},
    summary="Acknowledge a command (done or failed)",
    openapi_extra=operation(errors=(400, 401, 403, 413, 422)),
)
def device_command_ack(request, device_id: int, command_id: int, data: AckIn):
    identity = _own(request, device_id)
    if not command_acknowledge(
        device_id=identity.device_id, command_id=command_id, status=data.status, detail=data.detail
    ):
        return Status(404, {"error": _("No such command for this device."), "field": "command_id"})
    return {"ok": True}


# --- retired ------------------------------------------------------------------------------


@router.get("/{rowid:device_id}/schedule", auth=None, include_in_schema=False)
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
