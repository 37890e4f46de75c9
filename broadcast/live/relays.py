"""Relays of outside stations (tiếp sóng) through Icecast, and their monitoring.

A :class:`~broadcast.models.Relay` is an Icecast ``<relay>``: Icecast keeps one connection
to the station and serves it on the relay's mount to every device, reconnecting by itself
when the station drops. A relay programme is an ordinary relay slot whose stream is the
mount (:func:`relay_listen_url`). When Relay rows change, :func:`relay_sync` rewrites the
configuration of the Icecast ``manage.py serve`` started and makes it re-read it; a
production Icecast gets the same ``<relay>`` blocks from its operator (docs/deploy.md,
``manage.py icecast_config``).

:func:`relays_check` (Celery beat, every 15 s) opens an alert when a relay's mount has had
no source, or only silence, for more than ``BROADCAST_RELAY_ALERT_SECONDS``, and closes it
when sound is back.
"""

from __future__ import annotations

import array
import subprocess
import sys
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from media.ffmpeg import popen_ffmpeg

from ..models import Alert, Relay
from . import icecast

SAMPLE_SECONDS = 2.0
# Peak below this (16-bit) over the sample counts as silence (about -50 dBFS).
SILENCE_PEAK = 100


def relay_specs() -> list[icecast.RelaySpec]:
    return [
        icecast.RelaySpec(mount=r.mount, url=r.upstream_url)
        for r in Relay.objects.filter(enabled=True).order_by("pk")
    ]


def relay_listen_url(relay: Relay) -> str:
    """What a relay slot plays: the relay's mount on our Icecast."""
    return icecast.listen_url(relay.mount)


def relay_sync() -> bool:
    """Give the managed Icecast the current relays (after a Relay was saved or deleted)."""
    return icecast.reload_relays(settings.ICECAST_CONFIG_DIR, relay_specs())


def sample_peak(url: str, *, seconds: float = SAMPLE_SECONDS) -> int | None:
    """The peak sample of ``seconds`` of the stream at ``url``; None when nothing came."""
    proc = popen_ffmpeg(
        ["-loglevel", "error", "-protocol_whitelist", "http,tcp", "-rw_timeout", "5000000",
         "-t", str(seconds), "-i", url, "-ac", "1", "-ar", "8000", "-f", "s16le", "-"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        out, _err = proc.communicate(timeout=seconds + 10)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _err = proc.communicate()
    if len(out) < 2:
        return None
    samples = array.array("h")
    samples.frombytes(out[: len(out) // 2 * 2])
    if sys.byteorder == "big":
        samples.byteswap()
    return max(abs(min(samples)), abs(max(samples)))


def relays_check(*, now: datetime | None = None) -> list[int]:
    """Check every enabled relay; returns the ids with an open alert."""
    now = now or timezone.now()
    base = icecast.configured_url()
    if not base:
        return []
    status = icecast.status(base) or {"mounts": {}}
    limit = timedelta(seconds=settings.BROADCAST_RELAY_ALERT_SECONDS)
    alerted = []
    for relay in Relay.objects.filter(enabled=True):
        if relay.mount not in status["mounts"]:
            problem = "no_source"
        else:
            peak = sample_peak(icecast.listen_url(relay.mount))
            problem = "no_source" if peak is None else ("silent" if peak < SILENCE_PEAK else "")
        relay.last_checked_at = now
        if not problem:
            relay.last_ok_at, relay.last_problem = now, ""
            relay.save(update_fields=["last_checked_at", "last_ok_at", "last_problem"])
            Alert.objects.filter(relay=relay, closed_at__isnull=True).update(closed_at=now)
            continue
        relay.last_problem = problem
        relay.save(update_fields=["last_checked_at", "last_problem"])
        since = relay.last_ok_at or relay.created_at
        if now - since < limit:
            continue
        seconds = int((now - since).total_seconds())
        text = (
            _("Relay %(name)s: no source for %(seconds)s s.")
            if problem == "no_source"
            else _("Relay %(name)s: silent for %(seconds)s s.")
        ) % {"name": relay.name, "seconds": seconds}
        open_alert = Alert.objects.filter(relay=relay, closed_at__isnull=True).first()
        if open_alert is None:
            Alert.objects.create(relay=relay, kind=f"relay_{problem}"[:16], opened_at=now,
                                 message=text)  # fmt: skip
        else:
            Alert.objects.filter(pk=open_alert.pk).update(
                message=text, kind=f"relay_{problem}"[:16]
            )
        alerted.append(relay.pk)
    return alerted
