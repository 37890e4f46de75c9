"""The loudspeaker registry: clusters, zones, devices and their tokens.

Writes here keep the device API's cache right: a token issued or revoked drops the cached
identity at once (and again on commit); a cluster that changes commune, zones or is
disabled drops its devices' identities and bumps its scope version. The admin's registry
screens save models directly; ``broadcast.receivers`` reacts to those saves the same way.
"""

from __future__ import annotations

import secrets

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from wagtail.log_actions import log

from newsroom.models import AdministrativeUnit

from .device_api import cache as bcache
from .models import Cluster, Device
from .targets import Target, coverage_q
from .tokens import token_digest


def now_and_on_commit(func) -> None:
    """Run a cache invalidation now and again after commit: a poll between the two sees a
    new version (one extra 200, never a stale 304), and the second run covers a poll that
    read the old rows before the commit."""
    func()
    transaction.on_commit(func)


# --- tokens -------------------------------------------------------------------------------


def device_token_issue(*, device: Device, token: str | None = None, user=None) -> str:
    """Give the device a new token (revoking the old one) and return it; it is shown once
    and only its digest is stored."""
    old = device.token_hash
    token = token or secrets.token_urlsafe(32)
    device.token_hash = token_digest(token)
    device.token_prefix = token[:8]
    device.token_issued_at = timezone.now()
    device.save(update_fields=["token_hash", "token_prefix", "token_issued_at"])
    now_and_on_commit(lambda: bcache.identity_forget([old]))
    if user is not None:
        log(instance=device, action="broadcast.token_issue", user=user)
    return token


def device_token_revoke(*, device: Device, user=None) -> None:
    """The device's token stops working at once (401 on the next request)."""
    old = device.token_hash
    device.token_hash = None
    device.token_prefix = ""
    device.save(update_fields=["token_hash", "token_prefix"])
    now_and_on_commit(lambda: bcache.identity_forget([old]))
    if user is not None:
        log(instance=device, action="broadcast.token_revoke", user=user)


# --- clusters -----------------------------------------------------------------------------


def clusters_invalidate(cluster_ids) -> None:
    """Forget cached identities of the clusters' devices and bump the clusters' versions
    (a cluster changed commune, zones or was disabled)."""
    cluster_ids = list(cluster_ids)
    digests = Device.objects.filter(cluster_id__in=cluster_ids).values_list("token_hash", flat=True)
    bcache.identity_forget(list(digests))
    bcache.versions_bump(Target("cluster", pk).scope for pk in cluster_ids)


# --- reads --------------------------------------------------------------------------------


def devices_for_targets(targets: list[Target]):
    """Enabled devices of the enabled clusters the targets cover."""
    return Device.objects.filter(
        cluster__in=Cluster.objects.filter(coverage_q(targets), enabled=True), enabled=True
    )


def subtrees_q(unit_ids, prefix: str) -> Q:
    """A filter selecting rows whose unit (``<prefix>path``) lies in the units' subtrees."""
    paths = AdministrativeUnit.objects.filter(pk__in=list(unit_ids)).values_list("path", flat=True)
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{prefix}path__startswith": path})
    return q
