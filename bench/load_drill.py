"""Load drill: gunicorn + Celery + PostgreSQL + Redis under the loudspeaker fleet.

Starts gunicorn and a Celery worker (all four queues) against the PostgreSQL and Redis named
on the command line, creates one province with ``--clusters`` loudspeaker clusters (one
device each), then for ``--duration`` seconds:

- every device runs the reference player's protocol code (``nguon_player.protocol``,
  without audio): it polls its timeline (``If-None-Match``) and sends a heartbeat once per
  ``--poll`` seconds, spread evenly, and downloads and verifies (size, SHA-256) every MP3
  new to it (at most two per poll);
- editors publish a provincial audio bulletin every ``--publish-every`` seconds through the
  newsroom services (submit + every approval step), which fans out to transcoding, search,
  feeds and loudspeaker schedules on the real worker;
- readers fetch the portal home and the RSS feed.

It prints one row per endpoint: requests, errors, p50, p95, p99 and max latency (ms), and
the published count and how many of them got their MP3 in time. Exit status 1 if any
request failed. Example (the figures in docs/loaddrill.md)::

    createdb -h 127.0.0.1 -U postgres nguon_loaddrill
    .venv/bin/python bench/load_drill.py \\
        --database-url postgres://postgres@127.0.0.1:5432/nguon_loaddrill \\
        --broker-url redis://127.0.0.1:6379/9 --clusters 1484 --duration 300

``--simulator command`` uses ``manage.py simulate_devices`` (the broadcast app's) instead of
the built-in thread pool, when that command exists.
"""

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--database-url", required=True, help="postgres://… (a throw-away database)")
    p.add_argument("--broker-url", required=True, help="redis://…/N")
    p.add_argument("--cache-url", default="", help="redis://…/M (default: the broker's N + 1)")
    p.add_argument("--clusters", type=int, default=1484)
    p.add_argument("--duration", type=int, default=300, help="seconds of load")
    p.add_argument("--poll", type=int, default=60, help="seconds between a device's polls")
    p.add_argument("--publish-every", type=float, default=20.0)
    p.add_argument("--readers", type=float, default=2.0, help="portal requests per second")
    p.add_argument(
        "--gunicorn-workers", type=int, default=2 * (os.cpu_count() or 1) + 1, help="2 × cores + 1"
    )
    p.add_argument("--threads", type=int, default=48, help="simulator HTTP threads")
    p.add_argument("--port", type=int, default=8931)
    p.add_argument("--simulator", choices=["builtin", "command"], default="builtin")
    p.add_argument(
        "--report",
        type=Path,
        default=None,
        help="where the report goes (default var/loaddrill/report-<UTC time>.md)",
    )
    return p.parse_args()


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latency = defaultdict(list)
        self.errors = defaultdict(int)
        self.samples = defaultdict(list)
        self.done_at = defaultdict(list)  # monotonic time of each successful request

    def record(self, name: str, seconds: float, ok: bool, detail: str = ""):
        with self.lock:
            self.latency[name].append(seconds * 1000)
            if ok:
                self.done_at[name].append(time.monotonic())
            if not ok:
                self.errors[name] += 1
                if len(self.samples[name]) < 5:
                    self.samples[name].append(detail[:200])

    def table(self) -> str:
        def pct(values, q):
            ordered = sorted(values)
            return ordered[min(len(ordered) - 1, max(0, int(round(q / 100 * len(ordered))) - 1))]

        lines = [
            "| endpoint | requests | errors | p50 ms | p95 ms | p99 ms | max ms |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for name in sorted(self.latency):
            values = self.latency[name]
            lines.append(
                f"| {name} | {len(values)} | {self.errors[name]} | "
                f"{statistics.median(values):.1f} | {pct(values, 95):.1f} | "
                f"{pct(values, 99):.1f} | {max(values):.1f} |"
            )
        return "\n".join(lines)

    def rate(self, name: str, *, start: float, end: float, window: float = 60.0):
        """Successful ``name`` requests per second over the run, and the lowest rate over
        any ``window`` seconds within it (what was sustained, not just averaged)."""
        times = sorted(t for t in self.done_at[name] if start <= t <= end)
        if not times or end - start <= 0:
            return 0.0, 0.0
        average = len(times) / (end - start)
        if end - start < window:
            return average, average
        lowest = None
        first = 0
        step_start = start
        while step_start + window <= end + 1e-9:
            while first < len(times) and times[first] < step_start:
                first += 1
            last = first
            while last < len(times) and times[last] < step_start + window:
                last += 1
            count = last - first
            lowest = count if lowest is None else min(lowest, count)
            step_start += 5.0
        return average, (lowest or 0) / window


def setup_django(env):
    os.environ.update(env)
    import django

    django.setup()


def build_fleet(n: int) -> list[tuple[int, str]]:
    """One province, communes of up to 20 clusters each, one device per cluster."""
    from broadcast.models import Cluster, Device
    from broadcast.services import device_token_issue
    from newsroom.models import AdministrativeUnit
    from newsroom.units import UnitSpec, units_load

    T = AdministrativeUnit.Type
    communes = [UnitSpec(f"98{i:03d}", f"Xã Tải {i:03d}", T.COMMUNE) for i in range((n + 19) // 20)]
    units_load([UnitSpec("98", "Tỉnh Diễn Tập Tải", T.PROVINCE, children=tuple(communes))])
    by_code = {u.code: u for u in AdministrativeUnit.objects.filter(code__startswith="98")}
    fleet = []
    for i in range(n):
        commune = by_code[f"98{i // 20:03d}"]
        cluster = Cluster.objects.create(name=f"Cụm loa tải {i:04d}", commune=commune)
        device = Device.objects.create(cluster=cluster, serial=f"LOAD-{i:05d}")
        fleet.append((device.pk, device_token_issue(device=device)))
    return fleet


def start_servers(args, env, workdir: Path):
    procs = {}
    logs = {}
    for name, cmd in {
        "gunicorn": [
            str(Path(sys.executable).parent / "gunicorn"),
            "cms.wsgi:application",
            "--bind",
            f"127.0.0.1:{args.port}",
            "--workers",
            str(args.gunicorn_workers),
            "--threads",
            "4",
            "--worker-class",
            "gthread",
            # A worker starved of CPU by the rest of the drill misses the arbiter's 30 s
            # heartbeat and is killed mid-request (connections reset): give it room.
            "--timeout",
            "180",
            "--backlog",
            "4096",
            "--access-logfile",
            "-",
        ],
        "worker": [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "cms",
            "worker",
            "-Q",
            "default,media,publish,broadcast",
            "--concurrency",
            "2",
            "--loglevel",
            "WARNING",
        ],
    }.items():
        logs[name] = open(workdir / f"{name}.log", "wb")  # noqa: SIM115 - closed at the end
        procs[name] = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=logs[name], stderr=subprocess.STDOUT
        )
    import requests

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{args.port}/healthz", timeout=2).ok:
                break
        except requests.RequestException:
            time.sleep(0.5)
    else:
        raise SystemExit("gunicorn did not answer /healthz")
    return procs, logs


def device_loop(args, fleet, stats: Stats, stop: threading.Event):
    """The fleet, each device running the reference player's protocol code
    (``nguon_player.protocol``, without audio): timeline with ETag, verified downloads of
    new MP3s (at most two per poll), heartbeat."""
    from nguon_player.protocol import (
        ChecksumMismatch,
        DeviceClient,
        HttpClient,
        ProtocolError,
        Unreachable,
        entries_of,
        media_needed,
    )

    base = f"http://127.0.0.1:{args.port}"
    names = {"timeline": "GET timeline", "heartbeat": "POST heartbeat", "media": "GET media (MP3)"}

    def observe(name: str, seconds: float, status: int) -> None:
        ok = 200 <= status < 400
        stats.record(names.get(name, name), seconds, ok, f"{status or 'unreachable'}")

    http = HttpClient(timeout=30)  # keep-alive per thread; a stale connection is retried once
    clients = {
        device_id: DeviceClient(base, device_id, token, timeout=30, http=http, on_request=observe)
        for device_id, token in fleet
    }
    etags: dict[int, str] = {}
    timelines: dict[int, list] = {}
    downloaded: dict[int, set] = defaultdict(set)

    def one(device_id: int, token: str, rnd: int):
        client = clients[device_id]
        try:
            result = client.timeline(etags.get(device_id, ""))
            if result.status == 200:
                etags[device_id] = result.etag
                timelines[device_id] = entries_of(result.body)
            parts = media_needed(timelines.get(device_id, []), now=client.server_now(), hours=48)
            for part in [p for p in parts if p["sha256"] not in downloaded[device_id]][:2]:
                t0 = time.perf_counter()
                try:
                    client.media_verify(part["url"], sha256=part["sha256"], size=part.get("size"))
                except ChecksumMismatch as exc:
                    stats.record("media checksum", time.perf_counter() - t0, False, str(exc))
                downloaded[device_id].add(part["sha256"])
        except (Unreachable, ProtocolError):
            pass  # recorded by observe()
        try:
            client.heartbeat({"status": "idle", "volume": 70, "signal": -70, "firmware": "drill"})
        except (Unreachable, ProtocolError):
            pass

    spacing = args.poll / max(len(fleet), 1)
    with ThreadPoolExecutor(max_workers=args.threads) as pool:
        started = time.monotonic()
        rnd = 0
        while not stop.is_set():
            for index, (device_id, token) in enumerate(fleet):
                due = started + rnd * args.poll + index * spacing
                delay = due - time.monotonic()
                if delay > 0 and stop.wait(delay):
                    break
                pool.submit(one, device_id, token, rnd)
            rnd += 1


def reader_loop(args, stats: Stats, stop: threading.Event):
    import requests

    base = f"http://127.0.0.1:{args.port}"
    s = requests.Session()
    paths = [("GET /", "/"), ("GET /feeds/rss/", "/feeds/rss/"), ("GET /readyz", "/readyz")]
    while not stop.wait(1 / max(args.readers, 0.1)):
        name, path = random.choice(paths)  # noqa: S311 - load mix, not security
        t0 = time.perf_counter()
        try:
            r = s.get(base + path, timeout=30, headers={"Connection": "close"})
            stats.record(name, time.perf_counter() - t0, r.ok, f"{r.status_code}")
        except requests.RequestException as exc:
            stats.record(name, time.perf_counter() - t0, False, repr(exc))


def editor_loop(args, stats: Stats, stop: threading.Event, published: list, tmp: Path):
    from django.contrib.auth import get_user_model
    from django.core.files import File
    from django.db import close_old_connections

    from media.ffmpeg import run_ffmpeg
    from media.services import asset_create
    from newsroom.models import AdministrativeUnit, Role
    from newsroom.services import item_create, item_review, item_submit, membership_grant

    # Nobody approves what they wrote or submitted (the chain's rule): one author, one
    # approver for every step. Steps are decided by roles, not by being a superuser: the
    # approver holds the province's approver and editorial-board roles.
    author, _ = get_user_model().objects.get_or_create(
        username="loaddrill_author", defaults={"is_superuser": True, "is_staff": True}
    )
    admin, _ = get_user_model().objects.get_or_create(
        username="loaddrill", defaults={"is_superuser": True, "is_staff": True}
    )
    province = AdministrativeUnit.objects.get(code="98")
    for role in (Role.APPROVER, Role.EDITORIAL_BOARD):
        membership_grant(user=admin, unit=province, role=role)
    wav = tmp / "bulletin.wav"
    run_ffmpeg(["-f", "lavfi", "-i", "sine=frequency=440:duration=20", str(wav)], timeout=60)
    n = 0
    while not stop.wait(args.publish_every):
        n += 1
        t0 = time.perf_counter()
        try:
            close_old_connections()
            with open(wav, "rb") as fh:
                upload = File(fh, name="ban-tin.wav")
                upload.size = wav.stat().st_size
                asset = asset_create(upload=upload, kind="audio", user=author)
            item = item_create(
                user=author,
                unit=province,  # a provincial bulletin: every device downloads it
                headline=f"Bản tin diễn tập tải số {n}",
                kind="audio",
                audio=asset,
                distribution="province",
            )
            item_submit(user=author, item=item)
            for _ in range(6):
                if item.live:
                    break
                item = item_review(user=admin, item=item, action="approve")
            stats.record("publish (services)", time.perf_counter() - t0, item.live, "not live")
            published.append((item.pk, asset.pk, time.monotonic()))
        except Exception as exc:  # noqa: BLE001 - a drill reports every failure
            stats.record("publish (services)", time.perf_counter() - t0, False, repr(exc))


def main():
    args = parse_args()
    env = dict(
        os.environ,
        DATABASE_URL=args.database_url,
        CELERY_BROKER_URL=args.broker_url,
        CACHE_URL=args.cache_url
        or args.broker_url.rsplit("/", 1)[0]
        + "/"
        + str(int(args.broker_url.rsplit("/", 1)[1] or 0) + 1),
        DJANGO_SETTINGS_MODULE="cms.settings.dev",
        DEBUG="0",
        LOG_LEVEL="WARNING",
        NGUON_VAR_DIR=tempfile.mkdtemp(prefix="nguon-loaddrill-"),
    )
    workdir = Path(env["NGUON_VAR_DIR"])
    setup_django(env)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    print(f"building {args.clusters} clusters …", flush=True)
    t0 = time.perf_counter()
    fleet = build_fleet(args.clusters)
    print(f"fleet ready in {time.perf_counter() - t0:.1f}s; starting gunicorn + worker", flush=True)
    procs, logs = start_servers(args, env, workdir)
    stats = Stats()
    stop = threading.Event()
    published: list = []
    threads = [
        threading.Thread(target=reader_loop, args=(args, stats, stop), daemon=True),
        threading.Thread(
            target=editor_loop, args=(args, stats, stop, published, workdir), daemon=True
        ),
    ]
    sim = None
    if args.simulator == "command":
        sim = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "simulate_devices",
                "--base-url",
                f"http://127.0.0.1:{args.port}",
                "--clusters",
                str(args.clusters),
                "--minutes",
                str(max(1, args.duration // 60)),
            ],
            cwd=ROOT,
            env=env,
        )
    else:
        threads.append(
            threading.Thread(target=device_loop, args=(args, fleet, stats, stop), daemon=True)
        )
    for t in threads:
        t.start()
    load_started = time.monotonic()
    try:
        time.sleep(args.duration)
    finally:
        load_ended = time.monotonic()
        stop.set()
        for t in threads:
            t.join(timeout=60)
        if sim is not None:
            sim.wait(timeout=120)
    # Every published bulletin should have its loudspeaker MP3 by now (give the worker 60 s).
    from media.models import Rendition

    deadline = time.monotonic() + 60
    asset_ids = [a for _i, a, _t in published]
    while time.monotonic() < deadline:
        ready = Rendition.objects.filter(
            asset_id__in=asset_ids, profile="loudspeaker", status="ready"
        ).count()
        if ready == len(asset_ids):
            break
        time.sleep(1)
    for proc in procs.values():
        proc.send_signal(signal.SIGTERM)
    for proc in procs.values():
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    for fh in logs.values():
        fh.close()
    total = sum(len(v) for v in stats.latency.values())
    errors = sum(stats.errors.values())
    # Warm-up: the first poll round starts devices one by one; measure after it.
    average, sustained = stats.rate(
        "POST heartbeat", start=load_started + min(args.poll, args.duration / 2), end=load_ended
    )
    expected = args.clusters / args.poll
    lines = [
        "# Load drill report",
        "",
        f"- command: `{' '.join([Path(sys.executable).name, *sys.argv])}`",
        f"- finished: {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC; {os.cpu_count()} CPU cores, "
        f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} at the end",
        f"- clusters {args.clusters}, {args.duration} s of load, gunicorn "
        f"{args.gunicorn_workers} workers × 4 threads, poll every {args.poll} s",
        f"- **{total} requests, {errors} errors**; {len(published)} bulletins published, "
        f"{ready} with their MP3 ready",
        f"- heartbeats: {average:.1f}/s on average after the first round, {sustained:.1f}/s "
        f"sustained (the lowest over any 60 s), {expected:.1f}/s expected "
        f"({args.clusters} devices every {args.poll} s)",
        "",
        stats.table(),
        "",
    ]
    for name, samples in stats.samples.items():
        lines.append(f"- errors of {name} (first five): {samples}")
    lines.append(f"- server and worker logs: {workdir}")
    text = "\n".join(lines) + "\n"
    report = args.report or (
        ROOT / "var" / "loaddrill" / f"report-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.md"
    )
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(text, encoding="utf-8")
    print()
    print(text)
    print(f"report written to {report}")
    return 1 if errors or ready != len(asset_ids) else 0


if __name__ == "__main__":
    sys.exit(main())
