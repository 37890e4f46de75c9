"""Live broadcasts from a browser's microphone: start, feed, stop, archive.

One path for everyone: the live page, the API and the tests call these functions.

- :func:`live_start` checks the ``live`` permission for every target, refuses when someone
  else is speaking to an overlapping target (naming them) or when the TT39 rules would make
  the broadcast wait too long, then creates a programme with one ``live`` slot whose stream
  is a fresh Icecast mount (``programmes.services.programme_create``: the one compiler puts
  it in every targeted device's timeline) and pushes ``live_start`` (``emergency_start``
  for an emergency) to every targeted device. After commit it starts the feeder process
  (``broadcast.live.feeder``), which sends the audio to Icecast and records it.
- :func:`live_chunk` appends a slice of the browser's recording to the broadcast's spool
  file; the feeder reads it as it grows. Something that is not WebM/Ogg audio, or more
  bytes a second than a microphone sends, ends the broadcast.
- :func:`live_stop` stops the programme (the entry ends on every device at once: a new
  ETag and a ``live_stop``/``emergency_stop`` push) and tells the feeder to finish.
- :func:`live_archive` (the feeder, once its ffmpeg has finished) keeps the recording as
  an audio asset and an unpublished newsroom item of the owning unit.

Every start and stop is audit-logged (``broadcast.live_start`` / ``broadcast.live_stop``).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.log_actions import log

from core.names import display_name
from media.models import MediaAsset
from media.services import asset_create
from newsroom.services import item_record_archive

from ..commands import commands_create
from ..models import BulletinClass, Cluster, Command, Device, LiveBroadcast, Slot
from ..permissions import user_can_emergency, user_can_live
from ..programmes.services import programme_create, programme_stop, programme_targets
from ..reach import clusters_loaded, timeline_for_clusters
from ..registry import devices_for_targets
from ..targets import Target, coverage_q, parse_targets
from ..timeline import LOCAL_TZ
from . import icecast

# What a browser's MediaRecorder starts with: WebM/Matroska (EBML) or Ogg.
SOURCE_MAGIC = (b"\x1a\x45\xdf\xa3", b"OggS")
CHUNK_MAX_BYTES = 1024 * 1024


def live_enabled() -> bool:
    """Whether live broadcasting is on (an Icecast is configured)."""
    return bool(icecast.configured_url())


def spool_dir(live: LiveBroadcast) -> Path:
    """The broadcast's working folder: the browser's bytes, the recording, the stop flag."""
    return Path(settings.VAR_DIR) / "live" / live.mount.strip("/").removesuffix(".mp3")


def _local(value: datetime) -> str:
    return timezone.localtime(value, LOCAL_TZ).strftime("%H:%M %d/%m/%Y")


def _clusters(targets: list[Target]) -> set[int]:
    return set(Cluster.objects.filter(coverage_q(targets)).values_list("pk", flat=True))


def _check_speaker_free(targets: list[Target], clusters: set[int]) -> None:
    """Refuse when a live broadcast on air reaches one of the same clusters (or targets)."""
    scopes = {t.scope for t in targets}
    for other in LiveBroadcast.objects.filter(status=LiveBroadcast.Status.ON_AIR).select_related(
        "user", "programme"
    ):
        theirs = programme_targets([other.programme_id])
        if scopes & {t.scope for t in theirs} or clusters & _clusters(theirs):
            who = display_name(other.user) or "?"
            raise ValidationError(
                _(
                    "%(who)s is speaking live to some of these loudspeakers (“%(name)s”, since"
                    " %(since)s). Wait until they finish or choose other targets."
                )
                % {"who": who, "name": other.programme.name, "since": _local(other.started_at)}
            )


def _check_priority(bulletin_class: str, clusters: set[int], now: datetime) -> None:
    """The TT39 rules the timeline applies: an emergency preempts everything but another
    emergency; a normal or priority broadcast waits for what is on air. Refuse when the
    wait would be longer than ``BROADCAST_LIVE_MAX_WAIT_SECONDS``, saying why."""
    if not clusters:
        return
    loaded = clusters_loaded(Cluster.objects.filter(pk__in=clusters))
    timelines = timeline_for_clusters(
        loaded, kind=Device.Kind.LOUDSPEAKER, start=now, end=now + timedelta(seconds=1)
    )
    limit = settings.BROADCAST_LIVE_MAX_WAIT_SECONDS
    for cluster in loaded:
        for occ in timelines[cluster.pk]:
            if not (occ.start <= now < occ.end):
                continue
            blocking = (
                occ.bulletin_class == BulletinClass.EMERGENCY
                if bulletin_class == BulletinClass.EMERGENCY
                else True
            )
            if not blocking:
                continue
            wait = (occ.end - now).total_seconds()
            if occ.bulletin_class == BulletinClass.EMERGENCY or wait > limit:
                raise ValidationError(
                    _(
                        "“%(name)s” (%(cls)s) is on air on %(cluster)s until %(end)s; a"
                        " %(mine)s live broadcast cannot interrupt it. Try again then, or"
                        " start an emergency broadcast if it is one."
                    )
                    % {
                        "name": occ.programme_name,
                        "cls": BulletinClass(occ.bulletin_class).label,
                        "cluster": cluster.name,
                        "end": _local(occ.end),
                        "mine": BulletinClass(bulletin_class).label.lower(),
                    }
                )


def live_check(*, user, targets: list, bulletin_class: str, now: datetime | None = None):
    """Validate a live broadcast request; returns (targets, clusters). Raises
    ``PermissionDenied`` or ``ValidationError`` with the reason, in Vietnamese."""
    now = now or timezone.now()
    if not live_enabled():
        raise ValidationError(_("Live broadcasting is off: no Icecast server is configured."))
    if bulletin_class not in BulletinClass.values:
        raise ValidationError({"bulletin_class": _("Unknown class.")})
    targets = parse_targets(targets)
    if not targets:
        raise ValidationError({"targets": _("Choose at least one cluster, zone or unit.")})
    for target in targets:
        unit = target.audience_unit
        if not user_can_live(user, unit):
            raise PermissionDenied(
                _("You cannot broadcast live to %(unit)s.") % {"unit": unit.name}
            )
        if bulletin_class == BulletinClass.EMERGENCY and not user_can_emergency(user, unit):
            raise PermissionDenied(
                _("You cannot start emergency broadcasts for %(unit)s.") % {"unit": unit.name}
            )
    clusters = _clusters(targets)
    _check_speaker_free(targets, clusters)
    _check_priority(bulletin_class, clusters, now)
    return targets, clusters


def live_start(
    *,
    user,
    targets: list,
    bulletin_class: str = BulletinClass.NORMAL,
    name: str = "",
    now: datetime | None = None,
) -> LiveBroadcast:
    """Start a live broadcast now (see the module docstring). Returns the broadcast; its
    ``mount`` is where the audio is heard on Icecast."""
    now = now or timezone.now()
    with transaction.atomic():
        # One live start at a time: two people pressing at once are told about each other.
        list(LiveBroadcast.objects.select_for_update().filter(status=LiveBroadcast.Status.ON_AIR))
        targets, _clusters_ = live_check(
            user=user, targets=targets, bulletin_class=bulletin_class, now=now
        )
        mount = f"/live-{uuid.uuid4().hex[:16]}.mp3"
        speaker = display_name(user)
        name = (name or "").strip() or _("Live: %(who)s, %(when)s") % {
            "who": speaker,
            "when": _local(now),
        }
        programme = programme_create(
            user=user,
            name=name,
            bulletin_class=bulletin_class,
            targets=targets,
            slots=[
                {
                    "starts_at": now,
                    "content": Slot.Content.LIVE,
                    "relay_url": icecast.listen_url(mount),
                    "duration_seconds": settings.BROADCAST_LIVE_MAX_SECONDS,
                }
            ],
            now=now,
        )
        live = LiveBroadcast.objects.create(
            programme=programme,
            user=user,
            bulletin_class=bulletin_class,
            mount=mount,
            started_at=now,
        )
        log(
            instance=programme,
            action="broadcast.live_start",
            user=user,
            data={"class": bulletin_class, "mount": mount, "targets": [t.scope for t in targets]},
        )
        if bulletin_class != BulletinClass.EMERGENCY:  # emergencies already pushed their own
            commands_create(
                device_ids=list(devices_for_targets(targets).values_list("pk", flat=True)),
                kind=Command.Kind.LIVE_START,
                payload={"programme_id": programme.pk, "name": programme.name},
                programme=programme,
                user=user,
            )
        folder = spool_dir(live)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "source.bin").touch()
        from .feeder import feeder_spawn  # the feeder module builds on these services

        transaction.on_commit(lambda: feeder_spawn(live_id=live.pk))
    return live


def _end_source(live: LiveBroadcast, reason: str) -> None:
    """Cut a bad source off (outside the caller's transaction: the refusal rolls back)."""
    live_stop(user=None, live=live, reason=reason)


def live_chunk(*, user, live: LiveBroadcast, data: bytes, now: datetime | None = None) -> int:
    """Append a slice of the speaker's recording; returns the bytes received so far.

    Only the speaker may send. The first slice must be WebM or Ogg; a broadcast whose
    source sends more than ``BROADCAST_LIVE_MAX_BYTES_PER_SECOND`` is cut off."""
    now = now or timezone.now()
    live.refresh_from_db()
    if live.user_id != getattr(user, "pk", None):
        raise PermissionDenied(_("Only the speaker can send audio to this broadcast."))
    if live.status != LiveBroadcast.Status.ON_AIR:
        raise ValidationError(_("This live broadcast has ended."))
    if not data or len(data) > CHUNK_MAX_BYTES:
        raise ValidationError(_("The audio slice is empty or too large."))
    if live.source_bytes == 0 and not data.startswith(SOURCE_MAGIC):
        _end_source(live, LiveBroadcast.EndReason.SOURCE_INVALID)
        raise ValidationError(_("This is not audio from the microphone; the broadcast ended."))
    elapsed = max(1.0, (now - live.started_at).total_seconds())
    if (live.source_bytes + len(data)) / elapsed > settings.BROADCAST_LIVE_MAX_BYTES_PER_SECOND:
        _end_source(live, LiveBroadcast.EndReason.SOURCE_INVALID)
        raise ValidationError(
            _("More data than a microphone sends arrived; the broadcast was cut off.")
        )
    with open(spool_dir(live) / "source.bin", "ab") as fh:
        fh.write(data)
    LiveBroadcast.objects.filter(pk=live.pk).update(
        source_bytes=F("source_bytes") + len(data), last_chunk_at=now
    )
    return live.source_bytes + len(data)


def live_stop(
    *,
    user,
    live: LiveBroadcast,
    reason: str = LiveBroadcast.EndReason.STOPPED,
    now: datetime | None = None,
) -> LiveBroadcast:
    """End a live broadcast everywhere. ``user`` None: the system (the source was lost or
    sent garbage). The speaker, or whoever may stop the programme, may stop it."""
    now = now or timezone.now()
    with transaction.atomic():
        live = LiveBroadcast.objects.select_for_update().select_related("programme").get(pk=live.pk)
        if live.status == LiveBroadcast.Status.ENDED:
            return live
        is_speaker = user is not None and live.user_id == getattr(user, "pk", None)
        # The system stops on the speaker's behalf; another user needs the programme's rights.
        actor = live.user if user is None or is_speaker else user
        if actor is None:
            raise PermissionDenied(_("You cannot stop this programme."))
        programme_stop(user=actor, programme=live.programme, now=now)
        live.status = LiveBroadcast.Status.ENDED
        live.ended_at = now
        live.end_reason = reason
        live.save(update_fields=["status", "ended_at", "end_reason"])
        log(
            instance=live.programme,
            action="broadcast.live_stop",
            user=user,
            data={"reason": reason, "seconds": round((now - live.started_at).total_seconds(), 1)},
        )
        if live.bulletin_class != BulletinClass.EMERGENCY:
            targets = programme_targets([live.programme_id])
            commands_create(
                device_ids=list(devices_for_targets(targets).values_list("pk", flat=True)),
                kind=Command.Kind.LIVE_STOP,
                payload={"programme_id": live.programme_id},
                programme=live.programme,
                user=user,
            )
        folder = spool_dir(live)
        transaction.on_commit(lambda: _flag_stop(folder))
    return live


def _flag_stop(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "stop").touch()


def live_archive(*, live_id: int) -> LiveBroadcast | None:
    """Keep the recording (``archive.mp3`` in the spool folder) as an audio asset and an
    unpublished newsroom item of the programme's unit. Idempotent; None if nothing was
    recorded."""
    live = LiveBroadcast.objects.select_related("programme__unit", "user").get(pk=live_id)
    if live.item_id:
        return live
    path = spool_dir(live) / "archive.mp3"
    if not path.exists() or path.stat().st_size == 0:
        return None
    with open(path, "rb") as fh:
        upload = File(fh, name=f"{live.mount.strip('/')}")
        asset = asset_create(upload=upload, kind=MediaAsset.Kind.AUDIO, user=live.user)
    targets = ", ".join(str(t) for t in live.programme.targets.all())
    speaker = display_name(live.user) or "?"
    ended = live.ended_at or timezone.now()
    body = _(
        "<p>Live broadcast by %(who)s, %(start)s – %(end)s. Class: %(cls)s. Targets: "
        "%(targets)s. Ended: %(reason)s.</p>"
    ) % {
        "who": speaker,
        "start": _local(live.started_at),
        "end": _local(ended),
        "cls": BulletinClass(live.bulletin_class).label,
        "targets": targets,
        "reason": LiveBroadcast.EndReason(live.end_reason).label if live.end_reason else "",
    }
    with transaction.atomic():
        item = item_record_archive(
            unit=live.programme.unit,
            headline=live.programme.name,
            body=body,
            audio=asset,
            user=live.user,
        )
        LiveBroadcast.objects.filter(pk=live.pk).update(recording=asset, item=item)
    live.refresh_from_db()
    return live
