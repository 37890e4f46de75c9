"""Device API: a cluster's receiver fetches what to play, authenticated by its own token."""

import base64

from django.http import FileResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.security import HttpBearer

from media.models import Rendition

from .models import Device
from .selectors import device_for_token, device_schedule_items


class DeviceToken(HttpBearer):
    def authenticate(self, request, token):
        return device_for_token(token)


router = Router(auth=DeviceToken(), tags=["devices"])


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


def _own_device(request, device_id: int) -> Device:
    device: Device = request.auth
    if device.pk != device_id:
        raise HttpError(403, _("This token belongs to another device."))
    return device


@router.get("/{int:device_id}/schedule", response=Schedule, summary="What the device plays")
def device_schedule(request, device_id: int):
    device = _own_device(request, device_id)
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


@router.get(
    "/{int:device_id}/media/{int:rendition_id}",
    url_name="device_media",
    summary="Download a loudspeaker file listed in the schedule",
)
def device_media(request, device_id: int, rendition_id: int):
    device = _own_device(request, device_id)
    rendition = Rendition.objects.filter(
        pk=rendition_id, profile="loudspeaker", status=Rendition.Status.READY
    ).first()
    if rendition is None or not (
        device_schedule_items(device=device).filter(audio=rendition.asset_id).exists()
    ):
        raise HttpError(404, _("This file is not in the device's schedule."))
    try:
        fh = rendition.file.open("rb")
    except OSError as exc:
        raise HttpError(404, _("This file is not in the device's schedule.")) from exc
    response = FileResponse(fh, content_type=rendition.mime_type)
    response["Content-Length"] = str(rendition.size)
    # RFC 3230 wants the base64 of the raw digest; the schedule lists the hex form.
    digest = base64.b64encode(bytes.fromhex(rendition.sha256)).decode("ascii")
    response["Digest"] = f"sha-256={digest}"
    response["Repr-Digest"] = f"sha-256=:{digest}:"
    return response
