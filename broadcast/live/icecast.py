"""Icecast 2: the streaming server devices listen to. Its configuration, its process (for
``manage.py serve``, the tests and the benchmarks) and what the server reads from it.

Nguồn is a *source* (``icecast://`` from ffmpeg) and reads the public status
(``/status-json.xsl``); devices are listeners. Relays of outside stations are Icecast
``<relay>`` blocks: one upstream connection however many devices listen, reconnected by
Icecast itself.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from django.conf import settings


class IcecastError(RuntimeError):
    """Icecast could not be started or did not answer."""


@dataclass(frozen=True)
class RelaySpec:
    """An outside stream Icecast pulls once and serves on ``mount``."""

    mount: str
    url: str


@dataclass
class IcecastConfig:
    port: int
    folder: Path
    source_password: str
    admin_password: str
    max_listeners: int = 2000
    # Bytes sent at once to a new listener. Small: a listener must hear *now*, not what
    # was said seconds ago (Icecast's default, 64 KB, is 8 s of a 64 kbps stream).
    burst_size: int = 4096
    queue_size: int = 524288
    relays: list[RelaySpec] = field(default_factory=list)
    host: str = "127.0.0.1"


def _relay_xml(relay: RelaySpec) -> str:
    parts = urlsplit(relay.url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return f"""
    <relay>
        <server>{escape(parts.hostname or "")}</server>
        <port>{port}</port>
        <mount>{escape(path)}</mount>
        <local-mount>{escape(relay.mount)}</local-mount>
        <on-demand>0</on-demand>
        <relay-shoutcast-metadata>0</relay-shoutcast-metadata>
    </relay>"""


def render_config(cfg: IcecastConfig, *, logdir: Path | None = None) -> str:
    """The icecast.xml for ``cfg`` (logs under ``logdir``, else ``cfg.folder/log``)."""
    logdir = logdir or cfg.folder / "log"
    share = "/usr/share/icecast2"
    owner = ""
    if os.geteuid() == 0:
        # Icecast refuses to run as root; it drops to nobody after binding.
        owner = "<changeowner><user>nobody</user><group>nogroup</group></changeowner>"
    relays = "".join(_relay_xml(r) for r in cfg.relays)
    return f"""<icecast>
    <location>Nguồn</location>
    <admin>admin@localhost</admin>
    <limits>
        <clients>{cfg.max_listeners + 50}</clients>
        <sources>100</sources>
        <queue-size>{cfg.queue_size}</queue-size>
        <client-timeout>30</client-timeout>
        <header-timeout>15</header-timeout>
        <source-timeout>10</source-timeout>
        <burst-on-connect>1</burst-on-connect>
        <burst-size>{cfg.burst_size}</burst-size>
    </limits>
    <authentication>
        <source-password>{escape(cfg.source_password)}</source-password>
        <relay-password>{escape(cfg.source_password)}</relay-password>
        <admin-user>admin</admin-user>
        <admin-password>{escape(cfg.admin_password)}</admin-password>
    </authentication>
    <hostname>{escape(cfg.host)}</hostname>
    <listen-socket>
        <port>{cfg.port}</port>
        <bind-address>{escape(cfg.host)}</bind-address>
    </listen-socket>
    <mount type="default">
        <max-listeners>{cfg.max_listeners}</max-listeners>
    </mount>
    <master-update-interval>5</master-update-interval>{relays}
    <fileserve>1</fileserve>
    <paths>
        <basedir>{share}</basedir>
        <logdir>{logdir}</logdir>
        <webroot>{share}/web</webroot>
        <adminroot>{share}/admin</adminroot>
        <alias source="/" destination="/status.xsl"/>
    </paths>
    <logging>
        <accesslog>access.log</accesslog>
        <errorlog>error.log</errorlog>
        <loglevel>3</loglevel>
        <logsize>10000</logsize>
    </logging>
    <security>
        <chroot>0</chroot>{owner}
    </security>
