"""A loudspeaker plays an item only where its approved distribution reaches (issue 13,
finding 2): the programme form offers only such items, the service refuses others in
Vietnamese, and a device's timeline checks again, so a programme made before a scope
change or a unit reform cannot leak."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from broadcast.models import Programme, ProgrammeTarget, Slot, SlotItem
from broadcast.services import programme_create
from broadcast.timeline import LOCAL_TZ
from newsroom.events import item_published
from newsroom.models import Role
from newsroom.reform import units_reform
from tests.factories import make_audio_asset, make_published_item, make_user

from .helpers import bearer

pytestmark = pytest.mark.django_db


@pytest.fixture
def b_only(world, tmp_path):
    """Commune B's bulletin approved for "commune loudspeakers only"."""
    asset = make_audio_asset(tmp_path / "b-only", seconds=1.0, name="b-only")
    return make_published_item(
        world["units"]["B"], "Xã B: lịch cắt nước", audio=asset, distribution="commune"
    )


def form_data(world, item, **overrides):
    at = timezone.localtime(timezone.now() + timedelta(hours=2), LOCAL_TZ)
    return {
        "name": "Bản tin chiều",
        "bulletin_class": "normal",
        "target_units": [world["units"]["A"].pk],
        "repeat": "once",
        "first_day": f"{at:%d/%m/%Y}",
        "times": f"{at:%H:%M}",
        "content": "playlist",
        "items": [item.pk],
        "tts_speed": "1.0",
        **overrides,
    }


def headlines(client: Client, device, token) -> list[str]:
    response = client.get(f"/api/v1/devices/{device.pk}/timeline", **bearer(token))
    assert response.status_code == 200
    return [p.get("headline") for e in response.json()["entries"] for p in e["parts"]]


def programme_in_db(*, name, target: dict, items, minutes=30):
    """A programme written straight to the database, as one made before a rule existed."""
    programme = Programme.objects.create(name=name, unit=world_unit(target))
    ProgrammeTarget.objects.create(programme=programme, **target)
    slot = Slot.objects.create(
        programme=programme, starts_at=timezone.now() + timedelta(minutes=minutes)
    )
    for position, item in enumerate(items):
        SlotItem.objects.create(slot=slot, item=item, position=position)
    return programme


def world_unit(target: dict):
    obj = next(iter(target.values()))
    return getattr(obj, "commune", obj)


def test_the_programme_form_never_offers_another_communes_commune_only_bulletin(world, b_only):
    client = Client()
    client.force_login(world["scheduler"])  # a scheduler of commune A
    url = reverse("broadcast_programme_add")
    page = client.get(url).content.decode()
    assert world["items"]["bt1"].headline in page  # commune A's own bulletin is offered
    assert b_only.headline not in page

    forged = client.post(url, form_data(world, b_only))
    assert forged.status_code == 200  # the form again, with the refusal
    assert not Programme.objects.exists()


def test_a_district_scheduler_cannot_play_one_communes_bulletin_in_another(world, b_only):
    # Commune B is in the district's subtree, so its bulletin is offered; commune A is not
    # its audience: the service refuses it, in Vietnamese, on the form.
    client = Client()
    client.force_login(world["district_scheduler"])
    url = reverse("broadcast_programme_add")
    assert b_only.headline in client.get(url).content.decode()
    refused = client.post(url, form_data(world, b_only))
    html = refused.content.decode()
    assert refused.status_code == 200 and not Programme.objects.exists()
    assert "không được duyệt để phát trên loa của mọi nơi đã chọn" in html
    # For commune B itself it is fine.
    fine = client.post(url, form_data(world, b_only, target_units=[world["units"]["B"].pk]))
    assert fine.status_code == 302 and Programme.objects.count() == 1


def test_the_service_refuses_an_item_not_approved_for_every_target(world, b_only):
    units = world["units"]
    with translation.override("vi"), pytest.raises(ValidationError) as refused:
        programme_create(
            user=world["admin"],
            name="Hai xã",
            targets=[{"unit": units["A"]}, {"unit": units["B"]}],
            slots=[{"starts_at": timezone.now() + timedelta(hours=1), "items": [b_only.pk]}],
        )
    assert "không được duyệt để phát trên loa" in str(refused.value.message_dict)
    assert not Programme.objects.exists()


def test_a_programme_written_around_the_rules_never_reaches_another_commune(world, b_only, client):
    # Made straight in the database: commune B's commune-only bulletin aimed at commune A,
    # at a cluster of A, and at the whole province.
    units, clusters = world["units"], world["clusters"]
    programme_in_db(name="Lọt sang A", target={"unit": units["A"]}, items=[b_only])
    programme_in_db(name="Lọt sang cụm", target={"cluster": clusters["A1"]}, items=[b_only])
    programme_in_db(name="Cả tỉnh", target={"unit": units["P"]}, items=[b_only], minutes=60)
    for name in ["A1", "A2", "C1"]:
        device, token = world["devices"][name]
        assert b_only.headline not in headlines(client, device, token)
    # Commune B's own loudspeakers do not get it through a province-wide programme either:
    # it was approved for the commune, not for the province.
    device, token = world["devices"]["B1"]
    assert b_only.headline not in headlines(client, device, token)
    programme_in_db(name="Xã B", target={"unit": units["B"]}, items=[b_only], minutes=90)
    cache.clear()
    assert b_only.headline in headlines(client, device, token)


def test_a_narrowed_scope_takes_the_item_off_loudspeakers_it_no_longer_reaches(world, client):
    units, items = world["units"], world["items"]
    bt1 = items["bt1"]  # commune A's bulletin, approved province-wide
    programme_create(
        user=world["admin"],
        name="Cả tỉnh",
        targets=[{"unit": units["P"]}],
        slots=[{"starts_at": timezone.now() + timedelta(hours=1), "items": [bt1.pk]}],
    )
    device, token = world["devices"]["C1"]
    assert bt1.headline in headlines(client, device, token)
    # A correction approved only for commune A's loudspeakers (the live row is the
    # approved version; publishing announces it).
    type(bt1).objects.filter(pk=bt1.pk).update(distribution="commune")
    item_published.send(sender=type(bt1), item_id=bt1.pk, version=2, first=False)
    assert bt1.headline not in headlines(client, device, token)
    device, token = world["devices"]["A1"]
    assert bt1.headline not in headlines(client, device, token)  # the target is the province


def test_after_a_unit_reform_a_district_bulletin_leaves_the_commune_that_moved_away(
    world, tmp_path, client
):
    units = world["units"]
    asset = make_audio_asset(tmp_path / "x-only", seconds=1.0, name="x-only")
    x_only = make_published_item(units["X"], "Huyện X: tiêm chủng", audio=asset,
                                 distribution="district")  # fmt: skip
    scheduler = make_user("laplich_x2", unit=units["X"], role=Role.SCHEDULER)
    programme_create(
        user=scheduler,
        name="Xã A nghe huyện",
        targets=[{"unit": units["A"]}],
        slots=[{"starts_at": timezone.now() + timedelta(hours=1), "items": [x_only.pk]}],
    )
    device, token = world["devices"]["A1"]
    assert x_only.headline in headlines(client, device, token)
    units_reform(moves=[(units["A"].code, units["Y"].code)])  # commune A now in district Y
    # The reform announces nothing to the device cache yet: the cached identity and
    # entries last until the hourly roll-over. What the database says is what counts here.
    cache.clear()
    assert x_only.headline not in headlines(client, device, token)
