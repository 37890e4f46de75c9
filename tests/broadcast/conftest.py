"""Fixtures for the loudspeaker tests: a unit tree, approved audio, clusters and devices."""

import os
import uuid

import pytest
import redis
from django.conf import settings as django_settings
from django.core.cache import cache
from django.utils import timezone

from broadcast.device_api import cache as bcache
from broadcast.models import Cluster, Device, Zone
from newsroom.models import Role
from tests.factories import make_audio_asset, make_published_item, make_tree, make_user
from tests.support import wait_for

from .helpers import add_device

# The Celery worker process started by the root conftest reads these from the environment:
# MQTT pushes go to the local Mosquitto under a topic prefix of this run only.
os.environ.setdefault("MQTT_URL", "mqtt://127.0.0.1:1883")
os.environ.setdefault("BROADCAST_MQTT_TOPIC_PREFIX", f"nguon-test-{os.getpid()}/devices")


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media-root"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world(tmp_path, django_db_blocker):
    """Province P > district X > communes A, B; district Y > commune C.

    Clusters: A1, A2 (zone "Chợ" of A) in A, B1 in B, C1 in C; a loudspeaker in each and a
    bulletin board in A1. Approved audio bulletins ``bt1``, ``bt2`` at A; a draft at A."""
    units = make_tree(three_level=True)
    now = timezone.now()
    assets = {
        name: make_audio_asset(tmp_path / name, seconds=seconds, name=name)
        for name, seconds in [("bt1", 2.0), ("bt2", 1.0), ("draft", 1.0)]
    }
    items = {
        "bt1": make_published_item(
            units["A"], "Thông báo tiêm chủng", audio=assets["bt1"], published_at=now
        ),
        "bt2": make_published_item(
            units["P"], "Bản tin tỉnh", audio=assets["bt2"], published_at=now
        ),
        "draft": make_published_item(units["A"], "Bản nháp", audio=assets["draft"], live=False),
        "article": make_published_item(units["A"], "Tin chữ về chợ phiên", summary="Chợ phiên"),
    }
    zone = Zone.objects.create(commune=units["A"], name="Chợ")
    clusters = {
        "A1": Cluster.objects.create(name="Cụm A1", commune=units["A"]),
        "A2": Cluster.objects.create(name="Cụm A2", commune=units["A"]),
        "B1": Cluster.objects.create(name="Cụm B1", commune=units["B"]),
        "C1": Cluster.objects.create(name="Cụm C1", commune=units["C"]),
    }
    clusters["A2"].zones.add(zone)
    devices = {name: add_device(c, f"LOA-{name}") for name, c in clusters.items()}
    devices["board"] = add_device(clusters["A1"], "BANG-A1", kind=Device.Kind.BOARD)
    scheduler = make_user("laplich", unit=units["A"], role=Role.SCHEDULER)
    district_scheduler = make_user("laplich_huyen", unit=units["X"], role=Role.SCHEDULER)
    return {
        "units": units,
        "items": items,
        "zone": zone,
        "clusters": clusters,
        "devices": devices,
        "scheduler": scheduler,
        "district_scheduler": district_scheduler,
        "admin": make_user("quantri", is_superuser=True, is_staff=True),
        "now": now,
    }


@pytest.fixture
def redis_cache(settings):
    """The default cache on the real Redis (database 14, a prefix of this test), with the
    per-process layer started; everything is removed afterwards."""
    location = django_settings.CELERY_BROKER_URL.rsplit("/", 1)[0] + "/14"
    prefix = f"nguon-layer-{uuid.uuid4().hex[:8]}"
    settings.CACHES = {
        "default": {"BACKEND": "core.cache.RedisCache", "LOCATION": location, "KEY_PREFIX": prefix}
    }
    bcache.local_layer_stop()
    layer = bcache.local_layer()
    assert layer is not None
    wait_for(lambda: layer.live, timeout=5, interval=0.01, what="the layer to subscribe")
    yield {"location": location, "prefix": prefix, "layer": layer}
    bcache.local_layer_stop()
    redis.Redis.from_url(location).flushdb()
