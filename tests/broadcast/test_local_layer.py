"""The per-process layer of the device API's cache
(``broadcast.device_api.cache.LocalLayer``), on the real Redis: an unchanged timeline is
answered from process memory, and a change made in another process — or a Redis hiccup —
never leaves a stale ``304`` behind."""

import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from broadcast.device_api import cache as bcache
from broadcast.models import Device
from broadcast.services import programme_create
from broadcast.tokens import token_digest
from tests.support import wait_for

from .helpers import bearer, soon

pytestmark = [pytest.mark.django_db, pytest.mark.redis]
ROOT = Path(__file__).resolve().parents[2]


def url(device):
    return f"/api/v1/devices/{device.pk}/timeline"


class CountingCache:
    """Counts the calls made on the shared cache while a request is answered."""

    def __init__(self, monkeypatch):
        self.calls = []
        backend = bcache.cache._connections["default"]  # the real Redis backend
        for name in ("get", "get_many", "set", "add"):
            original = getattr(backend, name)

            def spy(*args, _original=original, _name=name, **kwargs):
                self.calls.append(_name)
                return _original(*args, **kwargs)

            monkeypatch.setattr(backend, name, spy)


def in_another_process(redis_cache, code: str) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cms.settings.test",
        "CACHE_URL": redis_cache["location"],
        "CACHE_KEY_PREFIX": redis_cache["prefix"],
    }
    subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=60,
    )


def poll_until(client, device, token, etag, status, timeout=3.0):
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(url(device), HTTP_IF_NONE_MATCH=etag, **bearer(token))
        if response.status_code == status or time.monotonic() > deadline:
            return response
        time.sleep(0.02)


def test_an_unchanged_timeline_costs_no_round_trip(world, client: Client, redis_cache, monkeypatch):
    device, token = world["devices"]["A1"]
    etag = client.get(url(device), **bearer(token))["ETag"]
    assert client.get(url(device), HTTP_IF_NONE_MATCH=etag, **bearer(token)).status_code == 304

    counting = CountingCache(monkeypatch)
    with CaptureQueriesContext(connection) as queries:
        again = client.get(url(device), HTTP_IF_NONE_MATCH=etag, **bearer(token))
    assert again.status_code == 304 and again["ETag"] == etag
    assert counting.calls == [] and len(queries) == 0

    # A change made in this process is seen by its very next request.
    programme_create(
        user=world["admin"],
        name="Bản tin sáng",
        targets=[{"cluster": world["clusters"]["A1"]}],
        slots=[{"starts_at": soon(30), "content": "playlist", "items": [world["items"]["bt1"].pk]}],
    )
    changed = client.get(url(device), HTTP_IF_NONE_MATCH=etag, **bearer(token))
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert len(changed.json()["entries"]) == 1


def test_a_change_made_in_another_process_reaches_this_one(world, client: Client, redis_cache):
    device, token = world["devices"]["A1"]
    etag = client.get(url(device), **bearer(token))["ETag"]
    client.get(url(device), HTTP_IF_NONE_MATCH=etag, **bearer(token))
    assert client.get(url(device), HTTP_IF_NONE_MATCH=etag, **bearer(token)).status_code == 304

    cluster = world["clusters"]["A1"].pk
    in_another_process(
        redis_cache,
        f"from broadcast.device_api.cache import versions_bump; versions_bump(['c{cluster}'])",
    )
    changed = poll_until(client, device, token, etag, 200)
    assert changed.status_code == 200 and changed["ETag"] != etag

    # A token revoked elsewhere stops answering here (the database row goes first, then the
    # revoking process forgets the cached identity).
    etag = changed["ETag"]
    assert client.get(url(device), HTTP_IF_NONE_MATCH=etag, **bearer(token)).status_code == 304
    Device.objects.filter(pk=device.pk).update(token_hash=None)
    digest = token_digest(token)
    in_another_process(
        redis_cache,
        f"from broadcast.device_api.cache import identity_forget; identity_forget(['{digest}'])",
    )
    assert poll_until(client, device, token, etag, 401).status_code == 401


def test_a_lost_link_never_leaves_a_stale_304(world, client: Client, redis_cache):
    device, token = world["devices"]["A1"]
    layer = redis_cache["layer"]
    etag = client.get(url(device), **bearer(token))["ETag"]
    client.get(url(device), HTTP_IF_NONE_MATCH=etag, **bearer(token))
    assert layer.lookup(token_digest(token))[0] is not None  # held in memory

    server = redis.Redis.from_url(redis_cache["location"])
    for entry in server.client_list():
        if entry["name"] == bcache.SUBSCRIBER_NAME:
            server.client_kill_filter(_id=entry["id"])
    wait_for(
        lambda: not layer.live, timeout=5, interval=0.01, what="the layer to notice the lost link"
    )
    assert layer.lookup(token_digest(token)) == (None, None)

    # While this process is not listening, another one changes the cluster's version: the
    # message is lost, yet the next poll reads Redis and sees the change.
    key = django_settings.CACHES["default"]["KEY_PREFIX"] + f":1:bc:v:c{world['clusters']['A1'].pk}"
    server.set(key, pickle.dumps("changed-elsewhere"))
    changed = client.get(url(device), HTTP_IF_NONE_MATCH=etag, **bearer(token))
    assert changed.status_code == 200 and changed["ETag"] != etag

    wait_for(lambda: layer.live, timeout=5, interval=0.01, what="the layer to subscribe again")
    etag = changed["ETag"]
    for _ in range(2):
        assert client.get(url(device), HTTP_IF_NONE_MATCH=etag, **bearer(token)).status_code == 304
    assert layer.lookup(token_digest(token))[0] is not None
