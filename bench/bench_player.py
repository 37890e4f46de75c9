"""Benchmark of the reference loudspeaker player (``player/``) on this machine.

Builds a throw-away server (SQLite and files under a temporary folder, gunicorn, the dev
settings), one commune with one loudspeaker and an ordinary schedule (a 5-minute bulletin
at 06:00 and 17:00 every day), then runs ``nguon-player`` against it and prints a table:

- resident memory (RSS) and CPU of the player and its children (the ffmpeg decoder),
  idle and while playing a bulletin on the ``null`` output (which paces in real time
  like a sound card);
- start to first sound with a warm cache: the process is started while a bulletin is on
  air and its first PCM bytes reach the ``file:`` output (several runs);
- data per day: every kind of request the player makes, sent through a counting proxy
  (HTTP bytes both ways, headers included; TCP/IP and TLS overhead not included), times
  how often the ordinary schedule makes it a day.

    .venv/bin/python bench/bench_player.py [--idle-seconds 30] [--play-seconds 30] [--runs 5]
"""

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TICK = os.sysconf("SC_CLK_TCK")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--idle-seconds", type=float, default=30)
    p.add_argument("--play-seconds", type=float, default=30)
    p.add_argument("--runs", type=int, default=5, help="start-to-first-sound runs")
    return p.parse_args()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- process accounting -------------------------------------------------------------------


def tree(pid: int) -> list[int]:
    found, frontier = [pid], [pid]
    while frontier:
        parent = frontier.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                found.append(child)
                frontier.append(child)
    return found


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / TICK


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        match = re.search(r"VmRSS:\s+(\d+) kB", status)
        total += int(match.group(1)) if match else 0
    return total / 1024


def sample(pid: int, seconds: float) -> tuple[float, float, float]:
    """(CPU % of one core, mean RSS MB, max RSS MB) of the process tree over ``seconds``.
    CPU of children that exit during the window is not seen (decoders live per entry)."""
    rss = []
    start_cpu, t0 = cpu_seconds(tree(pid)), time.monotonic()
    while time.monotonic() - t0 < seconds:
        rss.append(rss_mb(tree(pid)))
        time.sleep(0.5)
    used = cpu_seconds(tree(pid)) - start_cpu
    return 100 * used / (time.monotonic() - t0), sum(rss) / len(rss), max(rss)


# --- a counting proxy ---------------------------------------------------------------------


class CountingProxy(threading.Thread):
    """TCP forwarder to the server that counts bytes each way."""

    def __init__(self, target_port: int):
        super().__init__(daemon=True)
        self.target = target_port
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.up = self.down = 0
        self.lock = threading.Lock()

    def run(self):
        while True:
            client, _ = self.sock.accept()
            server = socket.create_connection(("127.0.0.1", self.target))
            for src, dst, up in ((client, server, True), (server, client, False)):
                threading.Thread(target=self.pipe, args=(src, dst, up), daemon=True).start()

    def pipe(self, src, dst, up):
        try:
            while data := src.recv(65536):
                with self.lock:
                    if up:
                        self.up += len(data)
                    else:
                        self.down += len(data)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def take(self) -> int:
        with self.lock:
            total, self.up, self.down = self.up + self.down, 0, 0
        return total


# --- the server ---------------------------------------------------------------------------


def build_world(var: Path):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    from broadcast.models import Cluster, Device
    from broadcast.services import device_token_issue, programme_create
    from newsroom.models import Role
    from tests.factories import make_audio_asset, make_published_item, make_tree, make_user

    call_command("migrate", verbosity=0)
    units = make_tree(three_level=True)
    cluster = Cluster.objects.create(name="Cụm loa đo hiệu năng", commune=units["A"])
    device = Device.objects.create(cluster=cluster, serial="BENCH-PLAYER-1")
    token = device_token_issue(device=device)
    scheduler = make_user("laplich_bench", unit=units["A"], role=Role.SCHEDULER)
    news = make_published_item(
        units["A"],
        "Bản tin hằng ngày",
        audio=make_audio_asset(var / "assets", seconds=300, name="ban-tin-ngay"),
    )
    tomorrow = timezone.localtime() + timedelta(days=1)
    programme_create(
        user=scheduler,
        name="Bản tin sáng và chiều",
        targets=[{"cluster": cluster}],
        slots=[
            {
                "starts_at": tomorrow.replace(hour=6, minute=0, second=0, microsecond=0),
                "rrule": "FREQ=DAILY;BYHOUR=6,17;BYMINUTE=0",
                "items": [news.pk],
            }
        ],
    )
    return {"units": units, "cluster": cluster, "device": device, "token": token,
            "scheduler": scheduler, "news": news}  # fmt: skip


