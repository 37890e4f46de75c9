"""Heartbeats buffered in the real Redis and written to the database in bulk
(``broadcast.device_api.heartbeats``): what an operator sees after the flush, and what survives a
flush that fails."""

import json

import pytest
from django.test import Client
from django.utils import timezone

from broadcast.device_api import heartbeats
from broadcast.models import Alert, Device, DeviceDay
from broadcast.services import devices_check_offline
from broadcast.tasks import heartbeats_flush

from .helpers import bearer

pytestmark = pytest.mark.django_db
# The buffered tests need the real Redis; the direct-write one runs without it.
needs_redis = pytest.mark.redis


def beat(client, device, token, **data):
    return client.post(
        f"/api/v1/devices/{device.pk}/heartbeat",
        data=json.dumps({"status": "playing", **data}),
        content_type="application/json",
        **bearer(token),
    )


@needs_redis
def test_buffered_heartbeats_reach_the_operators_view_at_the_flush(
    world, client: Client, redis_cache
):
    device, token = world["devices"]["A1"]
    other, other_token = world["devices"]["B1"]
    for volume in (40, 55, 70):
        response = beat(client, device, token, volume=volume, ip="10.0.0.7", firmware="2.1")
        assert response.status_code == 200 and response.json()["ok"] is True
    assert beat(client, other, other_token, status="error", error="Mất nguồn").status_code == 200

    # Answered from Redis: the rows are unchanged until the flush.
    device.refresh_from_db()
    assert device.last_seen_at is None and device.volume is None

    assert heartbeats_flush() == 2  # the beat task
    device.refresh_from_db()
    other.refresh_from_db()
    assert device.volume == 70 and device.state == "playing"  # the latest heartbeat wins
    assert device.ip_address == "10.0.0.7" and device.firmware == "2.1"
    assert (timezone.now() - device.last_seen_at).total_seconds() < 60
    assert other.state == "error" and other.last_error == "Mất nguồn"
    today = timezone.localdate()
    assert DeviceDay.objects.get(device=device, day=today).heartbeats == 3
    other_day = DeviceDay.objects.get(device=other, day=today)
    assert (other_day.heartbeats, other_day.failures) == (1, 1)

    # The next batch adds to the day's counters; an omitted field keeps its value.
    beat(client, device, token, status="idle")
    assert heartbeats_flush() == 1
    device.refresh_from_db()
    assert device.state == "idle" and device.volume == 70
    assert DeviceDay.objects.get(device=device, day=today).heartbeats == 4
    assert heartbeats_flush() == 0  # nothing left


@needs_redis
def test_a_heartbeat_closes_the_offline_alert_and_no_false_alert_is_raised(
    world, client: Client, redis_cache, settings
):
    device, token = world["devices"]["A1"]
    settings.BROADCAST_OFFLINE_ALERT_MINUTES = 15
    long_ago = timezone.now() - timezone.timedelta(hours=2)
    Device.objects.update(last_seen_at=long_ago)
    assert devices_check_offline() == len(world["devices"])
    assert Alert.objects.filter(device=device, closed_at__isnull=True).exists()

    beat(client, device, token)
    heartbeats_flush()
    assert not Alert.objects.filter(device=device, closed_at__isnull=True).exists()
    assert Device.objects.get(pk=device.pk).offline_alerted_at is None

    # A device whose heartbeat still waits in Redis is not called silent: the offline
    # check writes the buffer first.
    other, other_token = world["devices"]["B1"]
    Alert.objects.all().update(closed_at=timezone.now())
    Device.objects.update(offline_alerted_at=None, last_seen_at=long_ago)
    beat(client, other, other_token)
    devices_check_offline()
    assert not Alert.objects.filter(device=other, closed_at__isnull=True).exists()
    assert Alert.objects.filter(device=device, closed_at__isnull=True).exists()


@needs_redis
def test_a_failed_flush_loses_nothing(world, client: Client, redis_cache, monkeypatch):
    device, token = world["devices"]["A1"]
    beat(client, device, token, volume=30)
    beat(client, device, token, volume=35)

    def broken(_raw):
        raise RuntimeError("database went away")

    with monkeypatch.context() as patch:
        patch.setattr(heartbeats, "_write_counts", broken)
        with pytest.raises(RuntimeError):
            heartbeats_flush()
    device.refresh_from_db()
    assert device.volume is None  # the failed flush wrote nothing (one transaction)

    # Heartbeats keep arriving meanwhile; the next flushes write the kept batch, then them.
    beat(client, device, token, volume=60)
    other, other_token = world["devices"]["B1"]
    beat(client, other, other_token)
    other.delete()  # removed while its heartbeat waited in Redis
    heartbeats_flush()
    device.refresh_from_db()
    assert device.volume == 35
    heartbeats_flush()
    device.refresh_from_db()
    assert device.volume == 60
    assert DeviceDay.objects.get(device=device, day=timezone.localdate()).heartbeats == 3


def test_without_redis_each_heartbeat_is_written_at_once(world, client: Client):
    device, token = world["devices"]["A1"]
    assert beat(client, device, token, volume=45).status_code == 200
    device.refresh_from_db()
    assert device.volume == 45 and device.last_seen_at is not None
    assert heartbeats_flush() == 0


@needs_redis
def test_the_answer_counts_pending_commands_and_heals_after_a_redis_loss(
    world, client: Client, redis_cache, django_capture_on_commit_callbacks
):
    import redis

    from broadcast.services import command_issue

    device, token = world["devices"]["A1"]
    with django_capture_on_commit_callbacks(execute=True):
        command_id = command_issue(
            user=world["admin"], devices=[device], kind="set_volume", payload={"volume": 80}
        )[0]
    assert beat(client, device, token).json()["pending_commands"] == 1

    # Redis forgets the counters (a restart): the next flush rebuilds them from the database.
    server = redis.Redis.from_url(redis_cache["location"])
    server.delete(f"{redis_cache['prefix']}:1:{heartbeats.PENDING}")
    assert beat(client, device, token).json()["pending_commands"] == 0
    heartbeats_flush()
    assert beat(client, device, token).json()["pending_commands"] == 1

    def acknowledge():
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                f"/api/v1/devices/{device.pk}/commands/{command_id}/ack",
                data=json.dumps({"status": "done"}),
                content_type="application/json",
                **bearer(token),
            )

    assert acknowledge().status_code == 200
    assert beat(client, device, token).json()["pending_commands"] == 0
    acknowledge()  # a replayed acknowledgement does not count twice
    assert beat(client, device, token).json()["pending_commands"] == 0


@needs_redis
def test_one_flush_at_a_time_and_the_offline_check_waits_for_it(world, client: Client, redis_cache):
    import redis

    device, token = world["devices"]["A1"]
    beat(client, device, token, volume=20)
    server = redis.Redis.from_url(redis_cache["location"])
    lock = f"{redis_cache['prefix']}:1:{heartbeats.LOCK}"
    server.set(lock, "another-flush", ex=30)
    assert heartbeats.flush(wait_seconds=0.5) == 0  # busy elsewhere: nothing taken
    device.refresh_from_db()
    assert device.volume is None
    server.delete(lock)
    assert heartbeats.flush(wait_seconds=0.5) == 1
    device.refresh_from_db()
    assert device.volume == 20
