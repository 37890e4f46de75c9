"""Reads for loudspeakers: which device a token belongs to, what a device plays."""

from django.db.models import Q

from media.models import Rendition
from newsroom.models import NewsItem
from newsroom.selectors import item_list_published

from .models import Device
from .services import token_digest


def device_for_token(token: str) -> Device | None:
    if not token:
        return None
    return (
        Device.objects.select_related("cluster__commune")
        .filter(token_hash=token_digest(token), enabled=True, cluster__enabled=True)
        .first()
    )


def device_schedule_items(*, device: Device):
    """Published audio for the device's commune: the commune's own bulletins and those of
    the units above it (a provincial bulletin plays in every commune)."""
    commune = device.cluster.commune
    ancestors = [commune.path[: i * commune.steplen] for i in range(1, commune.depth + 1)]
    return (
        item_list_published()
        .filter(kind=NewsItem.Kind.AUDIO, audio__isnull=False)
        .filter(Q(unit__path__in=ancestors))
        .filter(
            audio__renditions__profile="loudspeaker",
            audio__renditions__status=Rendition.Status.READY,
        )
        .distinct()
    )
