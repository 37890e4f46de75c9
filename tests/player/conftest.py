"""The reference player against a real server: gunicorn serving the test database in its
own process (so it can be stopped and started again), the real Mosquitto, the session's
real Celery worker, and ``nguon-player`` itself as a child process on the ``file:`` output.

The test process and the server share the timeline cache through files (``CACHE_URL``),
as the processes of ``make run`` do, so a programme scheduled here changes the ETag the
server answers with.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from tests.support import require

from .helpers import server_api

os.environ.setdefault("MQTT_URL", "mqtt://127.0.0.1:1883")
os.environ.setdefault("BROADCAST_MQTT_TOPIC_PREFIX", f"nguon-test-{os.getpid()}/devices")
MQTT_URL = os.environ["MQTT_URL"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mqtt_up() -> bool:
    from nguon_player.protocol import mqtt_params

    params = mqtt_params(MQTT_URL)
    try:
        socket.create_connection((params["host"], params["port"]), timeout=2).close()
        return True
    except OSError:
        return False


@pytest.fixture
def shared_cache(settings, tmp_path):
    location = tmp_path / "server-cache"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(location),
            "OPTIONS": {"MAX_ENTRIES": 20_000},
        }
    }
    return location


class Server:
    """gunicorn on the test database; ``stop()`` and ``start()`` keep the same port."""

    def __init__(self, cache_dir: Path, log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.cache_dir = cache_dir
        self.log = log
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        db = django_settings.DATABASES["default"]
        env = dict(
            os.environ,
            DJANGO_SETTINGS_MODULE="cms.settings.test",
            NGUON_TEST_VAR_DIR=os.environ["NGUON_TEST_VAR_DIR"],
            NGUON_WORKER_DB_NAME=str(db["NAME"]),
            CACHE_URL=f"file://{self.cache_dir}",
            LOG_LEVEL="WARNING",
        )
        out = open(self.log, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "cms.wsgi:application",
             "--bind", f"127.0.0.1:{self.port}", "--workers", "1", "--threads", "8",
             "--worker-class", "gthread", "--graceful-timeout", "2"],
            cwd=django_settings.BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.proc._out = out
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("gunicorn exited:\n" + self.log.read_text()[-3000:])
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not listen:\n" + self.log.read_text()[-3000:])

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.proc._out.close()
        self.proc = None


@pytest.fixture
def server(shared_cache, tmp_path, transactional_db):
    srv = Server(shared_cache, tmp_path / "gunicorn.log")
    srv.start()
    yield srv
    srv.stop()


@dataclass
class LogLine:
    at: float  # epoch seconds
    event: str
    offset: int
    fields: dict


class PlayerProcess:
    """``nguon-player`` in a child process with its config, log and ``file:`` output."""

    def __init__(self, folder: Path, config: dict, token: str):
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        (folder / "token").write_text(token + "\n")
        self.out = folder / "out.pcm"
        self.config = {
            "token_file": "token",
            "cache_dir": "cache",
            "output": f"file:{self.out}",
            "volume": 100,
            **config,
        }
        lines = []
        for key, value in self.config.items():
            if isinstance(value, str):
                lines.append(f'{key} = "{value}"')
            elif isinstance(value, list | tuple):
                lines.append(f"{key} = [" + ", ".join(f'"{v}"' for v in value) + "]")
            else:
                lines.append(f"{key} = {str(value).lower() if isinstance(value, bool) else value}")
        self.config_path = folder / "config.toml"
        self.config_path.write_text("\n".join(lines) + "\n")
        self.log = folder / "player.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        out = open(self.log, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "nguon_player.cli", "--config", str(self.config_path)],
            cwd=self.folder, stdout=out, stderr=subprocess.STDOUT,
            env=dict(os.environ, NGUON_PLAYER_LOG_LEVEL="INFO"),
        )  # fmt: skip
        self.proc._out = out

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
            self.proc._out.close()
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.proc._out.close()
        self.proc = None

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def marks(self) -> list[LogLine]:
        """The ``file:`` output's log: one line per start, stop and end."""
        log = self.out.with_name(self.out.name + ".log")
        found = []
        if not log.exists():
            return found
        for line in log.read_text().splitlines():
            stamp, event, offset, *rest = line.split(" ")
            fields = dict(f.split("=", 1) for f in rest if "=" in f)
            found.append(
                LogLine(
                    at=datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp(),
                    event=event,
                    offset=int(offset.split("=", 1)[1]),
                    fields=fields,
                )
            )
        return found

    def wait_log(self, pattern: str, timeout: float = 30) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.text())
            if found:
                return found
            if self.proc is not None and self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"player log never showed {pattern!r}:\n{self.text()[-4000:]}")


@pytest.fixture
def players(tmp_path):
    started: list[PlayerProcess] = []

    def make(server, device_id: int, token: str, **config) -> PlayerProcess:
        player = PlayerProcess(
            tmp_path / f"player-{len(started)}",
            {"server_url": server.url, "device_id": device_id, **config},
            token,
        )
        started.append(player)
        return player

    yield make
    for player in started:
        player.stop()


@pytest.fixture
def broker(settings):
    """The real Mosquitto; the server side pushes commands to it (a run-private prefix)."""
    require("mqtt", mqtt_up(), f"no MQTT broker answers at {MQTT_URL}")
    settings.MQTT_URL = MQTT_URL
    settings.BROADCAST_MQTT_TOPIC_PREFIX = os.environ["BROADCAST_MQTT_TOPIC_PREFIX"]
    return MQTT_URL


@pytest.fixture
def commune(tmp_path, transactional_db):
    """A commune with one loudspeaker cluster and device, a scheduler and a superuser,
    and approved audio bulletins of 6 s and 3 s with their loudspeaker MP3s."""
    from broadcast.models import Cluster, Device
    from newsroom.models import Role
    from tests.factories import make_audio_asset, make_published_item, make_tree, make_user

    units = make_tree(three_level=True)
    cluster = Cluster.objects.create(name="Cụm loa thôn Tân Lập", commune=units["A"])
    serial = f"PLAYER-{uuid.uuid4().hex[:8]}"
    device = Device.objects.create(cluster=cluster, serial=serial, vendor="Nguồn")
    token = server_api("device_token_issue")(device=device)
    items = {}
    for name, seconds, headline in [
        ("long", 6.0, "Bản tin thời sự xã Tân Đồng"),
        ("short", 3.0, "Thông báo lịch tiêm chủng"),
        ("alert", 3.0, "Cảnh báo lũ quét"),
    ]:
        asset = make_audio_asset(tmp_path / "assets" / name, seconds=seconds, name=name)
        items[name] = make_published_item(units["A"], headline, audio=asset)
    return {
        "units": units,
        "cluster": cluster,
        "device": device,
        "token": token,
        "items": items,
        "admin": make_user("quantri", is_superuser=True, is_staff=True),
        "scheduler": make_user("laplich", unit=units["A"], role=Role.SCHEDULER),
    }
