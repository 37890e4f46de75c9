"""Benchmark of live broadcasting through Icecast on this machine.

Starts its own ``icecast2`` (generated configuration, free port, temporary folder), then:

``latency``: a "microphone" (ffmpeg, real time) makes WebM/Opus of silence with a 1 kHz
marker tone every ``--period`` seconds; it is cut into 250 ms slices as a browser's
MediaRecorder sends them and appended to the spool file as ``live_chunk`` does; the real
feeder (``python -m broadcast.live.stream`` with the server's own ffmpeg arguments) sends
it to Icecast; a device listener runs the player's own decoder (``nguon_player.audio
.decoder(live=True)``) and the time each marker's first loud sample comes out is compared
with the time the microphone made it. Prints p50/p95/max over ``--marks`` marks, and where
the time goes (slice wait, feeder, Icecast + decoder).

``capacity``: one 64 kbps MP3 source (ffmpeg, real time) and, in steps, N concurrent
listeners on 127.0.0.1 (asyncio sockets, each reading as a device does) for
``--seconds``; a listener has a drop-out if it is disconnected, receives less than 95 % of
the bytes the stream carried, or waits more than 2 s for data; one that never gets the
stream (connection or headers not within 10 s) is counted apart. Prints, per step, the
listeners served without a drop-out and Icecast's CPU.

    .venv/bin/python bench/bench_live.py latency --marks 30
    .venv/bin/python bench/bench_live.py capacity --steps 500,1000,1500,2000 --seconds 30
"""

from __future__ import annotations

import argparse
import array
import asyncio
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "player"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.dev")
os.environ.setdefault("NGUON_VAR_DIR", tempfile.mkdtemp(prefix="nguon-bench-live-"))

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from broadcast.live import icecast  # noqa: E402
from broadcast.live.feeder import ffmpeg_args  # noqa: E402
from media.ffmpeg import ffmpeg_binary, local_inputs_only  # noqa: E402

RATE = 48000
SLICE = 0.25
BENCH_PASSWORD = os.urandom(8).hex()  # a throw-away Icecast on 127.0.0.1


def start_icecast(folder: Path, max_listeners: int) -> icecast.IcecastProcess:
    server = icecast.IcecastProcess(
        icecast.IcecastConfig(
            port=icecast.free_port(),
            folder=folder,
            source_password=BENCH_PASSWORD,
            admin_password=BENCH_PASSWORD,
            max_listeners=max_listeners,
        )
    )
    server.start()
    settings.ICECAST_URL = server.url
    settings.ICECAST_SOURCE_PASSWORD = BENCH_PASSWORD
    return server


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- latency ------------------------------------------------------------------------------


