"""What a loudspeaker receiver sees through /api/v1/devices/: only its own timeline, only
with its own token, with files it can verify; errors always come back as JSON.

(These assertions were made against the legacy ``/schedule`` until 0.4.0; they now hold
for ``/timeline``, which replaced it.)"""

import base64
import hashlib
import io
from datetime import timedelta

import av
import pytest
from django.test import Client
from django.utils import timezone

from broadcast.models import Device
from broadcast.services import device_token_issue, programme_create
from media.models import Rendition
from tests.factories import (
    make_audio_asset,
    make_device,
    make_published_item,
    make_tree,
    make_user,
)

pytestmark = pytest.mark.django_db

SCOPE = {"P": "province", "X": "district", "A": "commune", "B": "commune", "C": "commune"}


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media-root"
    return settings.MEDIA_ROOT


def schedule(unit, items, *, minutes: int):
    """A one-off programme for ``unit`` (its whole subtree) playing ``items``."""
    return programme_create(
        user=make_user(f"quantri-{unit.code}-{minutes}", is_superuser=True, is_staff=True),
        name=f"Chương trình {unit.name}",
        targets=[{"unit": unit}],
        slots=[
            {
                "starts_at": timezone.now() + timedelta(minutes=minutes),
                "items": [i.pk for i in items],
            }
        ],
    )


@pytest.fixture
def world(tmp_path):
    """Province P > district X > communes A, B; district Y > commune C. Bulletins at P, X,
    A, B and C, each approved for its own unit's loudspeakers and scheduled there (A's
    first, then X's, then P's); an unpublished one at A; a device in A and one in B."""
    units = make_tree(three_level=True)
    now = timezone.now()
    items = {}
    for i, name in enumerate(["P", "X", "A", "B", "C"]):
        asset = make_audio_asset(tmp_path / name, seconds=1 + i * 0.25, name=f"bt-{name}")
        items[name] = make_published_item(
            units[name],
            f"Bản tin của {units[name].name}",
            audio=asset,
            published_at=now - timedelta(minutes=10 - i),
            distribution=SCOPE[name],
        )
    draft_asset = make_audio_asset(tmp_path / "draft", seconds=1, name="draft")
    items["draft"] = make_published_item(
        units["A"], "Bản nháp chưa duyệt", audio=draft_asset, live=False
    )
    for minutes, name in [(10, "A"), (20, "X"), (30, "P"), (10, "B"), (10, "C")]:
        schedule(units[name], [items[name]], minutes=minutes)
    device_a, token_a = make_device(units["A"], "LOA-A")
    device_b, token_b = make_device(units["B"], "LOA-B")
    return {
        "units": units,
        "items": items,
        "a": (device_a, token_a),
        "b": (device_b, token_b),
    }


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def timeline_url(device: Device) -> str:
    return f"/api/v1/devices/{device.pk}/timeline"


def audio_parts(client: Client, device: Device, token: str) -> list[dict]:
    response = client.get(timeline_url(device), **bearer(token))
    assert response.status_code == 200
    return [p for e in response.json()["entries"] for p in e["parts"] if p["type"] == "audio"]


def headlines(client: Client, device: Device, token: str) -> list[str]:
    return [p["headline"] for p in audio_parts(client, device, token)]


def media_url(device: Device, rendition: Rendition) -> str:
    return f"/api/v1/devices/{device.pk}/media/{rendition.pk}"


def assert_json_error(response, status: int) -> None:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    # One shape for every error (core.openapi.ERROR_SCHEMA: the message, and the field at
    # fault where there is one), not ninja's {"detail": ...}.
    assert set(body) <= {"error", "field"} and "error" in body
    assert isinstance(body["error"], str) and body["error"]


def test_missing_token_is_401_json(world, client: Client):
    device, _ = world["a"]
    assert_json_error(client.get(timeline_url(device)), 401)
    assert_json_error(client.get(timeline_url(device), HTTP_AUTHORIZATION="Bearer "), 401)
    assert_json_error(
        client.get(timeline_url(device), HTTP_AUTHORIZATION="Basic Zm9vOmJhcg=="), 401
    )


def test_wrong_token_is_401_json(world, client: Client):
    device, token = world["a"]
    assert_json_error(client.get(timeline_url(device), **bearer(token + "x")), 401)
    assert_json_error(client.get(timeline_url(device), **bearer("x" * 43)), 401)


def test_another_devices_valid_token_is_403_json(world, client: Client):
    device_a, _ = world["a"]
    _, token_b = world["b"]
    assert_json_error(client.get(timeline_url(device_a), **bearer(token_b)), 403)
    rendition = world["items"]["A"].audio.rendition("loudspeaker")
    assert_json_error(client.get(media_url(device_a, rendition), **bearer(token_b)), 403)


def test_disabled_device_or_cluster_is_401(world, client: Client):
    device, token = world["a"]
    assert client.get(timeline_url(device), **bearer(token)).status_code == 200
    device.enabled = False
    device.save()
    assert_json_error(client.get(timeline_url(device), **bearer(token)), 401)
    device.enabled = True
    device.save()
    device.cluster.enabled = False
    device.cluster.save()
    assert_json_error(client.get(timeline_url(device), **bearer(token)), 401)


