"""Which programmes reach which clusters, loaded for the compiler (``broadcast.compile``).

A device listens to scopes (``targets.device_scopes``: its cluster, its cluster's zones,
its commune and the units above). A programme reaches it when one of its targets has one
of those scope keys; the narrowest such target ranks it and names the audience its items
must be approved for (``newsroom.audience``). Both readers go through here:

- :func:`device_timeline_data` — the device API's ``/timeline`` (and so the simulator and
  every device): the scopes come from the cached identity, the compiled entries are cached
  per (programmes, their targets, the versions of the scopes they target, hour);
- :func:`timeline_for_clusters` — proof of play and the reports, for many clusters at once.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Prefetch, Q
from django.utils import timezone

from media.image_renditions import rendition_file_digest
from newsroom.audience import items_reaching_q
from newsroom.models import AdministrativeUnit, NewsItem
from newsroom.picture_renditions import items_pictures_rendered

from .compile import (
    BOARD_PICTURE_SPEC,
    BoardPicture,
    Reach,
    compile_timeline,
    occurrence_data,
    playable,
)
from .device_api import cache as bcache
from .models import Cluster, Device, Programme, ProgrammeTarget, Slot, SlotItem, Zone
from .targets import Target, ancestor_paths, device_scopes, narrowest
from .timeline import Occurrence


def slot_queryset():
    """Slots with everything the compiler reads (playlist items, their audio renditions,
    the rendered TTS asset)."""
    return Slot.objects.select_related("tts_asset").prefetch_related(
        "tts_asset__renditions",
        Prefetch(
            "entries",
            queryset=SlotItem.objects.select_related("item__audio", "item__image").prefetch_related(
                "item__audio__renditions"
            ),
        ),
    )


def targets_reaching(
    scope_sets: dict[Hashable, Iterable[str]], *, at: datetime
) -> dict[Hashable, tuple[dict[int, Target], set[str]]]:
    """For each key's scopes: the narrowest target per programme reaching them (programmes
    not stopped before ``at``) and every scope those programmes' matching targets use.
    One query for all keys."""
    scope_sets = {key: set(scopes) for key, scopes in scope_sets.items()}
    wanted = {"c": set(), "z": set(), "u": set()}
    for scopes in scope_sets.values():
        for scope in scopes:
            wanted[scope[0]].add(int(scope[1:]))
    rows = [
        (programme_id, Target.from_values(*columns))
        for programme_id, *columns in ProgrammeTarget.objects.filter(
            Q(cluster_id__in=wanted["c"]) | Q(zone_id__in=wanted["z"]) | Q(unit_id__in=wanted["u"])
        )
        .filter(Q(programme__stopped_at__isnull=True) | Q(programme__stopped_at__gt=at))
        .values_list("programme_id", "cluster_id", "zone_id", "unit_id", "unit__depth")
    ]
    result = {}
    for key, scopes in scope_sets.items():
        best: dict[int, Target] = {}
        used: set[str] = set()
        for programme_id, target in rows:
            if target.scope not in scopes:
                continue
            used.add(target.scope)
            previous = best.get(programme_id)
            best[programme_id] = target if previous is None else narrowest([previous, target])
        result[key] = (best, used)
    return result


def _load_targets(targets: set[Target]) -> dict[Target, Target]:
    """The targets with their objects loaded (clusters and zones with their commune)."""
    ids = {kind: [t.id for t in targets if t.kind == kind] for kind in ("cluster", "zone", "unit")}
    objects = {
        "cluster": Cluster.objects.select_related("commune").in_bulk(ids["cluster"]),
        "zone": Zone.objects.select_related("commune").in_bulk(ids["zone"]),
        "unit": AdministrativeUnit.objects.in_bulk(ids["unit"]),
    }
    loaded = {}
    for target in targets:
        obj = objects[target.kind].get(target.id)
        if obj is not None:
            loaded[target] = Target.of(target.kind, obj)
    return loaded


def _allowed_items(units: Iterable[AdministrativeUnit], item_ids: set[int]) -> dict[int, frozenset]:
    """Per unit, which of ``item_ids`` are approved for its loudspeakers
    (``newsroom.audience.items_reaching_q``; one query for the ancestors, one per unit)."""
    units = {u.pk: u for u in units}
    if not item_ids:
        return {pk: frozenset() for pk in units}
    paths = {p for u in units.values() for p in ancestor_paths(u.path, u.steplen)}
    by_path = {a.path: a for a in AdministrativeUnit.objects.filter(path__in=paths)}
    allowed = {}
    for pk, unit in units.items():
        ancestors = [by_path[p] for p in ancestor_paths(unit.path, unit.steplen) if p in by_path]
        q = items_reaching_q(unit, ancestors=ancestors)
        allowed[pk] = frozenset(
            NewsItem.objects.filter(q, pk__in=item_ids).values_list("pk", flat=True)
        )
    return allowed


def board_pictures(items: Iterable[NewsItem]) -> dict[int, list[BoardPicture]]:
    """The pictures bulletin boards show of ``items``, by item id: alt text, caption,
    credit and the board rendition (``BOARD_PICTURE_SPEC``), made now if it is missing, so
    a timeline never names a file that does not exist; its size and SHA-256 are read
    here, once per compile, for the device to check its download."""
    rendered = items_pictures_rendered(items, (BOARD_PICTURE_SPEC,))
    out: dict[int, list[BoardPicture]] = {}
    for item_id, pictures in rendered.items():
        out[item_id] = []
        for one in pictures:
            rendition = one.renditions[BOARD_PICTURE_SPEC]
            try:
                size, sha256 = rendition_file_digest(rendition)
            except OSError:
                continue  # the file went away: the next compile makes it again
            out[item_id].append(
                {
                    "picture_id": rendition.id,
                    "alt": one.picture.alt,
                    "caption": one.picture.caption,
                    "credit": one.picture.credit,
                    "lead": one.picture.lead,
                    "width": rendition.width,
                    "height": rendition.height,
                    "mime_type": rendition.mime_type,
                    "size": size,
                    "sha256": sha256,
                }
            )
    return out


def load_reach(
    per_key: dict[Hashable, dict[int, Target]], *, kind: str | None = None
) -> dict[Hashable, list[Reach]]:
    """The programmes (slots prefetched), their targets (loaded) and the items approved for
    each target's audience, ready for ``compile.compile_timeline``; for ``kind`` board,
    the pictures of the display items too."""
    programme_ids = {pid for best in per_key.values() for pid in best}
    if not programme_ids:
        return {key: [] for key in per_key}
    programmes = Programme.objects.filter(pk__in=programme_ids).prefetch_related(
        Prefetch("slots", queryset=slot_queryset())
    )
    programmes = {p.pk: p for p in programmes}
    targets = _load_targets({t for best in per_key.values() for t in best.values()})
    item_ids = {
        entry.item_id
        for programme in programmes.values()
        for slot in programme.slots.all()
        for entry in slot.entries.all()
    }
    allowed = _allowed_items({t.audience_unit for t in targets.values()}, item_ids)
    pictures: dict[int, list[BoardPicture]] = {}
    if kind == Device.Kind.BOARD:
        displayed = {
            entry.item_id: entry.item
            for programme in programmes.values()
            for slot in programme.slots.all()
            if slot.content == Slot.Content.DISPLAY
            for entry in slot.entries.all()
            if playable(entry.item)
        }
        pictures = board_pictures(displayed.values())
    result = {}
    for key, best in per_key.items():
        reach = []
        for pid, target in best.items():
            if pid not in programmes or target not in targets:
                continue
            loaded = targets[target]
            reach.append(Reach(programmes[pid], loaded, allowed[loaded.audience_unit.pk], pictures))
        result[key] = reach
    return result


def cluster_scopes(clusters: list[Cluster]) -> dict[int, tuple]:
    """Each cluster's scopes (clusters with ``commune`` and ``zones`` loaded); one query for
    the units above their communes."""
    paths = {p for c in clusters for p in ancestor_paths(c.commune.path, c.commune.steplen)}
    unit_ids = dict(AdministrativeUnit.objects.filter(path__in=paths).values_list("path", "pk"))
    return {
        c.pk: device_scopes(
            cluster_id=c.pk,
            zone_ids=[z.pk for z in c.zones.all()],
            unit_ids=[
                unit_ids[p]
                for p in ancestor_paths(c.commune.path, c.commune.steplen)
                if p in unit_ids
            ],
        )
        for c in clusters
    }


def clusters_loaded(qs) -> list[Cluster]:
    return list(qs.select_related("commune").prefetch_related("zones"))


def reach_for_clusters(
    clusters: list[Cluster], *, at: datetime, kind: str | None = None
) -> dict[int, list[Reach]]:
    """The loaded reach of every cluster (``commune`` and ``zones`` loaded)."""
    found = targets_reaching(cluster_scopes(clusters), at=at)
    return load_reach({pk: best for pk, (best, _used) in found.items()}, kind=kind)


def timeline_for_clusters(
    clusters: list[Cluster], *, kind: str, start: datetime, end: datetime
) -> dict[int, list[Occurrence]]:
    """Resolved entries overlapping ``[start, end)`` per cluster (one query set for all)."""
    reach = reach_for_clusters(clusters, at=start, kind=kind)
    return {c.pk: compile_timeline(reach[c.pk], kind=kind, start=start, end=end) for c in clusters}


def device_timeline_data(
    *, identity: bcache.DeviceIdentity, versions: dict[str, str], now: datetime | None = None
) -> list[dict]:
    """The device's timeline entries for the API, without reading the device rows.

    One query finds the programmes that reach the device (through its cluster, zones and
    ancestor units, all known from the identity); the compiled entries are cached under
    the programmes, their narrowest targets and the versions of the scopes they target, so
    every cluster reached by the same programmes shares one compile (e.g. a provincial
    emergency)."""
    now = now or timezone.now()
    end = now + timedelta(hours=settings.BROADCAST_TIMELINE_HOURS)
    best, used = targets_reaching({0: identity.scopes}, at=now)[0]
    if not best:
        return []
    key = bcache.entries_key(
        kind=identity.kind,
        reach=[(pid, t.scope, t.rank) for pid, t in best.items()],
        versions={scope: versions.get(scope, "") for scope in used},
    )
    cached = bcache.entries_get(key)
    if cached is not None:
        return cached
    reach = load_reach({0: best}, kind=identity.kind)[0]
    entries = [
        occurrence_data(o) for o in compile_timeline(reach, kind=identity.kind, start=now, end=end)
    ]
    bcache.entries_set(key, entries)
    return entries
