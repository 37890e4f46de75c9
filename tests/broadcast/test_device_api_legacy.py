"""What a loudspeaker receiver sees through /api/v1/devices/: only its own schedule, only
with its own token, with files it can verify; errors always come back as JSON."""

import base64
import hashlib
import io
from datetime import timedelta

import av
import pytest
from django.test import Client
from django.utils import timezone

from broadcast.models import Device
from broadcast.services import device_token_issue
from media.models import Rendition
from tests.factories import make_audio_asset, make_device, make_published_item, make_tree

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media-root"
    return settings.MEDIA_ROOT


@pytest.fixture
def world(tmp_path):
    """Province P > district X > communes A, B; district Y > commune C. Bulletins at P, X,
    A, B and C; an unpublished one at A; a device in A and one in B."""
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
        )
    draft_asset = make_audio_asset(tmp_path / "draft", seconds=1, name="draft")
    items["draft"] = make_published_item(
        units["A"], "Bản nháp chưa duyệt", audio=draft_asset, live=False
    )
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


def schedule_url(device: Device) -> str:
    return f"/api/v1/devices/{device.pk}/schedule"


def media_url(device: Device, rendition: Rendition) -> str:
    return f"/api/v1/devices/{device.pk}/media/{rendition.pk}"


def assert_json_error(response, status: int) -> None:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["error"]  # one shape for every error, not ninja's {"detail": ...}
    assert isinstance(body["error"], str) and body["error"]


def test_missing_token_is_401_json(world, client: Client):
    device, _ = world["a"]
    assert_json_error(client.get(schedule_url(device)), 401)
    assert_json_error(client.get(schedule_url(device), HTTP_AUTHORIZATION="Bearer "), 401)
    assert_json_error(
        client.get(schedule_url(device), HTTP_AUTHORIZATION="Basic Zm9vOmJhcg=="), 401
    )


def test_wrong_token_is_401_json(world, client: Client):
    device, token = world["a"]
    assert_json_error(client.get(schedule_url(device), **bearer(token + "x")), 401)
    assert_json_error(client.get(schedule_url(device), **bearer("x" * 43)), 401)


def test_another_devices_valid_token_is_403_json(world, client: Client):
    device_a, _ = world["a"]
    _, token_b = world["b"]
    assert_json_error(client.get(schedule_url(device_a), **bearer(token_b)), 403)
    rendition = world["items"]["A"].audio.rendition("loudspeaker")
    assert_json_error(client.get(media_url(device_a, rendition), **bearer(token_b)), 403)


def test_disabled_device_or_cluster_is_401(world, client: Client):
    device, token = world["a"]
    assert client.get(schedule_url(device), **bearer(token)).status_code == 200
    device.enabled = False
    device.save()
    assert_json_error(client.get(schedule_url(device), **bearer(token)), 401)
    device.enabled = True
    device.save()
    device.cluster.enabled = False
    device.cluster.save()
    assert_json_error(client.get(schedule_url(device), **bearer(token)), 401)


def test_a_reissued_token_revokes_the_old_one(world, client: Client):
    device, old = world["a"]
    new = device_token_issue(device=device)
    assert_json_error(client.get(schedule_url(device), **bearer(old)), 401)
    assert client.get(schedule_url(device), **bearer(new)).status_code == 200


def test_a_device_hears_its_commune_and_the_units_above_it_only(world, client: Client):
    device, token = world["a"]
    response = client.get(schedule_url(device), **bearer(token))
    assert response.status_code == 200
    body = response.json()
    items = world["items"]
    headlines = [e["headline"] for e in body["items"]]
    # Newest first: the commune's, then district's, then province's bulletin.
    assert headlines == [items["A"].headline, items["X"].headline, items["P"].headline]
    assert body["device"] == device.pk and body["commune_code"] == world["units"]["A"].code
    assert {e["unit_code"] for e in body["items"]} == {"90", "901", "90001"}
    for entry in body["items"]:
        assert entry["mime_type"] == "audio/mpeg"
        assert entry["url"].startswith("http://testserver/api/v1/devices/")
        assert len(entry["sha256"]) == 64 and entry["size"] > 0
        assert entry["duration"] > 0
    device.refresh_from_db()
    assert device.last_seen_at is not None


def test_neighbouring_communes_never_share_bulletins(world, client: Client):
    device_b, token_b = world["b"]
    headlines = [
        e["headline"] for e in client.get(schedule_url(device_b), **bearer(token_b)).json()["items"]
    ]
    items = world["items"]
    assert items["B"].headline in headlines
    assert items["A"].headline not in headlines  # sibling commune
    assert items["C"].headline not in headlines  # commune of another district
    assert items["draft"].headline not in headlines


def test_unpublished_and_untranscoded_items_never_appear(world, client: Client, tmp_path):
    device, token = world["a"]
    items = world["items"]
    # Taken down after publication.
    items["X"].live = False
    items["X"].save()
    # Published, but its MP3 is not ready yet.
    pending = make_audio_asset(tmp_path / "pending", seconds=1, name="p", transcode=False)
    make_published_item(world["units"]["A"], "Chưa chuyển mã", audio=pending)
    # Published article without audio.
    make_published_item(world["units"]["A"], "Tin bài chữ")

    headlines = [
        e["headline"] for e in client.get(schedule_url(device), **bearer(token)).json()["items"]
    ]
    assert headlines == [items["A"].headline, items["P"].headline]


def test_downloads_match_the_schedule_byte_for_byte(world, client: Client):
    device, token = world["a"]
    entries = client.get(schedule_url(device), **bearer(token)).json()["items"]
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
    headlines = [
        e["headline"] for e in client.get(schedule_url(device), **bearer(token)).json()["items"]
    ]
    assert world["items"]["A"].headline not in headlines


def test_a_file_missing_on_disk_is_a_json_404_not_a_crash(world, client: Client):
    device, token = world["a"]
    rendition = world["items"]["A"].audio.rendition("loudspeaker")
    rendition.file.storage.delete(rendition.file.name)
    assert_json_error(client.get(media_url(device, rendition), **bearer(token)), 404)