def test_a_reissued_token_revokes_the_old_one(world, client: Client):
    device, old = world["a"]
    new = device_token_issue(device=device)
    assert_json_error(client.get(timeline_url(device), **bearer(old)), 401)
    assert client.get(timeline_url(device), **bearer(new)).status_code == 200


def test_a_device_hears_its_commune_and_the_units_above_it_only(world, client: Client):
    device, token = world["a"]
    response = client.get(timeline_url(device), **bearer(token))
    assert response.status_code == 200
    body = response.json()
    items = world["items"]
    parts = audio_parts(client, device, token)
    # In start order: the commune's, then the district's, then the province's bulletin.
    assert [p["headline"] for p in parts] == [
        items["A"].headline,
        items["X"].headline,
        items["P"].headline,
    ]
    assert body["device"] == device.pk and body["cluster"] == device.cluster_id
    assert {p["item"] for p in parts} == {str(items[n].uuid) for n in ["A", "X", "P"]}
    for part in parts:
        assert part["mime_type"] == "audio/mpeg"
        assert part["url"].startswith("http://testserver/api/v1/devices/")
        assert len(part["sha256"]) == 64 and part["size"] > 0
        assert part["duration"] > 0


def test_neighbouring_communes_never_share_bulletins(world, client: Client):
    device_b, token_b = world["b"]
    heard = headlines(client, device_b, token_b)
    items = world["items"]
    assert items["B"].headline in heard
    assert items["A"].headline not in heard  # sibling commune
    assert items["C"].headline not in heard  # commune of another district
    assert items["draft"].headline not in heard


def test_unpublished_and_untranscoded_items_never_appear(world, client: Client, tmp_path):
    device, token = world["a"]
    items = world["items"]
    # Taken down after publication.
    items["X"].live = False
    items["X"].save()
    # Published and scheduled, but its MP3 is not ready yet.
    pending = make_audio_asset(tmp_path / "pending", seconds=1, name="p", transcode=False)
    waiting = make_published_item(
        world["units"]["A"], "Chưa chuyển mã", audio=pending, distribution="commune"
    )
    schedule(world["units"]["A"], [waiting], minutes=40)

    assert headlines(client, device, token) == [items["A"].headline, items["P"].headline]


def test_the_legacy_schedule_is_gone_and_says_where_to_look(world, client: Client):
    device, token = world["a"]
    response = client.get(f"/api/v1/devices/{device.pk}/schedule", **bearer(token))
    assert response.status_code == 410
    assert "/timeline" in response.json()["error"]


def test_downloads_match_the_schedule_byte_for_byte(world, client: Client):
    device, token = world["a"]
    entries = audio_parts(client, device, token)
    assert entries
    for entry in entries:
        response = client.get(entry["url"], **bearer(token))
        assert response.status_code == 200
        assert response["Content-Type"] == "audio/mpeg"
        data = b"".join(response.streaming_content)
        assert int(response["Content-Length"]) == len(data) == entry["size"]
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        # RFC 3230 Digest carries the base64 of the raw digest.
        digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
        assert response["Digest"] == f"sha-256={digest}"
        assert response["Repr-Digest"] == f"sha-256=:{digest}:"
        with av.open(io.BytesIO(data)) as container:
            assert container.streams.audio[0].codec_context.channels == 1


def test_media_outside_the_schedule_is_404_json(world, client: Client, tmp_path):
    device, token = world["a"]
    items = world["items"]
    for name in ["B", "C", "draft"]:
        rendition = items[name].audio.rendition("loudspeaker")
        assert rendition is not None
        assert_json_error(client.get(media_url(device, rendition), **bearer(token)), 404)
    # No such rendition at all.
    assert_json_error(client.get(f"/api/v1/devices/{device.pk}/media/999999", **bearer(token)), 404)
    # A file that was in the schedule stops being served once the item is taken down.
    rendition = items["A"].audio.rendition("loudspeaker")
    assert client.get(media_url(device, rendition), **bearer(token)).status_code == 200
    items["A"].live = False
    items["A"].save()
    assert_json_error(client.get(media_url(device, rendition), **bearer(token)), 404)


def test_a_failed_rendition_is_not_served(world, client: Client):
    device, token = world["a"]
    rendition = world["items"]["A"].audio.rendition("loudspeaker")
    Rendition.objects.filter(pk=rendition.pk).update(status=Rendition.Status.FAILED)
    assert_json_error(client.get(media_url(device, rendition), **bearer(token)), 404)
    assert world["items"]["A"].headline not in headlines(client, device, token)


def test_a_file_missing_on_disk_is_a_json_404_not_a_crash(world, client: Client):
    device, token = world["a"]
    rendition = world["items"]["A"].audio.rendition("loudspeaker")
    rendition.file.storage.delete(rendition.file.name)
    assert_json_error(client.get(media_url(device, rendition), **bearer(token)), 404)
