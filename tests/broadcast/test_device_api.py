"""The device API as a receiver uses it: timeline with ETag (304 from the cache alone),
media with Range and checksum, heartbeats, play logs, commands — and bad input."""

import hashlib
import json
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from broadcast.models import Alert, Command, Device, DeviceDay, PlayLog
from broadcast.services import (
    command_issue,
    device_token_issue,
    device_token_revoke,
    devices_check_offline,
    programme_create,
)
from newsroom.events import item_withdrawn
from newsroom.reform import units_reform

from .helpers import bearer, soon

pytestmark = pytest.mark.django_db


def url(device, tail):
    return f"/api/v1/devices/{device.pk}/{tail}"


def schedule_daily(world, items=("bt1",), *, targets=None, at=None):
    return programme_create(
        user=world["admin"],
        name="Bản tin hằng ngày",
        targets=targets or [{"unit": world["units"]["A"]}],
        slots=[
            {
                "starts_at": at or soon(30),
                "rrule": "FREQ=DAILY",
                "content": "playlist",
                "items": [world["items"][i].pk for i in items],
            }
        ],
    )


def post_json(client, path, data, token):
    return client.post(
        path, data=json.dumps(data), content_type="application/json", **bearer(token)
    )


def test_timeline_etag_and_a_304_that_never_touches_the_database(world, client: Client):
    device, token = world["devices"]["A1"]
    schedule_daily(world)
    first = client.get(url(device, "timeline"), **bearer(token))
    assert first.status_code == 200
    body = first.json()
    etag = first["ETag"]
    assert body["version"] in etag and body["device"] == device.pk
    assert len(body["entries"]) == 2
    part = body["entries"][0]["parts"][0]
    assert part["type"] == "audio" and part["url"].startswith("http://testserver/api/v1/devices/")
    assert len(part["sha256"]) == 64

    with CaptureQueriesContext(connection) as queries:
        again = client.get(url(device, "timeline"), HTTP_IF_NONE_MATCH=etag, **bearer(token))
    assert again.status_code == 304 and again["ETag"] == etag
    assert len(queries) == 0, [q["sql"] for q in queries]

    # A new programme for the commune changes the ETag.
    schedule_daily(world, items=("bt2",), at=soon(90))
    changed = client.get(url(device, "timeline"), HTTP_IF_NONE_MATCH=etag, **bearer(token))
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert len(changed.json()["entries"]) == 4


def test_the_304_fast_path_never_answers_for_a_refused_token(world, client: Client):
    """The 304 is answered ahead of the router; refusals still get the API's answers."""
    device, token = world["devices"]["A1"]
    other, other_token = world["devices"]["B1"]
    etag = client.get(url(device, "timeline"), **bearer(token))["ETag"]

    # Only the plain 304 is short-cut: no session cookie, no CSRF or locale work on it.
    fast = client.get(url(device, "timeline"), HTTP_IF_NONE_MATCH=f"W/{etag}", **bearer(token))
    assert fast.status_code == 304 and fast["ETag"] == etag
    assert "Vary" not in fast and not fast.cookies

    foreign = client.get(url(device, "timeline"), HTTP_IF_NONE_MATCH=etag, **bearer(other_token))
    assert foreign.status_code == 403 and "error" in foreign.json()
    assert client.get(url(device, "timeline"), HTTP_IF_NONE_MATCH=etag).status_code == 401

    device_token_revoke(device=device)
    revoked = client.get(url(device, "timeline"), HTTP_IF_NONE_MATCH=etag, **bearer(token))
    assert revoked.status_code == 401


def test_unrelated_changes_keep_the_304(world, client: Client):
    device, token = world["devices"]["A1"]
    etag = client.get(url(device, "timeline"), **bearer(token))["ETag"]
    schedule_daily(world, targets=[{"unit": world["units"]["C"]}])
    response = client.get(url(device, "timeline"), HTTP_IF_NONE_MATCH=etag, **bearer(token))
    assert response.status_code == 304


def test_a_withdrawn_item_changes_the_etag_and_leaves_the_timeline(world, client: Client):
    device, token = world["devices"]["B1"]
    schedule_daily(world, items=("bt1", "bt2"), targets=[{"unit": world["units"]["P"]}])
    first = client.get(url(device, "timeline"), **bearer(token))
    assert len(first.json()["entries"][0]["parts"]) == 2
    item = world["items"]["bt1"]
    item.live, item.withdrawn_at = False, timezone.now()
    item.save()
    item_withdrawn.send(sender=type(item), item_id=item.pk, version=item.version)
    second = client.get(url(device, "timeline"), HTTP_IF_NONE_MATCH=first["ETag"], **bearer(token))
    assert second.status_code == 200
    heads = [p["headline"] for p in second.json()["entries"][0]["parts"]]
    assert heads == ["Bản tin tỉnh"]


