"""Live broadcasting against a real Icecast 2 (Debian's icecast2) started per test on a
free port with a generated configuration under the test's temporary folder."""

from __future__ import annotations

import shutil

import pytest

from broadcast.live import icecast
from tests.support import require


@pytest.fixture
def icecast_server(settings, tmp_path):
    require("icecast", icecast.binary() is not None, "icecast2 is not installed")
    ice = icecast.IcecastProcess(
        icecast.IcecastConfig(
            port=icecast.free_port(),
            folder=tmp_path / "icecast",
            source_password="nguon-test-source",
            admin_password="nguon-test-admin",
            max_listeners=50,
        )
    )
    ice.start()
    settings.ICECAST_URL = ice.url
    settings.ICECAST_SOURCE_PASSWORD = "nguon-test-source"
    yield ice
    ice.stop()
    if ice.logdir and ice.logdir.name.startswith("nguon-icecast-log-"):
        shutil.rmtree(ice.logdir, ignore_errors=True)


# The player's test stack (gunicorn on the test database, nguon-player processes).
from tests.player.conftest import players, server, shared_cache  # noqa: E402, F401


@pytest.fixture
def icecast_env(icecast_server, monkeypatch):
    """The Icecast for server processes started by the test (gunicorn, feeders)."""
    monkeypatch.setenv("ICECAST_URL", icecast_server.url)
    monkeypatch.setenv("ICECAST_SOURCE_PASSWORD", "nguon-test-source")
    return icecast_server
