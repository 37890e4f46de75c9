"""Fixtures for the syndication tests: the unit tree, isolated media, a test receiver
(helpers that publish, withdraw and subscribe: ``tests/syndication/helpers.py``)."""

import pytest

from tests.factories import make_tree


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media-root"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def syndication_settings(settings):
    settings.SYNDICATION_BASE_URL = "http://nguon.test"
    settings.SYNDICATION_FEED_STATE_TTL = 0  # validators read on every request


@pytest.fixture
def units():
    return make_tree(three_level=True)


@pytest.fixture
def receiver():
    from .receiver import Receiver

    r = Receiver(secret="bi-mat-chung")
    yield r
    r.stop()
