"""Administrative reform: the three-level demo province collapsed into two levels."""

import pytest
from django.core.management import call_command

from newsroom.audit import audit_trail
from newsroom.demo import LEGACY_PROVINCE
from newsroom.models import AdministrativeUnit, Membership, NewsItem, Role
from newsroom.reform import unit_references, units_reform
from newsroom.services import item_create, item_review, item_submit
from newsroom.units import units_load
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def binh_phuoc():
    units_load([LEGACY_PROVINCE])
    return {u.code: u for u in AdministrativeUnit.objects.all()}


def test_every_unit_reference_is_found_generically():
    refs = {(m._meta.label, f) for m, f in unit_references()}
    assert {("newsroom.NewsItem", "unit"), ("newsroom.Membership", "unit")} <= refs
    assert ("newsroom.UnitApprovalTaskState", "unit") in refs


def test_collapse_moves_communes_and_everything_follows(binh_phuoc, capsys):
    u = binh_phuoc
    rep = make_user("rep", unit=u["25198"], role=Role.REPORTER)
    appr_commune = make_user("ax", unit=u["25198"], role=Role.APPROVER)
    district_appr = make_user("ah", unit=u["689"], role=Role.APPROVER)
    make_user("at", unit=u["70"], role=Role.APPROVER)
    item = item_create(user=rep, unit=u["25198"], headline="Tin trước sáp nhập")
    item_submit(user=rep, item=item)
    item_review(user=appr_commune, item=item, action="approve")  # now at district 689
    district_item = item_create(
        user=make_user("rh", unit=u["689"], role=Role.REPORTER), unit=u["689"], headline="Tin huyện"
    )
    before = AdministrativeUnit.objects.count()

    call_command("reform_units", "--collapse", "70", "--dry-run")
    out = capsys.readouterr().out
    assert "DRY RUN" in out and "move 25198" in out and "merge 689" in out
    assert "newsroom.NewsItem.unit" in out
    assert AdministrativeUnit.objects.get(code="25198").get_parent().code == "689"

    call_command("reform_units", "--collapse", "70")
    province = AdministrativeUnit.objects.get(code="70")
    commune = AdministrativeUnit.objects.get(code="25198")
    assert commune.get_parent() == province and commune.depth == 2
    assert AdministrativeUnit.objects.count() == before  # merged units stay, inactive
    assert not AdministrativeUnit.objects.get(code="689").is_active
    assert AdministrativeUnit.find_problems() == ([], [], [], [], [])
    # Rows that pointed at the abolished district now point at the province.
    assert NewsItem.objects.get(pk=district_item.pk).unit == province
    assert Membership.objects.get(user=district_appr).unit == province
    # The in-progress district step is now the province's; the chain goes on.
    item.refresh_from_db()
    assert item.current_workflow_state.current_task_state.specific.unit == province
    # History still shows the units as they were.
    trail = audit_trail(item)
    approve = next(r for r in trail if r["action"] == "wagtail.workflow.approve")
    assert (approve["unit_code"], approve["unit_name"]) == ("25198", "Phường Tân Đồng")
    moved = audit_trail(district_item)[-1]
    assert moved["action"] == "nguon.reform" and "689" in moved["detail"]


def test_merging_two_communes_keeps_one_membership(binh_phuoc):
    u = binh_phuoc
    user = make_user("both", unit=u["25198"], role=Role.REPORTER)
    Membership.objects.create(user=user, unit=u["25201"], role=Role.REPORTER)
    report = units_reform(merges=[("25201", "25198")])
    assert Membership.objects.filter(user=user, unit__code="25198").count() == 1
    assert report.skipped_rows == {"newsroom.Membership.unit": 1}


def test_the_admin_previews_then_applies_a_reform(binh_phuoc, client):
    u = binh_phuoc
    rep = make_user("rep2", unit=u["689"], role=Role.REPORTER)
    item = item_create(user=rep, unit=u["689"], headline="Tin huyện trước cải cách")
    url = "/admin/newsroom/reform/"

    # Only a superuser reaches the page; a unit's own admin is sent back to the dashboard
    # (Wagtail's answer to a refused permission) and nothing changes.
    client.force_login(make_user("ua", unit=u["70"], role=Role.UNIT_ADMIN))
    denied = client.post(url, {"collapse": "70", "apply": "1"})
    assert denied.status_code == 302 and denied.url == "/admin/"
    assert AdministrativeUnit.objects.get(code="25198").get_parent().code == "689"

    client.force_login(make_user("root", is_superuser=True, is_staff=True))
    page = client.get(url).content.decode()
    assert "Sắp xếp đơn vị hành chính" in page

    # A wrong line says which line and changes nothing.
    bad = client.post(url, {"moves": "25198-70", "preview": "1"}).content.decode()
    assert "25198-70" in bad
    unknown = client.post(url, {"merges": "999999:70", "preview": "1"}).content.decode()
    assert "999999" in unknown
    huge = client.post(url, {"moves": "25198:70\n" * 20_000, "preview": "1"}).content.decode()
    assert "tối đa" in huge and "10000" in huge.replace(".", "").replace(",", "")

    preview = client.post(url, {"collapse": "70", "preview": "1"}).content.decode()
    assert "move 25198" in preview and "merge 689" in preview
    assert 'name="apply"' in preview
    assert AdministrativeUnit.objects.get(code="25198").get_parent().code == "689"
    assert NewsItem.objects.get(pk=item.pk).unit.code == "689"

    done = client.post(url, {"collapse": "70", "apply": "1"})
    assert done.status_code == 302
    assert AdministrativeUnit.objects.get(code="25198").get_parent().code == "70"
    assert NewsItem.objects.get(pk=item.pk).unit.code == "70"
    assert not AdministrativeUnit.objects.get(code="689").is_active