def on_air_now(world, seconds_ahead: float, name: str):
    """A one-off programme of the 5-minute bulletin starting in ``seconds_ahead``."""
    from datetime import timedelta

    from django.utils import timezone

    from broadcast.services import programme_create

    return programme_create(
        user=world["scheduler"],
        name=name,
        targets=[{"cluster": world["cluster"]}],
        slots=[
            {
                "starts_at": timezone.now() + timedelta(seconds=seconds_ahead),
                "items": [world["news"].pk],
            }
        ],
    )


def write_config(folder: Path, *, url: str, world, output: str, **extra) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "token").write_text(world["token"])
    lines = [f'server_url = "{url}"', f"device_id = {world['device'].pk}",
             'token_file = "token"', 'cache_dir = "cache"', f'output = "{output}"']  # fmt: skip
    lines += [f"{k} = {v}" for k, v in extra.items()]
    (folder / "config.toml").write_text("\n".join(lines) + "\n")
    return folder / "config.toml"


def start_player(config: Path, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "nguon_player.cli", "--config", str(config)],
        cwd=config.parent, stdout=open(log, "ab"), stderr=subprocess.STDOUT,  # noqa: SIM115
    )  # fmt: skip


def wait_text(path: Path, pattern: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and re.search(pattern, path.read_text(errors="replace")):
            return
        time.sleep(0.05)
    raise SystemExit(f"{path} never showed {pattern!r}:\n{path.read_text()[-3000:]}")


def main():
    args = parse_args()
    var = Path(tempfile.mkdtemp(prefix="nguon-bench-player-"))
    env = dict(os.environ, NGUON_VAR_DIR=str(var), DJANGO_SETTINGS_MODULE="cms.settings.dev",
               DEBUG="0", LOG_LEVEL="WARNING", CACHE_URL=f"file://{var / 'cache'}")  # fmt: skip
    for key in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "MQTT_URL"):
        env.pop(key, None)
    os.environ.clear()
    os.environ.update(env)
    import django

    django.setup()
    print(f"building the server in {var} …", flush=True)
    world = build_world(var)
    port = free_port()
    gunicorn = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "cms.wsgi:application", "--bind",
         f"127.0.0.1:{port}", "--workers", "2", "--threads", "4", "--worker-class", "gthread"],
        cwd=ROOT, env=env, stdout=open(var / "gunicorn.log", "wb"), stderr=subprocess.STDOUT,  # noqa: SIM115
    )  # fmt: skip
    time.sleep(4)
    proxy = CountingProxy(port)
    proxy.start()
    url = f"http://127.0.0.1:{proxy.port}"
    rows = []
    try:
        # 1. Idle, then playing, on the null output.
        config = write_config(var / "p-null", url=url, world=world, output="null")
        player = start_player(config, var / "p-null" / "player.log")
        wait_text(var / "p-null" / "player.log", r"cached [0-9a-f]{12}", 60)
        time.sleep(3)
        cpu, rss, rss_max = sample(player.pid, args.idle_seconds)
        rows.append(("idle (timeline cached, nothing on air)", f"{cpu:.2f} %", f"{rss:.1f}",
                     f"{rss_max:.1f}"))  # fmt: skip
        on_air_now(world, 3, "Đo khi phát")
        wait_text(var / "p-null" / "player.log", r"playing .*Đo khi phát", 90)
        time.sleep(1)
        cpu, rss, rss_max = sample(player.pid, args.play_seconds)
        rows.append(("playing an MP3 bulletin (player + ffmpeg decoder)", f"{cpu:.2f} %",
                     f"{rss:.1f}", f"{rss_max:.1f}"))  # fmt: skip
        player.terminate()
        player.wait(timeout=20)

        # 2. Start to first sound, warm cache, a bulletin on air.
        config = write_config(var / "p-file", url=url, world=world, output="file:out.pcm")
        log = var / "p-file" / "player.log"
        warm = start_player(config, log)
        wait_text(log, r"cached [0-9a-f]{12}", 60)
        warm.terminate()
        warm.wait(timeout=20)
        firsts = []
        marks = var / "p-file" / "out.pcm.log"
        for run in range(args.runs):
            on_air_now(world, -2, f"Đang phát {run}")  # already on air
            time.sleep(1.5)
            before = marks.read_text().count(" start ") if marks.exists() else 0
            t0 = time.time()
            proc = start_player(config, log)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                text = marks.read_text() if marks.exists() else ""
                if text.count(" start ") > before:
                    stamp = text.strip().splitlines()[-1].split(" ")[0]
                    from datetime import datetime

                    at = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
                    firsts.append(at - t0)
                    break
                time.sleep(0.01)
            proc.terminate()
            proc.wait(timeout=20)
        rows.append(("start to first sound, warm cache (s)",
                     " / ".join(f"{f:.2f}" for f in firsts), "", ""))  # fmt: skip

        # 3. Bytes per request kind, through the proxy.
        from nguon_player.protocol import DeviceClient, entries_of, play_event

        client = DeviceClient(url, world["device"].pk, world["token"])
        client.http.close()
        proxy.take()
        first = client.timeline()
        timeline_200 = proxy.take()
        client.timeline(first.etag)
        timeline_304 = proxy.take()
        client.heartbeat({"status": "idle", "volume": 70, "firmware": "nguon-player 0.1.0",
                          "now_playing": "", "ip": "10.0.0.2", "cache_hours": 48.0,
                          "disk_free_mb": 12000, "software_version": "0.1.0",
                          "spooled_playlogs": 0})  # fmt: skip
        heartbeat = proxy.take()
        entry = entries_of(first.body)[0]
        client.playlogs([play_event(entry, attempt=1, started_at=time.time(), duration=300,
                                    status="completed")])  # fmt: skip
        playlog = proxy.take()
        media_bytes = world["news"].audio.rendition("loudspeaker").size
        client.media_verify(entry.parts[0]["url"], sha256=entry.parts[0]["sha256"],
                            size=entry.parts[0]["size"])  # fmt: skip
        media = proxy.take()
        per_day = {
            "timeline 304 (1,416 a day: every 60 s)": (1416, timeline_304),
            "timeline 200 (24 a day: the ETag rolls over hourly)": (24, timeline_200),
            "heartbeat (1,440 a day)": (1440, heartbeat),
            "play logs (2 uploads a day, one event each)": (2, playlog),
            "a new 5-min bulletin's MP3 (2 a day if each is new)": (2, media),
        }
        total = 0
        for label, (count, size) in per_day.items():
            total += count * size
            rows.append((label, f"{size:,} B each", f"{count * size / 1e6:.2f} MB/day", ""))
        rows.append(("data per day, HTTP (headers included)", f"{total / 1e6:.2f} MB", "", ""))
        rows.append(("… of which audio", f"{2 * media / 1e6:.2f} MB ({media_bytes:,} B file)",
                     "", ""))  # fmt: skip
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=20)
    print()
    print(f"nguon-player benchmark — {os.cpu_count()} cores, {time.strftime('%d/%m/%Y %H:%M')} "
          f"UTC{time.strftime('%z')}; server: gunicorn + SQLite on the same machine")  # fmt: skip
    print(f"{'measure':<58} {'value':>22} {'RSS mean MB':>14} {'RSS max MB':>11}")
    for label, a, b, c in rows:
        print(f"{label:<58} {a:>22} {b:>14} {c:>11}")


if __name__ == "__main__":
    main()