def latency(args) -> None:
    from nguon_player.audio import decoder

    folder = Path(tempfile.mkdtemp(prefix="nguon-bench-live-"))
    server = start_icecast(folder / "icecast", 100)
    spool = folder / "spool"
    spool.mkdir()
    source = spool / "source.bin"
    source.touch()
    mount = "/bench-live.mp3"
    argv = [ffmpeg_binary(), "-hide_banner", "-nostdin", "-y"]
    argv += local_inputs_only(ffmpeg_args(mount=mount, archive=str(spool / "archive.mp3"),
                                          name="bench"))  # fmt: skip
    config = {"source": str(source), "stop": str(spool / "stop"), "log": str(spool / "ff.log"),
              "timeout": 30, "ffmpeg_argv": argv, "end_argv": ["true"]}  # fmt: skip
    (spool / "feeder.json").write_text(json.dumps(config))
    total = args.lead + args.marks * args.period + 2
    # The microphone: PCM written in real time into an Opus/WebM encoder, as a browser's
    # MediaRecorder encodes what the microphone hears; a 20 ms 1 kHz beep every period,
    # silence between. The time each beep is written is the time it was "said".
    mic = subprocess.Popen(
        [ffmpeg_binary(), "-hide_banner", "-loglevel", "error", "-f", "s16le", "-ar", str(RATE),
         "-ac", "1", "-i", "pipe:0", "-c:a", "libopus", "-b:a", "32k", "-frame_duration", "20",
         "-f", "webm", "-cluster_time_limit", "250", "-"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )  # fmt: skip
    said: list[float] = []
    frame = RATE // 100  # 10 ms
    beep = array.array("h", [int(20000 * math.sin(2 * math.pi * 1000 * i / RATE))
                              for i in range(frame)]).tobytes()  # fmt: skip
    quiet = bytes(frame * 2)

    def microphone():
        start = time.monotonic()
        frames = int(total * 100)
        for n in range(frames):
            t = n / 100
            in_beep = t >= args.lead and ((t - args.lead) % args.period) < 0.02
            if in_beep and ((t - args.lead) % args.period) < 0.01:
                said.append(time.time())
            try:
                mic.stdin.write(beep if in_beep else quiet)
                mic.stdin.flush()
            except BrokenPipeError:  # the run is over
                return
            delay = start + (n + 1) / 100 - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        mic.stdin.close()

    threading.Thread(target=microphone, daemon=True).start()
    feeder = subprocess.Popen([sys.executable, "-m", "broadcast.live.stream",
                               str(spool / "feeder.json")], cwd=ROOT)  # fmt: skip

    def browser():
        """MediaRecorder: hands over what was recorded every 250 ms."""
        buf = bytearray()
        next_cut = time.monotonic() + SLICE
        os.set_blocking(mic.stdout.fileno(), False)
        while mic.poll() is None or buf:
            try:
                data = mic.stdout.read(65536)
            except BlockingIOError:
                data = None
            if data:
                buf += data
            if time.monotonic() >= next_cut:
                if buf:
                    with open(source, "ab") as fh:
                        fh.write(buf)
                    buf.clear()
                next_cut += SLICE
                if mic.poll() is not None:
                    break
            time.sleep(0.005)

    threading.Thread(target=browser, daemon=True).start()
    while mount not in (icecast.status(server.url) or {"mounts": {}})["mounts"]:
        time.sleep(0.02)
    dec = decoder(ffmpeg_binary(), server.url + mount, stream=True, live=True)
    found = []
    heard = 0
    loud = False
    deadline = time.monotonic() + total + 15
    while time.monotonic() < deadline and len(found) < args.marks:
        chunk = dec.stdout.read(960)  # 10 ms
        if not chunk:
            break
        now = time.time()
        samples = memoryview(chunk).cast("h")
        peak = max(abs(min(samples)), abs(max(samples)))
        heard += len(samples)
        if peak > 3000 and not loud:
            # The latest beep said before this moment is the one heard.
            made = max((t for t in said if t <= now), default=None)
            if made is not None and now - made < args.period:
                found.append(now - made)
        loud = peak > 3000
    dec.kill()
    mic.kill()
    (spool / "stop").touch()
    feeder.wait(20)
    server.stop()
    if len(found) < 3:
        sys.exit(f"only {len(found)} marks heard")
    found.sort()
    p = lambda q: found[min(len(found) - 1, int(q * len(found)))]  # noqa: E731
    when = time.strftime("%d/%m/%Y %H:%M UTC", time.gmtime())
    print(f"Live latency, microphone → device decoder output — {len(found)} marks, "
          f"{os.cpu_count()} cores, {when}")  # fmt: skip
    print(f"{'measure':44}{'seconds':>10}")
    for name, value in [("p50", statistics.median(found)), ("p95", p(0.95)), ("min", found[0]),
                        ("max", found[-1])]:  # fmt: skip
        print(f"{name:44}{value:10.3f}")
    print(f"{'of which the browser slice (mean)':44}{SLICE / 2:10.3f}")


# --- capacity -----------------------------------------------------------------------------


async def listen(host: str, port: int, mount: str, seconds: float, stats: dict) -> None:
    try:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port, limit=1 << 16), 10
            )
            writer.write(f"GET {mount} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        except (TimeoutError, OSError, asyncio.IncompleteReadError):
            stats["connect"] += 1  # never got the stream (a device would retry)
            return
        if b" 200 " not in head.split(b"\r\n", 1)[0]:
            stats["refused"] += 1
            writer.close()
            return
        got, worst = 0, 0.0
        end = time.monotonic() + seconds
        last = time.monotonic()
        while time.monotonic() < end:
            data = await asyncio.wait_for(reader.read(65536), 5)
            if not data:
                stats["dropped"] += 1
                return
            now = time.monotonic()
            worst = max(worst, now - last)
            last = now
            got += len(data)
        writer.close()
        stats["bytes"].append(got)
        stats["gaps"].append(worst)
    except (TimeoutError, OSError, asyncio.IncompleteReadError):
        stats["dropped"] += 1


async def capacity_step(server, mount: str, n: int, seconds: float) -> dict:
    stats = {"refused": 0, "dropped": 0, "connect": 0, "bytes": [], "gaps": []}
    host, port = server.cfg.host, server.cfg.port
    tasks = []
    for i in range(n):
        tasks.append(asyncio.create_task(listen(host, port, mount, seconds, stats)))
        if i % 50 == 49:
            await asyncio.sleep(0.05)  # a fleet does not connect in the same millisecond
    await asyncio.gather(*tasks)
    return stats


def capacity(args) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    steps = [int(s) for s in args.steps.split(",")]
    folder = Path(tempfile.mkdtemp(prefix="nguon-bench-live-"))
    server = start_icecast(folder / "icecast", max(steps) + 10)
    mount = "/bench-capacity.mp3"
    source = subprocess.Popen(
        [ffmpeg_binary(), "-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi", "-i",
         "sine=f=440:r=48000", "-ac", "1", "-c:a", "libmp3lame", "-b:a", "64k",
         "-content_type", "audio/mpeg", "-f", "mp3", icecast.source_url(mount)],
    )  # fmt: skip
    while mount not in (icecast.status(server.url) or {"mounts": {}})["mounts"]:
        time.sleep(0.1)
    expected = 64000 / 8 * args.seconds
    when = time.strftime("%d/%m/%Y %H:%M UTC", time.gmtime())
    print(f"Icecast capacity, 64 kbps MP3 listeners on 127.0.0.1 — {os.cpu_count()} cores, "
          f"{args.seconds:.0f} s a step, {when}, load {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"{'listeners':>10}{'served ok':>11}{'drop-outs':>11}{'refused':>9}{'no connect':>12}"
          f"{'min bytes %':>13}{'worst gap s':>13}{'icecast CPU %':>15}")  # fmt: skip
    for n in steps:
        cpu0, t0 = cpu_seconds(server.proc.pid), time.monotonic()
        stats = asyncio.run(capacity_step(server, mount, n, args.seconds))
        cpu = (cpu_seconds(server.proc.pid) - cpu0) / (time.monotonic() - t0) * 100
        short = sum(1 for b in stats["bytes"] if b < 0.95 * expected)
        gaps = sum(1 for g in stats["gaps"] if g > 2.0)
        ok = len(stats["bytes"]) - max(short, gaps)
        drops = stats["dropped"] + max(short, gaps)
        low = min(stats["bytes"], default=0) / expected * 100
        worst = max(stats["gaps"], default=0.0)
        print(f"{n:>10}{ok:>11}{drops:>11}{stats['refused']:>9}{stats['connect']:>12}"
              f"{low:>13.1f}{worst:>13.2f}"
              f"{cpu:>15.1f}")  # fmt: skip
        time.sleep(2)
    source.kill()
    server.stop()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="what", required=True)
    lat = sub.add_parser("latency")
    lat.add_argument("--marks", type=int, default=30)
    lat.add_argument("--period", type=float, default=1.5)
    lat.add_argument("--lead", type=float, default=3.0)
    cap = sub.add_parser("capacity")
    cap.add_argument("--steps", default="250,500,1000,1500,2000")
    cap.add_argument("--seconds", type=float, default=30)
    args = p.parse_args()
    latency(args) if args.what == "latency" else capacity(args)


if __name__ == "__main__":
    main()