def test_a_commune_moved_by_a_reform_hears_its_new_district_at_the_next_poll(
    world, client: Client, django_capture_on_commit_callbacks
):
    device, token = world["devices"]["A1"]  # commune A, district X
    schedule_daily(world, items=("bt2",), targets=[{"unit": world["units"]["Y"]}])
    first = client.get(url(device, "timeline"), **bearer(token))
    assert first.json()["entries"] == []
    # The device's identity (its commune's ancestors) is cached: unchanged, a 304.
    again = client.get(url(device, "timeline"), HTTP_IF_NONE_MATCH=first["ETag"], **bearer(token))
    assert again.status_code == 304

    with django_capture_on_commit_callbacks(execute=True):
        units_reform(moves=[(world["units"]["A"].code, world["units"]["Y"].code)])

    moved = client.get(url(device, "timeline"), HTTP_IF_NONE_MATCH=first["ETag"], **bearer(token))
    assert moved.status_code == 200
    entries = moved.json()["entries"]
    assert len(entries) == 2  # district Y's daily bulletin, today and tomorrow
    assert {p["headline"] for e in entries for p in e["parts"]} == {"Bản tin tỉnh"}


def test_revoked_rotated_and_foreign_tokens(world, client: Client):
    device, token = world["devices"]["A1"]
    other, other_token = world["devices"]["B1"]
    assert client.get(url(device, "timeline"), **bearer(token)).status_code == 200
    forbidden = client.get(url(device, "timeline"), **bearer(other_token))
    assert forbidden.status_code == 403 and forbidden.json() == {"error": forbidden.json()["error"]}
    for tail in ["heartbeat", "playlogs"]:
        assert post_json(client, url(device, tail), {"events": []}, other_token).status_code == 403
    assert client.get(url(device, "commands"), **bearer(other_token)).status_code == 403

    new = device_token_issue(device=device)  # rotate: the old token stops at once
    assert client.get(url(device, "timeline"), **bearer(token)).status_code == 401
    assert client.get(url(device, "timeline"), **bearer(new)).status_code == 200
    device_token_revoke(device=device)
    assert client.get(url(device, "timeline"), **bearer(new)).status_code == 401
    device.refresh_from_db()
    assert device.token_hash is None and new not in str(Device.objects.values().get(pk=device.pk))


def test_token_is_stored_hashed(world):
    device, token = world["devices"]["A1"]
    device.refresh_from_db()
    assert device.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in json.dumps(list(Device.objects.values()), default=str)


def test_media_range_requests_and_checksum(world, client: Client):
    device, token = world["devices"]["A1"]
    schedule_daily(world)
    part = client.get(url(device, "timeline"), **bearer(token)).json()["entries"][0]["parts"][0]
    whole = client.get(part["url"], **bearer(token))
    assert whole.status_code == 200 and whole["Accept-Ranges"] == "bytes"
    data = b"".join(whole.streaming_content)
    assert hashlib.sha256(data).hexdigest() == part["sha256"] == whole["X-Checksum-SHA256"]
    assert len(data) == part["size"]

    head = client.get(part["url"], HTTP_RANGE="bytes=0-99", **bearer(token))
    assert head.status_code == 206 and head.content == data[:100]
    assert head["Content-Range"] == f"bytes 0-99/{len(data)}"
    rest = client.get(part["url"], HTTP_RANGE="bytes=100-", **bearer(token))
    assert rest.status_code == 206 and head.content + rest.content == data
    tail = client.get(part["url"], HTTP_RANGE="bytes=-10", **bearer(token))
    assert tail.content == data[-10:]
    bad = client.get(part["url"], HTTP_RANGE=f"bytes={len(data) + 5}-", **bearer(token))
    assert bad.status_code == 416 and bad["Content-Range"] == f"bytes */{len(data)}"
    # Another commune's device cannot fetch it.
    other, other_token = world["devices"]["C1"]
    foreign = part["url"].replace(f"/devices/{device.pk}/", f"/devices/{other.pk}/")
    assert client.get(foreign, **bearer(other_token)).status_code == 404


