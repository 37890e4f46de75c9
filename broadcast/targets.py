"""Where a programme plays: one value type for a target (a cluster, a zone or a unit).

A target travels as a :class:`Target` everywhere: parsed once at the edge (the admin form,
a legacy ``{"cluster": obj}`` dict, a ``ProgrammeTarget`` row, a ``"c12"`` scope key), it
knows its scope key (the cache's ``bc:v:<scope>``), its rank (which target is narrower when
several reach one cluster) and its audience unit (the unit whose loudspeakers it covers:
the cluster's or zone's commune, or the unit itself with its whole subtree).

Nothing here writes; :func:`coverage_q` and :func:`device_scopes` are the only places that
say which clusters a target covers and which scopes a device listens to.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db.models import Q

Kind = Literal["cluster", "zone", "unit"]
KINDS: tuple[Kind, ...] = ("cluster", "zone", "unit")
_PREFIX: dict[Kind, str] = {"cluster": "c", "zone": "z", "unit": "u"}
_KIND_OF_PREFIX: dict[str, Kind] = {v: k for k, v in _PREFIX.items()}
# Unit targets rank after zones, a wider unit (smaller depth) higher; depths past 8 tie.
_MAX_DEPTH = 8


class TargetError(ValueError):
    """Not a target: neither a cluster, a zone nor a unit."""


@dataclass(frozen=True)
class Target:
    """One target of a programme. Equal targets have equal ``kind`` and ``id``.

    ``depth`` is the unit's tree depth (unit targets; the rank needs it). ``obj`` is the
    loaded model instance when the caller had one (``audience_unit`` needs it); it takes
    no part in equality."""

    kind: Kind
    id: int
    depth: int | None = None
    obj: Any = field(default=None, compare=False, hash=False, repr=False)

    # --- parsing --------------------------------------------------------------------------

    @classmethod
    def of(cls, kind: Kind, obj) -> Target:
        if kind not in KINDS or obj is None:
            raise TargetError(kind)
        depth = getattr(obj, "depth", None) if kind == "unit" else None
        return cls(kind=kind, id=obj.pk, depth=depth, obj=obj)

    @classmethod
    def parse(cls, value) -> Target:
        """A target from what callers hand over: a ``Target``, a ``ProgrammeTarget`` row,
        a ``{"cluster"|"zone"|"unit": obj}`` dict (the first non-empty key wins) or a scope
        key such as ``"c12"`` (without an object)."""
        if isinstance(value, Target):
            return value
        if isinstance(value, str):
            return cls.from_scope(value)
        if isinstance(value, dict):
            for kind in KINDS:
                if value.get(kind) is not None:
                    return cls.of(kind, value[kind])
            raise TargetError(value)
        for kind in KINDS:  # a ProgrammeTarget row (or anything shaped like one)
            if getattr(value, f"{kind}_id", None):
                return cls.of(kind, getattr(value, kind))
        raise TargetError(value)

    @classmethod
    def from_values(cls, cluster_id, zone_id, unit_id, unit_depth=None) -> Target:
        """From the columns of a ``ProgrammeTarget`` row (``values_list``)."""
        if cluster_id:
            return cls("cluster", cluster_id)
        if zone_id:
            return cls("zone", zone_id)
        if unit_id:
            return cls("unit", unit_id, depth=unit_depth)
        raise TargetError((cluster_id, zone_id, unit_id))

    @classmethod
    def from_scope(cls, scope: str) -> Target:
        kind = _KIND_OF_PREFIX.get(scope[:1])
        if kind is None or not scope[1:].isdigit():
            raise TargetError(scope)
        return cls(kind, int(scope[1:]))

    # --- what a target says ---------------------------------------------------------------

    @property
    def scope(self) -> str:
        """The cache scope key: ``c<cluster>``, ``z<zone>`` or ``u<unit>``."""
        return f"{_PREFIX[self.kind]}{self.id}"

    @property
    def rank(self) -> int:
        """0 for a cluster (narrowest), 1 for a zone, then wider units rank higher."""
        if self.kind == "cluster":
            return 0
        if self.kind == "zone":
            return 1
        if self.depth is None:
            raise TargetError(f"{self.scope}: a unit target's rank needs its depth")
        return 10 - min(self.depth, _MAX_DEPTH)

    @property
    def audience_unit(self):
        """The unit whose loudspeakers this target covers (an approved item must reach
        it): the cluster's or the zone's commune, or the unit itself."""
        if self.obj is None:
            raise TargetError(f"{self.scope}: not loaded")
        return self.obj if self.kind == "unit" else self.obj.commune

    def row_fields(self) -> dict:
        """The ``ProgrammeTarget`` columns for this target."""
        return {f"{self.kind}_id": self.id}

    def cluster_q(self) -> Q:
        """A filter on ``Cluster`` selecting the clusters this target covers."""
        if self.kind == "cluster":
            return Q(pk=self.id)
        if self.kind == "zone":
            return Q(zones=self.id)
        path = getattr(self.obj, "path", None)
        if path is None:
            return Q(commune__path__startswith=_unit_path(self.id))
        return Q(commune__path__startswith=path)


def _unit_path(unit_id: int) -> str:
    from newsroom.models import AdministrativeUnit

    return AdministrativeUnit.objects.values_list("path", flat=True).get(pk=unit_id)


def parse_targets(values: Iterable) -> list[Target]:
    """Each value parsed with :meth:`Target.parse`, duplicates dropped, order kept."""
    seen: dict[Target, None] = {}
    for value in values:
        seen.setdefault(Target.parse(value), None)
    return list(seen)


def scopes_of(targets: Iterable[Target]) -> set[str]:
    return {t.scope for t in targets}


def coverage_q(targets: Iterable[Target]) -> Q:
    """A filter on ``Cluster`` selecting every cluster the targets cover."""
    q = Q(pk__in=[])
    for target in targets:
        q |= target.cluster_q()
    return q


def ancestor_paths(path: str, steplen: int) -> list[str]:
    """A treebeard path's ancestors and itself, from the root down."""
    return [path[:i] for i in range(steplen, len(path) + 1, steplen)]


def device_scopes(*, cluster_id: int, zone_ids: Iterable[int], unit_ids: Iterable[int]) -> tuple:
    """The scopes a device of the cluster listens to, in a fixed order: its cluster, its
    cluster's zones, its commune and every unit above it. A programme reaches the device
    exactly when one of its targets has one of these scope keys."""
    return (
        (Target("cluster", cluster_id).scope,)
        + tuple(Target("zone", z).scope for z in sorted(zone_ids))
        + tuple(Target("unit", u).scope for u in sorted(unit_ids))
    )


def narrowest(targets: Iterable[Target]) -> Target:
    """The narrowest of several targets reaching one cluster (the lowest rank; ties keep
    the first)."""
    return min(targets, key=lambda t: t.rank)
