"""Live broadcasting against a real Icecast 2 (Debian's icecast2) started per test on a
free port with a generated configuration under the test's temporary folder."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from broadcast.live import icecast
from conftest import require
from media.ffmpeg import ffmpeg_binary


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


def wait_until(predicate, message: str, timeout: float = 20.0, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    pytest.fail(message)


class Listener(threading.Thread):
    """A device-like listener: ffmpeg pulling a mount as PCM (48 kHz mono) until stopped;
    it retries until the mount exists."""

    def __init__(self, url: str, out: Path):
        super().__init__(daemon=True)
        self.url, self.out = url, out
        self.stopping = threading.Event()
        self.proc = None
        self.connected_at = None

    def run(self):
        with open(self.out, "ab") as fh:
            while not self.stopping.is_set():
                self.proc = subprocess.Popen(
                    [ffmpeg_binary(), "-hide_banner", "-loglevel", "error", "-fflags", "+nobuffer",
                     "-i", self.url, "-ac", "1", "-ar", "48000", "-f", "s16le", "-"],
                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                )  # fmt: skip
                while True:
                    chunk = self.proc.stdout.read(4800)
                    if not chunk:
                        break
                    if self.connected_at is None:
                        self.connected_at = time.monotonic()
                    fh.write(chunk)
                self.proc.wait()
                if self.connected_at is not None:
                    return  # the stream ended
                self.stopping.wait(0.1)

    def stop(self):
        self.stopping.set()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
        self.join(10)


# The player's test stack (gunicorn on the test database, nguon-player processes).
from tests.player.conftest import players, server, shared_cache  # noqa: E402, F401


@pytest.fixture
def icecast_env(icecast_server, monkeypatch):
    """The Icecast for server processes started by the test (gunicorn, feeders)."""
    monkeypatch.setenv("ICECAST_URL", icecast_server.url)
    monkeypatch.setenv("ICECAST_SOURCE_PASSWORD", "nguon-test-source")
    return icecast_server
