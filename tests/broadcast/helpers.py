"""Helpers for the loudspeaker tests: a device's timeline read the way devices read it."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from broadcast.device_api import cache as bcache
from broadcast.device_api.protocol import device_identity
from broadcast.models import Device
from broadcast.reach import device_timeline_data
from broadcast.services import device_token_issue


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def add_device(cluster, serial, *, kind=Device.Kind.LOUDSPEAKER):
    device = Device.objects.create(cluster=cluster, serial=serial, kind=kind, vendor="Thử")
    return device, device_token_issue(device=device)


def soon(minutes: float = 10, *, now=None):
    return (now or timezone.now()) + timedelta(minutes=minutes)


class Entry(dict):
    """A timeline entry exactly as ``GET /timeline`` builds it (before media URLs), with
    attribute names for the assertions: ``start``/``end`` as datetimes, ``notes``."""

    @property
    def key(self) -> str:
        return self["id"]

    @property
    def parts(self) -> list[dict]:
        return self["parts"]

    @property
    def programme_name(self) -> str:
        return self["programme"]

    @property
    def bulletin_class(self) -> str:
        return self["class"]

    @property
    def start(self) -> datetime:
        return datetime.fromisoformat(self["start"])

    @property
    def end(self) -> datetime:
        return datetime.fromisoformat(self["end"])

    @property
    def duration(self) -> float:
        return (self.end - self.start).total_seconds()

    @property
    def notes(self) -> list[str]:
        return ["delayed"] if self["delayed"] else []


def timeline(token: str, *, now: datetime | None = None) -> list[Entry]:
    """The entries of the device holding ``token``, through the device API's own path: the
    token's identity (cache, then database), its scopes' versions, the compiled entries."""
    identity, known = device_identity(token)
    assert identity is not None, "the token is not a live device's"
    versions = bcache.scope_versions(identity.scopes, known)
    return [Entry(e) for e in device_timeline_data(identity=identity, versions=versions, now=now)]