def test_heartbeat_updates_monitoring_and_closes_the_offline_alert(world, client: Client, settings):
    device, token = world["devices"]["A1"]
    Device.objects.filter(pk=device.pk).update(last_seen_at=timezone.now() - timedelta(hours=1))
    assert devices_check_offline() >= 1
    assert devices_check_offline() == 0  # one alert per outage
    assert Alert.objects.filter(device=device, closed_at__isnull=True).count() == 1
    beat = {
        "status": "playing",
        "volume": 70,
        "signal": -71,
        "firmware": "2.4.1",
        "ip": "10.0.0.7",
        "now_playing": "Thông báo tiêm chủng",
    }
    response = post_json(client, url(device, "heartbeat"), beat, token)
    assert response.status_code == 200, response.content
    assert response.json()["ok"] is True
    device.refresh_from_db()
    assert (device.state, device.volume, device.signal, device.firmware) == (
        "playing",
        70,
        -71,
        "2.4.1",
    )
    assert device.ip_address == "10.0.0.7" and device.now_playing == "Thông báo tiêm chủng"
    assert Alert.objects.filter(device=device, closed_at__isnull=True).count() == 0
    post_json(client, url(device, "heartbeat"), {"status": "error", "error": "amp"}, token)
    day = DeviceDay.objects.get(device=device)
    assert (day.heartbeats, day.failures) == (2, 1)


def test_heartbeat_bad_input_names_the_field(world, client: Client):
    device, token = world["devices"]["A1"]
    wrong_type = post_json(client, url(device, "heartbeat"), {"volume": "loud"}, token)
    assert wrong_type.status_code == 422
    assert "volume" in json.dumps(wrong_type.json()["detail"])
    too_loud = post_json(client, url(device, "heartbeat"), {"volume": 101}, token)
    assert too_loud.status_code == 422 and "volume" in json.dumps(too_loud.json())
    bad_ip = post_json(client, url(device, "heartbeat"), {"ip": "999.1.1.1"}, token)
    assert bad_ip.status_code == 400 and bad_ip.json()["field"] == "ip"
    malformed = client.post(
        url(device, "heartbeat"), data="{not json", content_type="application/json", **bearer(token)
    )
    assert malformed.status_code in (400, 422)
    assert "error" in malformed.json() or "detail" in malformed.json()


def events(n, *, start, prefix="ev"):
    return [
        {
            "id": f"{prefix}-{i}",
            "entry_id": "",
            "started_at": (start + timedelta(minutes=i)).isoformat(),
            "duration": 30,
            "status": "completed",
        }
        for i in range(n)
    ]


def test_playlogs_are_idempotent_out_of_order_and_skew_tolerant(world, client: Client):
    device, token = world["devices"]["A1"]
    # The device clock runs 10 minutes behind the server.
    device_now = timezone.now() - timedelta(minutes=10)
    batch = {
        "sent_at": device_now.isoformat(),
        "events": events(5, start=device_now - timedelta(hours=1)),
    }
    first = post_json(client, url(device, "playlogs"), batch, token).json()
    assert first["accepted"] == 5 and first["duplicates"] == 0
    assert 590 < first["clock_skew_seconds"] < 610
    log = PlayLog.objects.get(device=device, event_id="ev-0")
    assert abs((log.started_at - log.device_started_at).total_seconds() - 600) < 10
    # Replays and an older, overlapping batch arriving late change nothing.
    replay = post_json(client, url(device, "playlogs"), batch, token).json()
    assert replay == {**replay, "accepted": 0, "duplicates": 5}
    late = {"events": list(reversed(events(7, start=device_now - timedelta(hours=2))))}
    late["events"].append(dict(late["events"][0]))  # a duplicate inside the batch
    result = post_json(client, url(device, "playlogs"), late, token).json()
    assert result["accepted"] == 2 and result["duplicates"] == 6
    assert PlayLog.objects.filter(device=device).count() == 7
    # An event dated in the future by a broken clock is clamped to now.
    future = {"events": [{**events(1, start=timezone.now() + timedelta(days=3))[0], "id": "f"}]}
    post_json(client, url(device, "playlogs"), future, token)
    assert PlayLog.objects.get(event_id="f").started_at <= timezone.now()


def test_playlog_bad_input(world, client: Client, settings):
    device, token = world["devices"]["A1"]
    settings.BROADCAST_PLAYLOG_MAX_BATCH = 10
    oversize = post_json(
        client, url(device, "playlogs"), {"events": events(11, start=timezone.now())}, token
    )
    assert oversize.status_code == 400 and oversize.json()["field"] == "events"
    no_events = post_json(client, url(device, "playlogs"), {"sent_at": None}, token)
    assert no_events.status_code == 422 and "events" in json.dumps(no_events.json()["detail"])
    assert not PlayLog.objects.exists()


