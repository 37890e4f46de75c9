"""One value type for a programme's target: parsed once, with its scope key, rank and
audience unit (``broadcast.targets``)."""

import pytest

from broadcast.models import ProgrammeTarget
from broadcast.targets import Target, TargetError, device_scopes, narrowest, parse_targets

pytestmark = pytest.mark.django_db


def test_every_form_a_target_arrives_in_is_the_same_target(world):
    units, clusters, zone = world["units"], world["clusters"], world["zone"]
    assert Target.parse({"cluster": clusters["A1"]}) == Target("cluster", clusters["A1"].pk)
    assert Target.parse({"zone": zone}) == Target.from_scope(f"z{zone.pk}")
    unit = Target.parse({"unit": units["X"]})
    assert unit == Target.from_values(None, None, units["X"].pk, units["X"].depth)
    row = ProgrammeTarget(cluster=clusters["B1"])
    assert Target.parse(row).scope == f"c{clusters['B1'].pk}"
    assert parse_targets([{"unit": units["X"]}, unit]) == [unit]  # duplicates dropped
    with pytest.raises(TargetError):
        Target.parse({"cluster": None})
    with pytest.raises(TargetError):
        Target.from_scope("x12")


def test_the_narrowest_target_ranks_first_and_knows_its_audience(world):
    units, clusters, zone = world["units"], world["clusters"], world["zone"]
    cluster = Target.parse({"cluster": clusters["A2"]})
    in_zone = Target.parse({"zone": zone})
    commune = Target.parse({"unit": units["A"]})
    province = Target.parse({"unit": units["P"]})
    assert [t.rank for t in (cluster, in_zone, commune)] == [0, 1, 10 - units["A"].depth]
    assert commune.rank < province.rank
    assert narrowest([province, commune, in_zone]) == in_zone
    assert cluster.audience_unit == in_zone.audience_unit == commune.audience_unit == units["A"]
    assert province.audience_unit == units["P"]


def test_a_device_listens_to_its_cluster_its_zones_and_every_unit_above():
    assert device_scopes(cluster_id=7, zone_ids=[3, 2], unit_ids=[9, 1]) == (
        "c7",
        "z2",
        "z3",
        "u1",
        "u9",
    )
