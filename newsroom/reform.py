"""Administrative reform: move communes to a new parent, merge units into a survivor.

Every row of every model that points at an ``AdministrativeUnit`` follows the surviving
unit — found generically by walking ``AdministrativeUnit._meta`` relations, so items,
memberships, approval steps and other apps' rows (loudspeaker clusters, schedules, …)
move without code in those apps. A row that would duplicate one already at the survivor
(a unique constraint) stays where it was and is reported. Merged units stay, inactive, so
old links still resolve; each moved news item gets a ``nguon.reform`` log entry with the
old and new unit's code and name, and older log entries keep the unit as it was. After
commit, ``units_reformed`` names the units whose ancestry changed (``newsroom.events``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import IntegrityError, models, transaction
from wagtail.log_actions import log

from .events import announce_units_reformed
from .models import AdministrativeUnit, NewsItem


@dataclass
class ReformReport:
    dry_run: bool
    lines: list[str] = field(default_factory=list)
    moved_rows: dict[str, int] = field(default_factory=dict)
    skipped_rows: dict[str, int] = field(default_factory=dict)

    def add(self, line: str) -> None:
        self.lines.append(line)

    def count(self, label: str, n: int, skipped: bool = False) -> None:
        target = self.skipped_rows if skipped else self.moved_rows
        target[label] = target.get(label, 0) + n


def unit_references():
    """(model, field name) for every foreign key to AdministrativeUnit, hidden ones too."""
    refs = []
    for rel in AdministrativeUnit._meta.get_fields(include_hidden=True):
        if not isinstance(rel, models.ForeignObjectRel) or rel.many_to_many:
            continue
        fk = rel.field
        if isinstance(fk, models.ForeignKey):
            refs.append((rel.related_model, fk.name))
    return refs


def _label(model) -> str:
    return model._meta.label


def _unit_info(unit: AdministrativeUnit) -> dict:
    return {"code": unit.code, "name": unit.name, "level": unit.unit_type}


def _relink(source, target, report: ReformReport, user=None) -> None:
    for model, name in unit_references():
        qs = model._base_manager.filter(**{name: source})
        n = qs.count()
        if not n:
            continue
        label = f"{_label(model)}.{name}"
        if report.dry_run:
            report.count(label, n)
            continue
        if model is NewsItem and name == "unit":
            for item in NewsItem.objects.filter(unit=source):
                log(
                    instance=item,
                    action="nguon.reform",
                    user=user,
                    data={"from": _unit_info(source), "to": _unit_info(target)},
                )
        try:
            with transaction.atomic():
                qs.update(**{name: target})
            report.count(label, n)
        except IntegrityError:
            for pk in list(qs.values_list("pk", flat=True)):
                try:
                    with transaction.atomic():
                        model._base_manager.filter(pk=pk).update(**{name: target})
                    report.count(label, 1)
                except IntegrityError:
                    report.count(label, 1, skipped=True)


def _code(unit_or_code) -> AdministrativeUnit:
    if isinstance(unit_or_code, AdministrativeUnit):
        return AdministrativeUnit.objects.get(pk=unit_or_code.pk)
    return AdministrativeUnit.objects.get(code=unit_or_code)


@transaction.atomic
def units_reform(
    *,
    moves: list[tuple[str, str]] = (),
    merges: list[tuple[str, str]] = (),
    dry_run: bool = False,
    user=None,
) -> ReformReport:
    """Apply ``moves`` (unit code → new parent code) then ``merges`` (source code →
    surviving code). With ``dry_run`` nothing changes; the report says what would."""
    report = ReformReport(dry_run=dry_run)
    changed: set[int] = set()  # units with new ancestors (their subtrees too)
    for code, parent_code in moves:
        node, parent = _code(code), _code(parent_code)
        if parent.path.startswith(node.path):
            raise ValueError(f"cannot move {code} under its own subtree {parent_code}")
        report.add(f"move {node.code} {node.name}: {node.get_parent().code} → {parent.code}")
        if not dry_run:
            node.move(parent, pos="sorted-child")
            changed.add(node.pk)
    for code, survivor_code in merges:
        source, target = _code(code), _code(survivor_code)
        if target.path.startswith(source.path):
            raise ValueError(f"cannot merge {code} into its own descendant {survivor_code}")
        children = list(source.get_children())
        report.add(
            f"merge {source.code} {source.name} → {target.code} {target.name}"
            f" ({len(children)} child units move too)"
        )
        for child in children:
            report.add(f"move {child.code} {child.name}: {source.code} → {target.code}")
            if not dry_run:
                _code(child).move(_code(target), pos="sorted-child")
                changed.add(child.pk)
        _relink(source, target, report, user=user)
        if not dry_run:
            AdministrativeUnit.objects.filter(pk=source.pk).update(is_active=False)
            changed.update((source.pk, target.pk))  # rows of the source now at the target
    for label, n in sorted(report.moved_rows.items()):
        report.add(f"{'would relink' if dry_run else 'relinked'} {n} × {label}")
    for label, n in sorted(report.skipped_rows.items()):
        report.add(f"kept {n} × {label} (already present at the surviving unit)")
    if dry_run:
        transaction.set_rollback(True)
    else:
        announce_units_reformed(changed)  # after commit: caches of the old tree forget it
    return report


def collapse_plan(province_code: str) -> tuple[list, list]:
    """Moves and merges that turn a province → district → commune tree into two levels:
    communes under the province, districts merged into the province."""
    province = AdministrativeUnit.objects.get(code=province_code)
    districts = list(province.get_children().filter(unit_type=AdministrativeUnit.Type.DISTRICT))
    moves = [
        (commune.code, province.code)
        for district in districts
        for commune in district.get_children()
    ]
    merges = [(district.code, province.code) for district in districts]
    return moves, merges
