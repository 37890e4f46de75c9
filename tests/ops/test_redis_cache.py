"""The project's Redis cache backend (``core.cache``), used when CACHE_URL names Redis: the
device API's token and timeline-version lookups go through it on every poll."""

import uuid

import pytest
from django.conf import settings

from core.cache import RedisCache


@pytest.mark.redis
def test_the_redis_cache_reads_and_writes_with_one_client_per_pool():
    url = settings.CELERY_BROKER_URL.rsplit("/", 1)[0] + "/14"
    cache = RedisCache(url, {"KEY_PREFIX": f"nguon-test-{uuid.uuid4().hex[:8]}"})
    try:
        cache.set("token", {"device_id": 7, "scopes": ("c1", "u2")}, 30)
        cache.set_many({"v:c1": "a1", "v:u2": 42}, 30)
        assert cache.get_many(["token", "v:c1", "v:u2", "missing"]) == {
            "token": {"device_id": 7, "scopes": ("c1", "u2")},
            "v:c1": "a1",
            "v:u2": 42,
        }
        cache.delete("v:c1")
        assert cache.get("v:c1") is None and cache.get("v:u2") == 42
        # The point of the class: no new redis.Redis object per call.
        assert cache._cache.get_client() is cache._cache.get_client()
    finally:
        cache.clear()