</icecast>
"""


def binary() -> str | None:
    """The icecast2 executable, or None when it is not installed."""
    configured = settings.ICECAST_BINARY
    return shutil.which(configured) or (configured if os.path.isfile(configured) else None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class IcecastProcess:
    """An icecast2 child process with a generated configuration in ``cfg.folder``."""

    def __init__(self, cfg: IcecastConfig, executable: str | None = None):
        self.cfg = cfg
        self.executable = executable or binary()
        self.proc: subprocess.Popen | None = None
        self.logdir: Path | None = None

    @property
    def url(self) -> str:
        return f"http://{self.cfg.host}:{self.cfg.port}"

    @property
    def config_path(self) -> Path:
        # Next to the logs: Icecast re-reads it (SIGHUP) after dropping to nobody.
        return (self.logdir or self.cfg.folder) / "icecast.xml"

    def write_config(self) -> None:
        if self.logdir is None:
            self.logdir = self.cfg.folder / "log"
            if os.geteuid() == 0:
                # Icecast writes its logs after dropping to nobody, who may not cross
                # the (private) folders above cfg.folder: a folder of its own in /tmp.
                self.logdir = Path(tempfile.mkdtemp(prefix="nguon-icecast-log-"))
                os.chmod(self.logdir, 0o777)  # noqa: S103 - logs of a test/dev server
            self.logdir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(render_config(self.cfg, logdir=self.logdir), encoding="utf-8")
        os.chmod(self.config_path, 0o644)

    def start(self, timeout: float = 15) -> None:
        if not self.executable:
            raise IcecastError("icecast2 is not installed")
        self.cfg.folder.mkdir(parents=True, exist_ok=True)
        self.write_config()
        self.proc = subprocess.Popen(  # noqa: S603
            [self.executable, "-c", str(self.config_path)],
            stdout=subprocess.DEVNULL,
            stderr=open(self.cfg.folder / "stderr.log", "ab"),  # noqa: SIM115
            start_new_session=True,
        )
        self._save_state()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise IcecastError(f"icecast2 exited with {self.proc.returncode}: {self.errors()}")
            if status(self.url, timeout=1) is not None:
                return
            time.sleep(0.1)
        self.stop()
        raise IcecastError(f"icecast2 did not answer on {self.url}: {self.errors()}")

    def _save_state(self) -> None:
        """What :func:`reload_relays` needs in another process (the web server, a task)."""
        state = {
            "port": self.cfg.port,
            "host": self.cfg.host,
            "source_password": self.cfg.source_password,
            "admin_password": self.cfg.admin_password,
            "max_listeners": self.cfg.max_listeners,
            "burst_size": self.cfg.burst_size,
            "queue_size": self.cfg.queue_size,
            "logdir": str(self.logdir),
            "config_path": str(self.config_path),
            "pid": self.proc.pid if self.proc else None,
        }
        (self.cfg.folder / "state.json").write_text(json.dumps(state), encoding="utf-8")

    def errors(self) -> str:
        texts = []
        for path in (
            self.cfg.folder / "stderr.log",
            (self.logdir or self.cfg.folder) / "error.log",
        ):
            if path.exists():
                texts.append(path.read_text(errors="replace")[-1500:])
        return "\n".join(texts)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def status(base_url: str, *, timeout: float = 3) -> dict | None:
    """Icecast's public status (``/status-json.xsl``): ``{"mounts": {mount: source}}`` with
    each source's ``listeners``, ``stream_start`` …; None when Icecast does not answer."""
    try:
        with urllib.request.urlopen(f"{base_url}/status-json.xsl", timeout=timeout) as resp:  # noqa: S310
            raw = resp.read()
    except OSError:
        return None
    # Icecast 2.4 writes "title": - for an empty title; make it JSON.
    text = raw.decode("utf-8", "replace").replace('"title": -', '"title": null')
    try:
        data = json.loads(text)
    except ValueError:
        return None
    sources = (data.get("icestats") or {}).get("source") or []
    if isinstance(sources, dict):
        sources = [sources]
    mounts = {}
    for source in sources:
        mount = urlsplit(source.get("listenurl", "")).path
        if mount:
            mounts[mount] = source
    return {"mounts": mounts}


def configured_url() -> str:
    """Where Icecast is (``ICECAST_URL``), '' when live broadcasting is off."""
    return settings.ICECAST_URL


def source_url(mount: str) -> str:
    """The ``icecast://`` URL ffmpeg sends a source to."""
    parts = urlsplit(configured_url())
    user, password = settings.ICECAST_SOURCE_USER, settings.ICECAST_SOURCE_PASSWORD
    return f"icecast://{user}:{password}@{parts.hostname}:{parts.port or 80}{mount}"


def listen_url(mount: str) -> str:
    return f"{configured_url()}{mount}"


def reload_relays(folder: Path, relays: list[RelaySpec]) -> bool:
    """Rewrite the configuration of the Icecast started in ``folder`` (by ``manage.py
    serve`` or a test) with ``relays`` and make it re-read it (SIGHUP). False when no
    Icecast of ours runs there (a production Icecast is configured by its operator)."""
    state_path = Path(folder) / "state.json"
    if not state_path.exists():
        return False
    state = json.loads(state_path.read_text(encoding="utf-8"))
    cfg = IcecastConfig(
        port=state["port"],
        host=state["host"],
        folder=Path(folder),
        source_password=state["source_password"],
        admin_password=state["admin_password"],
        max_listeners=state["max_listeners"],
        burst_size=state["burst_size"],
        queue_size=state["queue_size"],
        relays=list(relays),
    )
    Path(state["config_path"]).write_text(
        render_config(cfg, logdir=Path(state["logdir"])), encoding="utf-8"
    )
    try:
        os.kill(state["pid"], signal.SIGHUP)
    except (OSError, TypeError):
        return False
    return True
