"""Bulletin boards get the pictures of the items they display: listed in the timeline with
alt text, caption and credit, downloaded from the device API under the loudspeaker files'
token rules (issue 16)."""

import hashlib
import io

import pytest
from django.test import Client
from django.utils import timezone
from PIL import Image

from broadcast.services import programme_create
from newsroom.events import item_withdrawn
from tests.factories import make_published_item
from tests.pictures import picture_fields

from .helpers import bearer, soon

pytestmark = pytest.mark.django_db


def url(device, tail):
    return f"/api/v1/devices/{device.pk}/{tail}"


@pytest.fixture
def displayed(world):
    """An item with a lead picture and a gallery, displayed on commune A's boards."""
    item = make_published_item(world["units"]["A"], "Khánh thành cầu mới", **picture_fields())
    programme_create(
        user=world["admin"],
        name="Bảng tin xã",
        targets=[{"unit": world["units"]["A"]}],
        slots=[
            {
                "starts_at": soon(5),
                "content": "display",
                "items": [item.pk],
                "duration_seconds": 120,
            }
        ],
    )
    return item


def board_part(client, world):
    board, token = world["devices"]["board"]
    response = client.get(url(board, "timeline"), **bearer(token))
    assert response.status_code == 200
    (entry,) = response.json()["entries"]
    (part,) = entry["parts"]
    assert part["type"] == "display"
    return part


def test_a_boards_timeline_lists_the_pictures_and_the_board_downloads_them(
    world, displayed, client: Client
):
    board, token = world["devices"]["board"]
    part = board_part(client, world)
    assert "image_id" not in part  # the internal id gave the board nothing to fetch
    lead, second = part["pictures"]  # the picture without alt text is left out
    assert (lead["alt"], lead["caption"], lead["credit"], lead["lead"]) == (
        "Cầu mới bắc qua kênh Xáng",
        "Lễ khánh thành sáng 03/12 & <b>không phải thẻ</b>",
        "Ảnh: Lê Văn Chụp",
        True,
    )
    assert (second["alt"], second["caption"], second["credit"], second["lead"]) == (
        "Người dân đi qua cầu",
        "",
        "Ảnh: Trần Thị Hai",
        False,
    )
    # Fitted inside Full HD, never enlarged: 1600x1200 → 1440x1080, 800x600 stays.
    assert (lead["width"], lead["height"]) == (1440, 1080)
    assert (second["width"], second["height"]) == (800, 600)
    for picture in (lead, second):
        assert picture["url"].startswith(f"http://testserver/api/v1/devices/{board.pk}/pictures/")
        response = client.get(picture["url"], **bearer(token))
        assert response.status_code == 200
        assert response["Content-Type"] == picture["mime_type"] == "image/jpeg"
        data = b"".join(response.streaming_content)
        assert len(data) == picture["size"] == int(response["Content-Length"])
        assert hashlib.sha256(data).hexdigest() == picture["sha256"]
        assert response["ETag"] == f'"{picture["sha256"]}"'
        assert response["X-Checksum-SHA256"] == picture["sha256"]
        with Image.open(io.BytesIO(data)) as image:
            assert image.format == "JPEG"
            assert image.size == (picture["width"], picture["height"])

    # The same download rules as the loudspeaker files: 304 on the ETag, byte ranges.
    again = client.get(lead["url"], HTTP_IF_NONE_MATCH=f'"{lead["sha256"]}"', **bearer(token))
    assert again.status_code == 304 and again["ETag"] == f'"{lead["sha256"]}"'
    head = client.get(lead["url"], HTTP_RANGE="bytes=0-99", **bearer(token))
    assert head.status_code == 206 and len(head.content) == 100
    assert head["Content-Range"] == f"bytes 0-99/{lead['size']}"
    bad = client.get(lead["url"], HTTP_RANGE=f"bytes={lead['size'] + 5}-", **bearer(token))
    assert bad.status_code == 416 and bad["Content-Range"] == f"bytes */{lead['size']}"


def test_other_devices_and_strangers_are_refused_as_for_the_loudspeaker_files(
    world, displayed, client: Client
):
    board, token = world["devices"]["board"]
    picture_url = board_part(client, world)["pictures"][0]["url"]
    picture_id = picture_url.rsplit("/", 1)[1]
    speaker, speaker_token = world["devices"]["A1"]  # the board's own cluster
    other, other_token = world["devices"]["C1"]  # another commune's loudspeaker
    # What the loudspeaker file route answers for the same cases.
    audio_404 = client.get(url(speaker, "media/999999"), **bearer(speaker_token))
    audio_403 = client.get(url(board, "media/999999"), **bearer(speaker_token))
    audio_401 = client.get(url(board, "media/999999"))
    assert (audio_404.status_code, audio_403.status_code, audio_401.status_code) == (
        404,
        403,
        401,
    )

    no_token = client.get(picture_url)
    assert no_token.status_code == 401 and no_token.json() == audio_401.json()
    wrong = client.get(picture_url, HTTP_AUTHORIZATION="Bearer not-a-token")
    assert wrong.status_code == 401 and wrong.json() == audio_401.json()
    foreign = client.get(picture_url, **bearer(speaker_token))  # the board's id, not its own
    assert foreign.status_code == 403 and foreign.json() == audio_403.json()
    # Under their own ids: a loudspeaker's timeline shows no pictures, nor does another
    # commune's board-less cluster.
    for device, device_token in [(speaker, speaker_token), (other, other_token)]:
        refused = client.get(url(device, f"pictures/{picture_id}"), **bearer(device_token))
        assert refused.status_code == 404 and refused.json() == audio_404.json()
    # An id that is no picture of the board's timeline (an audio rendition's, say).
    unknown = client.get(url(board, "pictures/999999"), **bearer(token))
    assert unknown.status_code == 404 and unknown.json() == audio_404.json()
    # The board itself is still served.
    assert client.get(picture_url, **bearer(token)).status_code == 200


def test_a_withdrawn_items_pictures_are_no_longer_served(world, displayed, client: Client):
    board, token = world["devices"]["board"]
    picture_url = board_part(client, world)["pictures"][0]["url"]
    assert client.get(picture_url, **bearer(token)).status_code == 200

    item = displayed
    item.live, item.withdrawn_at = False, timezone.now()
    item.save()
    # Before the event reaches the timelines (their compiled entries are cached), the
    # download already checks that the item is live.
    assert client.get(picture_url, **bearer(token)).status_code == 404
    item_withdrawn.send(sender=type(item), item_id=item.pk, version=item.version)
    assert client.get(url(board, "timeline"), **bearer(token)).json()["entries"] == []
    assert client.get(picture_url, **bearer(token)).status_code == 404


def test_a_corrected_alt_text_reaches_the_board_at_its_next_poll(
    world, displayed, client: Client, django_capture_on_commit_callbacks
):
    board, token = world["devices"]["board"]
    first = client.get(url(board, "timeline"), **bearer(token))
    second_image = displayed.gallery[0].value["image"]
    with django_capture_on_commit_callbacks(execute=True):
        second_image.description = "Người dân và học sinh đi qua cầu"
        second_image.save()
    again = client.get(url(board, "timeline"), HTTP_IF_NONE_MATCH=first["ETag"], **bearer(token))
    assert again.status_code == 200
    pictures = again.json()["entries"][0]["parts"][0]["pictures"]
    assert [p["alt"] for p in pictures] == [
        "Cầu mới bắc qua kênh Xáng",
        "Người dân và học sinh đi qua cầu",
    ]