def test_one_bad_play_event_is_named_and_the_good_ones_are_kept(world, client: Client):
    """Hostile or broken events (issue 14) are refused one by one with a 200 that names
    each; the valid events of the same batch are stored, so the device never resends (and
    never loses) its proof of play."""
    device, token = world["devices"]["A1"]
    now = timezone.now()
    good = events(2, start=now - timedelta(minutes=30), prefix="good")
    naive_local = (timezone.localtime(now) - timedelta(minutes=5)).replace(tzinfo=None)
    batch = {
        "events": [
            good[0],
            {"id": "year-1", "started_at": "0001-01-01T00:00:00+07:00"},
            {"id": "year-9999", "started_at": "9999-12-31T23:59:59-05:00"},
            {"id": "huge-slot", "started_at": now.isoformat(), "slot_id": 10**40},
            {"id": "yesterday", "started_at": "yesterday"},
            {"started_at": now.isoformat()},
            "not an object",
            {"id": "x" * 65, "started_at": now.isoformat()},
            {"id": "naive", "started_at": naive_local.isoformat()},
            {"id": "huge-entry", "entry_id": "9" * 60, "started_at": now.isoformat()},
            good[1],
        ]
    }
    response = post_json(client, url(device, "playlogs"), batch, token)
    assert response.status_code == 200, response.content
    answer = response.json()
    refused = {(e["index"], e["id"], e["field"]) for e in answer["errors"]}
    assert refused == {
        (1, "year-1", "started_at"),
        (2, "year-9999", "started_at"),
        (3, "huge-slot", "slot_id"),
        (4, "yesterday", "started_at"),
        (5, None, "id"),
        (6, None, "event"),
        (7, "x" * 65, "id"),
    }
    assert all(e["error"] for e in answer["errors"])
    assert (answer["accepted"], answer["duplicates"], answer["refused"]) == (4, 0, 7)
    stored = dict(PlayLog.objects.filter(device=device).values_list("event_id", "started_at"))
    assert set(stored) == {"good-0", "good-1", "naive", "huge-entry"}
    # A time without an offset is Vietnam time (the device's local clock).
    assert abs((stored["naive"] - (now - timedelta(minutes=5))).total_seconds()) < 2
    # Sent again (the device retried before reading the answer): nothing new, same refusals.
    again = post_json(client, url(device, "playlogs"), batch, token).json()
    assert (again["accepted"], again["duplicates"], again["refused"]) == (0, 4, 7)


@pytest.mark.parametrize(
    "sent_at",
    ["0001-01-01T00:00:00+07:00", "9999-12-31T23:59:59-05:00", "naive"],
)
def test_a_broken_or_naive_sent_at_never_loses_the_batch(world, client: Client, sent_at):
    device, token = world["devices"]["A1"]
    now = timezone.now()
    if sent_at == "naive":  # the device's wall clock, 10 minutes slow, without an offset
        sent_at = (timezone.localtime(now) - timedelta(minutes=10)).replace(tzinfo=None)
        sent_at = sent_at.isoformat()
    batch = {"sent_at": sent_at, "events": events(3, start=now - timedelta(hours=1))}
    response = post_json(client, url(device, "playlogs"), batch, token)
    assert response.status_code == 200, response.content
    answer = response.json()
    if sent_at.startswith(("0001", "9999")):
        # No usable skew: reported, and the events keep the device's own times.
        assert answer["errors"] == [
            {"index": None, "id": None, "field": "sent_at", "error": answer["errors"][0]["error"]}
        ]
        assert answer["clock_skew_seconds"] == 0 and answer["accepted"] == 3
    else:
        assert answer["errors"] == [] and answer["accepted"] == 3
        assert 590 < answer["clock_skew_seconds"] < 610
    assert PlayLog.objects.filter(device=device).count() == 3


