"""Loudspeaker benchmark: the device API under wrk on gunicorn + PostgreSQL + Redis.

Run (defaults: 100,000 clusters, 10 s per wrk run):

    .venv/bin/python bench/bench_broadcast.py [--clusters 100000] [--duration 10]

It (re)creates its own PostgreSQL database (``--db``, default ``nguon_bench_broadcast``)
and uses its own Redis database (``--redis-db``, default 11) as the cache; imports the
national units, registers ``--clusters`` clusters with one loudspeaker each spread over
every commune, schedules a daily programme per province, starts gunicorn, then measures:

- ``GET /timeline`` answered 304 (random devices sending their current ETag),
- ``GET /timeline`` answered 200 (random devices, no ETag: compiled from the database),
- a trivial JSON view on the same server (``GET /api/v1/devices/ping``),
- ``POST /heartbeat`` ingest (random devices), buffered in Redis, and one timed flush of
  ``--flush-devices`` buffered heartbeats to PostgreSQL (``broadcast.device_api.heartbeats``),
- then, on a second gunicorn without the per-process cache layer and with direct heartbeat
  writes (``BROADCAST_LOCAL_CACHE=0``, ``BROADCAST_HEARTBEAT_BUFFER=off``): the trivial
  view, the 304 path and heartbeat ingest again, for comparison in the same run,
- emergency latency from the click (the service call) to a device: over MQTT (a subscriber
  on the device's topic) and by polling (a device polling every 0.5 s with its ETag).

Prints one table. Needs ``wrk`` (``apt-get install wrk``), PostgreSQL, Redis and, for the
MQTT row, Mosquitto at ``MQTT_URL`` (default ``mqtt://127.0.0.1:1883``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LUA_RANDOM_GET = r"""
local devices = {}
local with_etag = %(with_etag)s
for line in io.lines("%(path)s") do
  local id, token, etag = line:match("^(%%S+) (%%S+) (%%S+)$")
  if id then devices[#devices + 1] = {id, token, etag} end
end
math.randomseed(os.time())
request = function()
  local d = devices[math.random(#devices)]
  local headers = {["Authorization"] = "Bearer " .. d[2]}
  if with_etag then headers["If-None-Match"] = d[3] end
  return wrk.format("GET", "/api/v1/devices/" .. d[1] .. "/timeline", headers)
end
"""

LUA_HEARTBEAT = r"""
local devices = {}
for line in io.lines("%(path)s") do
  local id, token = line:match("^(%%S+) (%%S+)")
  if id then devices[#devices + 1] = {id, token} end
end
math.randomseed(os.time() + 1)
local body = '{"status":"idle","volume":70,"signal":-75,"firmware":"bench-1","ip":"10.0.0.9"}'
request = function()
  local d = devices[math.random(#devices)]
  local headers = {["Authorization"] = "Bearer " .. d[2], ["Content-Type"] = "application/json"}
  return wrk.format("POST", "/api/v1/devices/" .. d[1] .. "/heartbeat", headers, body)
end
"""


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--clusters", type=int, default=100_000)
    p.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    p.add_argument("--gthreads", type=int, default=4, help="threads per gunicorn worker")
    p.add_argument("--port", type=int, default=8791)
    p.add_argument("--db", default="nguon_bench_broadcast")
    p.add_argument("--redis-db", type=int, default=11)
    p.add_argument("--sample", type=int, default=2000, help="devices wrk picks from")
    p.add_argument(
        "--flush-devices", type=int, default=16_670, help="devices in the timed heartbeat flush"
    )
    p.add_argument("--flush-seconds", type=float, default=10, help="flush interval reported")
    return p.parse_args()


ARGS = parse_args()
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379")
WORK = Path(tempfile.mkdtemp(prefix="nguon-bench-broadcast-"))
ENV = {
    "DATABASE_URL": f"{PG}/{ARGS.db}",
    "DATABASE_CONN_MAX_AGE": "60",
    "CACHE_URL": f"{REDIS}/{ARGS.redis_db}",
    "CELERY_BROKER_URL": f"{REDIS}/{ARGS.redis_db}",
    "CELERY_TASK_ALWAYS_EAGER": "0",
    "MQTT_URL": os.environ.get("MQTT_URL", "mqtt://127.0.0.1:1883"),
    "BROADCAST_MQTT_TOPIC_PREFIX": f"nguon-bench-{os.getpid()}/devices",
    "DJANGO_SETTINGS_MODULE": "cms.settings.dev",
    "DEBUG": "0",
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "NGUON_VAR_DIR": str(WORK / "var"),
    "LOG_LEVEL": "WARNING",
}
os.environ.update(ENV)


def create_database():
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{ARGS.db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{ARGS.db}"')


def settle():
    """A steady state before measuring: the fresh tables vacuumed and analysed now rather
    than by autovacuum in the middle of a wrk run."""
    import psycopg

    with psycopg.connect(f"{PG}/{ARGS.db}", autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")


def setup_data():
    """Units, clusters/devices (bulk), one real audio bulletin, a programme per province."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    from broadcast.models import Cluster, Device
    from broadcast.services import programme_create
    from broadcast.tokens import token_digest
    from media.ffmpeg import run_ffmpeg
    from media.services import asset_create, rendition_build
    from newsroom.models import AdministrativeUnit, NewsItem
    from tests.factories import make_upload

    call_command("migrate", verbosity=0)
    call_command("import_units", no_progress=True, verbosity=0)
    communes = list(AdministrativeUnit.objects.filter(unit_type="commune").order_by("path"))
    started = time.perf_counter()
    clusters = Cluster.objects.bulk_create(
        [
            Cluster(name=f"Cụm loa {i}", commune=communes[i % len(communes)])
            for i in range(ARGS.clusters)
        ],
        batch_size=5000,
    )
    tokens = {}
    devices = []
    for i, cluster in enumerate(clusters):
        token = secrets.token_urlsafe(24)
        devices.append(
            Device(
                cluster=cluster,
                serial=f"BENCH-{i:07d}",
                vendor="Bench",
                token_hash=token_digest(token),
                token_prefix=token[:8],
            )
        )
        tokens[f"BENCH-{i:07d}"] = token
    Device.objects.bulk_create(devices, batch_size=5000)
    register_s = time.perf_counter() - started
    ids = dict(Device.objects.values_list("serial", "pk"))
    with open(WORK / "all_devices.txt", "w") as fh:
        for serial, token in tokens.items():
            fh.write(f"{ids[serial]} {token}\n")

    wav = WORK / "bulletin.wav"
    run_ffmpeg(["-f", "lavfi", "-i", "sine=frequency=440:duration=20", str(wav)], timeout=60)
    asset = asset_create(upload=make_upload(wav), kind="audio")
    rendition_build(asset_id=asset.pk, profile="loudspeaker")
    admin = get_user_model().objects.create_superuser("bench", password=secrets.token_hex(8))
    now = timezone.now()
    for province in AdministrativeUnit.objects.filter(depth=1):
        item = NewsItem.objects.create(
            unit=province,
            headline=f"Bản tin {province.name}",
            kind=NewsItem.Kind.AUDIO,
            audio=asset,
            live=True,
            first_published_at=now,
            last_published_at=now,
        )
        programme_create(
            user=admin,
            name=f"Thời sự {province.name}",
            targets=[{"unit": province}],
            slots=[
                {
                    "starts_at": now.replace(hour=23, minute=0, second=0, microsecond=0),
                    "rrule": "FREQ=DAILY;BYHOUR=6,17;BYMINUTE=0;BYSECOND=0",
                    "items": [item.pk],
                }
            ],
        )
    return register_s


def start_gunicorn(extra_env: dict | None = None):
    log = open(WORK / "gunicorn.log", "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "cms.wsgi",
            "--bind",
            f"127.0.0.1:{ARGS.port}",
            "--workers",
            str(ARGS.workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(ARGS.gthreads),
            "--timeout",
            "120",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**os.environ, **ENV, **(extra_env or {})},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    import requests

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{ARGS.port}/api/v1/devices/ping", timeout=2).ok:
                return proc
        except requests.RequestException:
            time.sleep(0.5)
    proc.terminate()
    raise SystemExit("gunicorn did not start:\n" + (WORK / "gunicorn.log").read_text()[-3000:])


def start_worker():
    """A real Celery worker on the broadcast queue (MQTT pushes), like production."""
    log = open(WORK / "worker.log", "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "celery"),
            "-A",
            "cms",
            "worker",
            "-Q",
            "broadcast",
            "--pool",
            "solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel",
            "INFO",
        ],
        cwd=ROOT,
        env={**os.environ, **ENV},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if b"ready." in (WORK / "worker.log").read_bytes():
            return proc
        time.sleep(0.3)
    proc.terminate()
    raise SystemExit("celery worker did not start:\n" + (WORK / "worker.log").read_text()[-3000:])


def sample_etags():
    """ETags of ``--sample`` random devices (one 200 each; also warms the token cache)."""
    from concurrent.futures import ThreadPoolExecutor

    import requests

    lines = (WORK / "all_devices.txt").read_text().split("\n")
    pairs = [line.split() for line in random.sample([x for x in lines if x], ARGS.sample)]
    local = threading.local()

    def fetch(pair):
        device_id, token = pair
        if not hasattr(local, "session"):
            local.session = requests.Session()
        for attempt in range(3):
            try:
                response = local.session.get(
                    f"http://127.0.0.1:{ARGS.port}/api/v1/devices/{device_id}/timeline",
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=60,
                )
                response.raise_for_status()
                return f"{device_id} {token} {response.headers['ETag']}"
            except requests.ConnectionError:
                if attempt == 2:
                    raise
                local.session = requests.Session()
                time.sleep(1)

    with ThreadPoolExecutor(8) as pool:
        rows = list(pool.map(fetch, pairs))
    (WORK / "sample.txt").write_text("\n".join(rows) + "\n")
    return pairs


def wrk(script: str | None, path: str, name: str, duration: int | None = None) -> dict:
    cmd = [
        "wrk",
        f"-t{ARGS.threads}",
        f"-c{ARGS.connections}",
        f"-d{duration or ARGS.duration}s",
        "--latency",
    ]
    if script:
        lua = WORK / f"{name}.lua"
        lua.write_text(script)
        cmd += ["-s", str(lua)]
    cmd.append(f"http://127.0.0.1:{ARGS.port}{path}")
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"50%\s+([\d.]+\w+)", out).group(1)
    p99 = re.search(r"99%\s+([\d.]+\w+)", out).group(1)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": rps,
        "p50": p50,
        "p99": p99,
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "errors": errors.group(1) if errors else "",
    }


def heartbeat_flush() -> dict:
    """Time one flush of a national interval's worth of buffered heartbeats: one heartbeat
    from each of ``--flush-devices`` distinct devices (1,667 heartbeats/s × 10 s by
    default), buffered in Redis as the API does, then written by ``heartbeats.flush``."""
    from django.utils import timezone

    from broadcast.device_api import heartbeats
    from broadcast.models import Device

    heartbeats.flush()  # what the wrk run left
    ids = list(Device.objects.values_list("pk", flat=True))
    chosen = random.sample(ids, min(ARGS.flush_devices, len(ids)))
    now = timezone.now()
    data = {
        "status": "playing",
        "volume": 65,
        "signal": -80,
        "firmware": "bench-2",
        "ip": "10.1.2.3",
    }
    for device_id in chosen:
        heartbeats.buffer(device_id=device_id, data=data, now=now)
    started = time.perf_counter()
    rows = heartbeats.flush()
    seconds = time.perf_counter() - started
    return {"rows": rows, "seconds": seconds, "rate": rows / seconds if seconds else 0}


def emergency_latency():
    """Click → device, over MQTT and by polling, for one device of a targeted commune."""
    import paho.mqtt.client as mqtt
    import requests
    from django.contrib.auth import get_user_model

    from broadcast import mqtt as bmqtt
    from broadcast.models import Device
    from broadcast.services import command_issue, emergency_start, programme_stop

    device_id, token, etag = (WORK / "sample.txt").read_text().split("\n")[0].split()
    device = Device.objects.select_related("cluster__commune").get(pk=int(device_id))
    got = {}
    ready = threading.Event()
    params = bmqtt.broker_params()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-sub")

    def on_message(_c, _u, message):
        kind = json.loads(message.payload)["kind"]
        if kind == "emergency_start" and "mqtt" not in got:
            got["mqtt"] = time.perf_counter()
        elif kind == "set_volume":
            got["warm"] = time.perf_counter()

    client.on_message = on_message
    client.on_subscribe = lambda *a: ready.set()
    mqtt_ok = True
    try:
        client.connect(params["host"], params["port"])
        client.loop_start()
        client.subscribe(bmqtt.device_topic(device.pk), qos=1)
        ready.wait(10)
    except OSError:
        mqtt_ok = False
    stop = threading.Event()

    def poller():
        session = requests.Session()
        current = etag
        while not stop.is_set():
            response = session.get(
                f"http://127.0.0.1:{ARGS.port}/api/v1/devices/{device_id}/timeline",
                headers={"Authorization": f"Bearer {token}", "If-None-Match": current},
                timeout=30,
            )
            if response.status_code == 200:
                current = response.headers["ETag"]
                if any(e["class"] == "emergency" for e in response.json()["entries"]):
                    got["poll"] = time.perf_counter()
                    return
            stop.wait(0.5)

    admin = get_user_model().objects.get(username="bench")
    # Warm the worker's MQTT path once (first task of a fresh worker process).
    command_issue(user=admin, devices=[device], kind="set_volume", payload={"volume": 60})
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and "warm" not in got and mqtt_ok:
        time.sleep(0.05)
    thread = threading.Thread(target=poller, daemon=True)
    thread.start()
    time.sleep(1.0)
    clicked = time.perf_counter()
    programme = emergency_start(
        user=admin,
        name="Bench khẩn cấp",
        targets=[{"unit": device.cluster.commune}],
        tts_text="Thông báo khẩn cấp thử nghiệm.",
    )
    service_ms = (time.perf_counter() - clicked) * 1000
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not ("poll" in got and ("mqtt" in got or not mqtt_ok)):
        time.sleep(0.05)
    stop.set()
    programme_stop(user=admin, programme=programme)
    if mqtt_ok:
        client.loop_stop()
        client.disconnect()
    targeted = Device.objects.filter(cluster__commune=device.cluster.commune).count()
    return {
        "service_ms": service_ms,
        "mqtt_ms": (got["mqtt"] - clicked) * 1000 if "mqtt" in got else None,
        "poll_ms": (got["poll"] - clicked) * 1000 if "poll" in got else None,
        "targeted": targeted,
    }


def main():
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    import django

    create_database()
    django.setup()
    from django.core.cache import cache

    register_s = setup_data()
    settle()
    cache.clear()
    proc = start_gunicorn()
    worker = start_worker()
    try:
        sample_etags()
        sample = str(WORK / "sample.txt")
        wrk(None, "/api/v1/devices/ping", "warm-up", duration=3)
        trivial = wrk(None, "/api/v1/devices/ping", "trivial")
        r304 = wrk(LUA_RANDOM_GET % {"path": sample, "with_etag": "true"}, "/", "t304")
        r200 = wrk(LUA_RANDOM_GET % {"path": sample, "with_etag": "false"}, "/", "t200")
        beat = wrk(LUA_HEARTBEAT % {"path": sample}, "/", "heartbeat")
        flush = heartbeat_flush()
        emergency = emergency_latency()
    finally:
        for process in (proc, worker):
            process.terminate()
            process.wait(timeout=30)
    # The same server without the per-process cache layer and with direct heartbeat writes
    # (what runs when the cache is not Redis), for comparison in the same run.
    proc = start_gunicorn({"BROADCAST_LOCAL_CACHE": "0", "BROADCAST_HEARTBEAT_BUFFER": "off"})
    try:
        wrk(None, "/api/v1/devices/ping", "warm-up-off", duration=3)
        trivial_off = wrk(None, "/api/v1/devices/ping", "trivial-off")
        r304_off = wrk(LUA_RANDOM_GET % {"path": sample, "with_etag": "true"}, "/", "t304-off")
        beat_off = wrk(LUA_HEARTBEAT % {"path": sample}, "/", "heartbeat-off")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    from broadcast.models import Cluster

    ratio = r304["rps"] / trivial["rps"] if trivial["rps"] else 0
    print()
    print(
        f"Loudspeaker benchmark — {Cluster.objects.count():,} clusters, gunicorn "
        f"{ARGS.workers}×{ARGS.gthreads} gthread, PostgreSQL, Redis cache; wrk "
        f"-t{ARGS.threads} -c{ARGS.connections} -d{ARGS.duration}s over {ARGS.sample:,} devices"
    )
    print(f"{'measure':<44} {'req/s':>9} {'p50':>9} {'p99':>9} {'non-2xx/3xx':>12}")
    for label, row in [
        ("trivial JSON view (/ping)", trivial),
        ("timeline 304 (If-None-Match, process memory)", r304),
        ("timeline 200 (compiled from PostgreSQL)", r200),
        ("heartbeat ingest (POST, buffered in Redis)", beat),
        ("without the layer and the buffer:", None),
        ("  trivial JSON view (/ping)", trivial_off),
        ("  timeline 304 (one Redis round trip)", r304_off),
        ("  heartbeat ingest (POST, direct writes)", beat_off),
    ]:
        if row is None:
            print(label)
            continue
        print(f"{label:<44} {row['rps']:>9.0f} {row['p50']:>9} {row['p99']:>9} {row['non2xx']:>12}")
    print(f"{'304 / trivial':<44} {ratio:>9.2f}   (target ≥ 0.80; ≥ 1,667 req/s)")
    ratio_off = r304_off["rps"] / trivial_off["rps"] if trivial_off["rps"] else 0
    print(f"{'304 / trivial without the layer':<44} {ratio_off:>9.2f}")
    print(
        f"{'heartbeat flush (bulk write)':<44} {flush['rate']:>9.0f}   rows/s: "
        f"{flush['rows']:,} devices in {flush['seconds']:.2f} s "
        f"(= {flush['rows'] / ARGS.flush_seconds:,.0f} heartbeats/s at one flush per "
        f"{ARGS.flush_seconds:.0f} s)"
    )
    print(f"{'register clusters+devices (bulk)':<44} {register_s:>8.1f}s")
    mqtt_ms = f"{emergency['mqtt_ms']:.0f} ms" if emergency["mqtt_ms"] is not None else "n/a"
    poll_ms = f"{emergency['poll_ms']:.0f} ms" if emergency["poll_ms"] is not None else "n/a"
    print(
        f"{'emergency click → device, MQTT':<44} {mqtt_ms:>9}   "
        f"(service call {emergency['service_ms']:.0f} ms, {emergency['targeted']} devices; "
        "Celery worker on Redis)"
    )
    print(f"{'emergency click → device, polling every 0.5 s':<44} {poll_ms:>9}")
    for row in (trivial, r304, r200, beat, trivial_off, r304_off, beat_off):
        if row["errors"]:
            print("socket errors:", row["errors"])


if __name__ == "__main__":
    main()
