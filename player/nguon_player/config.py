"""The player's configuration: one TOML file, checked completely before anything starts.

A bad file stops the start with one message naming every problem (``ConfigError``); the
console script prints it and exits with status 2, so systemd shows why in the journal.
"""

from __future__ import annotations

import shutil
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

OUTPUTS = ("alsa", "pulse", "file", "null")


class ConfigError(Exception):
    """The configuration cannot be used; the message lists every problem found."""


@dataclass(frozen=True)
class Config:
    server_url: str
    device_id: int
    token: str
    cache_dir: Path
    output: str  # "alsa", "alsa:hw:1,0", "pulse", "file:/path/out.pcm", "null"
    cache_budget_mb: int = 2048
    prefetch_hours: float = 48.0
    volume: int = 70
    poll_seconds: float = 0.0  # 0: what the server advises (60 s when it says nothing)
    heartbeat_seconds: float = 60.0
    mqtt_url: str = ""  # "" = poll only; credentials default to device id + token
    mqtt_topic_prefix: str = "nguon/devices"
    ffmpeg: str = ""
    tts_command: tuple[str, ...] = ("espeak-ng", "-v", "vi", "--stdout")
    power_on_command: tuple[str, ...] = ()
    power_off_command: tuple[str, ...] = ()
    http_timeout: float = 15.0
    download_kbps: int = 0  # 0 = unlimited; else KB/s (metered 4G links)

    @property
    def output_kind(self) -> str:
        return self.output.split(":", 1)[0]

    @property
    def output_target(self) -> str:
        return self.output.split(":", 1)[1] if ":" in self.output else ""


def _argv(value, name: str, problems: list[str]) -> tuple[str, ...]:
    if value in (None, "", []):
        return ()
    if isinstance(value, str):
        value = value.split()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f"{name}: a list of strings (a command and its arguments)")
        return ()
    return tuple(value)


def load(path: str | Path) -> Config:
    """Read and check the TOML file at ``path`` (see ``nguon-player.example.toml``)."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read it ({exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from exc
    return from_dict(raw, base=path.parent)


def from_dict(raw: dict, *, base: Path | None = None) -> Config:
    problems: list[str] = []
    base = base or Path.cwd()

    server_url = str(raw.get("server_url", "")).rstrip("/")
    parsed = urlparse(server_url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        problems.append("server_url: an http:// or https:// address, e.g. https://nguon.example.vn")

    device_id = raw.get("device_id")
    if not isinstance(device_id, int) or isinstance(device_id, bool) or device_id < 1:
        problems.append("device_id: the device's number in Nguồn (a positive whole number)")
        device_id = 0

    token = ""
    token_file = raw.get("token_file")
    if not token_file:
        problems.append("token_file: the file holding the device token (one line)")
    else:
        token_path = (base / str(token_file)).expanduser()
        try:
            token = token_path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            problems.append(f"token_file: cannot read {token_path} ({exc.strerror or exc})")
        else:
            if not token or any(c.isspace() for c in token):
                problems.append(f"token_file: {token_path} must hold the token on one line")

    cache_dir = raw.get("cache_dir")
    if not cache_dir:
        problems.append("cache_dir: a folder for downloaded audio and the play-log spool")
        cache_path = Path()
    else:
        cache_path = (base / str(cache_dir)).expanduser()
        try:
            cache_path.mkdir(parents=True, exist_ok=True)
            probe = cache_path / ".write-test"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            problems.append(f"cache_dir: cannot write in {cache_path} ({exc.strerror or exc})")

    output = str(raw.get("output", ""))
    kind = output.split(":", 1)[0]
    if kind not in OUTPUTS:
        problems.append("output: one of alsa[:DEVICE], pulse, file:PATH, null")
    elif kind == "file":
        target = output.split(":", 1)[1] if ":" in output else ""
        if not target:
            problems.append("output: file:PATH needs a path")
        else:
            output = "file:" + str((base / target).expanduser())
    elif kind in ("alsa", "pulse"):
        players = {"alsa": "aplay", "pulse": "pacat"}
        if not shutil.which(players[kind]) and not raw.get("ffmpeg") and not shutil.which("ffmpeg"):
            problems.append(f"output: {kind} needs {players[kind]} or ffmpeg on PATH")

    def number(name, default, lo, hi, kind=float):
        value = raw.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
            problems.append(f"{name}: a number from {lo} to {hi}")
            return default
        return kind(value)

    volume = number("volume", 70, 0, 100, int)
    budget = number("cache_budget_mb", 2048, 16, 10_000_000, int)
    prefetch = number("prefetch_hours", 48, 1, 168)
    poll = number("poll_seconds", 0, 0, 3600)
    heartbeat = number("heartbeat_seconds", 60, 1, 3600)
    timeout = number("http_timeout", 15, 1, 300)
    download_kbps = number("download_kbps", 0, 0, 10_000_000, int)

    mqtt_url = str(raw.get("mqtt_url", "") or "")
    if mqtt_url and urlparse(mqtt_url).scheme not in ("mqtt", "mqtts"):
        problems.append("mqtt_url: mqtt://host:1883 or mqtts://host:8883 (or leave it out)")

    tts = _argv(raw.get("tts_command", list(Config.tts_command)), "tts_command", problems)
    power_on = _argv(raw.get("power_on_command"), "power_on_command", problems)
    power_off = _argv(raw.get("power_off_command"), "power_off_command", problems)
    known = set(Config.__dataclass_fields__) | {"token_file"}
    unknown = sorted(set(raw) - known)
    if unknown:
        problems.append("unknown settings: " + ", ".join(unknown))
    if problems:
        raise ConfigError("bad configuration:\n  - " + "\n  - ".join(problems))
    return Config(
        server_url=server_url,
        device_id=device_id,
        token=token,
        cache_dir=cache_path,
        output=output,
        cache_budget_mb=budget,
        prefetch_hours=prefetch,
        volume=volume,
        poll_seconds=poll,
        heartbeat_seconds=heartbeat,
        mqtt_url=mqtt_url,
        mqtt_topic_prefix=str(raw.get("mqtt_topic_prefix", "nguon/devices")).strip("/"),
        ffmpeg=str(raw.get("ffmpeg", "") or ""),
        tts_command=tts,
        power_on_command=power_on,
        power_off_command=power_off,
        http_timeout=timeout,
        download_kbps=download_kbps,
    )