def test_commands_poll_and_acknowledge(world, client: Client):
    device, token = world["devices"]["A1"]
    other, other_token = world["devices"]["B1"]
    command_issue(user=world["admin"], devices=[device], kind="set_volume", payload={"volume": 40})
    command_issue(user=world["admin"], devices=[device], kind="power_off")
    command_issue(
        user=world["admin"],
        devices=[device],
        kind="play_now",
        payload={"item_id": world["items"]["bt1"].pk},
    )
    listed = client.get(url(device, "commands"), **bearer(token)).json()
    assert [c["kind"] for c in listed] == ["set_volume", "power_off", "play_now"]
    assert listed[0]["payload"] == {"volume": 40}
    # The play-now file may be downloaded by this device.
    rendition_id = listed[2]["payload"]["rendition_id"]
    media = client.get(url(device, f"media/{rendition_id}"), **bearer(token))
    assert media.status_code == 200
    # A device cannot acknowledge someone else's command.
    foreign = post_json(client, url(other, f"commands/{listed[0]['id']}/ack"), {}, other_token)
    assert foreign.status_code == 404
    ack = post_json(
        client, url(device, f"commands/{listed[0]['id']}/ack"), {"status": "done"}, token
    )
    assert ack.status_code == 200
    again = post_json(client, url(device, f"commands/{listed[0]['id']}/ack"), {}, token)
    assert again.status_code == 200  # replay harmless
    assert [c["kind"] for c in client.get(url(device, "commands"), **bearer(token)).json()] == [
        "power_off",
        "play_now",
    ]
    assert Command.objects.get(pk=listed[0]["id"]).ack_status == "done"
    bad = post_json(
        client, url(device, f"commands/{listed[1]['id']}/ack"), {"status": "maybe"}, token
    )
    assert bad.status_code == 422 and "status" in json.dumps(bad.json()["detail"])


def test_commands_validate_their_payload(world):
    from django.core.exceptions import ValidationError

    device, _ = world["devices"]["A1"]
    with pytest.raises(ValidationError) as exc:
        command_issue(
            user=world["admin"], devices=[device], kind="set_volume", payload={"volume": 300}
        )
    assert "payload.volume" in exc.value.message_dict
    with pytest.raises(ValidationError):
        command_issue(
            user=world["admin"],
            devices=[device],
            kind="play_now",
            payload={"item_id": world["items"]["draft"].pk},
        )


def test_board_timeline_and_unknown_token(world, client: Client):
    board, token = world["devices"]["board"]
    response = client.get(url(board, "timeline"), **bearer(token))
    assert response.status_code == 200 and response.json()["kind"] == "board"
    assert client.get(url(board, "timeline"), **bearer(uuid.uuid4().hex)).status_code == 401
    assert client.get(url(board, "timeline")).status_code == 401


def test_ping_is_a_trivial_json_view(client: Client):
    assert client.get("/api/v1/devices/ping").json() == {"ok": True}


def test_a_range_or_an_id_too_long_to_be_a_number_is_refused_not_a_500(world, client: Client):
    """Issue 14: ``Range: bytes=<5000 digits>-`` is a 416; a 5000-digit device or file id is
    a JSON 404, on the fast path (If-None-Match, heartbeat) and the API alike."""
    device, token = world["devices"]["A1"]
    schedule_daily(world)
    part = client.get(url(device, "timeline"), **bearer(token)).json()["entries"][0]["parts"][0]
    digits = "9" * 5000
    for header in [f"bytes={digits}-", f"bytes=0-{digits}", f"bytes=-{digits}", "bytes=1-2,5-6"]:
        response = client.get(part["url"], HTTP_RANGE=header, **bearer(token))
        assert response.status_code == 416, header
        assert response.json()["field"] == "Range"
        assert response["Content-Range"] == f"bytes */{part['size']}"
    # A range of 19 digits is still a number: beyond the file, 416.
    far = client.get(part["url"], HTTP_RANGE="bytes=" + "9" * 19 + "-", **bearer(token))
    assert far.status_code == 416
    requests = [
        ("get", f"/api/v1/devices/{digits}/timeline", {}),
        ("get", f"/api/v1/devices/{digits}/timeline", {"HTTP_IF_NONE_MATCH": '"v"'}),
        ("post", f"/api/v1/devices/{digits}/heartbeat", {}),
        ("post", f"/api/v1/devices/{digits}/playlogs", {}),
        ("get", url(device, f"media/{digits}"), {}),
        ("get", url(device, f"media/{digits}"), {"HTTP_RANGE": f"bytes={digits}-"}),
        ("post", url(device, f"commands/{digits}/ack"), {}),
        ("get", "/api/v1/devices/" + "9" * 20 + "/timeline", {}),
    ]
    for method, path, extra in requests:
        call = getattr(client, method)
        kwargs = {"data": "{}", "content_type": "application/json"} if method == "post" else {}
        response = call(path, **kwargs, **extra, **bearer(token))
        assert response.status_code == 404, (path[:60], response.status_code)
        assert response.json()["error"] == "Không tìm thấy."
    # A real device id still answers; a path missing only its slash is still redirected.
    assert client.get(url(device, "timeline"), **bearer(token)).status_code == 200
    assert client.get("/api/v1/items").status_code == 301
