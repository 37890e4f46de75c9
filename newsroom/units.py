"""Loading the administrative tree: the official 2025 data and legacy three-level data."""

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import transaction

from .models import AdministrativeUnit


@dataclass(frozen=True)
class UnitSpec:
    code: str
    name: str
    unit_type: str
    division_type: str = ""
    children: tuple["UnitSpec", ...] = ()


def official_units() -> list[UnitSpec]:
    """The 34 provinces and their communes from the ``vietnam-provinces`` package."""
    from vietnam_provinces import NESTED_DIVISIONS_JSON_PATH

    data = json.loads(NESTED_DIVISIONS_JSON_PATH.read_text(encoding="utf-8"))
    return [
        UnitSpec(
            code=f"{province['code']:02d}",
            name=province["name"],
            unit_type=AdministrativeUnit.Type.PROVINCE,
            division_type=province.get("division_type", ""),
            children=tuple(
                UnitSpec(
                    code=f"{ward['code']:05d}",
                    name=ward["name"],
                    unit_type=AdministrativeUnit.Type.COMMUNE,
                    division_type=ward.get("division_type", ""),
                )
                for ward in province["wards"]
            ),
        )
        for province in data
    ]


def _count(specs: Iterable[UnitSpec]) -> int:
    return sum(1 + _count(spec.children) for spec in specs)


@transaction.atomic
def units_load(
    specs: list[UnitSpec], *, progress: Callable[[int], None] | None = None
) -> dict[str, int]:
    """Create missing units and update names of existing ones, matched by official code.

    Idempotent. New children of one parent are inserted in one ``bulk_create`` with paths
    computed here, which keeps a national import (3,355 units) to a few seconds.
    """
    existing = {u.code: u for u in AdministrativeUnit.objects.all()}
    stats = {"created": 0, "updated": 0, "unchanged": 0}

    def sync(spec: UnitSpec, unit: AdministrativeUnit) -> None:
        changed = False
        for attr in ("name", "unit_type", "division_type"):
            if getattr(unit, attr) != getattr(spec, attr):
                setattr(unit, attr, getattr(spec, attr))
                changed = True
        if changed:
            unit.save(update_fields=["name", "unit_type", "division_type"])
            stats["updated"] += 1
        else:
            stats["unchanged"] += 1
        if progress:
            progress(1)

    def ensure_children(parent: AdministrativeUnit, children: tuple[UnitSpec, ...]) -> None:
        missing = [c for c in children if c.code not in existing]
        if missing:
            last = parent.get_last_child()
            next_step = (
                AdministrativeUnit._str2int(last.path[-AdministrativeUnit.steplen :]) + 1
                if last
                else 1
            )
            new_nodes = []
            for offset, spec in enumerate(missing):
                path = AdministrativeUnit._get_path(
                    parent.path, parent.depth + 1, next_step + offset
                )
                new_nodes.append(
                    AdministrativeUnit(
                        path=path,
                        depth=parent.depth + 1,
                        numchild=0,
                        code=spec.code,
                        name=spec.name,
                        unit_type=spec.unit_type,
                        division_type=spec.division_type,
                    )
                )
            AdministrativeUnit.objects.bulk_create(new_nodes, batch_size=500)
            AdministrativeUnit.objects.filter(pk=parent.pk).update(
                numchild=parent.numchild + len(new_nodes)
            )
            parent.numchild += len(new_nodes)
            for node in AdministrativeUnit.objects.filter(code__in=[s.code for s in missing]):
                existing[node.code] = node
            stats["created"] += len(new_nodes)
            if progress:
                progress(len(new_nodes))
        for child in children:
            if child not in missing:
                sync(child, existing[child.code])
            if child.children:
                ensure_children(existing[child.code], child.children)

    for spec in specs:
        if spec.code in existing:
            sync(spec, existing[spec.code])
        else:
            root = AdministrativeUnit.add_root(
                code=spec.code,
                name=spec.name,
                unit_type=spec.unit_type,
                division_type=spec.division_type,
            )
            existing[spec.code] = root
            stats["created"] += 1
            if progress:
                progress(1)
        if spec.children:
            ensure_children(existing[spec.code], spec.children)
    return stats


def units_count(specs: list[UnitSpec]) -> int:
    return _count(specs)
