"""The player as an installer and an operator meet it: a bad config is refused with the
reason, it shares no code with the server, commands from the admin are obeyed and
acknowledged, heartbeats tell the truth, and a SIGKILL mid-bulletin loses no play log
and doubles none."""

import array
import ast
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from tests.support import wait_for

from .helpers import rendition_pcm, schedule, server_api

PLAYER_SRC = Path(__file__).resolve().parents[2] / "player" / "nguon_player"
SERVER_PACKAGES = {"broadcast", "newsroom", "cms", "portal", "media", "syndication", "search",
                   "reports", "core", "django", "wagtail", "celery"}  # fmt: skip


def run_cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "nguon_player.cli", *args],
        capture_output=True, text=True, timeout=60, cwd=cwd,
    )  # fmt: skip


def test_a_bad_config_stops_the_start_with_every_reason_and_status_2(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(
        'server_url = "nguon.example.vn"\ndevice_id = "bốn hai"\ntoken_file = "missing"\n'
        'cache_dir = "cache"\noutput = "loa"\nvolume = 150\ncolour = "red"\n'
    )
    done = run_cli("--config", str(config))
    assert done.returncode == 2
    for words in ("server_url: an http:// or https:// address", "device_id:",
                  "token_file: cannot read", "output: one of alsa", "volume: a number from 0",
                  "unknown settings: colour"):  # fmt: skip
        assert words in done.stderr, done.stderr
    assert run_cli("--config", str(tmp_path / "nope.toml")).returncode == 2
    config.write_text("server_url = [")
    assert "not valid TOML" in run_cli("--config", str(config)).stderr


def test_a_good_config_checks_and_the_example_parses(tmp_path):
    (tmp_path / "token").write_text("abc123\n")
    (tmp_path / "config.toml").write_text(
        'server_url = "https://nguon.example.vn"\ndevice_id = 7\ntoken_file = "token"\n'
        'cache_dir = "cache"\noutput = "null"\n'
    )
    done = run_cli("--config", str(tmp_path / "config.toml"), "--check")
    assert done.returncode == 0 and "valid (device 7)" in done.stdout
    import tomllib

    example = tomllib.loads((PLAYER_SRC.parent / "nguon-player.example.toml").read_text())
    assert example["output"].startswith("alsa:") and example["device_id"] == 42
    unit = (PLAYER_SRC.parent / "nguon-player.service").read_text()
    assert "ExecStart=" in unit and "RestartPreventExitStatus=2" in unit


def test_the_player_imports_nothing_from_the_server():
    for path in PLAYER_SRC.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            assert not {n.split(".")[0] for n in names} & SERVER_PACKAGES, (path.name, names)
    probe = ("import sys, nguon_player.cli, nguon_player.player, nguon_player.commands;"
             " print(sorted({m.split('.')[0] for m in sys.modules}))")  # fmt: skip
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
        env={k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
        cwd=PLAYER_SRC.parent,
    ).stdout  # fmt: skip
    assert not set(ast.literal_eval(loaded)) & SERVER_PACKAGES


def peak(pcm: bytes) -> int:
    samples = array.array("h")
    samples.frombytes(pcm[: len(pcm) // 2 * 2])
    return max(abs(s) for s in samples)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_commands_from_the_admin_are_obeyed_acknowledged_and_the_heartbeat_shows_it(
    commune, server, players
):
    from broadcast.models import Command, Device, PlayLog

    start = timezone.now() + timedelta(seconds=5)
    schedule(commune, name="Bản tin trưa", at=start, items=["long"])
    player = players(server, commune["device"].pk, commune["token"], poll_seconds=2,
                     heartbeat_seconds=1)  # fmt: skip
    player.start()
    player.wait_log(r"playing .*Bản tin trưa", timeout=20)
    wait_for(
        lambda: Device.objects.get(pk=commune["device"].pk).state == "playing",
        timeout=5, what="the heartbeat saying playing",
    )  # fmt: skip
    device = Device.objects.get(pk=commune["device"].pk)
    assert device.now_playing == "Bản tin trưa" and device.firmware == "nguon-player 0.1.0"
    assert device.volume == 100
    issue = server_api("command_issue")
    issue(user=commune["admin"], devices=[device], kind="set_volume", payload={"volume": 50})
    player.wait_log(r"command \d+ set_volume: done volume 50", timeout=5)
    time.sleep(0.5)
    issue(user=commune["admin"], devices=[device], kind="stop")
    player.wait_log(r"command \d+ stop: done stopped", timeout=5)
    issue(user=commune["admin"], devices=[device], kind="power_off")
    player.wait_log(r"command \d+ power_off: done output off", timeout=5)
    wait_for(
        lambda: Device.objects.get(pk=device.pk).state == "off",
        timeout=5, what="the heartbeat saying off",
    )  # fmt: skip
    assert Device.objects.get(pk=device.pk).volume == 50
    acks = dict(Command.objects.filter(device=device).values_list("kind", "ack_status"))
    assert acks == {"set_volume": "done", "stop": "done", "power_off": "done"}
    # What was played: full level before the volume command, half after, then silence.
    marks = player.marks()
    begin, stop = marks[0], next(m for m in marks if m.event == "stop")
    pcm = player.out.read_bytes()[begin.offset : stop.offset]
    reference = rendition_pcm(commune["items"]["long"])
    assert pcm[:24000] == reference[:24000]  # the first 1/4 s at full volume, untouched
    n = len(pcm)
    assert 0.45 < peak(pcm[n - 9600 : n]) / peak(reference[n - 9600 : n]) < 0.55  # at 50 %
    size = player.out.stat().st_size
    time.sleep(2)
    assert player.out.stat().st_size == size  # stopped means silent: it does not resume
    log = wait_for(lambda: PlayLog.objects.filter(device=device).first(), timeout=5, what="log")
    assert log.status == "interrupted" and 0.5 < log.duration_seconds < 5.5


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_sigkill_mid_bulletin_resumes_it_and_each_play_log_reaches_the_server_once(
    commune, server, players
):
    from broadcast.models import PlayLog

    start = timezone.now() + timedelta(seconds=5)
    schedule(commune, name="Bản tin tối", at=start, items=["long"])
    player = players(server, commune["device"].pk, commune["token"], poll_seconds=2)
    player.start()
    player.wait_log(r"playing .*Bản tin tối", timeout=20)
    time.sleep(2.0)
    player.kill()
    player.start()  # as systemd would, at once
    player.wait_log(r"closed 1 play event\(s\) left open by the last run", timeout=10)
    player.wait_log(r"completed .*Bản tin tối|completed \S+ after", timeout=15)
    player.wait_log(r"uploaded", timeout=10)
    time.sleep(2)
    logs = list(PlayLog.objects.filter(device=commune["device"]).order_by("started_at"))
    assert [log.status for log in logs] == ["interrupted", "completed"]
    assert logs[0].event_id.endswith("#1") and logs[1].event_id.endswith("#2")
    assert 1.0 <= logs[0].duration_seconds <= 2.5  # written every second while playing
    assert 6.0 - 0.5 < logs[0].duration_seconds + logs[1].duration_seconds < 6.0 + 2.0
    assert len({log.entry_id for log in logs}) == 1
